"""The JSON API (`/api/v1/…`), documented in docs/api.md. Views parse, call the service, answer."""

from __future__ import annotations

import json
import re
import time
import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from server.auth.identity import current_actor
from server.review import ReviewState
from server.service import InvalidRequest, ReviewService
from server.store.base import HistoryQuery

api = Blueprint("api", __name__, url_prefix="/api/v1")
STREAM_SECONDS = 120  # the longest one progress stream stays open
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def service() -> ReviewService:
    return current_app.config["SERVICE"]


def review_json(state: ReviewState) -> dict:
    progress = service().store.progress(state.id) or {"done": 0, "total": 0, "stage": state.status}
    findings = []
    for f in state.findings:
        findings.append(
            {**f.to_dict(), "decision": state.decision(f.id), "custom": f.id in state.custom}
        )
    return {
        "id": state.id,
        "status": state.status,
        "error": state.error,
        "filename": state.filename,
        "framework": {"id": state.framework, "version": state.framework_version},
        "version": state.version,
        "parent_id": state.parent_id,
        "created_at": state.created_at,
        "completed_at": state.completed_at,
        "created_by": state.created_by,
        "completed_by": state.completed_by,
        "progress": {
            "done": progress.get("done", 0),
            "total": progress.get("total", 0),
            "stage": progress.get("stage"),
        },
        "document": state.document.to_dict() if state.document else None,
        "findings": findings,
        "counts": state.counts(),
        "notices": state.notices,
        "engines": state.engines,
        "ai_usage": state.ai_usage,
        "chat": state.chat,
        "carried": state.carried,
    }


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidRequest("Send a JSON object in the request body.")
    return data


def _upload() -> tuple[bytes, str]:
    file = request.files.get("file")
    if file is None:
        raise InvalidRequest("Attach the document as the multipart field 'file'.")
    return file.read(), file.filename or "document"


@api.post("/reviews")
def create_review():
    data, filename = _upload()
    state = service().create(data, filename, request.form.get("framework") or None)
    return jsonify({"id": state.id, "status": state.status}), 202


def history_query(args) -> HistoryQuery:
    """The history page asked for in a request's query string (limit, cursor and filters)."""
    values = {}
    for name in ("cursor", "status", "framework", "since", "until", "uploader"):
        value = (args.get(name) or "").strip()
        if value:
            values[name] = value
    if values.get("uploader") == "me":
        actor = current_actor.get()
        if actor is None:
            raise InvalidRequest("'uploader=me' needs a signed-in person.")
        values["uploader"] = actor.sub
    for name in ("since", "until"):
        if name in values and not _DATE.fullmatch(values[name]):
            raise InvalidRequest(f"The '{name}' filter must be a date such as 2026-12-02.")
    if "limit" in args:
        try:
            values["limit"] = int(args["limit"])
        except ValueError:
            raise InvalidRequest("The 'limit' must be a whole number.") from None
    try:
        return HistoryQuery(**values)
    except ValueError as exc:
        raise InvalidRequest(f"{exc}.") from None


@api.get("/reviews")
def list_reviews():
    page = service().history(history_query(request.args))
    return jsonify({"reviews": page.rows, "next_cursor": page.cursor})


@api.get("/reviews/<review_id>")
def get_review(review_id: str):
    return jsonify(review_json(service().get(review_id)))


@api.delete("/reviews/<review_id>")
def delete_review(review_id: str):
    service().delete(review_id)
    return "", 204


@api.get("/reviews/<review_id>/progress")
def progress(review_id: str):
    svc = service()
    first = svc.progress(review_id)
    if request.accept_mimetypes.best != "text/event-stream":
        return jsonify(first)

    # A stream holds a server thread, and each look reads the store (S3 requests when hosted):
    # look less often when hosted, and end after a while; the page then polls once a second.
    every = 1.0 if svc.settings.hosted else 0.25

    def stream():
        last = None
        deadline = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < deadline:
            current = svc.progress(review_id)
            if current != last:
                yield f"data: {json.dumps(current)}\n\n"
                last = current
            if current["status"] in ("done", "failed"):
                return
            time.sleep(every)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(stream()), mimetype="text/event-stream", headers=headers)


