"""Personal data masked before a document leaves the machine, and put back in what comes back.

E-mail addresses, phone and account numbers (found as the offline personal-data check finds them)
become placeholders such as `[EMAIL-1]`, the same value always the same placeholder, so the model
still sees that two paragraphs name the same person. Everything the model writes is unmasked
before it is validated, so a quote that copies `[EMAIL-1]` anchors to the real address.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from server.engines.checks.personal_data import personal_values
from server.model import Document, Section

_LABELS = {"email": "EMAIL", "phone": "PHONE", "account": "ACCOUNT"}
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|PHONE|ACCOUNT)-\d+\]")


class Masker:
    def __init__(self) -> None:
        self._masks: dict[str, str] = {}  # value -> placeholder
        self._values: dict[str, str] = {}  # placeholder -> value
        self._counts: dict[str, int] = {}

    @property
    def count(self) -> int:
        return len(self._masks)

    def mask(self, text: str) -> str:
        found = list(personal_values(text))
        for kind, start, end in reversed(found):
            text = text[:start] + self._placeholder(kind, text[start:end]) + text[end:]
        return text

    def _placeholder(self, kind: str, value: str) -> str:
        if value not in self._masks:
            label = _LABELS[kind]
            self._counts[label] = self._counts.get(label, 0) + 1
            placeholder = f"[{label}-{self._counts[label]}]"
            self._masks[value] = placeholder
            self._values[placeholder] = value
        return self._masks[value]

    def unmask(self, data: Any) -> Any:
        """`data` (text, or a model's JSON answer) with every known placeholder put back."""
        if isinstance(data, str):
            return _PLACEHOLDER.sub(lambda m: self._values.get(m.group(), m.group()), data)
        if isinstance(data, list):
            return [self.unmask(item) for item in data]
        if isinstance(data, dict):
            return {key: self.unmask(value) for key, value in data.items()}
        return data

    def section(self, section: Section) -> Section:
        paragraphs = tuple(replace(p, text=self.mask(p.text)) for p in section.paragraphs)
        return replace(section, title=self.mask(section.title), paragraphs=paragraphs)

    def document(self, document: Document) -> Document:
        return replace(
            document,
            title=self.mask(document.title),
            sections=tuple(self.section(s) for s in document.sections),
        )
