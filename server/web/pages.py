"""Server-rendered pages. Everything from a document is escaped by Jinja's autoescape."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from server import learning
from server.auth.identity import current_actor
from server.frameworks import available
from server.service import ReviewService
from server.store.base import HistoryQuery
from server.web.api import history_query, review_json

pages = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def service() -> ReviewService:
    return current_app.config["SERVICE"]


@pages.get("/")
def home():
    frameworks = sorted(available(service().settings.frameworks_dir).values(), key=lambda f: f.id)
    return render_template(
        "home.html",
        reviews=service().history(HistoryQuery(limit=10)).rows,
        frameworks=frameworks,
        default_framework=service().settings.default_framework,
    )


@pages.get("/reviews/<review_id>")
def review(review_id: str):
    state = service().get(review_id)
    from server.frameworks import resolve

    framework = resolve(state.framework, service().settings.frameworks_dir)
    return render_template("review.html", review=review_json(state), framework=framework)


@pages.get("/history")
def history():
    query = history_query(request.args)
    frameworks = sorted(available(service().settings.frameworks_dir))
    return render_template(
        "history.html",
        page=service().history(query),
        query=query,
        frameworks=frameworks,
        me=current_actor.get(),
    )


@pages.get("/history/rows")
def history_rows():
    """The next page of the history table's rows, for the page's scrolling (same markup)."""
    page = service().history(history_query(request.args))
    html = render_template("_history_rows.html", rows=page.rows)
    return jsonify({"html": html, "next_cursor": page.cursor})


@pages.get("/reviews/<review_id>/diff")
def diff(review_id: str):
    return render_template(
        "diff.html", diff=service().diff(review_id), review=review_json(service().get(review_id))
    )


@pages.get("/stats")
def stats():
    packs = available(service().settings.frameworks_dir).values()
    names = {cp.id: cp.name for pack in packs for cp in pack.checkpoints}
    return render_template(
        "stats.html",
        stats=service().stats(),
        checkpoint_names=names,
        noisy_min_decisions=learning.NOISY_MIN_DECISIONS,
        noisy_max_acceptance=learning.NOISY_MAX_ACCEPTANCE,
    )
