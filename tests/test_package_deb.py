"""The Debian package as a Linux user gets it: built from the frozen app (the build test_frozen.py
made, reused when nothing changed), installed with dpkg on this machine, opened from its desktop
entry with a document, self-tested in its window, then removed (build_spec/smoke_package.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from build_spec import app_info
from build_spec.package_deb import runtime_libraries

pytestmark = pytest.mark.frozen

ROOT = Path(__file__).resolve().parent.parent
PLACES = (
    "./opt/ai-prism/",
    "./usr/bin/ai-prism",
    f"./usr/share/applications/{app_info.APP_ID}.desktop",
    "./usr/share/icons/hicolor/",
    f"./usr/share/metainfo/{app_info.APP_ID}.metainfo.xml",
)


def run_json(*command: str, timeout: float) -> dict:
    result = subprocess.run(
        [sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    if os.geteuid() != 0:
        pytest.skip("dpkg -i needs root (CI runs as root)")
    run_json("build_spec/build.py", timeout=1500)
    out = tmp_path_factory.mktemp("deb")
    report = run_json("build_spec/package_deb.py", "--fast", "--out", str(out), timeout=900)
    print(f"\npackage: {report}")
    return Path(report["package"])


def dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True).stdout


def test_the_package_holds_the_app_entry_icons_and_metadata_and_nothing_else(deb):
    assert deb.name == f"ai-prism_{app_info.version()}_amd64.deb"
    assert dpkg_deb("--field", str(deb), "Package").strip() == "ai-prism"
    assert dpkg_deb("--field", str(deb), "Version").strip() == app_info.version()
    depends = dpkg_deb("--field", str(deb), "Depends")
    for library in runtime_libraries():
        assert library in depends
    paths = [line.split()[5] for line in dpkg_deb("--contents", str(deb)).splitlines()]
    files = [path for path in paths if not path.endswith("/")]
    stray = [path for path in files if not path.startswith(PLACES)]
    assert not stray, stray
    assert "./usr/share/icons/hicolor/256x256/apps/org.aiprism.AIPrism.png" in files
    assert "./usr/share/icons/hicolor/scalable/apps/org.aiprism.AIPrism.svg" in files
    assert "./opt/ai-prism/ai-prism" in files


def test_the_package_installs_opens_a_document_from_its_entry_and_uninstalls_cleanly(deb):
    report = run_json("build_spec/smoke_package.py", "--deb", str(deb), timeout=900)
    print(f"\nsmoke-package: {report}")
    assert report["smoke_package"] == "passed"
    assert report["version"] == f"aiprism-desktop {app_info.version()}"
    assert report["launched"][0] == "/usr/bin/ai-prism"  # found on PATH, as the launcher does
    assert report["launched"][-1] == "--self-test"
    assert set(report["mime_types_offered"]) == {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/pdf",
        "text/markdown",
        "text/plain",
    }
    opened = report["opened_document"]
    assert opened["name"] == "Payment reversal – incident review.docx"
    assert opened["findings"] > 5 and opened["path"].startswith("/reviews/")
    assert report["self_test"] == "passed"
    assert {"settings.json", "reviews.sqlite3"} <= set(report["user_data_kept"])
