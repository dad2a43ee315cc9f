"""What reviewers' decisions teach (server/learning.py), through a real server: the learned
confidence by the documented formula, the calibration and its Brier score, noisy rules with their
examples, the command line's --data-dir, and the examples the AI is shown."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict

import pytest

from server import learning, stats
from server.model import Finding
from server.review import ReviewState
from server.samples import messy_investigation_docx
from tests.fake_bedrock import FakeBedrock
from tests.server_process import running_server
from tests.test_ai_workbench import aws_env, opt_in

DOC = messy_investigation_docx()
# A note with a dozen placeholders, so one rule has enough findings to be judged noisy.
NOTE = "# Executive summary\n\n" + "\n\n".join(
    f"Step {n} of the recovery is owned by TBD and finishes on TBD." for n in range(1, 7)
)


def expected_learned(configured: float, accepted: int, decided: int) -> float:
    """docs/rules.md: a Beta prior worth ten decisions, centred on the configured confidence."""
    return round((10 * configured + accepted) / (10 + decided), 3)


def test_the_formula_moves_from_the_configuration_towards_the_reviewers():
    assert learning.PRIOR_DECISIONS == 10
    assert learning.learned_confidence(0.9, 0, 0) == 0.9
    assert learning.learned_confidence(0.9, 3, 20) == 0.4  # (9 + 3) / 30
    assert learning.learned_confidence(0.5, 10, 10) == 0.75  # ten decisions weigh as the prior
    assert learning.learned_confidence(0.9, 0, 990) == 0.009  # evidence outweighs the prior


def finding(fid: str, rule: str, confidence: float) -> Finding:
    return Finding(
        fid, "offline", rule, "suggestion", ("cp",), "low", confidence, "t", "", "", (), None, None
    )


def test_carried_and_own_findings_teach_nothing_but_still_count_as_decided():
    state = ReviewState(id="r", created_at="2026-12-01T10:00:00+00:00")
    state.findings = [
        finding("a", "passive", 0.5),
        finding("b", "passive", 0.5),
        finding("c", "custom", 1.0),
    ]
    state.decisions = {
        "a": {"action": "reject"},
        "b": {"action": "accept", "carried_from": {"review_id": "p", "version": 1}},
        "c": {"action": "accept"},
    }
    tallies = stats.tallies_of(state)
    assert tallies["decision:accept"] == 2 and tallies["decision:reject"] == 1
    assert tallies["rule:passive:reject"] == 1 and "rule:passive:accept" not in tallies
    assert tallies["calibration:50:reject"] == 1
    assert sum(n for k, n in tallies.items() if k.startswith("calibration:")) == 1
    assert learning.rule_counts(tallies) == {"passive": (0, 1)}
    assert [e["rule"] for e in learning.examples_of(state)] == ["passive", "custom"]


def test_examples_leave_personal_data_and_people_out():
    state = ReviewState(id="r")
    f = finding("a", "passive", 0.5)
    quote = "Call Ann on +44 20 7946 0958 or write to ann.reviewer@example.com today"
    from server.model import Span

    f = Finding(**{**f.__dict__, "span": Span(0, 0, len(quote), quote)})
    state.findings = [f]
    state.decisions = {"a": {"action": "reject", "by": {"name": "Ann Reviewer", "sub": "x"}}}
    (example,) = learning.examples_of(state)
    text = json.dumps(example)
    assert "ann.reviewer@example.com" not in text and "7946" not in text
    assert "[EMAIL-1]" in example["quote"] and "Ann Reviewer" not in text


@pytest.fixture(scope="module")
def decided(tmp_path_factory):
    """A server, one review of the sample with twenty decisions, and what the test decided."""
    folder = tmp_path_factory.mktemp("learning-data")
    with running_server(folder) as server:
        created = [server.upload(DOC, "first.docx"), server.upload(NOTE.encode(), "note.md")]
        assert all(c.status_code == 202 for c in created), [c.text for c in created]
        first, note = (server.wait_done(c.json()["id"]) for c in created)
        by_rule = defaultdict(list)
        for review in (first, note):
            for f in review["findings"]:
                by_rule[f["rule"]].append({**f, "review_id": review["id"]})
        # The rule with the most findings is rejected ten times (noisy); the rest are spread
        # over other rules, accepted two times in three, one of them with edited text.
        noisy_rule = max(by_rule, key=lambda r: len(by_rule[r]))
        assert len(by_rule[noisy_rule]) >= 10, {r: len(v) for r, v in by_rule.items()}
        choices = [(f, "reject") for f in by_rule[noisy_rule][:10]]
        others = [f for r, fs in sorted(by_rule.items()) if r != noisy_rule for f in fs[:2]]
        choices += [(f, "accept" if n % 3 else "reject") for n, f in enumerate(others[:10])]
        assert len(choices) == 20
        for n, (f, action) in enumerate(choices):
            body = {"action": action, **({"text": "Say who decided."} if n == 11 else {})}
            answer = server.api.post(
                server.url(f"/api/v1/reviews/{f['review_id']}/findings/{f['id']}/decision"),
                json=body,
            )
            assert answer.status_code == 200, answer.text
        yield server, folder, first, choices, noisy_rule


def test_twenty_decisions_give_the_documented_confidence_on_the_next_review(decided):
    server, _, _, choices, _ = decided
    counts: dict[str, Counter] = defaultdict(Counter)
    for f, action in choices:
        counts[f["rule"]][action] += 1
    created = server.upload(DOC, "second.docx")
    second = server.wait_done(created.json()["id"])
    seen = set()
    for f in second["findings"]:
        tally = counts.get(f["rule"])
        if tally is None:
            assert "learned" not in f  # a rule nobody judged keeps its configured value
            continue
        seen.add(f["rule"])
        decided_n = tally["accept"] + tally["reject"]
        assert f["learned"] == {
            "confidence": expected_learned(f["confidence"], tally["accept"], decided_n),
            "accepted": tally["accept"],
            "decided": decided_n,
        }
    assert len(seen) >= 5  # most judged rules fire on this write-up again


def test_the_calibration_and_brier_score_follow_the_decisions(decided):
    server, _, _, choices, _ = decided
    bands: dict[int, Counter] = defaultdict(Counter)
    squared = 0.0
    for f, action in choices:  # nothing was learned yet when they were shown
        percent = round(f["confidence"] * 100)
        band = min(percent // 10 * 10, 90)
        bands[band][action] += 1
        outcome = 1.0 if action == "accept" else 0.0
        squared += (percent / 100 - outcome) ** 2
    calibration = server.api.get(server.url("/api/v1/stats")).json()["calibration"]
    assert calibration["decided"] == 20
    assert calibration["brier"] == round(squared / 20, 4)
    shown = {b["low"]: b for b in calibration["bands"] if b["decided"]}
    assert set(shown) == set(bands)
    for low, tally in bands.items():
        decided_n = tally["accept"] + tally["reject"]
        assert shown[low]["decided"] == decided_n and shown[low]["accepted"] == tally["accept"]
        assert shown[low]["acceptance_rate"] == round(tally["accept"] / decided_n, 3)


def test_a_noisy_rule_is_listed_with_examples_and_a_mute_button(decided):
    server, _, _, _, noisy_rule = decided
    figures = server.api.get(server.url("/api/v1/stats")).json()
    noisy = {r["rule"]: r for r in figures["noisy_rules"]}
    assert noisy_rule in noisy and noisy[noisy_rule]["reject"] == 10
    examples = noisy[noisy_rule]["examples"]
    assert examples and all(e["rule"] == noisy_rule and e["action"] == "reject" for e in examples)
    page = server.api.get(server.url("/stats")).text
    assert 'id="noisy-rules"' in page and f'data-rule="{noisy_rule}"' in page
    assert 'id="calibration-svg"' in page and "Brier score" in page


def test_the_command_line_learns_from_a_data_folder_and_only_then(decided, tmp_path):
    _, folder, _, choices, _ = decided
    path = tmp_path / "write-up.docx"
    path.write_bytes(DOC)

    def review(*extra: str) -> list[dict]:
        run = subprocess.run(
            [sys.executable, "-m", "server", "review", str(path), "--format", "json", *extra],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode in (0, 1), run.stderr
        return json.loads(run.stdout)["files"][0]["findings"]

    learned = review("--data-dir", str(folder))
    rules = {f["rule"] for f, _ in choices}
    assert {f["rule"] for f in learned if "learned" in f} == rules & {f["rule"] for f in learned}
    plain = review()
    assert not any("learned" in f for f in plain)
    assert [f["id"] for f in plain] == [f["id"] for f in learned]
    empty = tmp_path / "no-reviews"
    assert not any("learned" in f for f in review("--data-dir", str(empty)))
    assert not (empty / "reviews.sqlite3").exists()


def test_the_ai_is_shown_the_teams_decisions_on_the_sections_checkpoints(tmp_path):
    opt_in(tmp_path / "data")
    with (
        FakeBedrock() as fake,
        running_server(tmp_path / "data", extra_env=aws_env(fake, tmp_path)) as server,
    ):
        first = server.wait_done(server.upload(DOC, "first.docx").json()["id"])
        with_checkpoints = [f for f in first["findings"] if f["checkpoints"] and f["span"]]
        rejected, accepted = with_checkpoints[0], with_checkpoints[1]
        for f, action in ((rejected, "reject"), (accepted, "accept")):
            server.api.post(
                server.url(f"/api/v1/reviews/{first['id']}/findings/{f['id']}/decision"),
                json={"action": action},
            )
        before = len(fake.calls)
        server.wait_done(server.upload(DOC, "second.docx").json()["id"])
        questions = [c.question for c in fake.calls[before:] if c.tool == "report_findings"]
        assert not any("decided these findings" in c.question for c in fake.calls[:before])
        shown = [q for q in questions if "decided these findings in earlier reviews" in q]
        assert shown, "no section was sent the team's decisions"
        text = "\n".join(shown)
        assert f"rejected: [{rejected['type']}] {rejected['title']}" in text
        assert f"accepted: [{accepted['type']}] {accepted['title']}" in text
        for q in shown:
            block = q.split("earlier reviews", 1)[1].split("<section>", 1)[0]
            lines = [line for line in block.splitlines() if line.startswith("- ")]
            assert 0 < len(lines) <= 4 and len("".join(lines)) <= 1200
