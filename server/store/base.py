"""The store interface every backend implements and the contract tests exercise.

A review is an append-only log of events; its state is the fold of that log (server/review.py).
Stores know nothing about what events mean: they keep each review's uploaded documents (by content
hash, with the review, so deleting a review deletes them), ordered events per review with no lost
or duplicated sequence numbers under concurrency, one small summary per review for the history
list, live progress, and a few named settings.
"""

from __future__ import annotations

import base64
import binascii
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

HISTORY_PAGE_LIMIT = 200  # the most rows one history page may ask for
UNFINISHED = ("queued", "running")


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


@dataclass(frozen=True)
class HistoryQuery:
    """One page of the history, newest first, after `cursor` (from the previous page)."""

    limit: int = 50
    cursor: str | None = None
    status: str | None = None
    framework: str | None = None
    since: str | None = None  # YYYY-MM-DD, inclusive, on created_at
    until: str | None = None  # YYYY-MM-DD, inclusive
    uploader: str | None = None  # the `sub` or e-mail address of who created the review

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= HISTORY_PAGE_LIMIT:
            raise ValueError(f"The 'limit' must be between 1 and {HISTORY_PAGE_LIMIT}")
        if self.cursor is not None:
            decode_cursor(self.cursor)

    @property
    def after(self) -> tuple[str, str] | None:
        """(created_at, id) of the last row already shown."""
        return decode_cursor(self.cursor) if self.cursor else None

    @property
    def upper_bound(self) -> str | None:
        """A created_at string above every one on the day `until` and below the next day's."""
        return f"{self.until}T99" if self.until else None

    def matches(self, row: dict[str, Any]) -> bool:
        """Whether a row passes the filters and lies after the cursor (for backends that filter
        rows themselves)."""
        created = str(row.get("created_at") or "")
        return (
            (self.status is None or row.get("status") == self.status)
            and (self.framework is None or row.get("framework") == self.framework)
            and (self.since is None or created[:10] >= self.since)
            and (self.until is None or created[:10] <= self.until)
            and (self.uploader is None or uploaded_by(row, self.uploader))
            and (self.after is None or (created, str(row.get("id"))) < self.after)
        )


def uploaded_by(row: dict[str, Any], uploader: str) -> bool:
    """Whether a review was created by the person with this `sub` or e-mail address."""
    by = row.get("created_by") or {}
    return by.get("sub") == uploader or (
        "@" in uploader and str(by.get("email") or "").lower() == uploader.lower()
    )


@dataclass(frozen=True)
class HistoryPage:
    rows: list[dict[str, Any]]
    cursor: str | None  # for the next page; None on the last one


def encode_cursor(row: dict[str, Any]) -> str:
    raw = json.dumps([row.get("created_at") or "", row.get("id") or ""], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise ValueError("The 'cursor' is not one this server gave out") from exc
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise ValueError("The 'cursor' is not one this server gave out")
    return value[0], value[1]


def difference(old: dict[str, int] | None, new: dict[str, int] | None) -> dict[str, int]:
    """What to add to the totals when a summary's tallies go from `old` to `new`."""
    delta = dict(new or {})
    for name, n in (old or {}).items():
        delta[name] = delta.get(name, 0) - n
    return {name: n for name, n in delta.items() if n}


def page_of(rows: list[dict[str, Any]], limit: int) -> HistoryPage:
    """A page from up to `limit + 1` matching rows, newest first: the extra one says there is more."""
    shown = [history_row(row) for row in rows[:limit]]
    return HistoryPage(shown, encode_cursor(shown[-1]) if len(rows) > limit else None)


KEPT_FOR_LEARNING = (
    "tallies",
    "tallies_version",
    "examples",
)  # server/stats.py, server/learning.py


def history_row(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary as the history shows it: without what is kept for statistics and learning."""
    return {k: v for k, v in summary.items() if k not in KEPT_FOR_LEARNING}


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

    # --- the history list and the running totals ---
    @abstractmethod
    def put_summary(self, review_id: str, summary: dict[str, Any]) -> None:
        """Replace the review's summary (must contain 'created_at' for ordering), and in the same
        atomic step add the change in its `tallies` to the totals. A summary whose `seq` is below
        the stored one's is stale (a slower writer) and is dropped."""

    @abstractmethod
    def summary(self, review_id: str) -> dict[str, Any] | None:
        """The stored summary, or None."""

    def summaries(self, review_ids: list[str]) -> list[dict[str, Any]]:
        """The stored summaries of those reviews that have one, in the order asked; stores that
        can read several in one request do."""
        return [s for s in (self.summary(review_id) for review_id in review_ids) if s is not None]

    @abstractmethod
    def history(self, query: HistoryQuery) -> HistoryPage:
        """One page of summaries, newest 'created_at' first (ties by id), filtered."""

    @abstractmethod
    def totals(self, since: str | None = None) -> dict[str, int]:
        """The sum of every stored summary's tallies; `day:` counters of days before `since`
        (YYYY-MM-DD) may be left out, as the bulk of an old store's totals."""

    @property
    def keeps_totals(self) -> bool:
        """Whether `totals` reads running totals (a fixed cost) rather than every summary: only
        then does each analysis read them to learn from decisions (server/learning.py)."""
        return True

    @abstractmethod
    def replace_totals(self, totals: dict[str, int]) -> None:
        """Set the totals outright (the recount, server/store/recount.py)."""

    @abstractmethod
    def unfinished(self) -> list[str]:
        """Reviews whose analysis is queued or running, or whose summary may be behind its log
        (a writer died between the two): what the background scan looks at, and nothing else."""

    @abstractmethod
    def review_ids(self) -> Iterator[str]:
        """Every review, in no particular order: for the recount and migrations, never for pages."""

    @contextmanager
    def changing(self, review_id: str) -> Iterator[None]:
        """Around an append and the summary that follows it: a store that cannot otherwise tell
        a summary left behind by a killed writer marks the review for `unfinished` meanwhile."""
        yield

    def settled(self, review_id: str) -> None:  # noqa: B027 - only marking stores need it
        """The scan has brought the review's summary up to its log: forget dead writers' marks."""

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
