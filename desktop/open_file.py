"""A document handed to the app by the system (Open with AI-Prism, a double-click on a file
associated with it, `ai-prism FILE`) becomes a new review: uploaded to the local server the way
the page's own upload is (same limits, same validation, same audit event), with the user's
framework for new reviews."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from desktop.bridge import BridgeError, LocalApi, read_document
from desktop.local_server import LocalServer

log = logging.getLogger(__name__)


def review_path(local: LocalServer, document: Path) -> str:
    """Upload `document`; the new review's page ("/reviews/<id>"). Raises BridgeError with a
    message for the user when the file cannot be read or is not a document AI-Prism reads."""
    api = LocalApi(local.base_url, local.settings.token)
    data = read_document(document, local.settings.max_upload_mb * 1024 * 1024)
    created = api.upload(data, document.name, None, None)
    log.info("opened %s as review %s", document.name, created["id"])
    return f"/reviews/{quote(created['id'])}"


def first_url(local: LocalServer, document: Path | None) -> tuple[str, str | None]:
    """The window's first address (carrying the launch secret once) and, when the document could
    not be opened, why: the window then opens on the home page and shows the reason there."""
    if document is None:
        return local.url_for("/"), None
    try:
        return local.url_for(review_path(local, document)), None
    except BridgeError as exc:
        log.warning("could not open %s: %s", document, exc)
        return local.url_for("/"), str(exc)
