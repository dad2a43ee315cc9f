"""SIGKILL at a bad moment loses nothing the server acknowledged and damages neither store.

Each test starts the real `aiprism serve`, kills it with SIGKILL, checks the store exactly as the
kill left it (SQLite's own integrity checks; for S3, that every object still reads as what the
store wrote), then starts a new server on the same store and checks what a reviewer would see.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import boto3
import docx
import pytest
import requests

from server.samples import messy_investigation_docx
from tests.moto_server import moto_endpoint  # noqa: F401
from tests.server_process import RunningServer, running_server

TOKEN = "crash-safety-token-not-a-secret"
S3_PREFIX = "aiprism/crash"
DECIDERS = 3  # clients sending decisions at once
DECISIONS_EACH = 10


@dataclass
class Store:
    """One store as the tests see it: start a server on it, and list what is wrong inside it."""

    start: Callable[[], AbstractContextManager[RunningServer]]
    problems: Callable[[], list[str]]


@pytest.fixture(params=["sqlite", pytest.param("s3", marks=pytest.mark.cloud)])
def store(request, tmp_path) -> Store:
    if request.param == "sqlite":
        return Store(
            start=lambda: running_server(tmp_path, TOKEN),
            problems=lambda: sqlite_problems(tmp_path / "reviews.sqlite3"),
        )
    endpoint = request.getfixturevalue("moto_endpoint")
    s3 = boto3.session.Session(region_name="us-east-1").client("s3", endpoint_url=endpoint)
    bucket = "aiprism-" + re.sub(r"[^a-z0-9]+", "-", tmp_path.name.lower()).strip("-")[:40]
    s3.create_bucket(Bucket=bucket)
    env = {"AIPRISM_STORE_URL": f"s3://{bucket}/{S3_PREFIX}", "AWS_ENDPOINT_URL_S3": endpoint}
    return Store(
        start=lambda: running_server(tmp_path, TOKEN, extra_env=env),
        problems=lambda: s3_problems(s3, bucket, S3_PREFIX + "/"),
    )


def test_an_analysis_killed_midway_resumes_after_a_restart(store):
    data = long_investigation_docx()
    with store.start() as first:
        review_id = kill_during_analysis(first, data)

    assert store.problems() == []
    with store.start() as second:
        review = second.wait_done(review_id)
        assert review["status"] == "done", review["error"]
        again = second.wait_done(second.upload(data, "long-again.docx").json()["id"])
        assert [f["id"] for f in review["findings"]] == [f["id"] for f in again["findings"]]
        kinds = [e["type"] for e in events(second, review_id)]
        assert kinds == ["created", "started", "started", "analysed"]  # cut short, then resumed
        listed = {r["id"]: r for r in reviews(second)}
        assert listed[review_id]["status"] == "done"


def test_every_acknowledged_decision_survives_a_kill(store):
    with store.start() as first:
        review_id, findings = analysed_review(first)
        clients = [Decider(first, review_id, findings, n) for n in range(DECIDERS)]
        with ThreadPoolExecutor(DECIDERS) as pool:
            list(pool.map(lambda client: client.send(DECISIONS_EACH), clients))
        first.kill()  # at once: nothing gets a chance to flush after the last acknowledgement

    assert store.problems() == []
    with store.start() as second:
        logged = decisions_logged(second, review_id)
        for client in clients:  # each client's decisions are all there, in the order it sent them
            assert len(client.acknowledged) == DECISIONS_EACH
            assert [d for d in logged if d in client.acknowledged] == client.acknowledged
        final = {d["finding_id"]: (d["action"], d["text"]) for d in logged}
        after = second.api.get(second.url(f"/api/v1/reviews/{review_id}")).json()
        decided = {
            f["id"]: f["decision"] and (f["decision"]["action"], f["decision"]["text"])
            for f in after["findings"]
        }
        assert decided == {finding: final.get(finding) for finding in findings}
        listed = {r["id"]: r for r in reviews(second)}
        assert listed[review_id]["counts"] == after["counts"]


def test_a_kill_amid_decisions_keeps_every_acknowledged_one(store):
    with store.start() as first:
        review_id, findings = analysed_review(first)
        clients = [Decider(first, review_id, findings, n) for n in range(DECIDERS)]
        with ThreadPoolExecutor(DECIDERS) as pool:
            senders = [pool.submit(client.send, 10_000) for client in clients]
            deadline = time.monotonic() + 30
            while sum(len(c.acknowledged) for c in clients) < DECIDERS * DECISIONS_EACH:
                assert time.monotonic() < deadline, "the decisions were not acknowledged in time"
                for sender in senders:
                    if sender.done():
                        sender.result()  # a client that stopped early raises why
                time.sleep(0.005)
            first.kill()  # while every client waits for an answer
            for sender in senders:
                sender.result()

    assert store.problems() == []
    with store.start() as second:
        logged = decisions_logged(second, review_id)
        for client in clients:  # the one it was sending when the server died may or may not be in
            mine = [d for d in logged if d["text"].startswith(client.name)]
            assert mine in (client.acknowledged, [*client.acknowledged, client.sending])


# --- driving the server ---


def long_investigation_docx(sections: int = 200) -> bytes:
    """Long enough that the analysis takes a second or two, so a kill can land inside it."""
    document = docx.Document()
    document.add_heading("Investigation: reversal limits across every merchant batch", 0)
    for s in range(sections):
        document.add_heading(f"Batch {s} review", 1)
        for p in range(10):
            document.add_paragraph(
                f"On 3 March 2026 the payments team reviewed batch {s}-{p} and confirmed that "
                "every reversal in it stayed within the limit agreed with Finance Operations."
            )
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def kill_during_analysis(server: RunningServer, data: bytes) -> str:
    created = server.upload(data, "long.docx")
    assert created.status_code == 202, created.text
    review_id = created.json()["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = server.api.get(server.url(f"/api/v1/reviews/{review_id}/progress")).json()
        progress = state["progress"]
        if state["status"] == "running" and 0 < progress["done"] < progress["total"] // 2:
            server.kill()
            return review_id
        assert state["status"] != "done", "the analysis finished before it could be interrupted"
        time.sleep(0.01)
    raise TimeoutError("the analysis never started")


def analysed_review(server: RunningServer) -> tuple[str, list[str]]:
    review = server.wait_done(server.upload(messy_investigation_docx(), "burst.docx").json()["id"])
    assert review["status"] == "done" and len(review["findings"]) >= DECIDERS
    return review["id"], [f["id"] for f in review["findings"]]


class Decider:
    """One reviewer's client, deciding only findings no other client touches, one at a time."""

    def __init__(self, server: RunningServer, review_id: str, findings: list[str], number: int):
        self.name = f"client {number}:"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {server.token}"
        self.url = server.url(f"/api/v1/reviews/{review_id}/findings/{{}}/decision")
        self.findings = findings[number::DECIDERS]
        self.acknowledged: list[dict] = []
        self.sending: dict | None = None

    def send(self, count: int) -> None:
        """Send up to `count` decisions, each after the last was acknowledged; stop if the server
        goes away."""
        for n in range(count):
            self.sending = {
                "finding_id": self.findings[n % len(self.findings)],
                "action": "accept" if n % 2 else "reject",
                "text": f"{self.name} decision {n}",
            }
            body = {"action": self.sending["action"], "text": self.sending["text"]}
            try:
                response = self.session.post(self.url.format(self.sending["finding_id"]), json=body)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                return  # killed before answering, or halfway through the answer: not acknowledged
            assert response.status_code == 200, response.text
            self.acknowledged.append(self.sending)


