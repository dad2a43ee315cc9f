"""A real OpenID provider for the tests: `oidc-provider-mock` (Authlib's authorization server with
a login form, discovery, JWKS and a token endpoint), run on 127.0.0.1 in a thread.

`tamper` makes its token endpoint answer with an ID token changed in one way (another issuer or
audience, an expired one, a foreign signature, `alg: none`) so that the tests can show each is
refused; the provider itself stays real, and nothing else is changed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import flask
import oidc_provider_mock
import requests
from joserfc import jwk, jwt
from joserfc.jws import JWSRegistry
from werkzeug.serving import WSGIRequestHandler, make_server

TAMPERS = ("issuer", "audience", "expired", "signature", "alg-none")


class Provider:
    def __init__(self, base_url: str):
        self.issuer = base_url
        self.tamper: str | None = None

    def set_user(self, sub: str, **claims) -> None:
        response = requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5)
        assert response.status_code == 204, response.text

    def sign_in(self, authorize_url: str, sub: str) -> str:
        """Submit the provider's login form as `sub`; return where it sends the browser back."""
        response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return response.headers["Location"]


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args) -> None:
        """One line per request would bury a failing test's output."""


def _tampered(id_token: str, how: str, key) -> str:
    token = jwt.decode(id_token, key)
    claims, header = dict(token.claims), dict(token.header)
    if how == "issuer":
        claims["iss"] = "https://impostor.example"
    elif how == "audience":
        claims["aud"] = "another-client"
    elif how == "expired":
        claims["iat"], claims["exp"] = int(time.time()) - 7200, int(time.time()) - 3600
    if how == "signature":  # right key id, wrong key: what a forger without the key can do
        return jwt.encode(header, claims, jwk.RSAKey.generate_key(2048))
    if how == "alg-none":
        header["alg"] = "none"
        return jwt.encode(header, claims, None, registry=JWSRegistry(algorithms=["none"]))
    return jwt.encode(header, claims, key)


@contextmanager
def running_provider() -> Iterator[Provider]:
    app = oidc_provider_mock.app(require_nonce=True)
    provider: Provider | None = None

    @app.after_request
    def tamper(response: flask.Response) -> flask.Response:
        if provider is None or provider.tamper is None or flask.request.path != "/oauth2/token":
            return response
        if response.status_code != 200:
            return response
        body = json.loads(response.get_data())
        key = jwk.import_key(flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True))
        body["id_token"] = _tampered(body["id_token"], provider.tamper, key)
        response.set_data(json.dumps(body))
        return response

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        provider = Provider(f"http://127.0.0.1:{server.server_port}")
        yield provider
    finally:
        server.shutdown()
        thread.join(5)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
