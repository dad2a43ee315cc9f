"""A review shared out over forked processes (server/engines/forked.py) finds what one process
finds, in the same order; a batch shared out gives each file's own review and error; a child
that dies has its share done again, and a child's error is raised as itself."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date

import pytest

from bench.core import SEED, build_docx
from server import cli
from server.documents import load_path
from server.documents.limits import DEFAULT_LIMITS
from server.engines import forked, offline
from server.errors import AIPrismError
from server.frameworks import resolve

AS_OF = date(2026, 6, 1)
FRAMEWORK = resolve("investigation")


@pytest.fixture(scope="module")
def long_docx(tmp_path_factory):
    path = tmp_path_factory.mktemp("long") / "long.docx"
    build_docx(random.Random(SEED), parts=8).save(path)
    return path


def _dicts(result) -> list[dict]:
    return [f.to_dict() for f in result.findings]


def test_a_long_document_shared_out_gives_the_same_findings(long_docx, monkeypatch):
    monkeypatch.setattr(offline, "WORDS_PER_SHARE", 5_000)  # three shares of this document
    document = load_path(long_docx, FRAMEWORK)
    assert len(offline._share_bounds(document, 3)) == 3  # it is long enough to be shared out
    alone = offline.review(document, FRAMEWORK, as_of=AS_OF)
    progress: list[tuple[int, int]] = []
    for processes in (2, 3):
        shared = offline.review(
            document,
            FRAMEWORK,
            as_of=AS_OF,
            processes=processes,
            on_progress=lambda done, total, _what: progress.append((done, total)),
        )
        assert _dicts(shared) == _dicts(alone)
    assert len(alone.findings) > 100
    assert progress[-1] == (len(document.sections) + 1,) * 2  # the parent ends at the total


def test_shares_are_about_equal_and_cover_every_section(long_docx, monkeypatch):
    monkeypatch.setattr(offline, "WORDS_PER_SHARE", 5_000)
    document = load_path(long_docx, FRAMEWORK)
    bounds = offline._share_bounds(document, 2)
    sizes = [sum(len(p.text) for p in s.paragraphs) for s in document.sections]
    first, rest = sum(sizes[: bounds[1]]), sum(sizes[bounds[1] :])
    whole = sum(sizes) * (1 + offline.DOCUMENT_CHECKS_WEIGHT)
    assert abs(first - (rest + sum(sizes) * offline.DOCUMENT_CHECKS_WEIGHT)) < whole * 0.2


def test_a_short_document_is_not_shared_out(tmp_path):
    """The bench's short write-up (3,500 words): forking would cost more than it saves."""
    build_docx(random.Random(SEED), parts=1).save(tmp_path / "short.docx")
    document = load_path(tmp_path / "short.docx", FRAMEWORK)
    assert offline._share_bounds(document, 8) == [0]


def test_a_batch_shared_out_gives_each_files_review_and_error(tmp_path, long_docx, monkeypatch):
    monkeypatch.setattr(offline, "WORDS_PER_SHARE", 5_000)  # not within a batch's share
    paths = []
    for n in range(5):
        path = tmp_path / f"doc-{n}.docx"
        build_docx(random.Random(n), parts=1).save(path)
        paths.append(path)
    (tmp_path / "broken.docx").write_bytes(b"not a zip")
    paths.insert(2, tmp_path / "broken.docx")
    paths.append(long_docx)
    alone = cli._offline_reviews(paths, FRAMEWORK, DEFAULT_LIMITS, AS_OF, processes=1)
    shared = cli._offline_reviews(paths, FRAMEWORK, DEFAULT_LIMITS, AS_OF, processes=3)
    assert len(cli._runs_of_equal_size(paths, 3)) == 3
    assert [type(o) for o in shared] == [type(o) for o in alone]
    for one, other in zip(alone, shared, strict=True):
        if isinstance(one, AIPrismError):
            assert other.message == one.message and "broken.docx" in one.message
        else:
            assert _dicts(other) == _dicts(one)
            assert other.document.to_dict() == one.document.to_dict()


def test_the_command_line_batch_matches_one_call_per_file(tmp_path):
    names = []
    for n in range(3):
        build_docx(random.Random(n), parts=1).save(tmp_path / f"doc-{n}.docx")
        names.append(f"doc-{n}.docx")
    (tmp_path / "broken.docx").write_bytes(b"not a zip")
    names.insert(1, "broken.docx")

    def review(*files: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "server", "review", *files, "--format", "json"]
        command += ["--fail-on", "never", "--as-of", AS_OF.isoformat()]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)

    batch = review(*names)
    assert batch.returncode == 2
    assert batch.stderr.count("aiprism:") == 1 and "broken.docx" in batch.stderr
    each = [json.loads(review(name).stdout)["files"] for name in names if name != "broken.docx"]
    assert json.loads(batch.stdout)["files"] == [files[0] for files in each]


def test_a_child_that_dies_has_its_share_done_here():
    parent = os.getpid()

    def dies_in_a_child() -> str:
        if os.getpid() != parent:
            os._exit(3)
        return "done here"

    assert forked.run_shares([lambda: "first", dies_in_a_child]) == ["first", "done here"]


def test_a_childs_error_is_raised_as_itself():
    def refuses() -> None:
        raise AIPrismError("section 4 of 9 took too long")

    with pytest.raises(AIPrismError, match="section 4 of 9 took too long"):
        forked.run_shares([lambda: "first", refuses])
