"""Statistics and learning over many reviews: what the statistics page costs at 10 to 1,000 reviews.

Run by `make bench` (or `python -m bench.learning`). For each size a fresh data folder gets that
many decided reviews of the sample write-up, each stored as the service stores it (summary, tallies,
examples; one `put_summary` per review, so the running totals are built as a service builds them).
A seeded random draw decides about half of each review's findings, one rule mostly rejected so that
the noisy-rules list and its examples (which read up to ten summaries) are part of every request.
Then a real `aiprism serve` on that folder answers, as whole requests: `GET /api/v1/stats` (the
first after start, then the median of 9) and the statistics page, and an analysis's learning step
(the rule counts read from the totals). Flat figures from 10 to 1,000 reviews are the goal.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import requests

from bench.servers import waitress
from server import learning, stats
from server.documents import load_document
from server.engines import offline
from server.frameworks import resolve
from server.model import Document
from server.paths import reviews_db
from server.review import ReviewState
from server.samples import messy_investigation_docx
from server.store.sqlite import SQLiteStore

SIZES = (10, 100, 1_000)
TOKEN = "bench-learning-token-0123456789abcdef"
NOISY = "date_format_mixed"  # reviewers reject this rule's findings nine times in ten
REPEAT = 9


def analysed() -> tuple[Document, list]:
    fw = resolve("investigation", None)
    document = load_document(messy_investigation_docx(), "sample.docx", fw)
    return document, list(offline.review(document, fw, as_of=date(2026, 12, 1)).findings)


def fill(folder: Path, size: int, document: Document, findings: list) -> None:
    draw = random.Random(size)  # nosec B311 - a benchmark's fixed draw
    store = SQLiteStore(reviews_db(folder))
    try:
        for n in range(size):
            created = (date(2026, 12, 1) - timedelta(days=n % 400)).isoformat()
            state = ReviewState(
                id=f"r{n:06d}",
                filename=f"investigation-{n}.docx",
                framework="investigation",
                status="done",
                created_at=f"{created}T10:{n % 60:02d}:00+00:00",
                document=document,
                findings=findings,
                last_seq=3,
            )
            for f in findings:
                if draw.random() < 0.5:
                    accept = draw.random() < (0.1 if f.rule == NOISY else 0.7)
                    at = f"{created}T11:{n % 60:02d}:00+00:00"
                    state.decisions[f.id] = {"action": "accept" if accept else "reject", "at": at}
            store.put_summary(state.id, stats.summary_of(state))
    finally:
        store.close()


def median_ms(session: requests.Session, url: str) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        session.get(url, timeout=60).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(size: int, document: Document, findings: list) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="aiprism-bench-learning-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        fill(folder, size, document, findings)
        filled = time.perf_counter() - started
        with waitress(folder, TOKEN, f"learning-{size}.log") as server:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {TOKEN}"
            started = time.perf_counter()
            first = session.get(server.url("/api/v1/stats"), timeout=60)
            first.raise_for_status()
            first_ms = (time.perf_counter() - started) * 1000
            figures = first.json()
            assert figures["reviews"] == size and figures["noisy_rules"], "the store is not filled"
            api_ms = median_ms(session, server.url("/api/v1/stats"))
            page_ms = median_ms(session, server.url("/stats"))
        store = SQLiteStore(reviews_db(folder))
        try:
            times = []
            for _ in range(REPEAT):
                started = time.perf_counter()
                learning.rule_counts(store.totals())
                times.append((time.perf_counter() - started) * 1000)
        finally:
            store.close()
    return {
        "fill_s": filled,
        "first_ms": first_ms,
        "api_ms": api_ms,
        "page_ms": page_ms,
        "counts_ms": statistics.median(times),
        "decided": figures["calibration"]["decided"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    document, findings = analysed()
    print(f"Statistics and learning: {len(findings)} findings per review, about half decided")
    print(
        f"{'reviews':>8}{'decided':>10}{'stats API first':>17}{'stats API':>11}"
        f"{'stats page':>12}{'rule counts':>13}{'(filling)':>11}"
    )
    for size in sizes:
        m = measure(size, document, findings)
        print(
            f"{size:>8,}{m['decided']:>10,}{m['first_ms']:>14.1f} ms{m['api_ms']:>8.1f} ms"
            f"{m['page_ms']:>9.1f} ms{m['counts_ms']:>10.2f} ms{m['fill_s']:>9.1f} s"
        )
    print("Whole requests to a real `aiprism serve` on SQLite; medians of 9 after the first.")


if __name__ == "__main__":
    main()
