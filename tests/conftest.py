"""Shared test setup: keep every test out of the real home folder (Qt, Chromium, platformdirs)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))


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
