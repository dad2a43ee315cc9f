"""Statistics across reviews, kept as running totals so that reading them never reads every review.

Each review's stored summary carries its `tallies`: flat counter names (`rule:<id>:accept`,
`day:2026-12-02:findings`, `calibration:<percent>:reject`, …) with this review's contribution,
and `examples` of its decisions for the AI (server/learning.py). A store keeps the sum of every
summary's tallies, updating it in the same atomic step that replaces a summary (it adds the
difference between the new tallies and the old), so the totals are exact under any number of
writers and the statistics page reads them in a fixed number of requests. `recount` in
server/store/recount.py rebuilds them from the logs when an operator suspects drift.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from server import learning
from server.model import FINDING_TYPES, RISKS
from server.review import ReviewState

TALLIES_VERSION = 2  # bump when what is counted changes: stores then rebuild their totals once
OVER_TIME_DAYS = 365  # the "over time" chart: the last year, by day
_DAY_KEYS = ("reviews", "findings", "accept", "reject")


def summary_of(state: ReviewState) -> dict[str, Any]:
    """The stored summary: the history row plus this review's tallies and examples."""
    return {
        **state.summary(),
        "tallies": tallies_of(state),
        "tallies_version": TALLIES_VERSION,
        "examples": learning.examples_of(state),
    }


def tallies_of(state: ReviewState) -> dict[str, int]:
    """This review's counters; zero counts are left out.

    `decision:*` and `day:*` count every decision the review shows; `rule:*:accept|reject` and the
    calibration count only a person's judgement made in this review, not one carried from the
    previous version, so learning counts each judgement once.
    """
    tallies: Counter[str] = Counter()
    day = (state.created_at or "")[:10]
    tallies["reviews"] += 1
    tallies[f"day:{day}:reviews"] += 1
    for f in state.findings:
        made = state.decisions.get(f.id) or {}
        action = made.get("action")
        decision = action if action in ("accept", "reject") else "pending"
        tallies["findings"] += 1
        tallies[f"day:{day}:findings"] += 1
        tallies[f"type:{f.type}"] += 1
        tallies[f"risk:{f.risk}"] += 1
        tallies[f"decision:{decision}"] += 1
        tallies[f"rule:{f.rule}:total"] += 1
        if decision != "pending":
            tallies[f"day:{day}:{decision}"] += 1
            if not made.get("carried_from"):
                tallies[f"rule:{f.rule}:{decision}"] += 1
                tallies.update(learning.calibration_tallies(f, decision))
        for checkpoint in f.checkpoints:
            tallies[f"checkpoint:{checkpoint}"] += 1
    return dict(tallies)


def compute(totals: dict[str, int], muted: set[str], since: str = "") -> dict[str, Any]:
    """The statistics page's figures from a store's totals; days before `since` are left out."""
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    by_rule: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "accept": 0, "reject": 0})
    over_time: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_DAY_KEYS, 0))
    for name, n in totals.items():
        if not n:
            continue
        kind, _, rest = name.partition(":")
        if kind == "calibration":
            continue  # learning.calibration reads these
        if kind == "rule":
            rule, _, key = rest.rpartition(":")
            by_rule[rule][key] += n
        elif kind == "day":
            day, _, key = rest.rpartition(":")
            if day >= since:
                over_time[day][key] += n
        elif rest:
            groups[kind][rest] += n
    rules = []
    for rule, tally in sorted(by_rule.items()):
        decided = tally["accept"] + tally["reject"]
        rules.append(
            {
                "rule": rule,
                **tally,
                "acceptance_rate": round(tally["accept"] / decided, 3) if decided else None,
                "muted": rule in muted,
            }
        )
    most_rejected = sorted(
        (r for r in rules if r["reject"]), key=lambda r: (-r["reject"], r["rule"])
    )[:10]
    return {
        "reviews": totals.get("reviews", 0),
        "findings": totals.get("findings", 0),
        "by_type": {**dict.fromkeys(FINDING_TYPES, 0), **groups["type"]},
        "by_risk": {**dict.fromkeys(RISKS, 0), **groups["risk"]},
        "by_decision": {**dict.fromkeys(("accept", "reject", "pending"), 0), **groups["decision"]},
        "by_checkpoint": dict(sorted(groups["checkpoint"].items(), key=lambda kv: (-kv[1], kv[0]))),
        "rules": rules,
        "most_rejected": most_rejected,
        "over_time": [{"day": day, **v} for day, v in sorted(over_time.items())],
        "muted_rules": sorted(muted),
        "calibration": learning.calibration(totals),
        "noisy_rules": learning.noisy(rules),
    }
