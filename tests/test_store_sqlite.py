"""The SQLite store: the shared contract, plus what only a file on one host can promise."""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from server.store import sqlite as sqlite_store
from server.store.sqlite import SQLiteStore, StoreDamaged, StoreTooNew
from tests.store_contract import StoreContract

ROOT = Path(__file__).resolve().parent.parent


class TestSQLiteStore(StoreContract):
    def make_store(self, tmp_path: Path) -> SQLiteStore:
        return SQLiteStore(tmp_path / "reviews.sqlite3")


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "data" / "reviews.sqlite3"


@pytest.fixture
def store(db_path):
    store = SQLiteStore(db_path)
    yield store
    store.close()


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False)


def child(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# --- the file and its settings ---
def test_database_is_in_wal_mode(store, db_path):
    with raw(db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_commits_are_fully_synced(store):
    assert store._db().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_new_database_has_every_migration_applied(store, db_path):
    with raw(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(sqlite_store.MIGRATIONS)


def test_a_newer_database_is_refused_with_a_clear_message(db_path):
    SQLiteStore(db_path).close()
    with raw(db_path) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(
        StoreTooNew, match=r"newer version of AI-Prism \(schema 99; this version knows up to 3\)"
    ):
        SQLiteStore(db_path)


def test_a_failing_migration_leaves_the_database_as_it_was(db_path, monkeypatch):
    SQLiteStore(db_path).close()

    def broken(db):
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("the next migration failed")

    monkeypatch.setattr(sqlite_store, "MIGRATIONS", [*sqlite_store.MIGRATIONS, broken])
    with pytest.raises(RuntimeError, match="the next migration failed"):
        SQLiteStore(db_path)
    with raw(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(sqlite_store.MIGRATIONS) - 1
        assert (
            db.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
        )


def test_migrations_run_in_order_on_an_older_database(db_path, monkeypatch):
    SQLiteStore(db_path).append("r1", "created", {})

    def add_column(db):
        db.execute("ALTER TABLE events ADD COLUMN actor TEXT")

    monkeypatch.setattr(sqlite_store, "MIGRATIONS", [*sqlite_store.MIGRATIONS, add_column])
    store = SQLiteStore(db_path)
    assert [e.seq for e in store.events("r1")] == [1]
    with raw(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(sqlite_store.MIGRATIONS)
        assert "actor" in [row[1] for row in db.execute("PRAGMA table_info(events)")]
    store.close()


def test_a_file_that_is_not_a_database_is_reported_as_damaged(db_path):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not SQLite, just some text " * 200)
    with pytest.raises(StoreDamaged, match="not a readable AI-Prism database"):
        SQLiteStore(db_path)


def test_a_schema_1_database_learns_which_review_holds_which_blob(db_path, monkeypatch):
    monkeypatch.setattr(sqlite_store, "MIGRATIONS", sqlite_store.MIGRATIONS[:1])
    old = SQLiteStore(db_path)  # as AI-Prism wrote it before uploads belonged to reviews
    data = b"a document from before"
    sha = hashlib.sha256(data).hexdigest()
    (db_path.parent / "blobs" / sha[:2]).mkdir(parents=True)
    (db_path.parent / "blobs" / sha[:2] / sha).write_bytes(data)
    old.append("r1", "created", {"sha256": sha, "filename": "old.docx"})
    old.append("r2", "chat", {"sha256": "not an upload"})
    old.close()
    monkeypatch.undo()
    store = SQLiteStore(db_path)
    assert store.get_blob("r1", sha) == data
    with pytest.raises(KeyError):
        store.get_blob("r2", sha)
    store.delete_review("r1")
    assert not (db_path.parent / "blobs" / sha[:2] / sha).exists()
    store.close()


# --- blobs on disk ---
def test_blobs_are_files_beside_the_database_not_rows_in_it(store, db_path):
    data = bytes(range(256)) * 4096  # 1 MiB
    sha = store.put_blob("r1", data)
    assert (db_path.parent / "blobs" / sha[:2] / sha).read_bytes() == data
    assert db_path.stat().st_size < len(data) // 4
    with raw(db_path) as db:
        assert db.execute("SELECT size FROM blobs WHERE sha256 = ?", (sha,)).fetchone() == (
            len(data),
        )


def test_writing_a_blob_leaves_no_temporary_files(store, db_path):
    store.put_blob("r1", b"one")
    store.put_blob("r1", b"two")
    leftovers = [p for p in (db_path.parent / "blobs").rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_a_truncated_blob_file_is_rewritten_when_stored_again(store, db_path):
    data = b"complete document"
    sha = hashlib.sha256(data).hexdigest()
    target = db_path.parent / "blobs" / sha[:2] / sha
    target.parent.mkdir(parents=True)
    target.write_bytes(data[:5])
    assert store.put_blob("r1", data) == sha
    assert store.get_blob("r1", sha) == data


# --- health ---
def test_check_fails_when_the_blob_folder_is_not_writable(store, db_path):
    blobs = db_path.parent / "blobs"
    blobs.rmdir()
    blobs.write_text("a file where the folder should be")
    with pytest.raises(StoreDamaged, match="not writable"):
        store.check()


# --- concurrency within one process ---
def test_readers_are_not_blocked_by_a_writer(store, db_path):
    store.append("r1", "created", {})
    with raw(db_path) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO events VALUES ('r1', 2, 'started', 'x', '{}')")
        started = time.monotonic()
        assert [e.seq for e in store.events("r1")] == [1]  # the uncommitted row is not seen
        assert time.monotonic() - started < 1
        writer.execute("ROLLBACK")


def test_a_writer_waits_for_another_writer_instead_of_failing(store, db_path):
    holder = raw(db_path)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        assert store.append("r1", "created", {}).seq == 1
    finally:
        release.join()
        holder.close()


def test_each_thread_uses_its_own_connection(store):
    seen = []
    worker = threading.Thread(target=lambda: (seen.append(store._db()), store.close()))
    worker.start()
    worker.join()
    assert seen[0] is not store._db()


# --- several processes and crashes ---
APPENDER = """
    import sys
    from pathlib import Path
    from server.store.sqlite import SQLiteStore

    store = SQLiteStore(Path(sys.argv[1]))
    name, count = sys.argv[2], int(sys.argv[3])
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        store.append("shared", "decision", {"writer": name, "i": i})
    store.close()
    print("done", flush=True)
"""


def test_two_processes_appending_to_one_database_lose_nothing(db_path):
    db_path.parent.mkdir(parents=True)
    per_process = 150
    # Both open a database that does not exist yet, so they also race to create the schema.
    procs = {name: child(APPENDER, str(db_path), name, str(per_process)) for name in ("a", "b")}
    try:
        for proc in procs.values():
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        for proc in procs.values():
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs.values():
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            assert out.strip() == "done"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    store = SQLiteStore(db_path)
    events = store.events("shared")
    assert [e.seq for e in events] == list(range(1, 2 * per_process + 1))
    for name in procs:
        assert [e.payload["i"] for e in events if e.payload["writer"] == name] == list(
            range(per_process)
        )
    store.close()


KILLED_APPENDER = """
    import sys, time
    from pathlib import Path
    from server.store.sqlite import SQLiteStore

    store = SQLiteStore(Path(sys.argv[1]))
    for i in range(50):
        event = store.append("r1", "decision", {"finding_id": f"F{i}", "text": "é" * 2000})
        print(event.seq, flush=True)
        time.sleep(0.02)
"""


def test_every_acknowledged_append_survives_sigkill(db_path):
    db_path.parent.mkdir(parents=True)
    proc = child(KILLED_APPENDER, str(db_path))
    acknowledged = []
    try:
        while len(acknowledged) < 20:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            acknowledged.append(int(line))
        proc.kill()  # SIGKILL on POSIX: no cleanup, no close
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if sys.platform != "win32":
        assert proc.returncode == -signal.SIGKILL

    store = SQLiteStore(db_path)
    stored = [e.seq for e in store.events("r1")]
    assert set(acknowledged) <= set(stored)
    assert stored == list(range(1, len(stored) + 1))
    assert len(stored) < 50, "the process finished before it was killed"
    store.check()
    with raw(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()
