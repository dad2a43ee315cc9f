"""Refusals as one structured (JSON) log line each: who, what, why; never a document's text.

An operator greps them (`"event": "refused"`) or a log service indexes their fields. The line
carries the method and path (never the query string, which may carry a code or a token), the
caller as far as known, and a short reason code with its message.
"""

from __future__ import annotations

import json
import logging

from flask import g, has_request_context, request

log = logging.getLogger("aiprism.refusals")


def refused(status: int, code: str, message: str) -> None:
    line: dict[str, object] = {
        "event": "refused",
        "status": status,
        "why": code,
        "message": message,
    }
    if has_request_context():
        identity = g.get("identity")
        actor = identity.actor if identity is not None else None
        line["who"] = actor.to_dict() if actor else None
        line["role"] = identity.role if identity is not None else None
        line["what"] = f"{request.method} {request.path}"
        line["endpoint"] = request.endpoint
        line["from"] = request.remote_addr
    log.warning(json.dumps(line, ensure_ascii=False, sort_keys=True))
