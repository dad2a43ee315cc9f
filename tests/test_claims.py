"""One run per analysis however many workers resume it; abandoned runs are picked up again.

The service tests use a real SQLite store and the real job runner; the other workers are stood for
by events their claims would have written (a "started" with another owner).
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from server import claims
from server.jobs import JobRunner
from server.samples import messy_investigation_docx
from server.service import ReviewService
from server.settings import Settings
from server.store.base import HistoryQuery
from server.store.sqlite import SQLiteStore

LONG_AGO = "2020-01-01T00:00:00.000Z"


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


# --- is_abandoned -------------------------------------------------------------------------------


def test_our_own_run_is_never_abandoned():
    assert not claims.is_abandoned(claims.THIS_PROCESS, LONG_AGO, None)


def test_a_run_of_a_process_that_has_exited_on_this_machine_is_abandoned_at_once():
    owner = f"{claims.HOST}:{dead_pid()}:deadbeef"
    assert claims.is_abandoned(owner, now_iso(), {"owner": owner, "beat": time.time()})


def test_an_earlier_life_with_our_pid_is_abandoned():
    """A restarted container keeps its host name and often its pids."""
    host, pid, _ = claims.THIS_PROCESS.split(":")
    assert claims.is_abandoned(f"{host}:{pid}:0ther0ne", now_iso(), None)


def test_a_live_process_on_this_machine_with_a_fresh_heartbeat_keeps_its_run():
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as other:
        try:
            owner = f"{claims.HOST}:{other.pid}:a11ve000"
            assert not claims.is_abandoned(owner, LONG_AGO, {"owner": owner, "beat": time.time()})
        finally:
            other.kill()


def test_another_machine_keeps_its_run_while_it_beats_and_loses_it_when_it_stops():
    owner = "ip-10-0-0-7:42:feedface"
    beat = {"owner": owner, "beat": time.time() - 5}
    assert not claims.is_abandoned(owner, LONG_AGO, beat)
    silent = {"owner": owner, "beat": time.time() - claims.STALE_AFTER_SECONDS - 1}
    assert claims.is_abandoned(owner, LONG_AGO, silent)


def test_a_just_started_run_is_not_abandoned_before_its_first_beat():
    assert not claims.is_abandoned("ip-10-0-0-7:42:feedface", now_iso(), None)


def test_a_heartbeat_of_an_earlier_owner_does_not_keep_a_new_run_alive():
    old = {"owner": "ip-10-0-0-8:7:0ld0wner", "beat": time.time()}
    assert claims.is_abandoned("ip-10-0-0-7:42:feedface", LONG_AGO, old)


# --- the service --------------------------------------------------------------------------------


@pytest.fixture
def service(tmp_path):
    store = SQLiteStore(tmp_path / "reviews.sqlite3")
    jobs = JobRunner(workers=2, max_queued=5)
    yield ReviewService(store, Settings(data_dir=tmp_path), jobs)
    jobs.shutdown()
    store.close()


def created_review(service: ReviewService, owner: str | None = None) -> str:
    """A review as another worker left it: created, and claimed by `owner` if given."""
    data = messy_investigation_docx()
    review_id = f"r{time.monotonic_ns()}"
    sha = service.store.put_blob(review_id, data)
    payload = {"filename": "report.docx", "sha256": sha, "size": len(data), "format": "docx"}
    payload |= {"framework": "investigation", "parent_id": None, "version": 1}
    service.store.append(review_id, "created", payload)
    if owner:
        service.store.append(review_id, "started", {"owner": owner})
    service._put_summary(review_id)
    return review_id


def event_types(service: ReviewService, review_id: str) -> list[str]:
    return [e.type for e in service.store.events(review_id)]


def test_a_queued_review_is_analysed_once_however_often_it_is_resumed(service):
    review_id = created_review(service)
    for _ in range(3):
        service.analyse(review_id)  # as three workers would, one after the other
    assert event_types(service, review_id) == ["created", "started", "analysed"]
    assert service.store.events(review_id)[1].payload == {"owner": claims.THIS_PROCESS}


def test_resuming_picks_up_a_run_whose_process_has_exited(service):
    review_id = created_review(service, owner=f"{claims.HOST}:{dead_pid()}:deadbeef")
    assert service.resume_interrupted() == [review_id]
    service.jobs.wait_idle(timeout=60)
    assert event_types(service, review_id) == ["created", "started", "started", "analysed"]


def test_resuming_leaves_a_run_that_another_live_worker_is_beating_for(service):
    owner = "ip-10-0-0-7:42:feedface"
    review_id = created_review(service, owner=owner)
    service.store.set_progress(
        review_id, {"done": 1, "total": 9, "owner": owner, "beat": time.time()}
    )
    assert service.resume_interrupted() == []
    with pytest.raises(Exception, match="Only a failed or interrupted analysis"):
        service.retry(review_id)
    assert event_types(service, review_id) == ["created", "started"]


def test_the_progress_shown_to_reviewers_leaves_out_the_heartbeat(service):
    owner = "ip-10-0-0-7:42:feedface"
    review_id = created_review(service, owner=owner)
    service.store.set_progress(
        review_id, {"done": 1, "total": 9, "stage": "Impact", "owner": owner}
    )
    shown = service.progress(review_id)
    assert shown["progress"] == {"done": 1, "total": 9, "stage": "Impact"}


def test_retry_restarts_a_run_whose_worker_is_gone(service):
    review_id = created_review(service, owner=f"{claims.HOST}:{dead_pid()}:deadbeef")
    service.retry(review_id)
    service.jobs.wait_idle(timeout=60)
    assert service.get(review_id).status == "done"


def test_a_history_row_left_behind_by_a_kill_is_brought_up_to_date(service):
    review_id = created_review(service)
    service.store.append(
        review_id, "started", {"owner": claims.THIS_PROCESS}
    )  # summary not rewritten
    service.store.append(review_id, "failed", {"error": {"code": "x", "message": "y"}})
    assert service.store.history(HistoryQuery()).rows[0]["status"] == "queued"
    assert service.resume_interrupted() == []  # failed runs wait for the reviewer's retry
    assert service.store.history(HistoryQuery()).rows[0]["status"] == "failed"


def test_heartbeat_rewrites_progress_while_a_step_takes_long(tmp_path):
    store = SQLiteStore(tmp_path / "reviews.sqlite3")
    with claims.Heartbeat(store, "r1", every=0.05) as heartbeat:
        heartbeat.progress(3, 9, "AI: section 3")
        first = store.progress("r1")["beat"]
        time.sleep(0.3)  # a slow model answer: nothing reports progress meanwhile
        later = store.progress("r1")
    store.close()
    assert later["beat"] > first
    assert later | {"beat": 0} == {"done": 3, "total": 9, "stage": "AI: section 3"} | {
        "owner": claims.THIS_PROCESS,
        "beat": 0,
    }