def decisions_logged(server: RunningServer, review_id: str) -> list[dict]:
    """What each decision asked for (not who asked: `actor` is the machine's user here)."""
    return [
        {k: v for k, v in e["payload"].items() if k != "actor"}
        for e in events(server, review_id)
        if e["type"] == "decision"
    ]


def events(server: RunningServer, review_id: str) -> list[dict]:
    return server.api.get(server.url(f"/api/v1/reviews/{review_id}/events")).json()["events"]


def reviews(server: RunningServer) -> list[dict]:
    return server.api.get(server.url("/api/v1/reviews")).json()["reviews"]


# --- what a kill may not leave behind ---


def sqlite_problems(path: Path) -> list[str]:
    """SQLite's own checks, then the log itself: dense sequence numbers, JSON payloads, blobs."""
    db = sqlite3.connect(path)
    try:
        problems = [row[0] for row in db.execute("PRAGMA integrity_check") if row[0] != "ok"]
        problems += [f"foreign key: {row}" for row in db.execute("PRAGMA foreign_key_check")]
        logs: dict[str, list[tuple[int, dict]]] = {}
        for review_id, seq, kind, at, payload in db.execute(
            "SELECT review_id, seq, type, at, payload FROM events ORDER BY review_id, seq"
        ):
            event = {"seq": seq, "type": kind, "at": at, "payload": json.loads(payload)}
            logs.setdefault(review_id, []).append((seq, event))
        problems += [p for review_id, log in logs.items() for p in log_problems(review_id, log)]
        for sha, size in db.execute("SELECT sha256, size FROM blobs"):
            blob = path.parent / "blobs" / sha[:2] / sha
            data = blob.read_bytes() if blob.is_file() else b""
            if len(data) != size or hashlib.sha256(data).hexdigest() != sha:
                problems.append(f"blob {sha} is missing or damaged")
    finally:
        db.close()
    return problems


def s3_problems(s3, bucket: str, prefix: str) -> list[str]:
    """Every object still reads as what the store writes, and every log is dense from 1."""
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for o in page.get("Contents", [])
    ]

    def read(key: str) -> bytes:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    problems: list[str] = []
    logs: dict[str, list[tuple[int, dict]]] = {}
    for key in keys:
        name = key[len(prefix) :]
        if match := re.fullmatch(r"reviews/([^/]+)/events/(\d{10})\.json", name):
            logs.setdefault(match[1], []).append((int(match[2]), json.loads(read(key))))
        elif match := re.fullmatch(r"reviews/[^/]+/uploads/([0-9a-f]{64})", name):
            if hashlib.sha256(read(key)).hexdigest() != match[1]:
                problems.append(f"{key} does not hold the bytes its name promises")
        elif re.fullmatch(
            r"reviews/[^/]+/(summary|progress)\.json|layout\.json|settings/[^/]+\.json", name
        ):
            json.loads(read(key))
        elif re.fullmatch(r"marks/unfinished/[^/]+|marks/pending/[^/]+/[0-9a-f]{32}", name):
            if read(key):
                problems.append(f"{key}: a marker holds nothing")
        else:
            problems.append(f"{key} is not an object the store writes")
    problems += [p for review_id, log in logs.items() for p in log_problems(review_id, log)]
    return problems


def log_problems(review_id: str, log: list[tuple[int, dict]]) -> Iterator[str]:
    seqs = [seq for seq, _ in sorted(log, key=lambda entry: entry[0])]
    if seqs != list(range(1, len(seqs) + 1)):
        yield f"review {review_id}: sequence numbers {seqs} have gaps"
    for seq, event in log:
        if not {"type", "at", "payload"} <= event.keys() or event.get("seq") != seq:
            yield f"review {review_id}: event {seq} is not an event"
        elif seq == 1 and event["type"] != "created":
            yield f"review {review_id}: the log starts with {event['type']}, not created"
