"""The one small interface every AI wire implements, and the errors that steer the fallback chain.

A provider only sends a request and returns the structured answer with its token usage: which model
answers which section, the repair round, quote validation and everything that decides what a
finding is stay in the engine (server/engines/ai.py), so all providers pass one contract suite.
Retries happen inside each provider's own SDK (botocore's adaptive mode, the anthropic and openai
clients' backoff that honours Retry-After); an error that reaches the engine is final for that call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class ModelFailed(Exception):
    """This model cannot answer now; the next one in the list may."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class StopCalling(ModelFailed):
    """No model can answer (no credentials, no SDK, key refused): stop calling."""


class RequestFailed(ModelFailed):
    """This request cannot be answered by any model (e.g. too long): skip it."""


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    text: str


@dataclass(frozen=True)
class Tool:
    """The structured answer asked for: a tool the model must call, or the JSON it must write."""

    name: str
    description: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    data: Any  # the tool input or the JSON object; None when the answer held neither
    text: str  # what the model wrote, to send back with the problems when `data` does not fit
    input_tokens: int
    output_tokens: int
    truncated: bool = False  # stopped at the output token limit


@dataclass(frozen=True)
class Privacy:
    """Where a document goes when this provider reviews it, said the way the review page says it."""

    label: str  # "Anthropic (Claude API)", "a local model server at 127.0.0.1:8080"
    leaves_machine: bool


class Provider(Protocol):
    name: str  # "bedrock" | "anthropic" | "openai"

    @property
    def privacy(self) -> Privacy: ...

    def ask(self, model: str, system: str, turns: list[Turn], tool: Tool) -> Reply:
        """One request; raises ModelFailed (or a subclass) when there is no usable reply."""
        ...

    def list_models(self) -> list[str]:
        """The models this provider offers (a local server's loaded models; others: known ids)."""
        ...

    def redact(self, text: str) -> str:
        """`text` without this provider's secrets, for notices and logs."""
        ...


def redact(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text
