"""The history's pages and the statistics' running totals, through the API of a real server, and
the upgrade of summaries written before the totals existed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from server import stats, upkeep
from server.jobs import JobRunner
from server.review import ReviewState, fold
from server.samples import messy_investigation_docx
from server.service import ReviewService
from server.settings import Settings
from server.store.base import HistoryQuery
from server.store.sqlite import SQLiteStore
from tests.server_process import running_server

NOTE = b"# Executive summary\n\nThe payment reversal was TBD. Owner: TBD.\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("history-data")
    with running_server(folder) as running:
        running.folder = folder
        for n in range(5):
            assert running.upload(NOTE, f"note-{n}.md").status_code == 202
        yield running


def reviews(server, query: str = "") -> dict:
    return server.api.get(server.url(f"/api/v1/reviews{query}")).json()


def test_the_history_pages_newest_first_and_the_cursor_leads_to_the_end(server):
    everything = reviews(server, "?limit=200")
    assert everything["next_cursor"] is None
    ordered = [r["id"] for r in everything["reviews"]]
    created = [r["created_at"] for r in everything["reviews"]]
    assert len(ordered) == 5 and created == sorted(created, reverse=True)
    seen, query = [], "?limit=2"
    while True:
        page = reviews(server, query)
        assert len(page["reviews"]) <= 2
        seen += [r["id"] for r in page["reviews"]]
        if not page["next_cursor"]:
            break
        query = f"?limit=2&cursor={page['next_cursor']}"
    assert seen == ordered
    assert all("tallies" not in r for r in everything["reviews"])


def test_the_history_shows_what_the_person_asking_uploaded(server):
    def ids(query: str) -> list[str]:  # not whole rows: analyses may finish between two reads
        return [r["id"] for r in reviews(server, query)["reviews"]]

    mine = reviews(server, "?uploader=me")["reviews"]
    assert [r["id"] for r in mine] == ids("?limit=200") and len(mine) == 5
    assert all(r["created_by"] for r in mine)  # one person on a desktop
    sub = mine[0]["created_by"]["sub"]
    assert ids(f"?uploader={sub}&limit=2") == ids("?limit=2")
    assert reviews(server, "?uploader=someone-else@example.com")["reviews"] == []
    page = server.api.get(server.url("/history?uploader=me")).text
    assert '<option value="me" selected>' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?cursor=bm90IG91cnM", "cursor"),
        ("?limit=0", "limit"),
        ("?limit=many", "limit"),
        ("?since=yesterday", "since"),
    ],
)
def test_a_bad_history_query_gets_a_400_that_says_what(server, query, message):
    answer = server.api.get(server.url(f"/api/v1/reviews{query}"))
    assert answer.status_code == 400 and message in answer.json()["error"]["message"]


def test_the_statistics_equal_a_recount_from_the_logs(server):
    review_id = reviews(server)["reviews"][0]["id"]
    findings = server.wait_done(review_id)["findings"]
    for finding, action in zip(findings[:3], ("accept", "reject", "accept"), strict=False):
        url = server.url(f"/api/v1/reviews/{review_id}/findings/{finding['id']}/decision")
        assert server.api.post(url, json={"action": action}).status_code == 200
    for r in reviews(server, "?limit=200")["reviews"]:
        server.wait_done(r["id"])
    live = server.api.get(server.url("/api/v1/stats")).json()
    done = subprocess.run(
        [sys.executable, "-m", "server", "store", "recount", "--data-dir", str(server.folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "recounted 5 reviews" in done.stdout
    assert server.api.get(server.url("/api/v1/stats")).json() == live
    assert live["by_decision"]["accept"] >= 2 and live["by_decision"]["reject"] >= 1


def legacy_summary(state: ReviewState) -> dict:
    """A summary as AI-Prism wrote it before the running totals (per-rule and per-checkpoint
    counts beside the history row)."""
    rules: dict[str, dict[str, int]] = {}
    checkpoints: dict[str, int] = {}
    for f in state.findings:
        action = (state.decisions.get(f.id) or {}).get("action")
        tally = rules.setdefault(f.rule, {"total": 0, "accept": 0, "reject": 0})
        tally["total"] += 1
        if action in ("accept", "reject"):
            tally[action] += 1
        for checkpoint in f.checkpoints:
            checkpoints[checkpoint] = checkpoints.get(checkpoint, 0) + 1
    return {**state.summary(), "rules": rules, "checkpoints": checkpoints}


def test_summaries_from_before_the_totals_are_upgraded_once_to_the_same_figures(tmp_path):
    store = SQLiteStore(tmp_path / "reviews.sqlite3")
    jobs = JobRunner(workers=1, max_queued=5)
    service = ReviewService(store, Settings(data_dir=tmp_path, token=None), jobs)
    ids = [service.create(messy_investigation_docx(), f"v{n}.docx").id for n in range(2)]
    jobs.wait_idle(timeout=120)
    first = service.get(ids[0]).findings
    service.decide(ids[0], first[0].id, "accept")
    service.decide(ids[0], first[1].id, "reject")
    expected = service.stats()
    for review_id in ids:  # as an older version left them: no tallies, no totals
        store.put_summary(review_id, legacy_summary(fold(review_id, store.events(review_id))))
    store.replace_totals({})
    store.put_setting(upkeep.UPGRADED, None)
    assert upkeep.needs_upgrade(store) and service.stats()["reviews"] == 0

    assert upkeep.upgrade(store) == 2
    assert service.stats() == expected
    assert upkeep.upgrade(store) == 0 and service.stats() == expected  # twice is harmless
    assert not upkeep.needs_upgrade(store)
    recounted = upkeep.recount(store)
    assert stats.compute(recounted, set()) == expected
    jobs.shutdown()
    store.close()


def test_the_first_page_is_the_newest_fifty(tmp_path):
    store = SQLiteStore(tmp_path / "reviews.sqlite3")
    for n in range(120):
        store.put_summary(
            f"r{n:03d}",
            {"id": f"r{n:03d}", "created_at": f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}.000Z"},
        )
    page = store.history(HistoryQuery())
    assert [r["id"] for r in page.rows] == [f"r{n:03d}" for n in range(119, 69, -1)]
    assert page.cursor
    store.close()
