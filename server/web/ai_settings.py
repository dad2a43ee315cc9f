"""The Settings page's AI helpers: local servers already running, a server's models, Test connection.

Each takes the form's values as they are on the page, before they are saved, so a reviewer sees
whether a choice works before keeping it. A key typed into the form is used for this one call and
forgotten; an empty key field means the saved key. The hosted service's AI comes from its
environment, so there these only test that configuration: no request can make it call an
address of the requester's choosing.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, current_app, jsonify, request

from server import user_settings
from server.ai_choice import desktop_ai
from server.engines import local_servers
from server.engines.ai import AIEngine
from server.engines.ai_settings import AISettings
from server.engines.providers.base import ModelFailed
from server.service import Conflict, InvalidRequest, ReviewService
from server.user_settings import InvalidSettings

ai_settings = Blueprint("ai_settings", __name__)
FORM_FIELDS = ("ai_provider", "ai_base_url", "ai_model", "aws_profile", "aws_region")


def service() -> ReviewService:
    return current_app.config["SERVICE"]


def _desktop_only() -> None:
    if service().settings.ai is not None or service().settings.hosted:
        raise Conflict("The AI provider is set by this service's environment (AIPRISM_AI_*).")


def _form_ai(require_model: bool = True) -> AISettings:
    """AISettings from the posted form over the saved settings, with a typed key if any."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest("Send the AI settings as a JSON object.")
    changes = {k: body[k] for k in FORM_FIELDS if k in body}
    if not require_model and changes.get("ai_provider") == "openai":
        changes.setdefault("ai_model", "")
        changes["ai_model"] = changes["ai_model"] or "any"  # listing models needs none chosen
    data_dir = service().settings.data_dir
    chosen = user_settings.parse(changes, base=user_settings.load(data_dir))
    ai = desktop_ai(chosen, data_dir, service().settings.ai_limits)
    if ai is None:
        raise InvalidSettings("Choose an AI provider first.")
    key = body.get("api_key")
    if isinstance(key, str) and key.strip():
        ai = replace(ai, api_key=key.strip())
    problems = ai.problems()
    if problems:
        raise InvalidSettings(" ".join(problems))
    return ai


@ai_settings.post("/api/v1/settings/ai/test")
def test_connection():
    """One tiny call; answers 200 either way, with the model and time or the server's error."""
    if service().settings.ai is not None:
        engine = service().ai.engine_for(service().settings.ai)
    else:
        _desktop_only()
        engine = AIEngine(_form_ai())
    return jsonify(engine.test_connection())


@ai_settings.post("/api/v1/settings/ai/models")
def models():
    _desktop_only()
    engine = AIEngine(_form_ai(require_model=False))
    try:
        return jsonify({"models": engine.provider.list_models()})
    except ModelFailed as exc:
        return jsonify({"models": [], "error": engine.provider.redact(exc.reason)})


@ai_settings.get("/api/v1/settings/ai/local-servers")
def local():
    _desktop_only()
    return jsonify({"servers": local_servers.running()})
