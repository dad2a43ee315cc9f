"""All request security in one place.

- The per-launch secret: `/?token=…` once sets an HttpOnly SameSite=Strict cookie and redirects to
  the clean URL; API clients may send `Authorization: Bearer …`. Everything but /health, /ready and
  static files needs it (unless the hosted app is explicitly configured with no auth).
- Host header allow-list (DNS rebinding) and same-origin check on state-changing requests.
- CSRF: cookie-authenticated state-changing requests must echo the CSRF token in `X-CSRF-Token`
  (pages carry it in a meta tag). Bearer-authenticated clients have no ambient credential to abuse.
  The token must be the same in every Gunicorn worker and every hosted instance: it is derived from
  the access token, or, with no access token, kept in a cookie of its own (double submit).
- Response headers: CSP without inline script, nosniff, frame-ancestors 'none', a referrer only
  within the site.
- Hosted with the company's sign-in (`Settings.oidc`): a signed session cookie (server/auth/signin.py)
  or a personal access token as Bearer (server/auth/tokens.py) instead of the shared secret.
- Every route's role (server/auth/policy.py) is checked against the caller's; the caller becomes
  the actor of the events the request appends. Every refusal is logged (server/auth/refusals.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, current_app, g, jsonify, redirect, request, session, url_for

from server.auth import tokens
from server.auth.identity import Actor, Identity, current_actor
from server.auth.local import local_actor
from server.auth.policy import PUBLIC, required_role
from server.auth.refusals import refused
from server.auth.signin import session_identity
from server.settings import Settings

COOKIE = "aiprism_session"
CSRF_COOKIE = "aiprism_csrf"  # only without an access token
CSRF_HEADER = "X-CSRF-Token"
PUBLIC_PATHS = ("/health", "/ready", "/static/", "/favicon.ico")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _derive(secret: str, purpose: str) -> str:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def session_value(settings: Settings) -> str:
    """What the cookie holds: derived from the token, so the cookie alone never reveals it."""
    return _derive(settings.token or "", "session")


def csrf_token() -> str:
    settings: Settings = current_app.config["SETTINGS"]
    if settings.oidc is not None:  # set at sign-in; before it, no form can post anything
        return str(session.get("csrf", ""))
    if settings.token:
        return _derive(settings.token, "csrf")
    if "csrf" not in g:  # a per-process secret would differ between workers and refuse posts
        sent = request.cookies.get(CSRF_COOKIE, "")
        g.csrf = sent if len(sent) >= 32 else secrets.token_urlsafe(32)
    return g.csrf


def install(app: Flask) -> None:
    app.before_request(_check_request)
    app.after_request(_add_headers)
    app.teardown_request(_stop_acting)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["signed_in"] = lambda: g.get("identity")
    settings: Settings = app.config["SETTINGS"]
    if settings.oidc is not None:
        from server.auth import signin

        signin.install(app, settings.oidc)


def _stop_acting(_exc: BaseException | None = None) -> None:
    """The request's actor ends with it: threads serve one request after another."""
    reset = g.pop("actor_reset", None)
    if reset is not None:
        current_actor.reset(reset)


def _error(status: int, code: str, message: str) -> Response:
    refused(status, code, message)
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        response = jsonify({"error": {"code": code, "message": message}})
    else:
        from flask import render_template

        response = current_app.make_response(
            render_template("error.html", status=status, message=message)
        )
    response.status_code = status
    return response


def _host_allowed(settings: Settings) -> bool:
    if not settings.allowed_hosts or "*" in settings.allowed_hosts:
        return True
    host = (request.host or "").rsplit(":", 1)[0].strip("[]").lower()
    return host in settings.allowed_hosts


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        referer = request.headers.get("Referer")
        if referer is None:
            return True  # non-browser clients send neither
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(referer))
    if origin == "null":
        return False
    return origin.rstrip("/") == request.host_url.rstrip("/")