@api.post("/reviews/<review_id>/retry")
def retry(review_id: str):
    state = service().retry(review_id)
    return jsonify({"id": state.id, "status": "queued"}), 202


@api.post("/reviews/<review_id>/findings/<finding_id>/decision")
def decide(review_id: str, finding_id: str):
    body = _body()
    state = service().decide(review_id, finding_id, str(body.get("action", "")), body.get("text"))
    return jsonify(
        {"finding_id": finding_id, "decision": state.decision(finding_id), "counts": state.counts()}
    )


@api.post("/reviews/<review_id>/findings")
def add_finding(review_id: str):
    finding = service().add_finding(review_id, _body())
    state = service().get(review_id)
    return jsonify(
        {**finding.to_dict(), "decision": state.decision(finding.id), "custom": True}
    ), 201


@api.post("/reviews/<review_id>/chat")
def chat(review_id: str):
    return jsonify(service().chat(review_id, str(_body().get("message", ""))))


@api.post("/reviews/<review_id>/complete")
def complete(review_id: str):
    state = service().complete(review_id)
    return jsonify({"id": state.id, "completed_at": state.completed_at})


@api.get("/reviews/<review_id>/export/<fmt>")
def export(review_id: str, fmt: str):
    content, mimetype, name = service().export(review_id, fmt)
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(name)
    if mimetype.startswith("text/html"):  # the report is self-contained with its own inline styles
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
    return response


def content_disposition(name: str) -> str:
    """An attachment header every browser reads: an ASCII fallback plus the real name (RFC 6266),
    since HTTP headers are Latin-1 and a reviewer's file names often are not."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9._ -]+", "_", fallback).strip() or "export"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@api.post("/reviews/<review_id>/versions")
def new_version(review_id: str):
    data, filename = _upload()
    state = service().new_version(review_id, data, filename)
    return jsonify({"id": state.id, "status": state.status, "parent_id": review_id}), 202


@api.get("/reviews/<review_id>/diff")
def diff(review_id: str):
    return jsonify(service().diff(review_id))


@api.get("/reviews/<review_id>/events")
def events(review_id: str):
    return jsonify({"events": service().events(review_id)})


@api.get("/stats")
def stats():
    return jsonify(service().stats())


@api.post("/settings/muted-rules")
def mute_rule():
    body = _body()
    rule = str(body.get("rule", "")).strip()
    if not rule:
        raise InvalidRequest("Name the 'rule' to mute or unmute.")
    return jsonify({"muted_rules": service().set_muted(rule, bool(body.get("muted", True)))})


@api.get("/frameworks")
def frameworks():
    from server.frameworks import available

    packs = available(service().settings.frameworks_dir)
    return jsonify({"frameworks": [fw.summary() | {"source": None} for fw in packs.values()]})


@api.get("/frameworks/<framework_id>/guidelines")
def guidelines(framework_id: str):
    return jsonify({"guidelines": _without_text(service().guidelines(framework_id))})


@api.post("/frameworks/<framework_id>/guidelines")
def attach_guidelines(framework_id: str):
    """Attach a guidelines document (multipart `file`): its text goes with every AI request."""
    data, filename = _upload()
    stored = service().attach_guidelines(framework_id, data, filename)
    return jsonify({"guidelines": _without_text(stored)})


@api.delete("/frameworks/<framework_id>/guidelines")
def detach_guidelines(framework_id: str):
    service().detach_guidelines(framework_id)
    return jsonify({"guidelines": None})


def _without_text(stored: dict | None) -> dict | None:
    """What the page shows of attached guidelines: the file, its size and how it begins."""
    if not stored:
        return None
    return {**{k: v for k, v in stored.items() if k != "text"}, "excerpt": stored["text"][:300]}
