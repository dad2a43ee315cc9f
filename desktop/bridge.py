"""The page's js_api: native open and save dialogs (a webview neither downloads files nor hands a
picked file's path to the page).

The bridge talks to this process's own server over HTTP with the Bearer token, so an upload or an
export takes exactly the path a browser's would (same validation, same audit event). pywebview
exposes every public attribute of the js_api object to the page, so only the two calls are public.
Each returns a small JSON-able dict: the result, `{"cancelled": true}` or `{"error": message}`.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

log = logging.getLogger(__name__)

DOCUMENT_TYPES = ("Documents (*.docx;*.pdf;*.md;*.markdown;*.txt)", "All files (*.*)")
EXPORT_FORMATS = ("docx", "html", "csv", "json")
REVIEW_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class BridgeError(Exception):
    """A message for the page: what went wrong, in words a reviewer can act on."""


class Dialogs(Protocol):
    def choose_document(self) -> Path | None: ...

    def choose_save_path(self, suggested_name: str) -> Path | None: ...


class WindowDialogs:
    """The platform's own dialogs, through pywebview; `window` is set once the window exists."""

    def __init__(self) -> None:
        self.window = None
        self._folder = str(Path.home())

    def choose_document(self) -> Path | None:
        import webview

        chosen = self.window.create_file_dialog(
            webview.FileDialog.OPEN, directory=self._folder, file_types=DOCUMENT_TYPES
        )
        return self._remember(chosen)

    def choose_save_path(self, suggested_name: str) -> Path | None:
        import webview

        chosen = self.window.create_file_dialog(
            webview.FileDialog.SAVE, directory=self._folder, save_filename=suggested_name
        )
        return self._remember(chosen)

    def _remember(self, chosen) -> Path | None:
        if isinstance(chosen, list | tuple):
            chosen = chosen[0] if chosen else None
        if not chosen:
            return None
        path = Path(chosen)
        self._folder = str(path.parent)
        return path


class ScriptedDialogs:
    """Answers the dialogs without asking anyone: the self-test's stand-in for a person."""

    def __init__(self, document: Path, save_folder: Path):
        self.document = document
        self.save_folder = save_folder
        self.saved: list[Path] = []

    def choose_document(self) -> Path | None:
        return self.document

    def choose_save_path(self, suggested_name: str) -> Path | None:
        self.save_folder.mkdir(parents=True, exist_ok=True)
        path = self.save_folder / suggested_name
        self.saved.append(path)
        return path


class LocalApi:
    """A minimal client of the local JSON API (standard library only: nothing extra to freeze)."""

    def __init__(self, base_url: str, token: str | None, timeout: float = 120):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def upload(
        self, data: bytes, filename: str, framework: str | None, version_of: str | None
    ) -> dict:
        fields = {"framework": framework} if framework else {}
        body, content_type = _multipart(fields, "file", filename, data)
        path = f"/api/v1/reviews/{version_of}/versions" if version_of else "/api/v1/reviews"
        payload, _ = self._call("POST", path, body, content_type)
        return json.loads(payload)

    def get_json(self, path: str) -> dict:
        payload, _ = self._call("GET", path)
        return json.loads(payload)

    def export(self, review_id: str, fmt: str) -> tuple[bytes, str]:
        """The export's bytes and the file name the server suggests."""
        content, headers = self._call("GET", f"/api/v1/reviews/{review_id}/export/{fmt}")
        message = Message()
        message["Content-Disposition"] = headers.get("Content-Disposition", "")
        name = message.get_filename() or f"review.{fmt}"
        return content, Path(name).name  # never a path from the response

    def _call(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[bytes, dict]:
        request = urllib.request.Request(self.base_url + path, data=body, method=method)  # noqa: S310 (our own http://127.0.0.1 URL)
        request.add_header("Accept", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            raise BridgeError(_error_message(exc)) from exc
        except OSError as exc:
            raise BridgeError(
                "AI-Prism's local server did not answer; restart the app and try again."
            ) from exc


class Bridge:
    """Exposed to the page as `window.pywebview.api`.

    `page_url` (the window's current address) lets the bridge refuse to act for any page that is
    not the app's own, should the window ever be navigated elsewhere.
    """

    def __init__(
        self,
        api: LocalApi,
        dialogs: Dialogs,
        max_upload_mb: int,
        page_url: Callable[[], str | None] | None = None,
    ):
        self._api = api
        self._dialogs = dialogs
        self._max_bytes = max_upload_mb * 1024 * 1024
        self._page_url = page_url

    def _check_caller(self) -> None:
        if self._page_url is None:
            return
        url = self._page_url() or ""
        if not url.startswith(self._api.base_url + "/"):
            log.warning("bridge call refused for a foreign page: %s", url[:200])
            raise BridgeError("This page may not open or save files.")

    def open_document(self, framework: str | None = None, version_of: str | None = None) -> dict:
        """Native open dialog → read the file here → upload it. `version_of`: a new version."""
        try:
            self._check_caller()
            if version_of is not None and not REVIEW_ID.match(str(version_of)):
                raise BridgeError("That review does not exist.")
            path = self._dialogs.choose_document()
            if path is None:
                return {"cancelled": True}
            data = read_document(path, self._max_bytes)
            result = self._api.upload(data, path.name, framework or None, version_of)
            log.info("uploaded %s as review %s", path.name, result.get("id"))
            return {"id": result["id"], "status": result.get("status"), "filename": path.name}
        except BridgeError as exc:
            return {"error": str(exc)}
        except Exception:
            log.exception("open_document failed")
            return {"error": "The document could not be opened; see the log for details."}

    def save_export(self, review_id: str, fmt: str) -> dict:
        """Fetch an export, then a native save dialog with the suggested name → write the file."""
        try:
            self._check_caller()
            if not REVIEW_ID.match(str(review_id)) or fmt not in EXPORT_FORMATS:
                raise BridgeError("That export does not exist.")
            content, name = self._api.export(review_id, fmt)
            path = self._dialogs.choose_save_path(name)
            if path is None:
                return {"cancelled": True}
            try:
                path.write_bytes(content)
            except OSError as exc:
                raise BridgeError(
                    f"Could not save to {path}: {exc.strerror or exc}. Choose another folder."
                ) from exc
            log.info("saved %s export of review %s to %s", fmt, review_id, path)
            return {"path": str(path), "name": path.name, "size": len(content)}
        except BridgeError as exc:
            return {"error": str(exc)}
        except Exception:
            log.exception("save_export failed")
            return {"error": "The export could not be saved; see the log for details."}


def read_document(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise BridgeError(
                f"“{path.name}” is larger than the {max_bytes // (1024 * 1024)} MB upload limit."
            )
        return path.read_bytes()
    except OSError as exc:
        raise BridgeError(f"Could not read “{path.name}”: {exc.strerror or exc}.") from exc


def _multipart(
    fields: dict[str, str], file_field: str, filename: str, data: bytes
) -> tuple[bytes, str]:
    boundary = "aiprism-" + secrets.token_hex(16)
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    plain = re.sub(r'[^\x20-\x7e]|["\\]', "_", filename)  # filename* carries the real name
    header = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f"filename=\"{plain}\"; filename*=UTF-8''{quote(filename)}\r\n"
        f"Content-Type: {mime}\r\n\r\n"
    )
    parts.append(header.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        return json.loads(exc.read())["error"]["message"]
    except (ValueError, KeyError, TypeError, OSError):
        return f"The request failed ({exc.code})."
