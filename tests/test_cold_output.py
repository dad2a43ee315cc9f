"""`aiprism review --format json` of the bench's short write-up gives the bytes it gave before the
cold-start work (compiled-pattern, regex and syllable caches, the .docx read without python-docx,
server/json_text.py), with the user cache folder empty and then filled by that first run.

The digest is of the output of the code before that work. A change that means to alter what a
review finds, or how the report is written, updates it on purpose.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys

from bench.core import SEED, build_docx

BEFORE = "78ac10c278f0c5f04877ac62ecb526cedba9f442b88a2e699ed9cf65770dbe5e"


def test_the_short_bench_document_gives_the_same_bytes_cold_and_warm(tmp_path):
    build_docx(random.Random(SEED), parts=1).save(tmp_path / "short.docx")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "server", "review", "short.docx", "--format", "json"]
    command += ["--fail-on", "never", "--as-of", "2026-06-01"]
    for run in ("empty cache", "filled cache"):
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, check=True)
        assert hashlib.sha256(done.stdout).hexdigest() == BEFORE, run
    assert list((tmp_path / "cache" / "ai-prism").glob("compiled-patterns-*.marshal"))


def test_a_review_does_not_read_the_version(tmp_path):
    """An installed wheel reads its version through importlib.metadata; a review has no use for
    it (`aiprism --version` does)."""
    build_docx(random.Random(SEED), parts=1).save(tmp_path / "short.docx")
    probe = (
        "import sys, runpy; sys.argv = ['aiprism', 'review', 'short.docx']\n"
        "try:\n    runpy.run_module('server', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('server.version' in sys.modules, 'importlib.metadata' in sys.modules, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stderr.split()[-2:] == ["False", "False"]
    version = subprocess.run(
        [sys.executable, "-m", "server", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("aiprism ")
