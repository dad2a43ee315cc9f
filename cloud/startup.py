"""What the Gunicorn master and every worker do before serving.

Read the settings or stop with one line per problem, send the app's log to stdout, and say in one
line what is starting. The master reads the settings too, so a mistake stops the service once,
before any worker boots, instead of once per worker.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping

from server import __version__
from server.engines.ai_settings import describe_ai
from server.hosted import HostedSettingsError, hosted_settings, storage_kind
from server.settings import Settings

# Gunicorn's APP_LOAD_ERROR: when a worker exits with it, the master stops instead of booting
# another worker that would fail the same way.
EXIT_BAD_SETTINGS = 4


def settings_or_exit(env: Mapping[str, str]) -> Settings:
    try:
        return hosted_settings(env)
    except HostedSettingsError as exc:
        lines = [f"  - {problem}" for problem in exc.problems]
        print("AI-Prism cannot start; fix the environment:", *lines, sep="\n", file=sys.stderr)
        sys.stderr.flush()
        raise SystemExit(EXIT_BAD_SETTINGS) from None


def configure_logging() -> None:
    """The app's records to stdout, where App Runner collects them; once per process."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stdout,
        format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s",
    )


def startup_line(settings: Settings, port: str, workers: int, threads: int) -> str:
    if storage_kind(settings) == "ephemeral":
        storage = (
            f"storage EPHEMERAL (SQLite in {settings.data_dir}, lost at every deployment, "
            "restart or scale-in, not shared between instances; set AIPRISM_S3_BUCKET)"
        )
    else:
        storage = f"storage {settings.store_url} in {settings.store_region}"
        if settings.index_table:
            storage += f" with table {settings.index_table}"
    ai = "AI off"
    if settings.ai is not None:
        ai = f"AI {describe_ai(settings.ai)}"
    if settings.oidc is not None:
        sign_in = f"OpenID Connect ({settings.oidc.issuer}) and personal access tokens"
    else:
        sign_in = "access token" if settings.token else "NO SIGN-IN (AIPRISM_AUTH=none)"
    return (
        f"AI-Prism {__version__} on port {port}: {workers} workers x {threads} threads; "
        f"{storage}; {ai}; sign-in: {sign_in}"
    )
