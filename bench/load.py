"""Load: many reviewers at once on Waitress (desktop, SQLite) and on Gunicorn with the cloud config
(hosted, S3 on a moto server), side by side.

Run with `make bench-load` (or `python -m bench.load --clients 10 --seconds 15` for a short run).
Each client is a thread with its own keep-alive session that works on one seeded review: it reads
it, decides on its findings (accept, reject, reset in turn), exports it and lists the reviews, in
the proportions of MIX, without pause, until the time is up. See bench/README.md for the figures.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path

import requests

from bench.fake_s3 import aws_env, fake_s3
from bench.figures import Timing, ms, percentile, side_by_side, timed
from bench.servers import OUT, ProcessFigures, Server, gunicorn, process_figures, waitress
from server.samples import messy_investigation_docx

TOKEN = "bench-load-token-0123456789abcdef"
BUCKET = "aiprism-bench-load"
REQUEST_TIMEOUT = 30  # seconds; longer counts as an error
# What a reviewer does, by weight: mostly reading a review and deciding on its findings.
MIX = {"list": 10, "read": 30, "decide": 40, "export docx": 6, "export html": 7, "export json": 7}
ENDPOINTS = {
    "list": "GET /reviews",
    "read": "GET /reviews/{id}",
    "decide": "POST .../decision",
    "export docx": "GET .../export/docx",
    "export html": "GET .../export/html",
    "export json": "GET .../export/json",
}


@dataclass(frozen=True)
class Seeded:
    review_id: str
    finding_ids: tuple[str, ...]


@dataclass(frozen=True)
class Run:
    server: str
    timings: list[Timing]
    seconds: float
    process: ProcessFigures
    fake_s3: ProcessFigures | None
    log_problems: dict[str, int]


def session() -> requests.Session:
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {TOKEN}"  # Bearer clients need no CSRF token
    return api


def seed(server: Server, count: int) -> list[Seeded]:
    """Upload the sample write-up `count` times and wait until every analysis is done."""
    api, document = session(), messy_investigation_docx()
    ids = []
    for n in range(count):
        response = api.post(
            server.url("/api/v1/reviews"),
            files={"file": (f"investigation-{n}.docx", document)},
            timeout=REQUEST_TIMEOUT,
        )
        response.raise_for_status()
        ids.append(response.json()["id"])
    seeded, deadline = [], time.monotonic() + 120
    for review_id in ids:
        while True:
            review = api.get(server.url(f"/api/v1/reviews/{review_id}"), timeout=30).json()
            if review["status"] == "done":
                seeded.append(Seeded(review_id, tuple(f["id"] for f in review["findings"])))
                break
            if review["status"] == "failed" or time.monotonic() > deadline:
                raise RuntimeError(f"seeding review {review_id} ended {review['status']}")
            time.sleep(0.2)
    return seeded


def client(server: Server, review: Seeded, until: float, rng: random.Random) -> list[Timing]:
    """One reviewer's requests, back to back, until `until` (time.monotonic)."""
    api, actions, timings = session(), cycle(("accept", "reject", "reset")), []
    base = server.url(f"/api/v1/reviews/{review.review_id}")
    kinds, weights = list(MIX), list(MIX.values())
    while time.monotonic() < until:
        kind = rng.choices(kinds, weights)[0]
        request: dict = {"method": "GET", "url": base, "timeout": REQUEST_TIMEOUT}
        if kind == "list":
            request["url"] = server.url("/api/v1/reviews")
        elif kind == "decide":
            finding = rng.choice(review.finding_ids)
            request.update(
                method="POST",
                url=f"{base}/findings/{finding}/decision",
                json={"action": next(actions)},
            )
        elif kind.startswith("export"):
            request["url"] = f"{base}/export/{kind.split()[1]}"
        timing, _ = timed(ENDPOINTS[kind], api, **request)
        timings.append(timing)
    return timings


def load(server: Server, clients: int, seconds: float, reviews: int) -> Run:
    seeded = seed(server, reviews)
    start = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        futures = [
            pool.submit(client, server, seeded[n % len(seeded)], start + seconds, random.Random(n))
            for n in range(clients)
        ]
        timings = [t for f in futures for t in f.result()]
    elapsed = time.monotonic() - start
    helpers = process_figures(server.helpers) if server.helpers else None
    return Run(server.name, timings, elapsed, server.figures(), helpers, server.log_problems())


