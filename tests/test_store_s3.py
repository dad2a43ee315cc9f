"""The S3 store against a moto server over real HTTP: the shared contract, plus what only a bucket
shared by several instances has to promise."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError
from botocore.stub import Stubber

from server.review import fold
from server.stats import TALLIES_VERSION, tallies_of
from server.store import s3 as s3_store
from server.store.base import HistoryQuery
from server.store.dynamo_index import DynamoIndex
from server.store.s3 import CLIENT_CONFIG, S3Store, StoreUnavailable
from server.store.sqlite import StoreDamaged, StoreTooNew
from tests.moto_server import FAKE_AWS_ENV, moto_endpoint  # noqa: F401
from tests.store_contract import StoreContract

pytestmark = pytest.mark.cloud
ROOT = Path(__file__).resolve().parent.parent
PREFIX = "aiprism/test"


class S3:
    """The moto server, and clients for it from one boto3 session: a new session spends about
    0.1 s loading service models, which a test that makes a few clients should not pay."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        self.admin = self.client()

    def client(self, config: Config = CLIENT_CONFIG, endpoint: str | None = None) -> Any:
        return self.session.client("s3", endpoint_url=endpoint or self.endpoint, config=config)

    def bucket(self, tmp_path: Path) -> str:
        """A bucket of its own for each test, named after its tmp_path (pytest numbers those)."""
        name = re.sub(r"[^a-z0-9]+", "-", tmp_path.name.lower()).strip("-")
        bucket = f"aiprism-{name}"[:63].rstrip("-")
        if bucket not in [b["Name"] for b in self.admin.list_buckets()["Buckets"]]:
            self.admin.create_bucket(Bucket=bucket)
        return bucket

    def store(self, bucket: str, prefix: str = PREFIX, table: str | None = None) -> S3Store:
        index = None
        if table:
            client = self.session.client("dynamodb", endpoint_url=self.endpoint)
            index = DynamoIndex(table, f"s3://{bucket}/{prefix}", client=client)
            index.ensure_table(create=True)
        return S3Store(bucket, prefix, client=self.client(), index=index)

    def keys(self, bucket: str) -> list[str]:
        pages = self.admin.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def read(self, bucket: str, key: str) -> bytes:
        return self.admin.get_object(Bucket=bucket, Key=key)["Body"].read()

    def write(self, bucket: str, key: str, body: bytes) -> None:
        self.admin.put_object(Bucket=bucket, Key=key, Body=body)


@pytest.fixture(scope="module")
def s3(moto_endpoint):  # noqa: F811 - the fixture imported above
    return S3(moto_endpoint)


class TestS3Store(StoreContract):
    @pytest.fixture(autouse=True)
    def _s3(self, s3):
        self.s3 = s3

    def make_store(self, tmp_path: Path) -> S3Store:
        return self.s3.store(self.s3.bucket(tmp_path))

    def age_markers(self, monkeypatch) -> None:
        monkeypatch.setattr(s3_store, "PENDING_GRACE", timedelta(seconds=-5))


class TestS3StoreWithTable(StoreContract):
    """The same contract with history rows and totals in a DynamoDB table (one table for the
    module: each test's bucket is its own namespace in it)."""

    @pytest.fixture(autouse=True)
    def _s3(self, s3):
        self.s3 = s3

    def make_store(self, tmp_path: Path) -> S3Store:
        return self.s3.store(self.s3.bucket(tmp_path), table="aiprism-index")

    def age_markers(self, monkeypatch) -> None:
        monkeypatch.setattr(s3_store, "PENDING_GRACE", timedelta(seconds=-5))


@pytest.fixture
def bucket(s3, tmp_path):
    return s3.bucket(tmp_path)


@pytest.fixture
def store(s3, bucket):
    return s3.store(bucket)


def requests_made(store: S3Store) -> list[str]:
    """Record the name of every S3 operation the store's client sends from now on."""
    seen: list[str] = []
    store._client.meta.events.register("before-call.s3", lambda model, **_: seen.append(model.name))
    return seen