def _check_request() -> Response | None:
    settings: Settings = current_app.config["SETTINGS"]
    g.auth = None
    g.identity = None
    if not _host_allowed(settings):
        return _error(
            403, "bad_host", "This address is not allowed; open AI-Prism through its own link."
        )
    needed = required_role(request.endpoint)
    if request.path.startswith(PUBLIC_PATHS) or needed == PUBLIC:
        return None
    if request.method in UNSAFE_METHODS and not _same_origin():
        return _error(403, "bad_origin", "Requests from other sites are refused.")
    identified = _identify(settings)
    if isinstance(identified, Response):
        return identified
    g.identity = identified
    g.auth = "bearer" if identified.method in ("bearer", "bearer-token") else identified.method
    if not identified.may(needed):
        return _error(
            403,
            "forbidden",
            f"Your role ({identified.role}) cannot do this; it needs the {needed} role.",
        )
    if request.method in UNSAFE_METHODS and g.auth != "bearer":
        sent = request.headers.get(CSRF_HEADER, "") or request.form.get("csrf_token", "")
        if not hmac.compare_digest(sent, csrf_token()):
            return _error(403, "csrf", "The page is out of date; reload it and try again.")
    g.actor_reset = current_actor.set(identified.actor)  # read by the service's events
    return None


def _identify(settings: Settings) -> Identity | Response:
    """Who is asking, or the response that refuses or redirects them."""
    if settings.oidc is not None:
        return _identify_signed_in(settings)
    if settings.token is None:
        return Identity(_nobody_or_local(settings), "admin", "none")
    if _bearer_ok(settings):
        return Identity(_nobody_or_local(settings), "admin", "bearer")
    if hmac.compare_digest(request.cookies.get(COOKIE, ""), session_value(settings)):
        return Identity(_nobody_or_local(settings), "admin", "cookie")
    if request.method == "GET" and hmac.compare_digest(
        request.args.get("token", ""), settings.token
    ):
        return _grant_cookie(settings)
    return _error(401, "unauthorised", "Open AI-Prism with the link it printed when it started.")


def _nobody_or_local(settings: Settings) -> Actor | None:
    """On one's own machine, its user; hosted with the shared token, nobody in particular."""
    return None if settings.hosted else local_actor(settings.data_dir)


def _identify_signed_in(settings: Settings) -> Identity | Response:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        identity = tokens.verify(current_app.config["SERVICE"].store, value.strip())
        if identity is None:
            return _error(
                401,
                "unauthorised",
                "This access token is not valid: unknown, revoked or expired.",
            )
        return identity
    assert settings.oidc is not None
    identity, why = session_identity(settings.oidc)
    if identity is not None:
        return identity
    if request.path.startswith("/api/") or request.method != "GET":
        if why == "expired":
            return _error(401, "session_expired", "Your session has expired; sign in again.")
        return _error(401, "unauthorised", "Sign in first, or send a personal access token.")
    full_path = request.full_path if request.query_string else request.path
    return redirect(url_for("signin.login", next=full_path), code=303)


def _bearer_ok(settings: Settings) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), settings.token or "")


def _grant_cookie(settings: Settings) -> Response:
    args = request.args.to_dict()
    args.pop("token", None)
    query = urlencode(args)
    response = redirect(request.path + (f"?{query}" if query else ""), code=303)
    _set_cookie(response, COOKIE, session_value(settings), settings)
    return response


def _set_cookie(response: Response, name: str, value: str, settings: Settings) -> None:
    # Secure when hosted: App Runner serves HTTPS only, and the cookie must never travel in clear.
    response.set_cookie(
        name, value, httponly=True, samesite="Strict", secure=settings.hosted, path="/"
    )


def _add_headers(response: Response) -> Response:
    if "csrf" in g and g.csrf != request.cookies.get(CSRF_COOKIE):
        _set_cookie(response, CSRF_COOKIE, g.csrf, current_app.config["SETTINGS"])
    policy = response.headers.setdefault("Content-Security-Policy", CSP)
    if "frame-ancestors" not in policy:  # a view's own policy (the HTML report) must not be framed
        response.headers["Content-Security-Policy"] = f"{policy}; frame-ancestors 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: with no-referrer a form post carries "Origin: null", which
    # the same-origin check must refuse (sign-out and the tokens page post forms)
    response.headers["Referrer-Policy"] = "same-origin"
    if request.path.startswith("/api/") or response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
