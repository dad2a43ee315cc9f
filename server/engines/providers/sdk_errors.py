"""The anthropic and openai SDKs as the providers use them: imported on first use, built with the
settings' timeouts and retries, and what a failed call means for the fallback chain.

Both SDKs share one error family (APIStatusError with the HTTP status, APITimeoutError,
APIConnectionError) and have already retried 408/409/429/5xx with backoff that honours Retry-After,
so an error here is final for the model that raised it. Reasons are short and written for the
reviewer's notice; the server's own message is kept (it says what is wrong with a local setup),
cut short and with the key removed.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

from server import __version__
from server.engines.ai_settings import AISettings
from server.engines.providers.base import ModelFailed, RequestFailed, StopCalling

log = logging.getLogger(__name__)
_MODEL_WORDS = ("model", "not found", "does not exist", "not available")


def import_sdk(name: str) -> ModuleType:
    """The SDK module; StopCalling when it is not installed (the offline review goes on)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise StopCalling(
            f"the {name} package is not installed; install AI-Prism's 'ai' extra"
        ) from None


class LazyClient:
    """An SDK client built on first use, once, however many section threads ask at the same time."""

    def __init__(self, build: Callable[[], Any]):
        self._build = build
        self._client: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._build()
            return self._client


def client_options(sdk: ModuleType, settings: AISettings) -> dict[str, Any]:
    """Timeouts, retries (the SDK's backoff honours Retry-After) and who is calling."""
    return {
        "timeout": sdk.Timeout(settings.timeout, connect=settings.connect_timeout),
        "max_retries": settings.max_attempts - 1,
        "default_headers": {"User-Agent": f"ai-prism/{__version__}"},
    }


def classify(exc: Exception, sdk: ModuleType, service: str, timeout: float, redact) -> ModelFailed:
    """An SDK error as a short reason and how far it reaches: model, request or every call.

    Anything that is not an SDK error is a bug, not an outage, and is raised again as it is.
    """
    if isinstance(exc, sdk.APITimeoutError):
        return ModelFailed(f"no answer within {timeout:g} s")
    if isinstance(exc, sdk.APIConnectionError):
        return ModelFailed(f"{service} could not be reached")
    if not isinstance(exc, sdk.APIStatusError):
        raise exc
    status = exc.status_code
    message = redact(server_message(exc))[:200]
    log.info("%s answered HTTP %s: %s", service, status, message)
    if status == 401:
        return StopCalling(
            f"{service} refused the API key (HTTP 401: {message}); check it in settings"
        )
    if status == 403:
        return StopCalling(f"{service} refused access (HTTP 403): {message}")
    if status == 404:
        return ModelFailed(f"model not found on {service}: {message}")
    if status == 429:
        return ModelFailed(f"rate limited by {service}")
    if status >= 500:
        return ModelFailed(f"{service} error (HTTP {status}): {message}")
    if status in (400, 413, 422) and any(w in message.lower() for w in _MODEL_WORDS[1:]):
        return ModelFailed(f"{service} cannot use this model: {message}")
    return RequestFailed(f"{service} refused the request (HTTP {status}): {message}")


def server_message(exc: Exception) -> str:
    """The error text the server sent ({"error": {"message": ...}}), else the SDK's own."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
        if isinstance(inner, str):
            return inner
    return str(getattr(exc, "message", "") or exc)
