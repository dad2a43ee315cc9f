"""Server-rendered pages. Everything from a document is escaped by Jinja's autoescape."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from server.frameworks import available
from server.service import ReviewService
from server.web.api import review_json

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
        reviews=service().history()[:10],
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
    return render_template("history.html", reviews=service().history())


@pages.get("/reviews/<review_id>/diff")
def diff(review_id: str):
    return render_template(
        "diff.html", diff=service().diff(review_id), review=review_json(service().get(review_id))
    )


@pages.get("/stats")
def stats():
    packs = available(service().settings.frameworks_dir).values()
    names = {cp.id: cp.name for pack in packs for cp in pack.checkpoints}
    return render_template("stats.html", stats=service().stats(), checkpoint_names=names)
