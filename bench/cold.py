"""Cold benchmark: AI-Prism as a user runs it, whole processes, beside proselint in the same run.

Run with `make bench` (after bench.core) or `python -m bench.cold`. Every figure is a whole
process (interpreter start, imports, reading, review, output), the median of several runs taken
in turn with its peer, so the ratio holds when the shared machine's speed drifts. A first run of
each command is not counted: it fills the user cache folder (syllable and hyphenation tables,
patterns judged safe and compiled) as a user's first run after installing does once. See
bench/README.md.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.core import OUT, SEED, build_docx
from server.documents import load_path
from server.engines import forked
from server.frameworks import resolve

RUNS = 9
PYTHON = sys.executable
PROSELINT = str(Path(PYTHON).parent / "proselint")


# An installed program runs from its compiled .pyc files (pip writes them at install; an editable
# install writes them on first run). A shell that sets PYTHONDONTWRITEBYTECODE would make every
# run compile AI-Prism's modules from source again, which no user's run does.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, check=False
    )
    return time.perf_counter() - started


def side_by_side(ours: list[str], peer: list[str], runs: int = RUNS) -> tuple[float, float]:
    """Medians of `ours` and `peer`, run in turn after one uncounted run of each."""
    run(ours), run(peer)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        times[0].append(run(ours))
        times[1].append(run(peer))
    return statistics.median(times[0]), statistics.median(times[1])


def plain_text(path: Path) -> tuple[Path, int]:
    """The document's paragraphs as the text proselint reads, and its word count."""
    document = load_path(path, resolve("investigation"))
    text_path = path.with_suffix(".txt")
    text_path.write_text("\n\n".join(p.text for p in document.paragraphs), encoding="utf-8")
    return text_path, document.word_count


def review(*paths: Path, fmt: str = "json") -> list[str]:
    files = [str(p) for p in paths]
    return [PYTHON, "-m", "server", "review", *files, "--format", fmt, "--fail-on", "never"]


def versus_proselint(documents: list[tuple[str, Path]]) -> None:
    print(f"{'document':<26}{'format':<8}{'aiprism s':>10}{'proselint s':>13}{'words/s ratio':>15}")
    for name, path in documents:
        text, words = plain_text(path)
        for fmt in ("json", "text"):
            ours, theirs = side_by_side(review(path, fmt=fmt), [PROSELINT, "check", str(text)])
            label = f"{name} ({words:,} w)"
            print(f"{label:<26}{fmt:<8}{ours:>10.3f}{theirs:>13.3f}{theirs / ours:>14.2f}x")
    print("ratio: aiprism's words/s over proselint's (the goal is 3x or more)")


# The least any reader of a .docx does: start Python, unzip the main part, parse it with lxml.
FLOOR = (
    "import sys, zipfile, lxml.etree; "
    "lxml.etree.fromstring(zipfile.ZipFile(sys.argv[1]).read('word/document.xml'))"
)


def versus_floor(path: Path) -> None:
    ours, floor = side_by_side(review(path), [PYTHON, "-c", FLOOR, str(path)])
    print(
        f"\nshort document against the floor (python, unzip, lxml parse of word/document.xml): "
        f"{ours:.3f} s against {floor:.3f} s ({ours / floor:.1f}x; the alternative goal is 1.25x)"
    )


def import_times(top: int = 8) -> None:
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "server", "review", "--help"],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    print(f"\nimports of `aiprism review` (python -X importtime), top {top} by cumulative µs:")
    for micros, name in sorted(rows, reverse=True)[:top]:
        print(f"{micros:>10,}  {name}")


def first_and_second_review(paths: list[Path], servers: int = 5, pause: float = 3.0) -> None:
    """`servers` fresh `aiprism serve`s in turn, each given `pause` seconds (a person choosing a
    file), then the reviews in turn; the median of each review's times across the servers."""
    from tests.server_process import running_server  # a bench may use the tests' server helper

    times: list[list[float]] = [[] for _ in paths]
    for _ in range(servers):
        with tempfile.TemporaryDirectory() as folder, running_server(Path(folder)) as server:
            time.sleep(pause)
            for n, path in enumerate(paths):
                started = time.perf_counter()
                created = server.upload(path.read_bytes(), f"doc-{n}.docx").json()
                server.wait_done(created["id"], timeout=300)
                times[n].append(time.perf_counter() - started)
    medians = [statistics.median(t) for t in times]
    shown = ", ".join(f"{s:.2f} s" for s in medians)
    print(
        f"\nreviews on a fresh `aiprism serve` ({pause:g} s after start, different documents; "
        f"medians over {servers} servers):"
    )
    print(f"  {shown}; first / second = {medians[0] / medians[1]:.2f}")


def growth(base: Path, ten_times: Path, small: Path, batch: int = 50) -> None:
    """A 10x document against the bench one, and a batch of small ones in one call against the
    same documents one call each."""
    t_base = run(review(base))
    t_big = run(review(ten_times))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child
    copies = []
    with tempfile.TemporaryDirectory() as folder:
        for n in range(batch):
            copy = Path(folder) / f"copy-{n}.docx"
            copy.write_bytes(small.read_bytes())
            copies.append(copy)
        t_batch = run(review(*copies))
        t_each = sum(run(review(copy)) for copy in copies)
    print(f"\n10x document: {t_big:.2f} s against {t_base:.2f} s ({t_big / t_base:.1f}x)")
    print(f"  peak RSS of the largest child process: {peak:.0f} MiB")
    print(
        f"{batch} documents: {t_batch:.2f} s in one call, {t_each:.2f} s in {batch} calls "
        f"({t_each / t_batch:.1f}x)"
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    big = OUT / "investigation-100p.docx"
    if not big.exists():
        build_docx(random.Random(SEED)).save(big)
    short = OUT / "investigation-short.docx"
    build_docx(random.Random(SEED), parts=1).save(short)
    huge = OUT / "investigation-10x.docx"
    if not huge.exists():
        build_docx(random.Random(SEED), parts=150).save(huge)
    others = []
    for seed in (1, 2):
        other = OUT / f"investigation-100p-{seed}.docx"
        if not other.exists():
            build_docx(random.Random(seed)).save(other)
        others.append(other)

    cores = forked.available_cores()
    print(f"whole processes, median of {RUNS} runs each, taken in turn, on {cores} cores")
    print("(a long document's sections, and a batch's files, are shared out over the cores)\n")
    versus_proselint([("bench document", big), ("short document", short)])
    versus_floor(short)
    import_times()
    first_and_second_review([big, *others])
    growth(big, huge, short)


if __name__ == "__main__":
    main()
