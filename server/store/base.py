"""The store interface every backend implements and the contract tests exercise.

A review is an append-only log of events; its state is the fold of that log (server/review.py).
Stores know nothing about what events mean: they keep each review's uploaded documents (by content
hash, with the review, so deleting a review deletes them), ordered events per review with no lost
or duplicated sequence numbers under concurrency, one small summary per review for the history
list, live progress, and a few named settings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


class StoreConflict(Exception):
    """Another writer appended first: lost retries, or an `expect_seq` that is no longer last."""


class ReviewNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Event:
    review_id: str
    seq: int  # 1, 2, 3 … per review, no gaps
    type: str
    at: str  # ISO 8601 UTC with milliseconds
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "type": self.type, "at": self.at, "payload": self.payload}


class ReviewStore(ABC):
    # --- documents as uploaded, kept with their review and addressed by sha256 ---
    @abstractmethod
    def put_blob(self, review_id: str, data: bytes) -> str:
        """Store the review's bytes; return their sha256 hex. The same bytes twice is a no-op."""

    @abstractmethod
    def get_blob(self, review_id: str, sha256: str) -> bytes:
        """Raise KeyError if the review has no such blob."""

    # --- the event log ---
    @abstractmethod
    def append(
        self, review_id: str, type: str, payload: dict[str, Any], expect_seq: int | None = None
    ) -> Event:
        """Append with the next sequence number; safe against concurrent writers (none lost).

        With `expect_seq`, append only if the log's last event is still number `expect_seq`
        and raise StoreConflict otherwise: a claim that exactly one of several writers wins.
        """

    @abstractmethod
    def events(self, review_id: str, after: int = 0) -> list[Event]:
        """Events with seq > after, in order; [] for an unknown review."""

    @abstractmethod
    def delete_review(self, review_id: str) -> bool:
        """Remove the review's events, summary, progress and uploaded documents (bytes another
        review uploaded too stay for that review); False if it did not exist."""

    # --- the history list ---
    @abstractmethod
    def put_summary(self, review_id: str, summary: dict[str, Any]) -> None:
        """Replace the review's summary (must contain 'created_at' for ordering)."""

    @abstractmethod
    def summaries(self) -> list[dict[str, Any]]:
        """All summaries, newest 'created_at' first."""

    # --- live progress of an analysis, readable by any worker ---
    @abstractmethod
    def set_progress(self, review_id: str, progress: dict[str, Any]) -> None: ...

    @abstractmethod
    def progress(self, review_id: str) -> dict[str, Any] | None: ...

    # --- settings shared by all reviews (e.g. muted rules) ---
    @abstractmethod
    def get_setting(self, key: str, default: Any = None) -> Any: ...

    @abstractmethod
    def put_setting(self, key: str, value: Any) -> None: ...

    # --- health ---
    @abstractmethod
    def check(self) -> None:
        """Raise if the store cannot be reached or is damaged (used by /ready)."""

    def close(self) -> None:  # noqa: B027 - optional for backends with nothing to release
        """Release connections."""
