"""Statistics across reviews, computed from the per-review summaries (never by folding every log)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from server.review import ReviewState


def summary_of(state: ReviewState) -> dict[str, Any]:
    """The stored summary: the history row plus per-rule and per-checkpoint tallies for statistics."""
    rules: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "accept": 0, "reject": 0})
    checkpoints: Counter[str] = Counter()
    for f in state.findings:
        action = (state.decisions.get(f.id) or {}).get("action")
        rules[f.rule]["total"] += 1
        if action in ("accept", "reject"):
            rules[f.rule][action] += 1
        checkpoints.update(f.checkpoints)
    return {**state.summary(), "rules": dict(rules), "checkpoints": dict(checkpoints)}


def compute(summaries: list[dict[str, Any]], muted: set[str]) -> dict[str, Any]:
    by_rule: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "accept": 0, "reject": 0})
    by_checkpoint: Counter[str] = Counter()
    by_risk: Counter[str] = Counter()
    by_decision: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    over_time: dict[str, dict[str, int]] = defaultdict(
        lambda: {"reviews": 0, "findings": 0, "accept": 0, "reject": 0}
    )
    for s in summaries:
        counts = s.get("counts", {})
        day = (s.get("created_at") or "")[:10]
        over_time[day]["reviews"] += 1
        over_time[day]["findings"] += counts.get("total", 0)
        for key, n in counts.get("by_decision", {}).items():
            by_decision[key] += n
            if key in ("accept", "reject"):
                over_time[day][key] += n
        by_risk.update(counts.get("by_risk", {}))
        by_type.update(counts.get("by_type", {}))
        by_checkpoint.update(s.get("checkpoints", {}))
        for rule, tally in s.get("rules", {}).items():
            for key in ("total", "accept", "reject"):
                by_rule[rule][key] += tally.get(key, 0)
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
        "reviews": len(summaries),
        "findings": sum(by_type.values()),
        "by_type": dict(by_type),
        "by_risk": dict(by_risk),
        "by_decision": dict(by_decision),
        "by_checkpoint": dict(sorted(by_checkpoint.items(), key=lambda kv: (-kv[1], kv[0]))),
        "rules": rules,
        "most_rejected": most_rejected,
        "over_time": [{"day": day, **v} for day, v in sorted(over_time.items())],
        "muted_rules": sorted(muted),
    }
