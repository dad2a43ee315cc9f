"""What the AI engine's section workers share: the fallback list of models, and the usage meter.

Both are read and written from several threads at once (one per section in flight), so each holds
its own lock. The chain moves on from a model once, however many sections saw it fail.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from server.engines.ai_settings import AISettings
from server.engines.providers.base import Reply

log = logging.getLogger(__name__)


class Chain:
    """The fallback list shared by the section workers: which model to use now, and why not others."""

    def __init__(self, models: tuple[str, ...]):
        self._models = list(models)
        self._at = 0
        self._lock = threading.Lock()
        self.failures: list[tuple[str, str]] = []
        self.stopped: str | None = None

    def current(self) -> str | None:
        with self._lock:
            if self.stopped is None and self._at < len(self._models):
                return self._models[self._at]
            return None

    def fail(self, model: str, reason: str) -> None:
        with self._lock:
            if self._at < len(self._models) and self._models[self._at] == model:
                log.warning("AI model %s failed: %s", model, reason)
                self.failures.append((model, reason))
                self._at += 1

    def stop(self, reason: str) -> None:
        with self._lock:
            self.stopped = self.stopped or reason

    def reason(self) -> str:
        if self.stopped:
            return self.stopped
        reasons = list(dict.fromkeys(reason for _, reason in self.failures))
        if len(reasons) == 1:
            return reasons[0]
        return (
            "; ".join(f"{model}: {reason}" for model, reason in self.failures)
            or "no AI model is configured"
        )


class Meter:
    """Tokens and calls, summed across threads; cost is estimated from the settings' prices."""

    def __init__(self, settings: AISettings):
        self._settings = settings
        self._lock = threading.Lock()
        self._tokens: dict[str, list[int]] = {}
        self.calls = 0

    def add(self, model: str, reply: Reply) -> None:
        with self._lock:
            self.calls += 1
            tokens = self._tokens.setdefault(model, [0, 0])
            tokens[0] += reply.input_tokens
            tokens[1] += reply.output_tokens

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            answered = [m for m in self._settings.models if m in self._tokens]
            cost: float | None = 0.0
            for model, (tokens_in, tokens_out) in self._tokens.items():
                price = self._settings.price(model)
                if price is None:
                    cost = None
                elif cost is not None:
                    cost += tokens_in / 1000 * price[0] + tokens_out / 1000 * price[1]
            return {
                "input_tokens": sum(t[0] for t in self._tokens.values()),
                "output_tokens": sum(t[1] for t in self._tokens.values()),
                "estimated_cost_usd": round(cost, 6) if cost is not None else None,
                "model": answered[0] if answered else None,
                "models": answered,
                "calls": self.calls,
            }
