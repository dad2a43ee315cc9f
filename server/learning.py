"""What reviewers' decisions teach: a rule's learned confidence, and how well confidence predicted.

The counts come from the store's running totals (server/stats.py): per rule, the findings a person
accepted (edited ones included) or rejected. A decision carried to a new version (server/carry.py)
is the same judgement again and is not counted twice; a reviewer's own findings are not counted.

Learned confidence is the mean of a Beta distribution whose prior is the rule's configured
confidence `c`, worth `PRIOR_DECISIONS` decisions:

    learned = (PRIOR_DECISIONS * c + accepted) / (PRIOR_DECISIONS + decided)

So a rule nobody has judged keeps its configured value, ten decisions weigh as much as the
configuration, and a hundred outweigh it ten to one. Calibration compares, for each band of the
confidence a finding showed when it was decided, how many were accepted; the Brier score is the
mean of (shown confidence - outcome)^2 over decided findings, outcome 1 for accepted and 0 for
rejected: 0 is perfect, 0.25 is what always saying 50% earns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from server.engines.masking import Masker
from server.model import Finding, Learned
from server.review import ReviewState
from server.store.base import HistoryQuery, ReviewStore

PRIOR_DECISIONS = 10  # how many decisions the configured confidence is worth
NOISY_MIN_DECISIONS = 10  # a rule is judged noisy only on this much evidence
NOISY_MAX_ACCEPTANCE = 0.3  # … when reviewers accept fewer than this share of its findings
BAND_WIDTH = 10  # calibration bands, in percentage points: 0–9, 10–19, … 90–100
UNLEARNED_RULES = frozenset({"custom"})  # a reviewer's own findings: no configured confidence


def learned_confidence(configured: float, accepted: int, decided: int) -> float:
    return round((PRIOR_DECISIONS * configured + accepted) / (PRIOR_DECISIONS + decided), 3)


def rule_counts(totals: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """rule → (accepted, decided) from a store's totals."""
    counts: dict[str, list[int]] = {}
    for name, n in totals.items():
        kind, _, rest = name.partition(":")
        rule, _, key = rest.rpartition(":")
        if kind == "rule" and key in ("accept", "reject") and rule not in UNLEARNED_RULES:
            tally = counts.setdefault(rule, [0, 0])
            tally[0 if key == "accept" else 1] += n
    return {rule: (a, a + r) for rule, (a, r) in counts.items() if a + r}


def with_learning(
    findings: Iterable[Finding], counts: Mapping[str, tuple[int, int]]
) -> list[Finding]:
    """The findings, each carrying its rule's learned confidence where the rule has decisions."""
    out = []
    for f in findings:
        accepted, decided = counts.get(f.rule, (0, 0))
        if decided and f.rule not in UNLEARNED_RULES:
            learned = Learned(
                learned_confidence(f.confidence, accepted, decided), accepted, decided
            )
            f = replace(f, learned=learned)
        out.append(f)
    return out


def calibration_tallies(finding: Finding, decision: str) -> dict[str, int]:
    """A decided finding's contribution to the calibration: its shown confidence, in whole percent."""
    if finding.rule in UNLEARNED_RULES:
        return {}
    return {f"calibration:{round(finding.shown_confidence * 100)}:{decision}": 1}


def calibration(totals: Mapping[str, int]) -> dict[str, Any]:
    """Bands of shown confidence with how many of their findings were accepted, and the Brier score."""
    at: dict[int, list[int]] = {}  # percent → [accepted, rejected]
    for name, n in totals.items():
        kind, _, rest = name.partition(":")
        if kind != "calibration" or not n:
            continue
        percent, _, key = rest.partition(":")
        at.setdefault(int(percent), [0, 0])[0 if key == "accept" else 1] += n
    bands = []
    for low in range(0, 100, BAND_WIDTH):
        high = low + BAND_WIDTH - 1 if low + BAND_WIDTH < 100 else 100
        inside = {p: ar for p, ar in at.items() if low <= p <= high}
        accepted = sum(a for a, _ in inside.values())
        decided = accepted + sum(r for _, r in inside.values())
        mean = sum(p * (a + r) for p, (a, r) in inside.items()) / decided / 100 if decided else None
        bands.append(
            {
                "band": f"{low}–{high}%",
                "low": low,
                "high": high,
                "decided": decided,
                "accepted": accepted,
                "acceptance_rate": round(accepted / decided, 3) if decided else None,
                "mean_confidence": round(mean, 3) if mean is not None else None,
            }
        )
    decided = sum(a + r for a, r in at.values())
    squared = sum(a * (1 - p / 100) ** 2 + r * (p / 100) ** 2 for p, (a, r) in at.items())
    return {
        "bands": bands,
        "decided": decided,
        "brier": round(squared / decided, 4) if decided else None,
    }


