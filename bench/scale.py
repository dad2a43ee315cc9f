"""Scale benchmark: what the hosted store's pages and idle scans cost at 100 to 100,000 reviews.

Run with `make bench-scale` (or `python -m bench.scale [--sizes 100,1000]`). For each size it writes
that many reviews' stored state straight into a moto server (history rows and totals as the
service writes them, without analysing documents), then counts the requests and times:

- the first history page (50 rows) and the statistics, with the DynamoDB table and with a bucket
  alone (the layout before the table, whose pages read every summary.json; sizes up to
  --bucket-max only, since each of its pages makes one request per review);
- one idle background scan (the marks of unfinished work; before this version the scan read
  every summary, as the bucket-only history still does);
- an estimate of the monthly request cost of an idle service of two instances with four workers,
  each scanning once a minute, at us-east-1 list prices.

Requests are counted in botocore, so they are what real S3 and DynamoDB would be sent.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import boto3

from server import upkeep
from server.jobs import JobRunner
from server.service import ReviewService
from server.settings import Settings
from server.store.base import HistoryQuery
from server.store.dynamo_index import DynamoIndex
from server.store.s3 import S3Store
from tests.moto_server import fake_aws_env, moto_server

SIZES = (100, 1_000, 10_000, 100_000)
DAYS = 5 * 365
BUCKET_MAX = 1_000
TABLE = "aiprism-scale"
SCANS_PER_MONTH = 2 * 4 * 60 * 24 * 30  # two instances, four workers, one scan a minute each
# us-east-1 list prices per request (S3 Standard; DynamoDB on-demand, strongly consistent reads
# of items under 4 KB count one read unit, queries one unit per 4 KB read).
PRICES = {
    ("s3", "ListObjectsV2"): 0.005 / 1000,
    ("s3", "PutObject"): 0.005 / 1000,
    ("s3", "GetObject"): 0.0004 / 1000,
    ("s3", "HeadObject"): 0.0004 / 1000,
    ("dynamodb", "GetItem"): 0.125 / 1_000_000,
    ("dynamodb", "Query"): 0.125 / 1_000_000,
}


class Requests:
    """Counts the requests botocore sends through the clients it is attached to."""

    def __init__(self) -> None:
        self.sent: Counter[tuple[str, str]] = Counter()

    def attach(self, client: Any) -> Any:
        service = client.meta.service_model.service_name

        def count(model: Any, **_: Any) -> None:
            self.sent[(service, model.name)] += 1

        client.meta.events.register("before-call", count)
        return client

    @contextmanager
    def measure(self) -> Iterator[dict[str, Any]]:
        before = self.sent.copy()
        result: dict[str, Any] = {}
        started = time.perf_counter()
        yield result
        result["seconds"] = time.perf_counter() - started
        result["requests"] = self.sent - before


def summary(n: int) -> dict[str, Any]:
    """A finished review's summary as the service stores it, with tallies like a real one's: a
    team's reviews spread over five years."""
    day = (date(2022, 1, 1) + timedelta(days=n % DAYS)).isoformat()
    review_id = f"r{n:08d}"
    tallies = {"reviews": 1, f"day:{day}:reviews": 1, "findings": 12, f"day:{day}:findings": 12}
    tallies |= {"type:important": 5, "type:suggestion": 7, "risk:medium": 12}
    tallies |= {"decision:accept": 3, "decision:reject": 1, "decision:pending": 8}
    tallies |= {f"rule:rule_{n % 40}:total": 12, f"rule:rule_{n % 40}:accept": 3}
    tallies |= {f"rule:rule_{n % 40}:reject": 1, f"checkpoint:cp_{n % 20}": 12}
    # One rule every review's reviewers reject: the statistics then list it as noisy, with
    # examples read from the newest summaries, as a team's store would.
    tallies |= {"rule:noisy_rule:total": 1, "rule:noisy_rule:reject": 1}
    tallies |= {f"calibration:{50 + n % 50}:accept": 3, f"calibration:{50 + n % 50}:reject": 2}
    counts = {"total": 12, "by_type": {"important": 5, "suggestion": 7}}
    counts["by_decision"] = {"accept": 3, "reject": 2, "pending": 7}
    example = {"at": f"{day}T23:00:00Z", "action": "reject", "rule": "noisy_rule"}
    example |= {"type": "suggestion", "checkpoints": ["cp_1"], "title": "A noisy finding"}
    example |= {"quote": f"the words of review {n}", "text": ""}
    return {
        "id": review_id,
        "title": f"Investigation {n}",
        "filename": f"investigation-{n}.docx",
        "framework": "investigation",
        "status": "done",
        "created_at": f"{day}T{n % 24:02d}:{n % 60:02d}:{n % 59:02d}.{n % 1000:03d}Z",
        "version": 1,
        "counts": counts,
        "seq": 3,
        "tallies": tallies,
        "tallies_version": upkeep.stats.TALLIES_VERSION,
        "examples": [example],
    }


