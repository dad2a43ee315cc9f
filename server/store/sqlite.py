"""The single-host store: one SQLite file in WAL mode beside a folder of content-addressed blobs.

Documents live as files under `blobs/ab/abcdef…` next to the database, so the database holds only
small rows and stays quick to back up and check; the `uploads` table says which reviews hold
which blob, and a blob's file goes when the last review holding it is deleted. Every write is one
`BEGIN IMMEDIATE` transaction with `synchronous=FULL`: once `append` returns, the event survives a
killed process or a power cut. Each thread gets its own connection, which lets WAL readers run
beside the one writer; several processes may share the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from server.errors import AIPrismError
from server.store.base import (
    UNFINISHED,
    Event,
    HistoryPage,
    HistoryQuery,
    ReviewStore,
    StoreConflict,
    difference,
    page_of,
)

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
WRITE_ATTEMPTS = 3  # each waits up to BUSY_TIMEOUT_MS for the lock
_SHA256 = re.compile(r"[0-9a-f]{64}")
T = TypeVar("T")


class StoreTooNew(AIPrismError):
    """The database was written by a newer AI-Prism; opening it here could damage it."""

    code = "store_too_new"
    http_status = 503


class StoreDamaged(AIPrismError):
    code = "store_damaged"
    http_status = 503


def _migration_1(db: sqlite3.Connection) -> None:
    for statement in (
        "CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, created_at TEXT NOT NULL)",
        "CREATE TABLE events (review_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL,"
        " at TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (review_id, seq)) WITHOUT ROWID",
        "CREATE TABLE summaries (review_id TEXT PRIMARY KEY, created_at TEXT, data TEXT NOT NULL)",
        "CREATE INDEX summaries_by_created_at ON summaries (created_at)",
        "CREATE TABLE progress (review_id TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at TEXT NOT NULL)",
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ):
        db.execute(statement)


def _migration_2(db: sqlite3.Connection) -> None:
    """Blobs belong to reviews, so that deleting a review can delete its document."""
    db.execute(
        "CREATE TABLE uploads (review_id TEXT NOT NULL, sha256 TEXT NOT NULL,"
        " PRIMARY KEY (review_id, sha256)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX uploads_by_sha256 ON uploads (sha256)")
    db.execute(
        "INSERT OR IGNORE INTO uploads (review_id, sha256) SELECT review_id,"
        " json_extract(payload, '$.sha256') FROM events WHERE type = 'created'"
        " AND json_extract(payload, '$.sha256') IS NOT NULL"
    )


def _migration_3(db: sqlite3.Connection) -> None:
    """History pages filter and seek by columns; statistics read running totals."""
    for column in ("status TEXT", "framework TEXT", "seq INTEGER"):
        db.execute(f"ALTER TABLE summaries ADD COLUMN {column}")
    db.execute(
        "UPDATE summaries SET status = json_extract(data, '$.status'),"
        " framework = json_extract(data, '$.framework'), seq = json_extract(data, '$.seq')"
    )
    db.execute("DROP INDEX summaries_by_created_at")
    db.execute("CREATE INDEX summaries_newest_first ON summaries (created_at DESC, review_id DESC)")
    db.execute("CREATE INDEX summaries_by_status ON summaries (status)")
    db.execute("CREATE TABLE totals (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID")


# Applied in order, each once; `PRAGMA user_version` records how many have run. Append only.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migration_1, _migration_2, _migration_3]


def utc_now() -> str:
    """UTC ISO 8601 with milliseconds and 'Z', the form every stored timestamp takes."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _stored_summary(db: sqlite3.Connection, review_id: str) -> dict[str, Any] | None:
    row = db.execute("SELECT data FROM summaries WHERE review_id = ?", (review_id,)).fetchone()
    return json.loads(row[0]) if row else None


def _add_to_totals(db: sqlite3.Connection, delta: dict[str, int]) -> None:
    db.executemany(
        "INSERT INTO totals (name, n) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET n = n + excluded.n",
        delta.items(),
    )
    if delta:
        db.execute("DELETE FROM totals WHERE n = 0")


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return True
    name = getattr(exc, "sqlite_errorname", "")
    return isinstance(exc, sqlite3.OperationalError) and (
        name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc)
    )


