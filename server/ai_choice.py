"""Which AI engine a review uses, if any: the one decision both the review and the chat ask about.

Hosted, `Settings.ai` is set from the environment and the engine always runs. On the desktop it is
opt-in: the reviewer turns it on on the settings page (settings.json), with an AWS profile and region
for the normal credential chain. Engines are kept per configuration, because each holds the boto3
clients whose adaptive retry state must outlive a single review.
"""

from __future__ import annotations

import threading

from server import user_settings
from server.engines.bedrock import AISettings, BedrockEngine
from server.settings import Settings


class AIChoice:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._engines: dict[tuple, BedrockEngine] = {}
        self._lock = threading.Lock()

    def engine(self) -> BedrockEngine | None:
        """The engine to use now, or None when AI is off (settings are re-read: the page may change)."""
        ai = self.settings.ai
        if ai is None and self.settings.hosted:
            return None  # AIPRISM_AI=off: a settings file on the instance must not turn it back on
        if ai is None:
            chosen = user_settings.load(self.settings.data_dir)
            if not chosen.ai_enabled:
                return None
            ai = AISettings(profile=chosen.aws_profile or None, region=chosen.aws_region or None)
        key = (ai.models, ai.region, ai.profile, ai.endpoint_url, ai.concurrency)
        with self._lock:
            if key not in self._engines:
                self._engines[key] = BedrockEngine(ai)
            return self._engines[key]
