"""`create_app(settings)`: the Flask application shared by the desktop, local and hosted forms."""

from __future__ import annotations

import logging
import mimetypes
from datetime import UTC, datetime

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from server import __version__
from server.documents.limits import MB
from server.errors import AIPrismError
from server.hosted import storage_kind
from server.jobs import JobRunner
from server.paths import reviews_db
from server.service import ReviewService
from server.settings import Settings
from server.store.base import ReviewStore
from server.web import security
from server.web.ai_settings import ai_settings
from server.web.api import api
from server.web.pages import pages
from server.web.settings_page import settings_page

log = logging.getLogger(__name__)


# Windows takes MIME types from the registry, where .js is sometimes text/plain; with nosniff the
# browser then refuses the page's modules. Say it once here for every platform.
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/css", ".css")


def create_app(settings: Settings, store: ReviewStore | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        # the document limit plus room for the multipart framing around it
        MAX_CONTENT_LENGTH=settings.limits.max_bytes + MB,
        JSON_SORT_KEYS=False,
    )
    store = store or open_store(settings)
    jobs = JobRunner(settings.analysis_workers, settings.max_queued)
    service = ReviewService(store, settings, jobs)
    app.config["SERVICE"] = service
    app.extensions["aiprism_jobs"] = jobs

    security.install(app)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    app.register_blueprint(settings_page)
    app.register_blueprint(ai_settings)
    app.jinja_env.globals["desktop_mode"] = settings.desktop
    app.jinja_env.globals["hosted_mode"] = settings.hosted
    _health(app)
    _errors(app)
    service.start_resuming()
    service.start_warming()
    return app


def open_store(settings: Settings) -> ReviewStore:
    """S3 when `store_url` is s3://bucket/prefix (boto3 imported only then), else SQLite."""
    if settings.store_url.startswith("s3://"):
        from server.store.dynamo_index import DynamoIndex
        from server.store.s3 import S3Store

        index = None
        if settings.index_table:
            index = DynamoIndex(
                settings.index_table, settings.store_url, region=settings.store_region
            )
            index.ensure_table(create=settings.create_resources)
        return S3Store.from_url(settings.store_url, region=settings.store_region, index=index)
    from server.store.sqlite import SQLiteStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SQLiteStore(reviews_db(settings.data_dir))


def _health(app: Flask) -> None:
    @app.get("/health")
    def health():
        return {"status": "healthy", "version": __version__, "time": datetime.now(UTC).isoformat()}

    @app.get("/ready")
    def ready():
        try:
            app.config["SERVICE"].store.check()
        except Exception as exc:  # any failure means not ready; say which without a traceback
            log.warning("store not ready: %s", exc)
            return {"status": "unavailable", "store": type(exc).__name__}, 503
        return {
            "status": "ready",
            "store": type(app.config["SERVICE"].store).__name__,
            "storage": storage_kind(app.config["SETTINGS"]),
        }


def _errors(app: Flask) -> None:
    def wants_json() -> bool:
        return (
            request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"
        )

    @app.errorhandler(AIPrismError)
    def user_error(exc: AIPrismError):
        if wants_json():
            return jsonify({"error": {"code": exc.code, "message": exc.message}}), exc.http_status
        return render_template(
            "error.html", status=exc.http_status, message=exc.message
        ), exc.http_status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        messages = {
            404: "There is nothing at this address.",
            405: "That method is not allowed here.",
            413: f"The file is larger than the {app.config['SETTINGS'].max_upload_mb} MB upload limit.",
        }
        message = messages.get(status, exc.description or "The request could not be handled.")
        code = (exc.name or "error").lower().replace(" ", "_")
        if wants_json():
            return jsonify({"error": {"code": code, "message": message}}), status
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = "Something went wrong on our side; your saved work is safe. Try again."
        if wants_json():
            return jsonify({"error": {"code": "internal_error", "message": message}}), 500
        return render_template("error.html", status=500, message=message), 500
