"""Local model servers already running on their usual ports, offered on the Settings page.

Asked only when the page asks (never at start-up), all at once, with a short timeout: a port with
nothing on it answers "connection refused" at once, and a busy server must not hold the page up.
Plain urllib, so finding them needs no SDK.
"""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

KNOWN = (
    ("Ollama", "http://127.0.0.1:11434/v1"),
    ("LM Studio", "http://127.0.0.1:1234/v1"),
    ("llama.cpp", "http://127.0.0.1:8080/v1"),
)
TIMEOUT = 0.8


def models_at(base_url: str, timeout: float = TIMEOUT) -> list[str] | None:
    """The model ids a server lists at `base_url`/models, or None when nothing answers there."""
    # base_url is one of KNOWN: http on this machine
    request = urllib.request.Request(base_url.rstrip("/") + "/models")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data = json.loads(response.read(1_000_000))
    except (OSError, ValueError):
        return None
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    return sorted(str(m["id"]) for m in items if isinstance(m, dict) and m.get("id"))


def running(known: tuple[tuple[str, str], ...] = KNOWN) -> list[dict[str, Any]]:
    """The known local servers that answer, with their models."""
    with ThreadPoolExecutor(len(known)) as pool:
        answers = list(pool.map(lambda item: models_at(item[1]), known))
    return [
        {"name": name, "base_url": url, "models": models}
        for (name, url), models in zip(known, answers, strict=True)
        if models is not None
    ]