# --- the layout in the bucket ---
def test_objects_live_under_the_prefix_only(s3, bucket):
    store = S3Store(bucket, "/team-a/reviews/", endpoint_url=s3.endpoint)  # its own client
    sha = store.put_blob("r1", b"document")
    store.append("r1", "created", {"sha256": sha})
    store.put_summary("r1", {"id": "r1", "created_at": "2026-01-01T00:00:00.000Z"})
    store.set_progress("r1", {"done": 1, "total": 2})
    store.put_setting("muted_rules", ["x"])
    assert sorted(s3.keys(bucket)) == [
        "team-a/reviews/layout.json",
        "team-a/reviews/reviews/r1/events/0000000001.json",
        "team-a/reviews/reviews/r1/progress.json",
        "team-a/reviews/reviews/r1/summary.json",
        "team-a/reviews/reviews/r1/uploads/" + sha,
        "team-a/reviews/settings/muted_rules.json",
    ]
    neighbour = s3.store(bucket, "team-b")
    assert neighbour.events("r1") == [] and neighbour.history(HistoryQuery()).rows == []
    assert neighbour.get_setting("muted_rules") is None


def test_review_ids_and_setting_keys_cannot_leave_their_folder(s3, bucket, store):
    store.append("../r1", "created", {})
    store.put_setting("a/../b", 1)
    assert [e.seq for e in store.events("../r1")] == [1]
    assert store.get_setting("a/../b") == 1
    for key in s3.keys(bucket):
        assert key.startswith(PREFIX + "/")
        assert "/../" not in key and "/./" not in key


def test_event_objects_are_compact_utf8_json(s3, bucket, store):
    store.append("r1", "chat", {"text": "Zürich – café"})
    body = s3.read(bucket, f"{PREFIX}/reviews/r1/events/0000000001.json")
    assert body.startswith(b'{"seq":1,"type":"chat",')
    assert "Zürich – café".encode() in body


def test_a_store_from_an_s3_url(s3, bucket):
    store = S3Store.from_url(f"s3://{bucket}/one/two/", client=s3.client())
    assert (store.bucket, store.prefix) == (bucket, "one/two/")
    with pytest.raises(ValueError, match="not an s3://"):
        S3Store.from_url("https://example.com/bucket")


# --- the event log across processes and caches ---
APPENDER = """
    import sys
    from server.store.s3 import S3Store

    endpoint, bucket, prefix, name, count = sys.argv[1:6]
    store = S3Store(bucket, prefix, endpoint_url=endpoint)
    store.check()
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(int(count)):
        store.append("shared", "decision", {"writer": name, "i": i})
    print("done", flush=True)
"""


def test_two_processes_appending_to_one_review_lose_nothing(s3, bucket, store):
    per_process = 100
    args = [s3.endpoint, bucket, PREFIX]
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(APPENDER), *args, name, str(per_process)],
            cwd=ROOT,
            env={**os.environ, **FAKE_AWS_ENV},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    }
    try:
        for proc in procs.values():
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        for proc in procs.values():
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs.values():
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
            assert out.strip() == "done"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    events = store.events("shared")
    assert [e.seq for e in events] == list(range(1, 2 * per_process + 1))
    for name in procs:
        mine = [e.payload["i"] for e in events if e.payload["writer"] == name]
        assert mine == list(range(per_process))


def test_a_stale_seq_cache_still_appends_after_the_latest(s3, bucket):
    first, second = s3.store(bucket), s3.store(bucket)
    assert [first.append("r1", "created", {}).seq for _ in range(3)] == [1, 2, 3]
    assert [second.append("r1", "decision", {}).seq for _ in range(2)] == [4, 5]
    assert first.append("r1", "completed", {}).seq == 6  # first still remembered 3
    assert [e.seq for e in second.events("r1")] == [1, 2, 3, 4, 5, 6]


def test_a_cache_from_before_a_delete_leaves_no_gap(s3, bucket):
    writer, other = s3.store(bucket), s3.store(bucket)
    for _ in range(5):
        writer.append("r1", "decision", {})
    assert other.delete_review("r1") is True
    other.append("r1", "created", {})
    assert writer.append("r1", "decision", {}).seq == 2  # writer remembered 5
    assert [e.seq for e in other.events("r1")] == [1, 2]


def test_an_append_costs_one_listing_and_one_put(store):
    store.append("r1", "created", {})
    seen = requests_made(store)
    store.append("r1", "decision", {})
    assert seen == ["ListObjectsV2", "PutObject"]
    seen.clear()
    store.events("r1")
    assert seen == ["ListObjectsV2", "GetObject", "GetObject"]