def fill_table(index: DynamoIndex, size: int) -> None:
    """`size` reviews' items as the index writes them (the row, its history buckets, the sets of
    hours and months, the totals), in batched writes instead of one transaction per review."""
    totals: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    buckets: dict[str, dict[str, Any]] = {}
    hours: dict[str, set[str]] = {}
    for n in range(size):
        row = summary(n)
        totals.update(row["tallies"])
        data = {"S": json.dumps(row)}
        rows.append({**index._row_key(row["id"]), "data": data, "ver": {"N": "1"}})
        created = row["created_at"]
        hours.setdefault(created[:7], set()).add(created[:13])
        for status in (None, "done"):
            bucket = buckets.setdefault(
                f"{status}|{created[:13]}", {**index._bucket_key(created[:13], status)}
            )
            bucket[f"r|{created}|{row['id']}"] = data
    items = [*rows, *buckets.values()]
    for status in (None, "done"):
        for month, in_month in hours.items():
            items.append({**index._hours_key(month, status), "hours": {"SS": sorted(in_month)}})
        items.append({**index._months_key(status), "months": {"SS": sorted(hours)}})
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        index._client.batch_write_item(RequestItems={TABLE: batch})
    index.replace_totals(dict(totals))


def fill_bucket(s3: Any, bucket: str, prefix: str, size: int) -> None:
    """`size` reviews as a bucket-only setup keeps them: a summary.json under each review."""
    for n in range(size):
        row = summary(n)
        key = f"{prefix}/reviews/{row['id']}/summary.json"
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(row).encode())
    s3.put_object(Bucket=bucket, Key=f"{prefix}/layout.json", Body=b'{"layout": 2}')


def cost(requests: Counter[tuple[str, str]]) -> float:
    return sum(PRICES.get(kind, 0.0) * n for kind, n in requests.items())


def shown(requests: Counter[tuple[str, str]]) -> str:
    return f"{sum(requests.values()):>6}"


def run(sizes: tuple[int, ...], bucket_max: int) -> None:
    with fake_aws_env(), moto_server() as endpoint:
        session = boto3.session.Session(region_name="us-east-1")
        counter = Requests()
        s3 = counter.attach(session.client("s3", endpoint_url=endpoint))
        dynamodb = counter.attach(session.client("dynamodb", endpoint_url=endpoint))
        print(
            f"{'reviews':>8} {'layout':<12}{'history page':>22}{'statistics':>22}"
            f"{'idle scan':>22}{'idle $/month':>14}"
        )
        for size in sizes:
            for layout in ("table", "bucket"):
                if layout == "bucket" and size > bucket_max:
                    continue
                bucket = f"aiprism-scale-{layout}-{size}"
                s3.create_bucket(Bucket=bucket)
                index = None
                if layout == "table":
                    index = DynamoIndex(TABLE, f"s3://{bucket}/t/", client=dynamodb)
                    index.ensure_table(create=True)
                    fill_table(index, size)
                else:
                    fill_bucket(s3, bucket, "t", size)
                store = S3Store(bucket, "t", client=s3, index=index)
                store.put_setting(upkeep.UPGRADED, upkeep.stats.TALLIES_VERSION)
                report(size, layout, store, counter)


def report(size: int, layout: str, store: S3Store, counter: Requests) -> None:
    jobs = JobRunner(workers=1, max_queued=1)
    service = ReviewService(store, Settings(data_dir=Path(tempfile.gettempdir())), jobs)

    def timed(work: Callable[[], Any]) -> dict[str, Any]:
        work()  # once to warm this process's clients and code
        with counter.measure() as result:
            work()
        return result

    page = timed(lambda: service.history(HistoryQuery(limit=50)))
    figures = timed(service.stats)

    def scan() -> None:  # after the first: the upgrade check is made once per process
        service.resume_interrupted()

    idle = timed(scan)
    monthly = cost(idle["requests"]) * SCANS_PER_MONTH
    cells = [
        f"{shown(r['requests'])} req {r['seconds'] * 1000:>8.0f} ms" for r in (page, figures, idle)
    ]
    print(f"{size:>8,} {layout:<12}{cells[0]:>22}{cells[1]:>22}{cells[2]:>22}{monthly:>13.2f}$")
    if layout == "bucket":
        before = page["requests"]  # the scan before this version read every summary like this
        print(
            f"{'':>8} {'(before)':<12}{'':>22}{'':>22}{shown(before) + ' req':>22}"
            f"{cost(before) * SCANS_PER_MONTH:>13.2f}$"
        )
    jobs.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--bucket-max", type=int, default=BUCKET_MAX)
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    print("hosted store against a moto server; requests counted in botocore\n")
    run(sizes, args.bucket_max)
    print(
        "\nidle $/month: two instances with four workers, each scanning once a minute, at "
        "us-east-1 list prices for the requests of one scan"
    )


if __name__ == "__main__":
    main()
