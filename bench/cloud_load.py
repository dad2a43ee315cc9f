"""Hosted: slow AI calls must never starve health checks.

Run with `make bench-cloud` (or `python -m bench.cloud_load`). Twenty reviews are uploaded at once
to Gunicorn on S3 (a moto server) with the AI engine on a fake Bedrock that takes AI_SECONDS per
call, while /health is asked ten times a second on fresh connections, as a load balancer does.
The same runs against the old deployment's shape (bench/old_style_app.py: 4 sync workers, the
analysis inside the upload request). See bench/README.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from math import nan

import requests

from bench.fake_s3 import aws_env, fake_s3
from bench.figures import Timing, ms, percentile, side_by_side, timed
from bench.servers import OUT, ProcessFigures, Server, gunicorn
from server.samples import messy_investigation_docx
from tests.fake_bedrock import Call, FakeBedrock, Reply, good  # a bench may use the tests' fakes

TOKEN = "bench-cloud-token-0123456789abcdef"
BUCKET = "aiprism-bench-cloud"
MODEL = "bench.slow-model"
AI_SECONDS = 5.0  # each Bedrock call answers after this long
HEALTH_HZ = 10
HEALTH_TIMEOUT = 2.0  # App Runner's default health-check timeout: slower counts as a failure
UPLOAD_TIMEOUT = 300
POLL_SECONDS = 0.5
OURS = ["--config", "cloud/gunicorn.conf.py", "cloud.wsgi:app"]
# The old deployment: 4 sync workers; a request may take as long as App Runner allows (120 s).
OLD = ["-w", "4", "-k", "sync", "--timeout", "120", "--bind", "0.0.0.0:{port}"]
OLD += ["--access-logfile", "-", "--no-control-socket", "bench.old_style_app:app"]


@dataclass(frozen=True)
class ReviewOutcome:
    upload: Timing
    uploaded: float  # when the upload answered, in seconds from the start of all uploads
    seconds_to_done: float | None  # from the same start; None: never done
    problem: str | None  # None: done, with the model's findings merged
    polls_failed: int = 0


@dataclass(frozen=True)
class Run:
    server: str
    health: list[tuple[float, Timing]]  # when each probe was sent (from the start of uploads)
    reviews: list[ReviewOutcome]
    process: ProcessFigures
    log_problems: dict[str, int]


def slow_answer(call: Call) -> Reply:
    time.sleep(AI_SECONDS)
    return good(call)


class HealthProbe:
    """GET /health HEALTH_HZ times a second, each on a new connection, whether or not the previous
    ones have answered: a stuck server shows up as timeouts, not as fewer probes. The prober is a
    process of its own, as a load balancer is: in the bench's process its timings would include
    waiting for the interpreter that the twenty upload clients share."""

    def __init__(self, url: str):
        self.url = url
        self.probes: list[tuple[float, Timing]] = []  # (time.monotonic() when sent, timing)
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._results = context.Queue()
        self._process = context.Process(
            target=_probe_loop, args=(url, self._stop, self._results), daemon=True
        )

    def __enter__(self) -> HealthProbe:
        self._process.start()
        self._results.get(timeout=60)  # the prober is up and ticking
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.probes = self._results.get(timeout=60)
        self._process.join(timeout=30)


def _probe_loop(url: str, stop, results) -> None:
    """In the prober's process: probe until told to stop, then send back every (sent, timing);
    time.monotonic() is the same clock in every process of the machine."""
    probes: list[tuple[float, Timing]] = []

    def probe() -> None:
        sent = time.monotonic()
        with requests.Session() as fresh:
            timing, _ = timed("/health", fresh, "GET", url, timeout=HEALTH_TIMEOUT)
        probes.append((sent, timing))

    with ThreadPoolExecutor(max_workers=int(HEALTH_HZ * HEALTH_TIMEOUT) + 8) as pool:
        results.put("ready")
        next_at = time.monotonic()
        while not stop.is_set():
            pool.submit(probe)
            next_at += 1 / HEALTH_HZ
            stop.wait(max(0.0, next_at - time.monotonic()))
    results.put(probes)


def review_one(server: Server, n: int, started: float) -> ReviewOutcome:
    """Upload, then poll until done (the old shape answers the upload only then)."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {TOKEN}"
    upload, response = timed(
        "upload",
        api,
        "POST",
        server.url("/api/v1/reviews"),
        files={"file": (f"investigation-{n}.docx", messy_investigation_docx())},
        timeout=UPLOAD_TIMEOUT,
    )
    uploaded = time.monotonic() - started
    if upload.error:
        return ReviewOutcome(upload, uploaded, None, f"upload: {upload.error}")
    review_url = server.url(f"/api/v1/reviews/{response.json()['id']}")
    deadline, polls_failed = time.monotonic() + UPLOAD_TIMEOUT, 0
    while time.monotonic() < deadline:
        poll, answer = timed("poll", api, "GET", f"{review_url}/progress", timeout=UPLOAD_TIMEOUT)
        polls_failed += poll.error is not None
        if answer is not None and answer.ok and answer.json()["status"] in ("done", "failed"):
            break
        time.sleep(POLL_SECONDS)
    else:
        return ReviewOutcome(upload, uploaded, None, "not done in time", polls_failed)
    done = time.monotonic() - started
    review = api.get(review_url, timeout=30).json()
    if review["status"] != "done":
        return ReviewOutcome(upload, uploaded, done, f"failed: {review['error']}", polls_failed)
    if MODEL not in review["engines"]:
        notices = " ".join(review["notices"])
        return ReviewOutcome(upload, uploaded, done, f"no AI findings: {notices}", polls_failed)
    return ReviewOutcome(upload, uploaded, done, None, polls_failed)


