"""Claude through the Messages API with the reviewer's own key, via the official `anthropic` SDK.

The findings come back through tool use: one tool, and `tool_choice` makes the model call it. The
SDK retries 429, 5xx and 529 (overloaded) with backoff that honours Retry-After. The SDK is imported
on first use, so the offline desktop starts without it.
"""

from __future__ import annotations

from typing import Any

from server.engines.ai_settings import AISettings
from server.engines.providers import sdk_errors
from server.engines.providers.base import Privacy, Reply, Tool, Turn, redact

SERVICE = "the Claude API"


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, settings: AISettings):
        self.settings = settings
        self.client = sdk_errors.LazyClient(self._build_client)

    @property
    def privacy(self) -> Privacy:
        return Privacy("Anthropic (Claude API)", leaves_machine=True)

    def redact(self, text: str) -> str:
        return redact(text, self.settings.api_key)

    def _build_client(self) -> Any:
        anthropic = sdk_errors.import_sdk("anthropic")
        s = self.settings
        options = sdk_errors.client_options(anthropic, s)
        return anthropic.Anthropic(api_key=s.api_key, base_url=s.base_url, **options)

    def list_models(self) -> list[str]:
        import anthropic

        try:
            return [m.id for m in self.client().models.list(limit=100)]
        except anthropic.AnthropicError as exc:
            raise self._failed(exc) from exc

    def ask(self, model: str, system: str, turns: list[Turn], tool: Tool) -> Reply:
        import anthropic

        client = self.client()
        try:
            message = client.messages.create(
                model=model,
                max_tokens=self.settings.max_output_tokens,
                system=system,
                messages=[{"role": t.role, "content": t.text} for t in turns],
                tools=[
                    {
                        "name": tool.name,
                        "description": tool.description,
                        "input_schema": tool.schema,
                    }
                ],
                tool_choice={"type": "tool", "name": tool.name},
            )
        except anthropic.AnthropicError as exc:
            raise self._failed(exc) from exc
        blocks = list(message.content or [])
        data = next((b.input for b in blocks if b.type == "tool_use" and b.name == tool.name), None)
        usage = message.usage
        return Reply(
            data=data,
            text="\n".join(b.text for b in blocks if b.type == "text"),
            input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
            truncated=message.stop_reason == "max_tokens",
        )

    def _failed(self, exc: Exception):
        import anthropic

        return sdk_errors.classify(exc, anthropic, SERVICE, self.settings.timeout, self.redact)
