"""An API key goes in through every door and comes out through none.

A known key is typed into the Settings page of a real `aiprism serve`, used to test the connection,
to review a document and to chat, against a fake Claude API that is as careless as a bad proxy: its
error messages echo the key back. Then every output is searched for it: every page and API answer,
the exports, the audit trail, settings.json, the store's files, the server's log, and the CLI's
stdout and stderr. The key may live in one place only: the system keychain, or where there is none
(as on this machine), the user-only key file.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from server.samples import messy_investigation_docx
from tests import fake_anthropic
from tests.fake_anthropic import FakeAnthropic
from tests.server_process import running_server

pytestmark = pytest.mark.cloud

KEY = "sk-ant-api03-LEAKCHECK-7d1f0c2b9e4a4f1e8c3d"
MODEL = "claude-leak-test"


def echo_key(status: int, kind: str):
    """An error answer that repeats the key, as a careless proxy or gateway might."""
    return fake_anthropic.error(status, kind, f"request with key {KEY} was refused")


@pytest.fixture
def fake():
    with FakeAnthropic() as server:
        yield server


def env_for(fake, tmp_path) -> dict[str, str]:
    env = {
        "ANTHROPIC_BASE_URL": fake.url,
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # no keychain here: the file
    }
    return env


def test_a_key_typed_into_settings_never_leaves_the_keychain_or_key_file(fake, tmp_path):
    data = tmp_path / "data"
    outputs: list[tuple[str, str]] = []

    def keep(what: str, response) -> None:
        outputs.append((what, response.text))

    with running_server(data, extra_env=env_for(fake, tmp_path)) as server:
        api = server.api
        keep("settings page", api.get(server.url("/settings")))
        saved = api.post(
            server.url("/api/v1/settings"),
            json={"ai_provider": "anthropic", "ai_model": MODEL, "api_key": KEY},
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["api_keys"]["anthropic"] == {"saved": True, "where": "file"}
        keep("settings saved", saved)
        keep("settings read", api.get(server.url("/api/v1/settings")))
        keep("settings page after", api.get(server.url("/settings")))

        tested = api.post(server.url("/api/v1/settings/ai/test"), json={"ai_provider": "anthropic"})
        assert tested.json()["ok"] is True, tested.text
        keep("test connection", tested)
        fake.script(MODEL, echo_key(401, "authentication_error"))
        refused = api.post(
            server.url("/api/v1/settings/ai/test"), json={"ai_provider": "anthropic"}
        )
        assert refused.json()["ok"] is False and "[redacted]" in refused.text
        keep("test connection refused", refused)
        fake.script(MODEL, echo_key(400, "invalid_request_error"))
        keep("models", api.post(server.url("/api/v1/settings/ai/models"), json={}))

        # the first section's request is refused with the key in the message; the others answer
        fake.script(MODEL, echo_key(400, "invalid_request_error"))
        created = server.upload(messy_investigation_docx(), "incident.docx")
        review = server.wait_done(created.json()["id"])
        assert review["status"] == "done"
        assert review["ai_usage"]["calls"] >= 2 and review["ai_usage"]["provider"] == "anthropic"
        assert any("[redacted]" in n for n in review["notices"]), review["notices"]
        review_id = review["id"]
        keep("review", api.get(server.url(f"/api/v1/reviews/{review_id}")))
        fake.script(MODEL, echo_key(400, "invalid_request_error"))
        keep(
            "chat refused",
            api.post(server.url(f"/api/v1/reviews/{review_id}/chat"), json={"message": "Why?"}),
        )
        keep(
            "chat",
            api.post(server.url(f"/api/v1/reviews/{review_id}/chat"), json={"message": "When?"}),
        )
        for fmt in ("docx", "html", "csv", "json"):
            export = api.get(server.url(f"/api/v1/reviews/{review_id}/export/{fmt}"))
            assert export.status_code == 200
            outputs.append((f"export {fmt}", export.content.decode("latin-1")))
        for path in ("/", "/history", f"/reviews/{review_id}", "/stats", "/api/v1/stats"):
            keep(path, api.get(server.url(path)))
        keep("events", api.get(server.url(f"/api/v1/reviews/{review_id}/events")))
        assert all(call.api_key == KEY for call in fake.calls)  # the key did reach the service
    log = server.process.stderr.read()
    outputs.append(("server log", log))

    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    key_files = [p for p in files if p.name == "api-keys.json"]
    assert key_files == [data / "api-keys.json"]
    assert stat.S_IMODE(os.stat(key_files[0]).st_mode) == 0o600
    for path in files:
        if path not in key_files:
            outputs.append((str(path.relative_to(tmp_path)), path.read_bytes().decode("latin-1")))
    assert any(name == "data/settings.json" for name, _ in outputs)
    assert any(name.startswith("data/reviews.sqlite3") for name, _ in outputs)

    leaked = [name for name, text in outputs if KEY in text or KEY[-12:] in text]
    assert leaked == []


def test_a_key_from_the_environment_stays_out_of_the_cli_output(fake, tmp_path):
    fake.script(MODEL, echo_key(400, "invalid_request_error"), then="good")
    document = tmp_path / "incident.docx"
    document.write_bytes(messy_investigation_docx())
    env = {
        **os.environ,
        **env_for(fake, tmp_path),
        "AIPRISM_AI_PROVIDER": "anthropic",
        "AIPRISM_AI_MODELS": MODEL,
        "AIPRISM_AI_API_KEY": KEY,
    }
    done = subprocess.run(
        [sys.executable, "-m", "server", "review", str(document), "--ai", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)["files"][0]["ai"]
    assert report["ok"] and report["usage"]["calls"] >= 2
    assert "[redacted]" in done.stderr
    assert KEY not in done.stdout and KEY not in done.stderr
    assert fake.calls and all(call.api_key == KEY for call in fake.calls)


def test_a_key_from_the_servers_environment_stays_out_of_its_pages_and_log(fake, tmp_path):
    env = {
        **env_for(fake, tmp_path),
        "AIPRISM_AI_PROVIDER": "anthropic",
        "AIPRISM_AI_MODELS": MODEL,
        "AIPRISM_AI_API_KEY": KEY,
    }
    fake.script(
        MODEL, echo_key(401, "authentication_error"), echo_key(400, "invalid_request_error")
    )
    outputs = []
    with running_server(tmp_path / "data", extra_env=env) as server:
        refused = server.api.post(server.url("/api/v1/settings/ai/test"), json={})
        assert refused.json()["ok"] is False
        outputs.append(refused.text)
        created = server.upload(messy_investigation_docx(), "incident.docx")
        review = server.wait_done(created.json()["id"])
        assert review["status"] == "done"
        for path in ("/settings", "/api/v1/settings", f"/api/v1/reviews/{review['id']}"):
            outputs.append(server.api.get(server.url(path)).text)
    outputs.append(server.process.stderr.read())
    outputs += [p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()]
    assert not any(KEY in text for text in outputs)
    assert not (
        tmp_path / "data" / "api-keys.json"
    ).exists()  # nothing of the environment's is kept
