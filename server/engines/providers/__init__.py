"""The AI wires, one module each, behind the small interface in `base.py`."""

from __future__ import annotations

from server.engines.ai_settings import AISettings
from server.engines.providers.base import Provider


def build(settings: AISettings) -> Provider:
    """The provider for `settings.provider`; its SDK is imported on its first call, not here."""
    if settings.provider == "bedrock":
        from server.engines.providers.bedrock import BedrockProvider

        return BedrockProvider(settings)
    if settings.provider == "anthropic":
        from server.engines.providers.anthropic import AnthropicProvider

        return AnthropicProvider(settings)
    if settings.provider == "openai":
        from server.engines.providers.openai_compat import OpenAICompatibleProvider

        return OpenAICompatibleProvider(settings)
    raise ValueError(f"no AI provider called {settings.provider!r}")
