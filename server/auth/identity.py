"""The signed-in person and their role, and the actor that the events of their request record.

The web layer sets `current_actor` for the length of one request; `ReviewService` reads it when it
appends an event, so each service method need not pass it along. Background work (an analysis in
the job pool) runs outside any request and records no actor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

ROLES = ("viewer", "reviewer", "admin")  # each includes what the ones before it may do


@dataclass(frozen=True)
class Actor:
    """Who did something: the provider's subject, a display name and an e-mail address."""

    sub: str
    name: str = ""
    email: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Actor | None:
        if not isinstance(data, dict) or not data.get("sub"):
            return None
        return cls(str(data["sub"]), str(data.get("name") or ""), str(data.get("email") or ""))

    @property
    def label(self) -> str:
        return self.name or self.email or self.sub


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: who, with which role, and how they proved it."""

    actor: Actor | None  # None: the shared access token or no sign-in (nobody in particular)
    role: str
    method: str  # session | token | bearer-token | none | local

    def may(self, needed: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(needed)


current_actor: ContextVar[Actor | None] = ContextVar("current_actor", default=None)


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    reset = current_actor.set(actor)
    try:
        yield
    finally:
        current_actor.reset(reset)


def initials(name: str) -> str:
    """Word's comment initials: the first letter of each word of the name, at most four."""
    return "".join(w[0] for w in re.split(r"[\s\-_.@]+", name) if w).upper()[:4]
