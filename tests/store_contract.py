"""What every ReviewStore promises, written once and run against each backend.

A backend's test module subclasses `StoreContract` as `TestXxxStore` and overrides `make_store`.
`make_store(tmp_path)` must return a store on the same location every time it is called with the
same `tmp_path` within one test, so the reopen test sees the data written by the first instance.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

import pytest

from server.store.base import Event, HistoryPage, HistoryQuery, ReviewStore, StoreConflict

ISO_UTC_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def row(
    review_id: str,
    created_at: str,
    status: str = "done",
    framework: str = "investigation",
    seq: int = 1,
    **extra,
) -> dict:
    return {
        "id": review_id,
        "created_at": created_at,
        "status": status,
        "framework": framework,
        "seq": seq,
        **extra,
    }


def ids(page: HistoryPage) -> list[str]:
    return [r["id"] for r in page.rows]


class StoreContract:
    def make_store(self, tmp_path: Path) -> ReviewStore:
        raise NotImplementedError

    @pytest.fixture
    def store(self, tmp_path):
        store = self.make_store(tmp_path)
        yield store
        store.close()

    # --- blobs ---
    def test_blob_round_trip_returns_sha256_of_the_bytes(self, store):
        data = b"%PDF-1.7\n\x00\xff binary \xe2\x82\xac" * 1000
        sha = store.put_blob("r1", data)
        assert sha == hashlib.sha256(data).hexdigest()
        assert store.get_blob("r1", sha) == data

    def test_storing_the_same_blob_twice_is_a_no_op(self, store):
        first = store.put_blob("r1", b"same bytes")
        second = store.put_blob("r1", b"same bytes")
        assert first == second
        assert store.get_blob("r1", first) == b"same bytes"

    def test_empty_blob_is_stored(self, store):
        sha = store.put_blob("r1", b"")
        assert store.get_blob("r1", sha) == b""

    def test_unknown_blob_raises_key_error(self, store):
        with pytest.raises(KeyError):
            store.get_blob("r1", hashlib.sha256(b"never stored").hexdigest())

    def test_a_blob_belongs_to_the_review_that_stored_it(self, store):
        sha = store.put_blob("r1", b"r1's document")
        with pytest.raises(KeyError):
            store.get_blob("r2", sha)

    @pytest.mark.parametrize("bad", ["", "abc", "../../etc/passwd", "z" * 64, "ab/" + "0" * 61])
    def test_malformed_blob_key_raises_key_error(self, store, bad):
        with pytest.raises(KeyError):
            store.get_blob("r1", bad)

    # --- the event log ---
    def test_append_numbers_events_1_2_3(self, store):
        events = [store.append("r1", "created", {}) for _ in range(3)]
        assert [e.seq for e in events] == [1, 2, 3]
        assert [e.seq for e in store.events("r1")] == [1, 2, 3]

    def test_append_returns_the_stored_event(self, store):
        event = store.append("r1", "decision", {"finding_id": "F1", "action": "accept"})
        assert isinstance(event, Event)
        assert event.review_id == "r1" and event.type == "decision"
        assert ISO_UTC_MS.fullmatch(event.at), event.at
        assert store.events("r1") == [event]

    def test_each_review_has_its_own_sequence(self, store):
        store.append("a", "created", {})
        store.append("a", "started", {})
        assert store.append("b", "created", {}).seq == 1
        assert [e.seq for e in store.events("b")] == [1]

    def test_events_after_returns_only_later_events_in_order(self, store):
        for kind in ("created", "started", "analysed", "decision", "completed"):
            store.append("r1", kind, {})
        later = store.events("r1", after=2)
        assert [(e.seq, e.type) for e in later] == [
            (3, "analysed"),
            (4, "decision"),
            (5, "completed"),
        ]
        assert store.events("r1", after=5) == []

    def test_events_of_an_unknown_review_are_empty(self, store):
        assert store.events("no-such-review") == []

    def test_payload_round_trips_unicode_and_nested_data(self, store):
        payload = {
            "text": 'Zürich – naïve café “quoted” 日本語 🙂 \u00a0 line\nbreak \\ "',
            "nested": {"list": [1, 2.5, None, True, {"deep": ["x", {"y": []}]}], "empty": {}},
            "number": 12345678901234,
        }
        store.append("r1", "chat", payload)
        assert store.events("r1")[0].payload == payload

    def test_concurrent_appends_lose_nothing_and_leave_no_gaps(self, store):
        threads, per_thread = 8, 25
        start = threading.Barrier(threads)
        returned: list[int] = []
        errors: list[BaseException] = []

        def writer(n: int) -> None:
            try:
                start.wait()
                for i in range(per_thread):
                    returned.append(store.append("busy", "decision", {"thread": n, "i": i}).seq)
            except BaseException as exc:
                errors.append(exc)
            finally:
                store.close()

        workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        assert not errors, errors
        total = threads * per_thread
        events = store.events("busy")
        assert [e.seq for e in events] == list(range(1, total + 1))
        assert sorted(returned) == list(range(1, total + 1))
        for n in range(threads):
            mine = [e.payload["i"] for e in events if e.payload["thread"] == n]
            assert mine == list(range(per_thread))

    def test_conditional_append_lands_when_the_expected_event_is_last(self, store):
        store.append("r1", "created", {})
        assert store.append("r1", "started", {}, expect_seq=1).seq == 2
        assert store.append("r1", "decision", {}, expect_seq=2).seq == 3

    def test_conditional_append_on_a_log_that_moved_on_is_refused_and_writes_nothing(self, store):
        store.append("r1", "created", {})
        store.append("r1", "started", {})
        with pytest.raises(StoreConflict):
            store.append("r1", "started", {"late": True}, expect_seq=1)
        assert [e.type for e in store.events("r1")] == ["created", "started"]

    def test_of_many_simultaneous_claims_exactly_one_wins(self, store, tmp_path):
        store.append("claimed", "created", {})
        contenders = 6
        stores = [self.make_store(tmp_path) for _ in range(contenders)]  # as separate workers
        start = threading.Barrier(contenders)
        outcomes: list[str] = []

        def claim(own: ReviewStore, n: int) -> None:
            start.wait()
            try:
                own.append("claimed", "started", {"by": n}, expect_seq=1)
                outcomes.append("won")
            except StoreConflict:
                outcomes.append("lost")
            except BaseException as exc:  # anything else fails the test below
                outcomes.append(repr(exc))

        threads = [threading.Thread(target=claim, args=(s, n)) for n, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        for own in stores:
            own.close()
        assert sorted(outcomes) == ["lost"] * (contenders - 1) + ["won"]
        assert [e.type for e in store.events("claimed")] == ["created", "started"]

    # --- the history list ---
    def test_history_is_newest_first(self, store):
        store.put_summary("old", row("old", "2026-01-01T09:00:00.000Z"))
        store.put_summary("new", row("new", "2026-03-01T09:00:00.000Z"))
        store.put_summary("mid", row("mid", "2026-02-01T09:00:00.000Z"))
        assert ids(store.history(HistoryQuery())) == ["new", "mid", "old"]

    def test_history_pages_follow_the_cursor_to_the_end_without_repeats(self, store):
        for n in range(7):  # two share a timestamp: the id breaks the tie
            store.put_summary(f"r{n}", row(f"r{n}", f"2026-01-0{min(n, 5) + 1}T09:00:00.000Z"))
        seen, cursor, pages = [], None, 0
        while True:
            page = store.history(HistoryQuery(limit=3, cursor=cursor))
            seen += ids(page)
            pages += 1
            if page.cursor is None:
                break
            cursor = page.cursor
        assert seen == ["r6", "r5", "r4", "r3", "r2", "r1", "r0"] and pages == 3

    def test_history_filters_by_status_framework_and_dates(self, store):
        store.put_summary("a", row("a", "2026-01-01T09:00:00.000Z", status="done"))
        store.put_summary("b", row("b", "2026-01-02T09:00:00.000Z", status="failed"))
        store.put_summary(
            "c", row("c", "2026-01-03T23:59:59.999Z", status="queued", framework="risk")
        )
        store.put_summary("d", row("d", "2026-01-04T00:00:00.000Z", status="done"))
        assert ids(store.history(HistoryQuery(status="done"))) == ["d", "a"]
        assert ids(store.history(HistoryQuery(framework="risk"))) == ["c"]
        assert ids(store.history(HistoryQuery(since="2026-01-02", until="2026-01-03"))) == [
            "c",
            "b",
        ]
        assert ids(store.history(HistoryQuery(status="done", until="2026-01-03"))) == ["a"]
        first = store.history(HistoryQuery(status="done", limit=1))
        assert ids(first) == ["d"]
        rest = store.history(HistoryQuery(status="done", limit=1, cursor=first.cursor))
        assert ids(rest) == ["a"] and rest.cursor is None

    def test_history_filters_by_who_uploaded_by_subject_or_address(self, store):
        ann = {"sub": "ann-1", "name": "Ann", "email": "Ann@Example.com"}
        bob = {"sub": "bob-2", "name": "Bob", "email": "bob@example.com"}
        for n, by in enumerate((ann, bob, ann, None, bob)):
            review = f"r{n}"
            store.put_summary(
                review, {**row(review, f"2026-01-0{n + 1}T09:00:00.000Z"), "created_by": by}
            )
        assert ids(store.history(HistoryQuery(uploader="ann-1"))) == ["r2", "r0"]
        assert ids(store.history(HistoryQuery(uploader="ann@example.com"))) == ["r2", "r0"]
        assert ids(store.history(HistoryQuery(uploader="bob-2", limit=1))) == ["r4"]
        assert ids(store.history(HistoryQuery(uploader="Ann"))) == []  # a name is not an identity
        assert ids(store.history(HistoryQuery(uploader="bob@example.com", since="2026-01-03"))) == [
            "r4"
        ]

    def test_summaries_come_in_the_order_asked_without_the_missing(self, store):
        for review in ("a", "b", "c"):
            store.put_summary(review, row(review, "2026-01-01T09:00:00.000Z"))
        assert [s["id"] for s in store.summaries(["c", "nobody", "a"])] == ["c", "a"]
        assert store.summaries([]) == []

    def test_history_rows_leave_out_what_learning_keeps(self, store):
        kept = {"tallies": {"x": 1}, "tallies_version": 2, "examples": [{"rule": "r"}]}
        store.put_summary("a", {**row("a", "2026-01-01T09:00:00.000Z"), **kept})
        (shown,) = store.history(HistoryQuery()).rows
        assert not set(kept) & set(shown)
        assert store.summary("a")["examples"] == [{"rule": "r"}]

    def test_put_summary_replaces_the_previous_one(self, store):
        store.put_summary("r1", row("r1", "2026-01-01T09:00:00.000Z", status="running", seq=2))
        store.put_summary("r1", row("r1", "2026-01-01T09:00:00.000Z", status="done", seq=3))
        assert store.history(HistoryQuery()).rows == [
            row("r1", "2026-01-01T09:00:00.000Z", status="done", seq=3)
        ]
        assert store.summary("r1")["status"] == "done"
        assert store.summary("unknown") is None

    def test_summary_without_created_at_is_refused(self, store):
        with pytest.raises(ValueError, match="created_at"):
            store.put_summary("r1", {"id": "r1"})

    def test_no_history_on_an_empty_store(self, store):
        page = store.history(HistoryQuery())
        assert page.rows == [] and page.cursor is None
        assert store.totals() == {} and store.unfinished() == []

    def test_a_cursor_from_elsewhere_is_refused(self):
        with pytest.raises(ValueError, match="cursor"):
            HistoryQuery(cursor="not-a-cursor")

    # --- running totals ---
    def test_totals_are_the_sum_of_the_summaries_tallies(self, store):
        store.put_summary("a", row("a", "2026-01-01T09:00:00.000Z", tallies={"x": 2, "y": 1}))
        store.put_summary("b", row("b", "2026-01-02T09:00:00.000Z", tallies={"x": 3}))
        assert store.totals() == {"x": 5, "y": 1}
        store.put_summary("a", row("a", "2026-01-01T09:00:00.000Z", seq=2, tallies={"x": 1}))
        assert store.totals() == {"x": 4}
        assert "tallies" not in store.history(HistoryQuery()).rows[0]
        assert store.summary("a")["tallies"] == {"x": 1}
        store.append("b", "created", {})
        store.delete_review("b")
        assert store.totals() == {"x": 1}

    def test_an_older_summary_than_the_stored_one_is_dropped(self, store):
        store.put_summary("a", row("a", "2026-01-01T09:00:00.000Z", seq=5, tallies={"x": 5}))
        store.put_summary("a", row("a", "2026-01-01T09:00:00.000Z", seq=4, tallies={"x": 4}))
        assert store.summary("a")["seq"] == 5 and store.totals() == {"x": 5}

    def test_concurrent_summaries_lose_no_count(self, store, tmp_path):
        stores = [self.make_store(tmp_path) for _ in range(4)]
        errors = []

        def write(n: int) -> None:
            try:
                own = stores[n % len(stores)]
                for seq in range(1, 6):  # each review grows, its writes racing the others'
                    tallies = {"x": seq, f"only-{n}": 1}
                    own.put_summary(
                        f"r{n}", row(f"r{n}", "2026-01-01T09:00:00.000Z", seq=seq, tallies=tallies)
                    )
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        for own in stores:
            own.close()
        assert errors == []
        assert store.totals() == {"x": 40, **{f"only-{n}": 1 for n in range(8)}}

    def test_replace_totals_sets_them_outright(self, store):
        store.put_summary("a", row("a", "2026-01-01T09:00:00.000Z", tallies={"x": 2}))
        store.replace_totals({"x": 2})
        assert store.totals() == {"x": 2}

    # --- what the background scan reads ---
    def test_unfinished_lists_queued_and_running_reviews_only(self, store):
        for review_id, status in (
            ("q", "queued"),
            ("r", "running"),
            ("d", "done"),
            ("f", "failed"),
        ):
            store.append(review_id, "created", {})
            store.put_summary(
                review_id, row(review_id, "2026-01-01T09:00:00.000Z", status=status, seq=1)
            )
        assert sorted(store.unfinished()) == ["q", "r"]
        store.put_summary("r", row("r", "2026-01-01T09:00:00.000Z", status="done", seq=1))
        assert store.unfinished() == ["q"]

    def test_a_summary_left_behind_by_a_writer_that_died_is_found_then_settled(
        self, store, monkeypatch
    ):
        store.append("r1", "created", {})
        store.put_summary("r1", row("r1", "2026-01-01T09:00:00.000Z", seq=1))
        with pytest.raises(RuntimeError), store.changing("r1"):
            store.append("r1", "decision", {})
            raise RuntimeError("the process is killed before it rewrites the summary")
        self.age_markers(monkeypatch)
        assert store.unfinished() == ["r1"]
        store.put_summary("r1", row("r1", "2026-01-01T09:00:00.000Z", seq=2))  # what the scan does
        store.settled("r1")
        assert store.unfinished() == []

    def age_markers(self, monkeypatch) -> None:
        """Make marks of writers in progress count as left behind (stores with such marks)."""

    def test_review_ids_lists_every_review(self, store):
        for review_id in ("a", "b/c", "d.e"):
            store.append(review_id, "created", {})
        assert sorted(store.review_ids()) == ["a", "b/c", "d.e"]

    # --- deleting ---
    def test_delete_removes_events_summary_and_progress(self, store):
        store.append("gone", "created", {})
        store.put_summary("gone", {"id": "gone", "created_at": "2026-01-01T00:00:00.000Z"})
        store.set_progress("gone", {"done": 1, "total": 3})
        store.append("kept", "created", {})
        assert store.delete_review("gone") is True
        assert store.events("gone") == []
        assert store.history(HistoryQuery()).rows == []
        assert store.progress("gone") is None
        assert [e.seq for e in store.events("kept")] == [1]

    def test_delete_removes_the_reviews_document(self, store):
        sha = store.put_blob("r1", b"confidential document")
        store.append("r1", "created", {"sha256": sha})
        store.delete_review("r1")
        with pytest.raises(KeyError):
            store.get_blob("r1", sha)

    def test_delete_keeps_the_same_bytes_for_another_review_that_uploaded_them(self, store):
        for review_id in ("r1", "r2"):
            sha = store.put_blob(review_id, b"shared document")
            store.append(review_id, "created", {"sha256": sha})
        store.delete_review("r1")
        assert store.get_blob("r2", sha) == b"shared document"
        store.delete_review("r2")
        with pytest.raises(KeyError):
            store.get_blob("r2", sha)
        assert store.put_blob("r3", b"shared document") == sha  # and it can come back
        assert store.get_blob("r3", sha) == b"shared document"

    def test_delete_of_an_unknown_review_returns_false(self, store):
        assert store.delete_review("no-such-review") is False

    # --- progress ---
    def test_progress_is_none_until_set_then_the_latest_value(self, store):
        assert store.progress("r1") is None
        store.set_progress("r1", {"done": 0, "total": 4, "stage": "queued"})
        store.set_progress("r1", {"done": 2, "total": 4, "stage": "Scope"})
        assert store.progress("r1") == {"done": 2, "total": 4, "stage": "Scope"}
        assert store.progress("r2") is None

    # --- settings ---
    def test_setting_default_put_and_overwrite(self, store):
        assert store.get_setting("muted_rules") is None
        assert store.get_setting("muted_rules", []) == []
        store.put_setting("muted_rules", ["passive-voice"])
        assert store.get_setting("muted_rules", []) == ["passive-voice"]
        store.put_setting("muted_rules", ["long-sentence", "jargon – ü"])
        assert store.get_setting("muted_rules") == ["long-sentence", "jargon – ü"]

    def test_settings_keep_their_json_type(self, store):
        values = {"n": 3, "flag": False, "ratio": 0.25, "text": "x", "map": {"a": [1]}}
        for key, value in values.items():
            store.put_setting(key, value)
        assert {key: store.get_setting(key) for key in values} == values

    # --- health and lifetime ---
    def test_check_passes_on_a_healthy_store(self, store):
        store.append("r1", "created", {})
        store.check()

    def test_data_survives_closing_and_reopening(self, tmp_path):
        first = self.make_store(tmp_path)
        sha = first.put_blob("r1", b"kept bytes")
        first.append("r1", "created", {"sha256": sha})
        first.append("r1", "decision", {"finding_id": "F1", "action": "reject"})
        first.put_summary("r1", {"id": "r1", "created_at": "2026-01-01T00:00:00.000Z"})
        first.set_progress("r1", {"done": 1, "total": 1})
        first.put_setting("muted_rules", ["x"])
        before = first.events("r1")
        first.close()

        second = self.make_store(tmp_path)
        try:
            assert second.get_blob("r1", sha) == b"kept bytes"
            assert second.events("r1") == before
            assert second.append("r1", "completed", {}).seq == 3
            assert ids(second.history(HistoryQuery())) == ["r1"]
            assert second.progress("r1") == {"done": 1, "total": 1}
            assert second.get_setting("muted_rules") == ["x"]
        finally:
            second.close()
