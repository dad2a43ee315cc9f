"""The settings page (`/settings`) and its API (`/api/v1/settings`).

Framework, AI and AWS choices persist in the data folder's settings.json (server/user_settings.py);
API keys go to the system keychain (server/secrets.py) and only whether one is saved comes back;
muted rules stay in the store, where the engine and the statistics page already read them.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, render_template, request

from server import __version__, user_settings
from server.ai_choice import desktop_ai
from server.auth.local import os_full_name
from server.engines.ai_settings import AISettings
from server.frameworks import available
from server.secrets import KeyStore
from server.service import InvalidRequest, ReviewService
from server.user_settings import InvalidSettings

settings_page = Blueprint("settings", __name__)
KEY_PROVIDERS = ("anthropic", "openai")  # the providers whose key the page keeps
PLACEHOLDER = re.compile(r"\s*:?\s*'?\{\w+\}'?")  # "{quote}" in a rule's title template


def service() -> ReviewService:
    return current_app.config["SERVICE"]


def _frameworks() -> dict:
    return available(service().settings.frameworks_dir)


def _muted() -> list[str]:
    return sorted(service().store.get_setting("muted_rules", []) or [])


def _keys() -> KeyStore:
    return KeyStore(service().settings.data_dir)


def _state() -> dict:
    saved = user_settings.load(service().settings.data_dir)
    keys = _keys()
    return {
        **saved.to_dict(),
        "muted_rules": _muted(),
        "api_keys": {
            provider: {"saved": keys.get(provider) is not None, "where": keys.where(provider)}
            for provider in KEY_PROVIDERS
        },
        "key_note": keys.note(),
        "hosted_ai": _hosted_ai(),
    }


def _hosted_ai() -> dict | None:
    """What the environment configured, when it did (hosted, `serve` with AIPRISM_AI_PROVIDER)."""
    settings = service().settings
    if settings.ai is None:
        return {"provider": "off"} if settings.hosted else None
    engine = service().ai.engine_for(settings.ai)
    return {**engine.privacy(), "models": list(settings.ai.models)}


@settings_page.get("/settings")
def page():
    frameworks = sorted(_frameworks().values(), key=lambda f: f.name)
    rules: dict[str, str] = {}
    for framework in frameworks:
        for rule in framework.rules:
            rules.setdefault(rule.id, PLACEHOLDER.sub("", rule.title).strip())
    muted = set(_muted())
    for rule_id in muted:
        rules.setdefault(rule_id, "")  # muted earlier in a pack that is gone: still unmutable
    return render_template(
        "settings.html",
        settings=user_settings.load(service().settings.data_dir),
        frameworks=frameworks,
        rules=sorted(rules.items(), key=lambda item: (item[0] not in muted, item[0])),
        muted=muted,
        data_dir=str(service().settings.data_dir),
        state=_state(),
        guidelines={fw.id: service().guidelines(fw.id) for fw in frameworks},
        guidance_chars=f"{_guidance_budget():,}",
        version=__version__,
        os_full_name=os_full_name(),
    )


def _guidance_budget() -> int:
    settings = service().settings
    return (settings.ai or AISettings(**settings.ai_limits)).guidance_chars


@settings_page.get("/api/v1/settings")
def read():
    return jsonify(_state())


@settings_page.post("/api/v1/settings")
def write():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest("Send the settings as a JSON object.")
    changes = dict(body)
    rules = changes.pop("muted_rules", None)
    key = changes.pop("api_key", None)
    forget = changes.pop("clear_api_key", False) is True
    wanted = user_settings.parse_rules(rules) if rules is not None else None
    data_dir = service().settings.data_dir
    chosen = user_settings.parse(changes, _frameworks().keys(), base=user_settings.load(data_dir))
    keys = _keys()
    if chosen.ai_provider in KEY_PROVIDERS:
        if forget:
            keys.delete(chosen.ai_provider)
        if isinstance(key, str) and key.strip():
            keys.set(chosen.ai_provider, key)
    ai = desktop_ai(chosen, data_dir)
    problems = ai.problems() if ai else []  # e.g. the Claude API without a key
    if problems:
        raise InvalidSettings(" ".join(problems))
    user_settings.save(data_dir, chosen)
    if wanted is not None:
        current = set(_muted())
        for rule in sorted(current - set(wanted)):
            service().set_muted(rule, False)
        for rule in sorted(set(wanted) - current):
            service().set_muted(rule, True)
    return jsonify(_state())