def test_a_put_resent_after_its_answer_was_lost_is_not_appended_twice(s3, bucket, store):
    """The first attempt lands, the connection drops before the answer, botocore sends it again
    and S3 answers 412: the store must see that the object is its own, not take seq 2 too."""
    store.append("r1", "created", {})
    dropped: list[str] = []

    def land_then_drop(request, **_):
        if not dropped and "/events/" in request.url:
            dropped.append(request.url)
            body = request.body.read() if hasattr(request.body, "read") else request.body
            if hasattr(request.body, "seek"):
                request.body.seek(0)
            s3.write(bucket, request.url.split(f"/{bucket}/", 1)[1], body)
            raise ConnectionClosedError(endpoint_url=request.url)

    store._client.meta.events.register("before-send.s3.PutObject", land_then_drop)
    event = store.append("r1", "decision", {"finding_id": "F1"})
    assert dropped, "the fault was not injected"
    assert event.seq == 2
    assert [(e.seq, e.type) for e in store.events("r1")] == [(1, "created"), (2, "decision")]


def test_an_event_object_that_is_not_json_is_reported_as_damaged(s3, bucket, store):
    store.append("r1", "created", {})
    s3.write(bucket, f"{PREFIX}/reviews/r1/events/0000000002.json", b"{not json")
    with pytest.raises(StoreDamaged, match=r"0000000002\.json is not valid JSON"):
        store.events("r1")


# --- layout versions ---
def test_a_bucket_from_a_newer_ai_prism_is_refused(s3, bucket):
    s3.write(bucket, f"{PREFIX}/layout.json", b'{"layout":99}')
    store = s3.store(bucket)
    with pytest.raises(StoreTooNew, match=r"newer version of AI-Prism \(layout 99;"):
        store.events("r1")
    with pytest.raises(StoreTooNew):
        store.check()


def test_a_layout_1_bucket_still_reads_its_documents_where_layout_1_kept_them(s3, bucket):
    s3.write(bucket, f"{PREFIX}/layout.json", b'{"layout":1}')
    data = b"a document from before"
    sha = hashlib.sha256(data).hexdigest()
    s3.write(bucket, f"{PREFIX}/blobs/{sha}", data)
    store = s3.store(bucket)
    assert store.get_blob("r1", sha) == data
    new = store.put_blob("r2", b"a new document")
    assert store.get_blob("r2", new) == b"a new document"


def test_the_layout_is_checked_once_per_store(store):
    store.events("r1")
    seen = requests_made(store)
    store.events("r1")
    assert seen == ["ListObjectsV2"]


# --- health ---
def test_check_on_a_missing_bucket_names_it(s3):
    store = S3Store("no-such-bucket-here", endpoint_url=s3.endpoint)
    with pytest.raises(StoreUnavailable, match=r"'no-such-bucket-here'.*does not exist") as error:
        store.check()
    assert error.value.http_status == 503


def test_other_calls_on_a_missing_bucket_raise_the_same_error(s3):
    store = s3.store("no-such-bucket-here")
    with pytest.raises(StoreUnavailable, match="does not exist"):
        store.append("r1", "created", {})


def test_check_when_access_is_denied(s3):
    client = s3.client()
    with Stubber(client) as stub:
        stub.add_client_error("head_bucket", "403", http_status_code=403)
        with pytest.raises(StoreUnavailable, match=r"'locked'.*access is denied"):
            S3Store("locked", client=client).check()


def test_check_when_the_endpoint_cannot_be_reached(s3):
    # Nothing listens on port 9 of 127.0.0.1; one attempt keeps the test quick.
    config = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2)
    client = s3.client(config, endpoint="http://127.0.0.1:9")
    with pytest.raises(StoreUnavailable, match=r"'far-away'.*Could not connect"):
        S3Store("far-away", client=client).check()


# --- moving a bucket to a DynamoDB table ------------------------------------------------------


