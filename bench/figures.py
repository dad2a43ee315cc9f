"""Request timings and the side-by-side tables the server benchmarks print."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class Timing:
    endpoint: str
    ms: float
    error: str | None  # None: a 2xx answer; else "HTTP 503", "ReadTimeout", …


def timed(
    endpoint: str, session: requests.Session, method: str, url: str, **options
) -> tuple[Timing, requests.Response | None]:
    """One request, read to the end, as a Timing; an exception is an error, not a crash."""
    start = time.perf_counter()
    try:
        response = session.request(method, url, **options)
        response.content  # noqa: B018 - the body is part of the time
    except requests.RequestException as exc:
        return Timing(endpoint, (time.perf_counter() - start) * 1000, type(exc).__name__), None
    ms = (time.perf_counter() - start) * 1000
    error = None if response.ok else f"HTTP {response.status_code}"
    return Timing(endpoint, ms, error), response


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: a value that was measured, never an interpolation."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def side_by_side(
    names: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[tuple[str, Sequence[Sequence[str]]]],
    label: int = 28,
    width: int = 9,
) -> str:
    """A table with one group of `columns` per name; each row gives its cells per group."""
    group = width * len(columns) + 3
    lines = [" " * label + "".join(f"{n:<{group}}" for n in names)]
    if any(columns):
        lines.append(f"{'':<{label}}" + "".join(
            "".join(f"{c:>{width}}" for c in columns) + "   " for _ in names
        ))  # fmt: skip
    for title, groups in rows:
        cells = "".join(
            "".join(f"{c:>{width}}" for c in cells).ljust(group - 3) + "   " for cells in groups
        )
        lines.append(f"{title:<{label}}{cells}".rstrip())
    return "\n".join(line.rstrip() for line in lines)
