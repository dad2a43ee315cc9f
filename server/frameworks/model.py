"""A framework pack as typed values: what a good write-up contains and which checks judge it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExpectedSection:
    """A section kind the framework expects; `id` becomes `Section.kind` when a heading matches."""

    id: str
    title: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    order: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        return (self.title, *self.aliases)


@dataclass(frozen=True)
class ExcludedSection:
    """A heading that starts content kept with the document but not reviewed (e.g. an appendix of logs)."""

    id: str
    title: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.title, *self.aliases)


@dataclass(frozen=True)
class Checkpoint:
    id: str
    name: str
    good: str  # what good looks like, shown to reviewers
    guidance: str  # instructions usable verbatim in an AI prompt
    sections: tuple[str, ...] = ()  # section kinds where this checkpoint is usually met


@dataclass(frozen=True)
class Rule:
    """One configured use of a registered check."""

    id: str
    check: str
    type: str
    risk: str
    confidence: float
    title: str
    message: str  # str.format template; the check supplies the values ({quote}, {section}, …)
    suggestion: str = ""
    questions: tuple[str, ...] = ()
    checkpoints: tuple[str, ...] = ()
    sections: tuple[str, ...] = ("*",)  # section kinds; "*" means every reviewed section
    include_excluded: bool = False  # run on excluded sections too (personal data travels with them)
    enabled: bool = True
    params: dict[str, Any] = field(default_factory=dict)

    def applies_to(self, kind: str) -> bool:
        return "*" in self.sections or kind in self.sections


@dataclass(frozen=True)
class Framework:
    id: str
    name: str
    version: str
    description: str
    sections: tuple[ExpectedSection, ...]
    exclude: tuple[ExcludedSection, ...]
    checkpoints: tuple[Checkpoint, ...]
    rules: tuple[Rule, ...]
    source: str = ""  # file the pack was loaded from
    ai_guidance: str = ""  # the team's own instructions for the AI engine, sent with every section

    def checkpoint(self, checkpoint_id: str) -> Checkpoint | None:
        return next((c for c in self.checkpoints if c.id == checkpoint_id), None)

    def expected(self, kind: str) -> ExpectedSection | None:
        return next((s for s in self.sections if s.id == kind), None)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def summary(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "checkpoints": len(self.checkpoints),
            "rules": len(self.rules),
            "source": self.source,
        }
