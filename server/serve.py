"""`aiprism serve`: the workbench on Waitress, on this machine only by default.

Prints exactly one line, `AI-Prism running at http://HOST:PORT/?token=TOKEN`, then serves until
interrupted. The token is random per launch unless AIPRISM_TOKEN is set. Reviews live in SQLite
in the data folder, or in S3 with `--store s3://bucket/prefix` (or AIPRISM_STORE_URL): the region
comes from AWS_REGION, and boto3 reads credentials and any AWS_ENDPOINT_URL_S3 as usual. The AI
engine is the one AIPRISM_AI_PROVIDER names (docs/ai.md), else the Settings page's choice.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from ipaddress import ip_address
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `aiprism review` builds this command's parser too: keep its imports light
    from server.settings import Settings


def add_serve_command(commands) -> None:
    from server.cli_options import add_data_dir, add_store

    serve = commands.add_parser("serve", help="run the review workbench on this machine")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--open", action="store_true", help="open the system browser on it")
    add_store(serve)
    serve.set_defaults(handler=run)
    add_data_dir(serve)


def make_server(settings: Settings, host: str, port: int, threads: int = 16):
    """Build the app and a Waitress server bound to host:port (0 = any free port); not yet serving."""
    from waitress.server import create_server

    from server.web import create_app

    app = create_app(settings)
    server = create_server(app, host=host, port=port, threads=threads, ident="AI-Prism")
    return app, server


def url_of(server, settings: Settings) -> str:
    host, port = server.effective_host, server.effective_port
    any_address = not host or ip_address(host).is_unspecified  # 0.0.0.0 or ::
    base = f"http://{'127.0.0.1' if any_address else host}:{port}/"
    return f"{base}?token={settings.token}" if settings.token else base


def run(args: argparse.Namespace) -> int:
    import webbrowser

    from server.documents.limits import Limits
    from server.engines.ai_settings import AISettings, ai_limits
    from server.hosted import aws_region
    from server.paths import data_dir
    from server.settings import Settings

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("waitress").setLevel(logging.WARNING)
    hosts = ("127.0.0.1", "localhost") if args.host in ("127.0.0.1", "localhost") else ("*",)
    settings = Settings(
        data_dir=data_dir(args.data_dir),
        ai=AISettings.from_env(os.environ),  # None: the Settings page's choice
        ai_limits=ai_limits(os.environ),
        allowed_hosts=hosts,
        store_url=args.store,
        store_region=aws_region(os.environ),
        index_table=os.environ.get("AIPRISM_DYNAMODB_TABLE", "").strip() if args.store else "",
        create_resources=os.environ.get("AIPRISM_CREATE_RESOURCES", "").strip() == "1",
        limits=Limits.from_env(os.environ),
        **({"token": os.environ["AIPRISM_TOKEN"]} if os.environ.get("AIPRISM_TOKEN") else {}),
    )
    app, server = make_server(settings, args.host, args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # waitress closes cleanly on SystemExit
    url = url_of(server, settings)
    print(f"AI-Prism running at {url}", flush=True)
    if args.open:
        webbrowser.open(url)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["aiprism_jobs"].shutdown()
    return 0
