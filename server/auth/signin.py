"""Sign-in through the company's OpenID provider: authorization code with PKCE, state and nonce.

Authlib does the protocol (discovery, the redirect, the code exchange, the ID token's signature,
issuer, audience, expiry and nonce); this module decides who is admitted and keeps the session.
The session is Flask's signed cookie (HttpOnly, SameSite=Lax so that the provider's redirect back
carries it, Secure whenever the request came over HTTPS): it holds the person, their role and
two times, so any worker or instance with the same AIPRISM_SESSION_SECRET can read it and none
needs sticky sessions or a session table.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface

from server.auth.config import OIDCSettings
from server.auth.identity import Actor, Identity
from server.auth.refusals import refused
from server.auth.roles import SignInRefused, person
from server.auth.tokens_page import tokens_page
from server.errors import AIPrismError

log = logging.getLogger(__name__)

signin = Blueprint("signin", __name__, url_prefix="/auth")
SESSION_COOKIE = "aiprism_signin"
CLIENT = "provider"
# Signature algorithms an ID token may use; never "none", nor a shared-secret HMAC the client
# secret would sign.
SIGNING_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
)
PROVIDER_TIMEOUT = 10  # seconds for each call to the provider (discovery, keys, token)


class SessionCookie(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure whenever this request came over HTTPS (directly, or per the
    proxy's X-Forwarded-Proto, which Gunicorn turns into the request's scheme)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or bool(app.config["SESSION_COOKIE_SECURE"])


def install(app: Flask, settings: OIDCSettings) -> None:
    from authlib.integrations.flask_client import OAuth  # only the hosted form signs in

    app.secret_key = settings.session_secret
    app.session_interface = SessionCookie()
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
    )
    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        client_id=settings.client_id,
        client_secret=settings.client_secret or None,
        server_metadata_url=settings.metadata_url,
        client_kwargs={
            "scope": "openid email profile",
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": (
                "client_secret_basic" if settings.client_secret else "none"
            ),
            "default_timeout": PROVIDER_TIMEOUT,
        },
    )
    app.extensions["aiprism_oidc"] = settings
    app.register_blueprint(signin)
    app.register_blueprint(tokens_page)


def _settings() -> OIDCSettings:
    return current_app.extensions["aiprism_oidc"]


def _client() -> Any:
    client = current_app.extensions["authlib.integrations.flask_client"].create_client(CLIENT)
    metadata = client.load_server_metadata()
    if metadata.get("issuer", "").rstrip("/") != _settings().issuer:
        # OpenID Connect Discovery 4.3: the document must name the issuer it was fetched for.
        raise SignInRefused(
            "The provider's discovery document names another issuer than AIPRISM_OIDC_ISSUER."
        )
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    metadata["id_token_signing_alg_values_supported"] = [
        alg for alg in offered if alg in SIGNING_ALGORITHMS
    ] or ["RS256"]
    return client


def safe_next(target: str | None) -> str:
    """A path on this site to return to after signing in; anything else becomes '/'."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        refused(400, "open_redirect", "A sign-in 'next' that leaves the site was replaced by '/'.")
        return "/"
    return target


class ProviderUnreachable(AIPrismError):
    code = "provider_unreachable"
    http_status = 502


def _provider_call(call):
    """Run a call that reaches the provider; its network failure becomes a page that says so."""
    import requests

    try:
        return call()
    except requests.RequestException as exc:
        log.warning("the OpenID provider did not answer: %s", type(exc).__name__)
        raise ProviderUnreachable(
            "The sign-in provider cannot be reached just now; try again in a minute."
        ) from None


@signin.get("/login")
def login():
    next_path = safe_next(request.args.get("next"))
    session.pop("who", None)
    session["next"] = next_path
    callback_url = url_for("signin.callback", _external=True)
    return _provider_call(lambda: _client().authorize_redirect(callback_url))


@signin.get("/callback")
def callback():
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError

    try:
        token = _provider_call(lambda: _client().authorize_access_token())
        claims = token.get("userinfo")
        if not claims:
            raise SignInRefused("The provider sent no ID token.")
        actor, role = person(claims, _settings())
    except SignInRefused as exc:
        refused(exc.http_status, exc.code, exc.message)
        return _failed(exc.message, exc.http_status)
    except (AuthlibBaseError, JoseError) as exc:
        reason = getattr(exc, "error", None) or type(exc).__name__
        refused(401, "sign_in_failed", f"{reason}: {getattr(exc, 'description', '') or exc}")
        return _failed(
            "Signing in did not complete: the provider's answer could not be verified, or the "
            "sign-in link was used already. Start again.",
            401,
        )
    next_path = session.pop("next", "/")
    session.clear()  # a fresh session on every sign-in: nothing from before it carries over
    now = int(time.time())
    session.update(
        who=actor.to_dict(), role=role, since=now, seen=now, csrf=secrets.token_urlsafe(32)
    )
    log.info("signed in: %s (%s) as %s", actor.sub, actor.email, role)
    return redirect(safe_next(next_path), code=303)


def _failed(message: str, status: int):
    return render_template("error.html", status=status, message=message, sign_in_again=True), status


@signin.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("signin.signed_out"), code=303)


@signin.get("/signed-out")
def signed_out():
    return render_template(
        "error.html", status=200, message="You have signed out.", sign_in_again=True
    )


@signin.get("/me")
def me():
    identity: Identity = g.identity
    return jsonify(
        {
            "actor": identity.actor.to_dict() if identity.actor else None,
            "role": identity.role,
            "method": identity.method,
        }
    )


def session_identity(settings: OIDCSettings) -> tuple[Identity | None, str]:
    """The signed-in person from the session cookie, or (None, why): 'none' or 'expired'."""
    who = Actor.from_dict(session.get("who"))
    if who is None:
        return None, "none"
    now = time.time()
    since, seen = float(session.get("since", 0)), float(session.get("seen", 0))
    if (
        now - since > settings.session_lifetime.total_seconds()
        or now - seen > settings.session_idle.total_seconds()
    ):
        session.clear()
        return None, "expired"
    # not on every request: a cookie rewritten each time would be churn for nothing
    if now - seen > min(60.0, settings.session_idle.total_seconds() / 4):
        session["seen"] = int(now)
    return Identity(who, str(session.get("role", "viewer")), "session"), "ok"
