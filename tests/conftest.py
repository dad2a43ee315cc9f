"""Shared test setup: keep every test out of the real home folder (Qt, Chromium, platformdirs)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def _syllable_tables(tmp_path_factory) -> list[Path]:
    """The readability check's syllable table and parsed hyphenation patterns
    (server/engines/syllables.py, hyphenation.py), built once a run.

    Every process that scores readability with an empty cache folder parses the CMU dictionary
    to build them (a second or more of CPU): each server, CLI and desktop app a test starts did,
    since each test gets a new cache folder. They are the dictionaries' own data, the same in
    every folder; test_syllables.py and test_hyphenation.py test building them, with folders of
    their own."""
    from server.engines import hyphenation, syllables

    folder = tmp_path_factory.mktemp("syllables")
    syllables.pronunciations(folder)
    hyphenation.english(cache_dir=folder)
    tables = sorted(folder.glob("*.marshal"))
    assert {t.name.split("-")[0] for t in tables} == {"cmudict", "hyphenation"}, tables
    return tables


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch, _syllable_tables):
    home = tmp_path_factory.mktemp("home")
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    cache = home / "xdg_cache_home" / "ai-prism"  # platformdirs' user cache folder for the app
    cache.mkdir(parents=True)
    for table in _syllable_tables:
        try:  # the app replaces a file atomically, never writes into it: a link is safe
            os.link(table, cache / table.name)
        except OSError:
            shutil.copyfile(table, cache / table.name)


@pytest.fixture(scope="session")
def local_model(tmp_path_factory):
    """A real language model (llama.cpp's server with SmolLM2-135M), started once per session."""
    from tests.local_model import running_local_model

    with running_local_model(n_ctx=8192, folder=tmp_path_factory.mktemp("local-model")) as model:
        yield model


@pytest.fixture(scope="session")
def office(tmp_path_factory):
    """LibreOffice's .docx-to-PDF conversion, cached by the .docx's hash for the whole run."""
    from tests.office_pdf import OfficeConverter

    return OfficeConverter(tmp_path_factory.mktemp("office-pdf"))


# -- parallel runs ------------------------------------------------------------------------------
# `make test` runs the suite on two processes: `pytest -n 2 --dist loadfile` (pytest-xdist). Most
# tests wait on a server, a browser or a subprocess rather than on the CPU. With loadfile, all the
# tests of a module run in one process, in their order, so a module's fixtures (its servers, its
# browser) start once and nothing a module shares between its tests is touched by another process.
# On top of xdist's loadfile, the scheduler below
# - keeps on one process the modules that write the same files: test_frozen.py and
#   test_package_deb.py both build the app into build/ and dist/ of this checkout;
# - keeps the local-model modules on one process, one after the other: they share its one model
#   server (the `local_model` fixture; the server's prompt cache carries over), and two model
#   servers at once on two cores starve each other (a first request of 3,000 tokens took 316 s,
#   against 60 s with the suite on one process);
# - hands out the longest modules first: xdist would otherwise start with the modules that have
#   the most tests and leave a five-minute module (one test) for last, with the other process idle.
# Everything else a test touches is its own: servers on port 0 (or a port probed just before),
# Xvfb with -displayfd, tmp_path (a folder per process), the XDG folders (_isolated_home above).
# Test by test (`-n 2` alone: xdist's `load`) is not safe here, for the shared folders above and
# test_workflows.py's tests, which each install actionlint into build/ when it is missing, so
# `load` gets this scheduler too.

SAME_PROCESS = {
    "tests/test_package_deb.py": "tests/test_frozen.py",
    "tests/test_browser_local_model.py": "tests/test_local_model_review.py",
    "tests/test_local_model.py": "tests/test_local_model_review.py",
}
# The modules that take minutes (a real model's answers, the frozen build), then those that take
# most of a minute or more; the rest follow in xdist's order (most tests first).
LONGEST_FIRST = (
    "tests/test_local_model_review.py",
    "tests/test_frozen.py",
    "tests/test_cloud.py",
    "tests/test_store_s3.py",
    "tests/test_crash_safety.py",
    "tests/test_desktop.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") not in ("load", "loadfile"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return SAME_PROCESS.get(module, module)

        def _assign_work_unit(self, node) -> None:
            first = [scope for scope in LONGEST_FIRST if scope in self.workqueue]
            for scope in reversed(first):
                self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return ModuleScheduling(config, log)