def hosted_env(moto: str | None, data_dir: Path) -> dict[str, str]:
    """What App Runner would pass: S3 on the fake when `moto` is given, else SQLite on disk."""
    env = {
        **aws_env(),
        "AIPRISM_ACCESS_TOKEN": TOKEN,
        "AIPRISM_AI": "off",
        "AIPRISM_DATA_DIR": str(data_dir),
    }
    if moto:
        env.update(AWS_ENDPOINT_URL_S3=moto, AIPRISM_S3_BUCKET=BUCKET, AIPRISM_S3_PREFIX="load")
    return env


@contextmanager
def hosted(store: str, data_dir: Path) -> Iterator[Server]:
    """Gunicorn with the cloud config; WEB_CONCURRENCY is left to the config's default."""
    name = f"Gunicorn ({'S3 on moto' if store == 's3' else 'SQLite'})"
    arguments = ["--config", "cloud/gunicorn.conf.py", "cloud.wsgi:app"]
    with fake_s3(BUCKET) if store == "s3" else nullcontext(None) as moto:
        env = hosted_env(moto.url if moto else None, data_dir)
        with gunicorn(name, arguments, env, "load-gunicorn.log") as server:
            server.helpers = (moto.pid,) if moto else ()
            yield server


def endpoint_cells(timings: list[Timing]) -> list[str]:
    values = [t.ms for t in timings]
    errors = sum(t.error is not None for t in timings)
    return [
        f"{len(timings):,}",
        f"{errors:,}",
        ms(percentile(values, 50)),
        ms(percentile(values, 99)),
        ms(max(values, default=math.nan)),
    ]


def report(runs: list[Run], clients: int, reviews: int) -> str:
    mix = " / ".join(f"{k} {v}%" for k, v in MIX.items())
    rows = [
        (name, [endpoint_cells([t for t in r.timings if t.endpoint == name]) for r in runs])
        for name in ENDPOINTS.values()
    ]
    rows.append(("all requests", [endpoint_cells(r.timings) for r in runs]))
    rows.append(("throughput (req/s)", [[f"{len(r.timings) / r.seconds:,.1f}"] for r in runs]))
    rows.append(("server processes", [[str(r.process.processes)] for r in runs]))
    rows.append(("server peak RSS (MiB)", [[f"{r.process.peak_rss_mib:,.0f}"] for r in runs]))
    rows.append(("server CPU (s)", [[f"{r.process.cpu_seconds:,.1f}"] for r in runs]))
    rows.append(
        ("fake S3 CPU (s)", [[f"{r.fake_s3.cpu_seconds:,.1f}" if r.fake_s3 else "-"] for r in runs])
    )
    for problem in runs[0].log_problems:
        rows.append((f"log: {problem}", [[str(r.log_problems[problem])] for r in runs]))
    lines = [
        f"{clients} clients on {reviews} reviews for {runs[0].seconds:.0f} s; mix: {mix}",
        "",
        side_by_side(
            [r.server for r in runs], ["count", "errors", "p50 ms", "p99 ms", "max ms"], rows
        ),
    ]
    errors = Counter((r.server, t.endpoint, t.error) for r in runs for t in r.timings if t.error)
    if errors:
        lines += ["", "errors:"]
        lines += [f"  {n:>6,}  {s}: {e} {err}" for (s, e, err), n in errors.most_common(12)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--reviews", type=int, default=10, help="reviews seeded per server")
    parser.add_argument(
        "--store", choices=("s3", "sqlite"), default="s3", help="Gunicorn's store (default s3)"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    servers: list[Callable[[Path], AbstractContextManager[Server]]] = [
        lambda tmp: waitress(tmp, TOKEN, "load-waitress.log"),
        lambda tmp: hosted(args.store, tmp),
    ]
    runs = []
    for start in servers:
        with (
            tempfile.TemporaryDirectory(prefix="aiprism-bench-") as tmp,
            start(Path(tmp)) as server,
        ):
            print(f"{server.name}: seeding {args.reviews} reviews, then {args.clients} clients "
                  f"for {args.seconds:.0f} s ...", flush=True)  # fmt: skip
            runs.append(load(server, args.clients, args.seconds, args.reviews))
    print()
    print(report(runs, args.clients, args.reviews))
    client_cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"\nload generator CPU: {client_cpu.ru_utime + client_cpu.ru_stime:.1f} s on "
        f"{os.cpu_count()} cores shared with the servers (and moto); logs in {OUT}/"
    )


if __name__ == "__main__":
    main()
