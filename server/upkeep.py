"""Store upkeep an operator runs (`aiprism store upgrade|recount`) and the service runs at start.

- `upgrade` gives every review a summary with this version's tallies (server/stats.py), and so a
  row in the hosted index: a review whose summary has none, or an older kind, is folded from its
  log. Each review is one ordinary `put_summary`, which adds only its
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
        if summary is not None and summary.get("tallies_version") == stats.TALLIES_VERSION:
            return False
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
