"""API keys for the AI providers, kept in the operating system's keychain.

The keys for the Claude API or an OpenAI-compatible server are the user's own credentials, so they
go where the system keeps passwords (macOS Keychain, Windows Credential Manager, the Secret
Service on Linux) through `keyring`: service "AI-Prism", username = the provider id.

A headless Linux often has no keychain at all (no Secret Service on D-Bus). Saving a key must still
work there, so the key then goes to `api-keys.json` in the user's data folder, created readable
only by the user before any key is written, replaced atomically, and `note()` gives the Settings
page a sentence saying so. A key saved in the file stays found when a keychain appears later (the
keychain is asked first, then the file), and saving it again moves it into the keychain.

Keys are never logged, never put in an exception message, and never kept on the `KeyStore`.
`keyring` is imported only when a key is used: the desktop app's start-up must not pay for it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from server.errors import AIPrismError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SERVICE = "AI-Prism"  # the keychain's service name; the username is the provider id
FILE_NAME = "api-keys.json"
MAX_KEY_LENGTH = 4096  # real keys are well under 300 characters; more is a paste gone wrong
PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
UNAVAILABLE_NOTE = (
    "No system keychain is available; the key is kept in {path}, readable only by you."
)
FILE_NOTE = (
    "Some keys could not be stored in the system keychain; they are kept in {path}, "
    "readable only by you. Save them again to move them into the keychain."
)


class InvalidAPIKey(AIPrismError):
    """A key that cannot be right (empty, absurdly long, spaces or control characters inside).

    The message says what is wrong with the key, never what the key is: it is shown on screen and
    may end up in a log.
    """

    code = "invalid_api_key"
    http_status = 400


class KeyStore:
    """The API keys of one user: the system keychain when there is one, else a private file.

    Holds no key itself; every call asks the keychain or reads the file, so a key changed in the
    keychain by another program is seen at once and `repr` cannot show one.
    """

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / FILE_NAME
        self._lock = threading.Lock()  # the file is read, changed and replaced as one step

    def __repr__(self) -> str:
        return f"KeyStore(data_dir={str(self.data_dir)!r})"

    def get(self, provider: str) -> str | None:
        """The provider's key, or None: the keychain first, then a key saved in the file earlier."""
        _check_provider(provider)
        keychain = _keychain()
        if keychain is not None:
            try:
                key = keychain.get_password(SERVICE, provider)
            except Exception as exc:  # backends pass on their own errors (D-Bus, Secret Service)
                log.warning("could not read the %s key from the system keychain: %s", provider, exc)
            else:
                if key:
                    return key
        with self._lock:
            return self._read_file().get(provider) or None

    def set(self, provider: str, key: str) -> None:
        """Save the provider's key (surrounding whitespace removed) in the keychain, else the file.

        Raises InvalidAPIKey for a key that cannot be right, before anything is stored.
        """
        _check_provider(provider)
        key = _clean(key)
        with self._lock:
            keychain = _keychain()
            if keychain is not None and self._set_in_keychain(keychain, provider, key):
                self._change_file(provider, None)  # no older copy left readable in the file
                return
            self._change_file(provider, key)

    def delete(self, provider: str) -> None:
        """Forget the provider's key wherever it is kept; nothing happens when there is none."""
        _check_provider(provider)
        with self._lock:
            keychain = _keychain()
            if keychain is not None:
                _delete_in_keychain(keychain, provider)
            self._change_file(provider, None)

    def where(self, provider: str) -> Literal["keychain", "file"]:
        """Where the provider's key is kept, or would be kept if saved now."""
        _check_provider(provider)
        keychain = _keychain()
        if keychain is not None:
            try:
                if keychain.get_password(SERVICE, provider):
                    return "keychain"
            except Exception as exc:  # see get()
                log.warning("could not read the %s key from the system keychain: %s", provider, exc)
                return "file"
        with self._lock:
            in_file = provider in self._read_file()
        return "file" if in_file or keychain is None else "keychain"

    def note(self) -> str | None:
        """The sentence the Settings page shows when keys are (or would be) kept in the file."""
        if _keychain() is None:
            return UNAVAILABLE_NOTE.format(path=self.path)
        with self._lock:
            in_file = bool(self._read_file())
        return FILE_NOTE.format(path=self.path) if in_file else None

    def _set_in_keychain(self, keychain: KeyringBackend, provider: str, key: str) -> bool:
        """True if the keychain took the key and gives it back (a chainer of read-only backends
        accepts a key without storing it); on False the caller keeps it in the file instead."""
        try:
            keychain.set_password(SERVICE, provider, key)
            stored = keychain.get_password(SERVICE, provider) == key
        except Exception as exc:  # only the type: a backend's message could quote what it was given
            log.warning(
                "the system keychain refused the %s key (%s); keeping it in %s",
                provider,
                type(exc).__name__,
                self.path,
            )
        else:
            if stored:
                return True
            log.warning(
                "the system keychain did not keep the %s key; keeping it in %s", provider, self.path
            )
        _delete_in_keychain(keychain, provider)  # an older key there would hide the new one
        return False

    def _read_file(self) -> dict[str, str]:
        """The keys in the file; empty when there is none or it cannot be used (never logged)."""
        try:
            if os.name == "posix" and self.path.stat().st_mode & 0o077:
                os.chmod(self.path, 0o600)  # a copy restored from a backup, say
                log.warning("%s was readable by others; made it readable only by you", self.path)
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:  # the type only: a decode error quotes the text
            log.warning(
                "%s cannot be read (%s); no key in it is used", self.path, type(exc).__name__
            )
            return {}
        if not isinstance(raw, dict):
            log.warning("%s does not hold a JSON object; no key in it is used", self.path)
            return {}
        keys = {p: k for p, k in raw.items() if isinstance(k, str) and k}
        if len(keys) != len(raw):
            log.warning("%s has entries that are not keys; they are ignored", self.path)
        return keys

    def _change_file(self, provider: str, key: str | None) -> None:
        """Set (or with None remove) one key in the file; an empty file is removed."""
        keys = self._read_file()
        if key is None:
            if provider not in keys:
                return
            del keys[provider]
        else:
            keys[provider] = key
        if not keys:
            self.path.unlink(missing_ok=True)
            return
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file with O_CREAT | O_EXCL and mode 0600, so it is private before
        # a key is written to it; os.replace then swaps it in whole (a crash leaves the old file).
        fd, temp = tempfile.mkstemp(prefix=".api-keys-", suffix=".json", dir=self.data_dir)
        try:
            if os.name == "posix":
                os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(keys, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def _keychain() -> KeyringBackend | None:
    """The system keychain, or None when there is none that can be used.

    keyring picks its backend once per process; on a machine without a keychain it picks the fail
    backend, or a chainer with nothing to chain (priority below 1).
    """
    try:
        import keyring
        from keyring.backends import fail
    except ImportError as exc:  # a build without it: the file still works
        log.warning("keyring cannot be imported (%s); API keys are kept in a file", exc)
        return None
    try:
        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or backend.priority <= 0:
            return None
    except Exception as exc:  # RuntimeError from D-Bus, keyring's own errors, a broken config
        log.warning("no system keychain can be used: %s", exc)
        return None
    return backend


def _delete_in_keychain(keychain: KeyringBackend, provider: str) -> None:
    """Remove the key from the keychain if it is there; a missing key is not an error."""
    from keyring.errors import PasswordDeleteError

    try:
        keychain.delete_password(SERVICE, provider)
    except PasswordDeleteError:
        log.debug("no %s key in the system keychain to delete", provider)
    except Exception as exc:  # see KeyStore.get()
        log.warning("could not delete the %s key from the system keychain: %s", provider, exc)


def _check_provider(provider: str) -> None:
    """Provider ids come from our own code ("anthropic", "openai"), so a bad one is a bug."""
    if not isinstance(provider, str) or not PROVIDER_ID.match(provider):
        # The value is left out: with the arguments swapped it would be the key.
        raise ValueError("not a provider id (lower-case letters, digits, _ . -)")


def _clean(key: object) -> str:
    """The key without surrounding whitespace, or InvalidAPIKey saying (only) what is wrong."""
    if not isinstance(key, str):
        raise InvalidAPIKey("The API key must be text.")
    key = key.strip()
    if not key:
        raise InvalidAPIKey("The API key is empty. Paste the key from your provider's console.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidAPIKey(
            f"The API key is {len(key)} characters long; keys are at most {MAX_KEY_LENGTH}. "
            "Copy just the key from your provider's console."
        )
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        raise InvalidAPIKey(
            "The API key has spaces, line breaks or control characters inside it. "
            "Copy it again from your provider's console."
        )
    if not key.isascii():
        raise InvalidAPIKey(
            "The API key has characters that keys never contain (curly quotes, accents). "
            "Copy it again from your provider's console."
        )
    return key
