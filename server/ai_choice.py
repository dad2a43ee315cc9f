"""Which AI engine a review uses, if any: the one decision both the review and the chat ask about.

Hosted, `aiprism serve` and the CLI take it from the environment (`Settings.ai`); hosted with AI
off stays off whatever a file on the instance says. On the desktop it is opt-in on the Settings
page (settings.json, the API key in the system keychain). Engines are kept per configuration,
because each holds SDK clients whose retry state and connection pools must outlive one review.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from server import user_settings
from server.engines.ai import AIEngine
from server.engines.ai_settings import AISettings
from server.secrets import KeyStore
from server.settings import Settings


class AIChoice:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._engines: dict[tuple, AIEngine] = {}
        self._lock = threading.Lock()

    def engine(self) -> AIEngine | None:
        """The engine to use now, or None when AI is off (settings are re-read: the page may change)."""
        ai = self.settings.ai
        if ai is None and self.settings.hosted:
            return None
        if ai is None:
            chosen = user_settings.load(self.settings.data_dir)
            ai = desktop_ai(chosen, self.settings.data_dir, self.settings.ai_limits)
            if ai is None:
                return None
        return self.engine_for(ai)

    def engine_for(self, ai: AISettings) -> AIEngine:
        with self._lock:
            if ai.key() not in self._engines:
                self._engines[ai.key()] = AIEngine(ai)
            return self._engines[ai.key()]


def desktop_ai(
    chosen: user_settings.UserSettings, data_dir: Path, limits: Mapping[str, Any] | None = None
) -> AISettings | None:
    """The reviewer's Settings-page choice as AISettings, with `limits` (AIPRISM_AI_MAX_TOKENS
    and the like) laid over it; None when AI is off."""
    if chosen.ai_provider == "off":
        return None
    models = (chosen.ai_model,) if chosen.ai_model else ()
    if chosen.ai_provider == "bedrock":
        return AISettings(
            provider="bedrock",
            models=models,
            profile=chosen.aws_profile or None,
            region=chosen.aws_region or None,
            mask_personal_data=chosen.mask_personal_data,
            **(limits or {}),
        )
    ai = AISettings(
        provider=chosen.ai_provider,
        models=models,
        base_url=(chosen.ai_base_url or None) if chosen.ai_provider == "openai" else None,
        api_key=KeyStore(data_dir).get(chosen.ai_provider),
        **(limits or {}),
    )
    # Masking is for documents that leave the machine; a local model sees the real text.
    return replace(ai, mask_personal_data=chosen.mask_personal_data and not ai.local)
