"""A moto S3 server on 127.0.0.1 for the tests: boto3 talks real HTTP to it, never to AWS.

moto checks `If-None-Match: *` and then stores the object in two separate steps, so two threads of
its server can both pass the check and the second overwrites the first; real S3 makes a conditional
write atomic. The server here serialises every write request (reads stay parallel) so that the
store's concurrency tests exercise the store, not that race in the fake.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

# Credentials that cannot reach AWS, and no shared config or profile that could point elsewhere.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class _SerialisedWrites:
    def __init__(self, app: Any):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] in _READS:
            return self.app(environ, start_response)
        with self.lock:
            return list(self.app(environ, start_response))


class _QuietRequestHandler(MotoRequestHandler):
    def log_request(self, *args: Any) -> None:
        """One line per request would bury a failing test's output."""


class AtomicWritesMotoServer(ThreadedMotoServer):
    def _server_entry(self) -> None:
        app = _SerialisedWrites(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, threaded=True, request_handler=_QuietRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


@contextmanager
def moto_server() -> Iterator[str]:
    """Start a server on a free port; yield its endpoint URL; stop it."""
    server = AtomicWritesMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def fake_aws_env() -> Iterator[None]:
    """Fake credentials in the environment (children inherit them), nothing that points at AWS."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in FAKE_AWS_ENV.items():
            env.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ROLE_ARN"):
            env.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """The endpoint URL of a server shared by the module, with fake credentials set meanwhile."""
    with fake_aws_env(), moto_server() as url:
        yield url