def measure(server: Server, reviews: int) -> Run:
    with HealthProbe(server.url("/health")) as probe:
        time.sleep(1)  # a second of an idle server first
        started = time.monotonic()
        with ThreadPoolExecutor(reviews) as pool:
            outcomes = list(pool.map(lambda n: review_one(server, n, started), range(reviews)))
    health = [(sent - started, timing) for sent, timing in probe.probes]
    return Run(server.name, health, outcomes, server.figures(), server.log_problems())


@contextmanager
def bedrock_and_s3() -> Iterator[dict[str, str]]:
    """The fakes, and the environment App Runner would pass pointed at them."""
    with FakeBedrock(default=slow_answer) as bedrock, fake_s3(BUCKET) as moto:
        yield {
            **aws_env(),
            "AWS_ENDPOINT_URL_S3": moto.url,
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.url,
            "AIPRISM_S3_BUCKET": BUCKET,
            "AIPRISM_ACCESS_TOKEN": TOKEN,
            "AIPRISM_BEDROCK_MODELS": MODEL,
            "AIPRISM_AI_READ_TIMEOUT": str(AI_SECONDS * 6),
        }


def spread(values: list[float]) -> list[str]:
    """p50, p99 and max, or dashes for none."""
    return [ms(percentile(values, 50)), ms(percentile(values, 99)), ms(max(values, default=nan))]


def cells(run: Run) -> dict[str, list[str]]:
    health = [t.ms for _, t in run.health]
    uploading = max(r.uploaded for r in run.reviews)  # the last upload's answer
    done = [r.seconds_to_done for r in run.reviews if r.seconds_to_done is not None]
    return {
        "/health probes": [f"{len(health):,}"],
        "/health errors": [str(sum(t.error is not None for _, t in run.health))],
        "/health p50 / p99 / max ms": spread(health),
        "  while uploads are answered": spread([t.ms for at, t in run.health if at < uploading]),
        "  after, analyses only": spread([t.ms for at, t in run.health if at >= uploading]),
        "upload p50 / p99 / max ms": spread([r.upload.ms for r in run.reviews]),
        "uploads answered per second": [f"{len(run.reviews) / uploading:.1f}"],
        "reviews done with AI": [
            f"{sum(r.problem is None for r in run.reviews)}/{len(run.reviews)}"
        ],
        "review errors": [str(sum(r.problem is not None for r in run.reviews))],
        "progress polls failed": [str(sum(r.polls_failed for r in run.reviews))],
        "all reviews done after (s)": [
            f"{max(done):.1f}" if len(done) == len(run.reviews) else "-"
        ],
        "server processes": [str(run.process.processes)],
        "server peak RSS (MiB)": [f"{run.process.peak_rss_mib:,.0f}"],
        "server CPU (s)": [f"{run.process.cpu_seconds:,.1f}"],
        **{f"log: {k}": [str(v)] for k, v in run.log_problems.items()},
    }


def report(runs: list[Run], reviews: int) -> str:
    tables = [cells(r) for r in runs]
    rows = [(label, [t[label] for t in tables]) for label in tables[0]]
    failed = Counter((r.server, t.error) for r in runs for _, t in r.health if t.error)
    problems = Counter((r.server, o.problem) for r in runs for o in r.reviews if o.problem)
    lines = [
        f"{reviews} reviews at once; one Bedrock call per section, {AI_SECONDS:.0f} s "
        f"each; /health {HEALTH_HZ}/s, {HEALTH_TIMEOUT:.0f} s timeout",
        "",
        side_by_side([r.server for r in runs], ["", "", ""], rows, label=30, width=10),
    ]
    if failed:
        lines += ["", "/health errors:"]
        lines += [f"  {n:>5,}  {server}: {error}" for (server, error), n in failed.items()]
    if problems:
        lines += ["", "review errors:"]
        lines += [f"  {n:>3}  {server}: {problem}" for (server, problem), n in problems.items()]
    ours = runs[0]
    health_p99 = percentile([t.ms for _, t in ours.health], 99)
    errors = sum(t.error is not None for _, t in ours.health) + sum(
        (r.problem is not None) + r.polls_failed for r in ours.reviews
    )
    lines += [
        "",
        f"{'PASS' if health_p99 < 100 else 'FAIL'}  ours: /health p99 < 100 ms (is {health_p99:.1f})",
        f"{'PASS' if errors == 0 else 'FAIL'}  ours: zero errors (is {errors})",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=20)
    parser.add_argument("--only-ours", action="store_true", help="leave out the old shape")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    configurations = [
        ("ours: gthread, jobs", OURS, "ours"),
        ("old: 4 sync, in request", OLD, "old"),
    ][: 1 if args.only_ours else 2]
    runs = []
    with bedrock_and_s3() as env, tempfile.TemporaryDirectory(prefix="aiprism-bench-") as tmp:
        for name, arguments, prefix in configurations:
            hosted_env = {**env, "AIPRISM_S3_PREFIX": prefix, "AIPRISM_DATA_DIR": tmp}
            log = f"cloud-{prefix}.log"
            with gunicorn(name, arguments, hosted_env, log) as server:
                print(f"{name}: {args.reviews} reviews at once ...", flush=True)
                runs.append(measure(server, args.reviews))
    print()
    print(report(runs, args.reviews))
    print(f"\nlogs in {OUT}/; the bench, both fakes and the server share this machine's cores")


if __name__ == "__main__":
    main()
