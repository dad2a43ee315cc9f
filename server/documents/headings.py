"""Match heading text to a framework's expected and excluded sections.

Real headings carry numbering ("1.", "2.3", "A)", "IV."), trailing colons and spaces, "&" for
"and", and extra words ("Timeline of key events"). Plain lines must match a name exactly; lines
formatted as headings may also match by containing a name as whole words (longest name wins).
"""

from __future__ import annotations

import re
from functools import lru_cache

from server.engines.compiled_patterns import regex
from server.frameworks.model import Framework

_NUMBERING = regex(
    r"^\s*(?:(?:section|part|step)\s+)?(?:\d+(?:\.\d+)*[.):]?|[a-z][.)]|\(?[ivxlc]+[.)]|\([a-z0-9]+\))\s+",
    re.IGNORECASE,
)
_PUNCTUATION = regex(r"[^\w\s&/;'-]+")


@lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    text = _NUMBERING.sub("", text.strip())
    text = text.lower().replace("&", " and ").replace("’", "'")
    text = _PUNCTUATION.sub(" ", text)
    return " ".join(text.split()).strip(" -;/")


class HeadingMatcher:
    def __init__(self, framework: Framework):
        self._kinds = _names((s.id, s.names) for s in framework.sections)
        self._exclusions = _names((e.id, e.names) for e in framework.exclude)
        self._titles = {e.id: e.title for e in framework.exclude}

    def exact(self, text: str) -> bool:
        key = normalise(text)
        return any(key == name for name, _ in self._kinds + self._exclusions)

    def kind(self, text: str, loose: bool) -> str | None:
        return _match(normalise(text), self._kinds, loose)

    def exclusion(self, text: str, loose: bool = False) -> str | None:
        found = _match(normalise(text), self._exclusions, loose)
        return self._titles[found].lower() if found else None


def _names(entries) -> list[tuple[str, str]]:
    """(normalised name, id), longest names first so the most specific one wins."""
    pairs = {(normalise(name), kind) for kind, names in entries for name in names}
    return sorted(pairs, key=lambda pair: (-len(pair[0]), pair[0]))


def _match(key: str, names: list[tuple[str, str]], loose: bool) -> str | None:
    if not key:
        return None
    for name, kind in names:
        if key == name:
            return kind
    if loose:
        padded = f" {key} "
        for name, kind in names:
            if len(name) >= 3 and f" {name} " in padded:
                return kind
    return None