class SQLiteStore(ReviewStore):
    def __init__(self, path: Path):
        self.path = Path(path)
        self.blobs_dir = self.path.parent / "blobs"
        self.blobs_dir.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        try:
            self._write(self._migrate)
        except BaseException as exc:
            self.close()
            if getattr(exc, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
                raise StoreDamaged(
                    f"{self.path} is not a readable AI-Prism database ({exc}). "
                    "Restore it from a backup, or choose another data folder."
                ) from exc
            raise

    # --- connections and transactions ---
    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        # A connection must not cross a fork: the child opens its own.
        if db is None or self._local.pid != os.getpid():
            db = self._connect()
            self._local.db, self._local.pid = db, os.getpid()
        return db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            mode = self._retry(lambda: db.execute("PRAGMA journal_mode=WAL").fetchone()[0])
            if mode != "wal":
                log.warning("%s: SQLite refused WAL mode (journal_mode=%s)", self.path, mode)
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _retry(work: Callable[[], T]) -> T:
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return work()
            except sqlite3.DatabaseError as exc:
                if attempt == WRITE_ATTEMPTS or not _retryable(exc):
                    raise
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def attempt() -> T:
            with self._transaction() as db:
                return work(db)

        return self._retry(attempt)

    def _migrate(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreTooNew(
                f"{self.path} was written by a newer version of AI-Prism (schema {version}; "
                f"this version knows up to {len(MIGRATIONS)}). Upgrade AI-Prism, or choose "
                "another data folder."
            )
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            migration(db)
            db.execute(f"PRAGMA user_version={number}")

    # --- blobs ---
    def _blob_path(self, sha256: str) -> Path:
        return self.blobs_dir / sha256[:2] / sha256

    def put_blob(self, review_id: str, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()

        def record(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR IGNORE INTO blobs (sha256, size, created_at) VALUES (?, ?, ?)",
                (sha, len(data), utc_now()),
            )
            db.execute(
                "INSERT OR IGNORE INTO uploads (review_id, sha256) VALUES (?, ?)", (review_id, sha)
            )

        # Recorded first, then written: a delete of another review holding the same bytes either
        # sees this review's row and keeps the file, or removed the file before we look for it.
        self._write(record)
        target = self._blob_path(sha)
        if not (target.is_file() and target.stat().st_size == len(data)):
            _write_atomically(target, data)
        return sha

    def get_blob(self, review_id: str, sha256: str) -> bytes:
        key = str(sha256).lower()
        if not _SHA256.fullmatch(key):  # also keeps "../" out of the path
            raise KeyError(sha256)
        held = self._db().execute(
            "SELECT 1 FROM uploads WHERE review_id = ? AND sha256 = ?", (review_id, key)
        )
        if held.fetchone() is None:
            raise KeyError(sha256)
        try:
            return self._blob_path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(sha256) from None

    # --- the event log ---
    def append(
        self, review_id: str, type: str, payload: dict[str, Any], expect_seq: int | None = None
    ) -> Event:
        text = _dumps(payload)

        def insert(db: sqlite3.Connection) -> Event:
            (last,) = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE review_id = ?", (review_id,)
            ).fetchone()
            if expect_seq is not None and last != expect_seq:
                raise StoreConflict(
                    f"review {review_id} has moved on to event {last}, not {expect_seq}"
                )
            at = utc_now()
            db.execute(
                "INSERT INTO events (review_id, seq, type, at, payload) VALUES (?, ?, ?, ?, ?)",
                (review_id, last + 1, type, at, text),
            )
            return Event(review_id, last + 1, type, at, json.loads(text))

        try:
            return self._write(insert)
        except sqlite3.IntegrityError as exc:
            raise StoreConflict(f"could not append to review {review_id}: {exc}") from exc

    def events(self, review_id: str, after: int = 0) -> list[Event]:
        rows = self._db().execute(
            "SELECT seq, type, at, payload FROM events WHERE review_id = ? AND seq > ? ORDER BY seq",
            (review_id, after),
        )
        return [
            Event(review_id, seq, kind, at, json.loads(payload)) for seq, kind, at, payload in rows
        ]

    def delete_review(self, review_id: str) -> bool:
        def delete(db: sqlite3.Connection) -> bool:
            held = [
                sha
                for (sha,) in db.execute(
                    "SELECT sha256 FROM uploads WHERE review_id = ?", (review_id,)
                )
            ]
            old = _stored_summary(db, review_id)
            _add_to_totals(db, difference(old and old.get("tallies"), None))
            removed = 0
            for statement in (
                "DELETE FROM events WHERE review_id = ?",
                "DELETE FROM summaries WHERE review_id = ?",
                "DELETE FROM progress WHERE review_id = ?",
                "DELETE FROM uploads WHERE review_id = ?",
            ):
                removed += db.execute(statement, (review_id,)).rowcount
            for sha in held:
                if db.execute("SELECT 1 FROM uploads WHERE sha256 = ?", (sha,)).fetchone():
                    continue  # another review uploaded the same bytes
                db.execute("DELETE FROM blobs WHERE sha256 = ?", (sha,))
                # Inside the write transaction: no put_blob can record the same bytes meanwhile.
                self._blob_path(sha).unlink(missing_ok=True)
            return removed > 0

        return self._write(delete)

    # --- the history list and the running totals ---
    def put_summary(self, review_id: str, summary: dict[str, Any]) -> None:
        if "created_at" not in summary:
            raise ValueError(f"the summary of review {review_id} has no 'created_at'")

        def replace(db: sqlite3.Connection) -> None:
            old = _stored_summary(db, review_id)
            if old is not None and (old.get("seq") or 0) > (summary.get("seq") or 0):
                return  # a slower writer's older view
            _add_to_totals(db, difference(old and old.get("tallies"), summary.get("tallies")))
            db.execute(
                "INSERT INTO summaries (review_id, created_at, status, framework, seq, data)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (review_id) DO UPDATE SET"
                " created_at = excluded.created_at, status = excluded.status,"
                " framework = excluded.framework, seq = excluded.seq, data = excluded.data",
                (
                    review_id,
                    summary["created_at"],
                    summary.get("status"),
                    summary.get("framework"),
                    summary.get("seq"),
                    _dumps(summary),
                ),
            )

        self._write(replace)

    def summary(self, review_id: str) -> dict[str, Any] | None:
        return _stored_summary(self._db(), review_id)

    def history(self, query: HistoryQuery) -> HistoryPage:
        where, values = [], []
        for column, value in (("status", query.status), ("framework", query.framework)):
            if value is not None:
                where.append(f"{column} = ?")
                values.append(value)
        if query.since:
            where.append("created_at >= ?")
            values.append(query.since)
        if query.upper_bound:
            where.append("created_at < ?")
            values.append(query.upper_bound)
        if query.after:
            where.append("(created_at, review_id) < (?, ?)")
            values.extend(query.after)
        if query.uploader:  # rare enough to read past the rows of others, newest first
            where.append(
                "(json_extract(data, '$.created_by.sub') = ?"
                " OR (instr(?, '@') > 0"
                " AND lower(json_extract(data, '$.created_by.email')) = lower(?)))"
            )
            values.extend([query.uploader] * 3)
        sql = "SELECT data FROM summaries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, review_id DESC LIMIT ?"
        rows = self._db().execute(sql, (*values, query.limit + 1))
        return page_of([json.loads(data) for (data,) in rows], query.limit)

    def totals(self, since: str | None = None) -> dict[str, int]:
        rows = self._db().execute(
            "SELECT name, n FROM totals WHERE name NOT LIKE 'day:%' OR name >= ?",
            (f"day:{since or ''}",),
        )
        return dict(rows)

    def replace_totals(self, totals: dict[str, int]) -> None:
        def replace(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM totals")
            _add_to_totals(db, totals)

        self._write(replace)

    def unfinished(self) -> list[str]:
        # A summary behind its log (its writer was killed in between) is found by the seq.
        rows = self._db().execute(
            "SELECT review_id FROM summaries WHERE status IN (?, ?) UNION"
            " SELECT s.review_id FROM summaries s WHERE s.seq IS NOT"
            " (SELECT MAX(e.seq) FROM events e WHERE e.review_id = s.review_id)",
            UNFINISHED,
        )
        return [review_id for (review_id,) in rows]

    def review_ids(self) -> Iterator[str]:
        rows = self._db().execute("SELECT DISTINCT review_id FROM events").fetchall()
        return iter([review_id for (review_id,) in rows])

    # --- live progress ---
    def set_progress(self, review_id: str, progress: dict[str, Any]) -> None:
        self._write(
            lambda db: db.execute(
                "INSERT INTO progress (review_id, data, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (review_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                (review_id, _dumps(progress), utc_now()),
            )
        )

    def progress(self, review_id: str) -> dict[str, Any] | None:
        row = (
            self._db()
            .execute("SELECT data FROM progress WHERE review_id = ?", (review_id,))
            .fetchone()
        )
        return json.loads(row[0]) if row else None

    # --- settings ---
    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self._db().execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def put_setting(self, key: str, value: Any) -> None:
        self._write(
            lambda db: db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, _dumps(value)),
            )
        )

    # --- health ---
    def check(self) -> None:
        try:
            results = [row[0] for row in self._db().execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            raise StoreDamaged(f"{self.path} cannot be read: {exc}") from exc
        if results != ["ok"]:
            raise StoreDamaged(f"{self.path} failed its integrity check: {'; '.join(results[:5])}")
        try:
            fd, probe = tempfile.mkstemp(dir=self.blobs_dir, prefix=".probe-")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise StoreDamaged(
                f"The document folder {self.blobs_dir} is not writable: {exc}"
            ) from exc

    def close(self) -> None:
        """Close the calling thread's connection; other threads keep theirs."""
        db = getattr(self._local, "db", None)
        if db is not None:
            self._local.db = None
            db.close()


def _write_atomically(target: Path, data: bytes) -> None:
    """Readers see the whole file or none of it, even after a crash mid-write."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)
    _fsync_dir(target.parent.parent)


def _fsync_dir(path: Path) -> None:
    """Make a rename or a new entry durable; Windows has no directory handles to sync."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
