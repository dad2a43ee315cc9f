"""Safe pack patterns are remembered across runs; hostile ones are refused every time."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys

import pytest

from server.engines import patterns
from server.engines.safe_patterns import SafePatterns, fingerprint

HOSTILE = r"(a+)+$"
SAFE_ONE = r"\bowner\s*:\s*\w+"


def test_a_safe_pattern_is_remembered_and_a_hostile_one_is_not(tmp_path):
    known = SafePatterns(tmp_path / "safe.marshal")
    known.add(SAFE_ONE)
    known.save()
    again = SafePatterns(tmp_path / "safe.marshal")
    assert SAFE_ONE in again and HOSTILE not in again
    assert marshal.loads((tmp_path / "safe.marshal").read_bytes()) == [SAFE_ONE]


def test_a_hostile_pattern_is_refused_even_with_a_cache_in_place(monkeypatch, tmp_path):
    monkeypatch.setattr(patterns, "SAFE", SafePatterns(tmp_path / "safe.marshal"))
    patterns.compile_checked(SAFE_ONE)
    with pytest.raises(ValueError, match="can take hours"):
        patterns.compile_checked(HOSTILE)
    patterns.SAFE.save()
    assert marshal.loads((tmp_path / "safe.marshal").read_bytes()) == [SAFE_ONE]


def test_an_unwritable_cache_only_costs_time(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    known = SafePatterns(blocked / "safe.marshal")
    known.add(SAFE_ONE)
    known.save()  # logs, does not raise
    assert SAFE_ONE in known


def test_the_cache_name_changes_with_the_analysis():
    assert len(fingerprint()) == 16 and fingerprint() == fingerprint()


def test_a_review_writes_the_cache_and_the_next_one_gives_the_same_bytes(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    document = tmp_path / "notes.md"
    document.write_text("# Summary\n\nOwner: TBD. The refunds were paid twice.\n")
    command = [sys.executable, "-m", "server", "review", str(document), "--format", "json"]
    first = subprocess.run(command, capture_output=True, env=env, check=False)
    written = list((tmp_path / "cache" / "ai-prism").glob("safe-patterns-*.marshal"))
    assert len(written) == 1 and len(marshal.loads(written[0].read_bytes())) > 50
    second = subprocess.run(command, capture_output=True, env=env, check=False)
    assert first.returncode == second.returncode and first.stdout == second.stdout