def legacy_bucket(s3: S3, bucket: str, copies: int) -> list[str]:
    """A bucket as the version before the table left it: reviews analysed and decided by the real
    service, then `copies` more reviews copied from them, every summary.json in the old form."""
    from server.jobs import JobRunner
    from server.samples import messy_investigation_docx
    from server.service import ReviewService
    from server.settings import Settings
    from tests.test_history import legacy_summary

    store = s3.store(bucket)
    jobs = JobRunner(workers=1, max_queued=5)
    service = ReviewService(store, Settings(data_dir=Path("/nonexistent"), token=None), jobs)
    originals = [service.create(messy_investigation_docx(), f"v{n}.docx").id for n in range(2)]
    jobs.wait_idle(timeout=120)
    findings = service.get(originals[0]).findings
    service.decide(originals[0], findings[0].id, "accept")
    service.decide(originals[0], findings[1].id, "reject")
    jobs.shutdown()
    ids = list(originals)
    keys = s3.keys(bucket)
    for n in range(copies):
        source = originals[n % 2]
        copy = f"copy{n:04d}"
        for key in keys:
            if f"/reviews/{source}/" in key and "/summary.json" not in key:
                target = key.replace(f"/reviews/{source}/", f"/reviews/{copy}/")
                s3.admin.copy_object(
                    Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key}
                )
        ids.append(copy)
    for review_id in ids:
        state = fold(review_id, store.events(review_id))
        summary = legacy_summary(state)
        s3.write(bucket, f"{PREFIX}/reviews/{review_id}/summary.json", json.dumps(summary).encode())
    for key in s3.keys(bucket):  # markers did not exist then
        if key.startswith(f"{PREFIX}/marks/"):
            s3.admin.delete_object(Bucket=bucket, Key=key)
    return ids


def test_an_existing_bucket_moves_to_a_table_even_when_the_upgrade_is_killed(s3, tmp_path):
    bucket = s3.bucket(tmp_path)
    ids = legacy_bucket(s3, bucket, copies=40)
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_S3": s3.endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": s3.endpoint,
        "AIPRISM_DYNAMODB_TABLE": "aiprism-moved",
        "AIPRISM_CREATE_RESOURCES": "1",
    }
    command = [
        sys.executable,
        "-m",
        "server",
        "store",
        "upgrade",
        "--store",
        f"s3://{bucket}/{PREFIX}",
    ]
    killed = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    watcher = s3.store(bucket, table="aiprism-moved")
    deadline = time.monotonic() + 60
    while killed.poll() is None and time.monotonic() < deadline:  # until the first rows land
        if watcher.history(HistoryQuery(limit=1)).rows:
            break
        time.sleep(0.05)
    killed.kill()
    assert killed.wait(10) == -9, "the upgrade finished before it could be killed"
    for _ in range(2):  # the second run finds nothing left to do
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert "0 review summaries rewritten" in done.stdout

    store = s3.store(bucket, table="aiprism-moved")
    listed, cursor = [], None
    while True:
        page = store.history(HistoryQuery(limit=25, cursor=cursor))
        listed += [row["id"] for row in page.rows]
        if not (cursor := page.cursor):
            break
    assert sorted(listed) == sorted(ids)
    expected: dict[str, int] = {}
    for review_id in ids:
        for name, n in tallies_of(fold(review_id, store.events(review_id))).items():
            expected[name] = expected.get(name, 0) + n
    assert store.totals() == expected
    assert store.get_setting("tallies_version") == TALLIES_VERSION


def test_a_page_that_reads_its_most_buckets_stops_and_its_cursor_goes_on(s3, tmp_path, monkeypatch):
    from server.store import dynamo_index

    monkeypatch.setattr(dynamo_index, "FIRST_BUCKETS", 1)
    monkeypatch.setattr(dynamo_index, "MAX_BUCKETS", 2)
    store = s3.store(s3.bucket(tmp_path), table="aiprism-capped")
    for hour in range(5):
        created = f"2026-03-0{1 + hour % 2}T{hour:02d}:00:00.000Z"
        store.put_summary(f"r{hour}", {"id": f"r{hour}", "created_at": created, "status": "failed"})
    pages, cursor = [], None
    while True:
        page = store.history(HistoryQuery(status="failed", cursor=cursor))
        pages.append([row["id"] for row in page.rows])
        if not (cursor := page.cursor):
            break
    assert pages == [["r3", "r1"], ["r4", "r2"], ["r0"]]