def noisy(rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules whose findings reviewers mostly reject, on enough decisions to say so."""
    found = []
    for rule in rules:
        decided = rule["accept"] + rule["reject"]
        if rule["rule"] in UNLEARNED_RULES or decided < NOISY_MIN_DECISIONS:
            continue
        if rule["accept"] / decided < NOISY_MAX_ACCEPTANCE:
            found.append(dict(rule))
    return sorted(found, key=lambda r: (r["acceptance_rate"], -r["reject"], r["rule"]))


# --- examples of the team's decisions, for the AI ----------------------------------------------

EXAMPLES_PER_REVIEW = 10  # kept in each review's stored summary, newest decision first
EXAMPLE_QUOTE_CHARS = 160
EXAMPLE_TEXT_CHARS = 240
HISTORY_LOOKBACK = 50  # the newest finished reviews looked at for decisions
RECENT_REVIEWS = 10  # … of which at most this many are read


def examples_of(state: ReviewState) -> list[dict[str, Any]]:
    """This review's decided findings as short examples, newest decision first: what the finding
    said and quoted and what the reviewer did, with personal data masked and nobody named."""
    masker = Masker()
    decided = []
    for f in state.findings:
        decision = state.decisions.get(f.id) or {}
        if decision.get("action") not in ("accept", "reject") or decision.get("carried_from"):
            continue
        decided.append(
            {
                "at": decision.get("at") or "",
                "action": decision["action"],
                "rule": f.rule,
                "type": f.type,
                "checkpoints": list(f.checkpoints),
                "title": masker.mask(_cut(f.title, EXAMPLE_TEXT_CHARS)),
                "quote": masker.mask(_cut(f.span.quote, EXAMPLE_QUOTE_CHARS)) if f.span else "",
                "text": masker.mask(_cut(decision.get("text") or "", EXAMPLE_TEXT_CHARS)),
            }
        )
    decided.sort(key=lambda e: e["at"], reverse=True)
    return decided[:EXAMPLES_PER_REVIEW]


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def recent_examples(store: ReviewStore) -> list[dict[str, Any]]:
    """The newest decisions' examples from the last few reviews that have any, newest first.

    One history page and at most RECENT_REVIEWS summaries (one request on the hosted table): a
    fixed cost however many reviews the store keeps.
    """
    page = store.history(HistoryQuery(limit=HISTORY_LOOKBACK, status="done"))
    decided = [row["id"] for row in page.rows if _has_decisions(row)][:RECENT_REVIEWS]
    examples = [e for summary in store.summaries(decided) for e in summary.get("examples", [])]
    return sorted(examples, key=lambda e: e.get("at", ""), reverse=True)


def _has_decisions(row: Mapping[str, Any]) -> bool:
    by_decision = (row.get("counts") or {}).get("by_decision") or {}
    return bool(by_decision.get("accept") or by_decision.get("reject"))


def add_examples(
    rules: list[dict[str, Any]], examples: list[dict[str, Any]], each: int = 3
) -> None:
    """Give each noisy rule up to `each` of its newest rejected (else accepted) findings."""
    for rule in rules:
        own = [e for e in examples if e["rule"] == rule["rule"]]
        rejected = [e for e in own if e["action"] == "reject"]
        rule["examples"] = (rejected + [e for e in own if e["action"] != "reject"])[:each]
