"""The personal access tokens page (`/tokens`): create one (shown once), see yours, revoke one.

Plain forms, no script: the new token appears in the page that answers the form, and nowhere
else, ever again. Only a signed-in session may create a token, so a token cannot mint another
that outlives it.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from server.auth import tokens
from server.auth.identity import Identity
from server.errors import AIPrismError

tokens_page = Blueprint("tokens", __name__)


class TokenNotFound(AIPrismError):
    code = "not_found"
    http_status = 404


def _store():
    return current_app.config["SERVICE"].store


def _me() -> Identity:
    identity: Identity = g.identity
    if identity.actor is None:
        raise tokens.InvalidToken("Personal access tokens need a signed-in person.")
    return identity


@tokens_page.get("/tokens")
def page(created: str | None = None, problem: str | None = None, status: int = 200):
    me = _me()
    return render_template(
        "tokens.html",
        tokens=[t.public() for t in tokens.owned_by(_store(), me.actor.sub)],
        created=created,
        problem=problem,
        max_days=tokens.MAX_DAYS,
        default_days=tokens.DEFAULT_DAYS,
        may_create=me.method == "session",
    ), status


@tokens_page.post("/tokens")
def create():
    me = _me()
    if me.method != "session":
        raise tokens.InvalidToken("Create tokens on this page while signed in, not with a token.")
    days = request.form.get("days", "").strip()
    try:
        token, _ = tokens.create(
            _store(), me, request.form.get("label", ""), int(days) if days.isdigit() else -1
        )
    except tokens.InvalidToken as exc:
        return page(problem=exc.message, status=exc.http_status)
    return page(created=token)


@tokens_page.post("/tokens/<token_id>/revoke")
def revoke(token_id: str):
    try:
        tokens.revoke(_store(), _me().actor.sub, token_id)
    except LookupError:
        raise TokenNotFound("You have no token with that id.") from None
    return redirect(url_for("tokens.page"), code=303)
