"""The OLD deployment's shape, for bench/cloud_load.py: the analysis runs inside the upload request.

`gunicorn -w 4 -k sync bench.old_style_app:app`. It is the hosted app of cloud/wsgi.py, unchanged,
wrapped so that an upload answers only when its review is analysed, as the old service did: the
same engines, store and AI calls, so the comparison measures the request model and nothing else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from cloud.wsgi import app as hosted
from server.service import ReviewService

POLL_SECONDS = 0.1


class AnalyseInRequest:
    """WSGI middleware: after POST /api/v1/reviews answers 202, hold the answer until done."""

    def __init__(self, app: Callable, service: ReviewService):
        self.app = app
        self.service = service

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        upload = environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/api/v1/reviews"
        if not upload:
            return self.app(environ, start_response)
        answer: list = []
        result = self.app(environ, lambda *args: answer.extend(args))
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()  # WSGI: the server would have closed it
        if answer[0].startswith("202"):
            review_id = json.loads(body)["id"]
            while self.service.get(review_id).status not in ("done", "failed"):
                time.sleep(POLL_SECONDS)
        start_response(*answer)
        return [body]


app = AnalyseInRequest(hosted, hosted.config["SERVICE"])
