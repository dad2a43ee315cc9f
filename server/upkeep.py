"""Store upkeep an operator runs (`aiprism store upgrade|recount`) and the service runs at start.

- `upgrade` gives every review a summary with tallies (server/stats.py), and so a row in the
  hosted index: summaries written before the running totals existed are converted, reviews with
  none are folded from their logs. Each review is one ordinary `put_summary`, which adds only its
  own change to the totals, so running it twice, after a kill, or on several instances at once
  counts every review exactly once.
- `recount` folds every log again and sets the totals to the sum: the repair for drift, should an
  operator ever suspect it. Run it while nobody writes; writes during it may be counted twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from server import stats
from server.review import fold
from server.store.base import ReviewStore

log = logging.getLogger(__name__)

UPGRADED = "tallies_version"  # the setting that records a finished upgrade
READERS = 8


def needs_upgrade(store: ReviewStore) -> bool:
    return store.get_setting(UPGRADED) != stats.TALLIES_VERSION


def upgrade(store: ReviewStore, report: Callable[[int], None] | None = None) -> int:
    """Give every review's summary its tallies; return how many were rewritten."""

    def one(review_id: str) -> bool:
        summary = store.summary(review_id)
        if summary is not None and "tallies" in summary:
            return False
        if summary is not None and "rules" in summary:  # as versions before the totals wrote it
            fresh = {**summary, "tallies": legacy_tallies(summary)}
            fresh.pop("rules", None), fresh.pop("checkpoints", None)
        else:
            events = store.events(review_id)
            if not events:
                return False  # deleted meanwhile
            fresh = stats.summary_of(fold(review_id, events))
        store.put_summary(review_id, fresh)
        return True

    rewritten = _each_review(store, one, report)
    store.put_setting(UPGRADED, stats.TALLIES_VERSION)
    return rewritten


def recount(store: ReviewStore, report: Callable[[int], None] | None = None) -> dict[str, int]:
    """Rebuild every summary from its log and the totals from the summaries; return the totals."""
    sums: Counter[str] = Counter()

    def one(review_id: str) -> bool:
        events = store.events(review_id)
        if not events:
            return False
        summary = stats.summary_of(fold(review_id, events))
        store.put_summary(review_id, summary)
        sums.update(summary["tallies"])
        return True

    _each_review(store, one, report)
    totals = {name: n for name, n in sums.items() if n}
    store.replace_totals(totals)
    store.put_setting(UPGRADED, stats.TALLIES_VERSION)
    return totals


def _each_review(
    store: ReviewStore, work: Callable[[str], bool], report: Callable[[int], None] | None
) -> int:
    done = 0
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        for changed in pool.map(work, store.review_ids()):
            done += changed
            if report and done and changed and done % 500 == 0:
                report(done)
    return done


def legacy_tallies(summary: dict[str, Any]) -> dict[str, int]:
    """The tallies of a summary written before tallies existed (it kept per-rule and
    per-checkpoint counts beside its counts), exactly as `stats.tallies_of` would give them."""
    counts = summary.get("counts") or {}
    day = str(summary.get("created_at") or "")[:10]
    tallies: Counter[str] = Counter({"reviews": 1, f"day:{day}:reviews": 1})
    tallies["findings"] = tallies[f"day:{day}:findings"] = counts.get("total", 0)
    for kind in ("type", "risk", "decision"):
        for key, n in (counts.get(f"by_{kind}") or {}).items():
            tallies[f"{kind}:{key}"] += n
    for key in ("accept", "reject"):
        tallies[f"day:{day}:{key}"] += (counts.get("by_decision") or {}).get(key, 0)
    for rule, tally in (summary.get("rules") or {}).items():
        for key in ("total", "accept", "reject"):
            tallies[f"rule:{rule}:{key}"] += tally.get(key, 0)
    for checkpoint, n in (summary.get("checkpoints") or {}).items():
        tallies[f"checkpoint:{checkpoint}"] += n
    return {name: n for name, n in tallies.items() if n}
