"""Choosing an AI provider and living with the choice: the Settings page's helpers, the
environment's provider in `aiprism serve`, privacy on the review page, masking defaults, the
team's guidelines and `aiprism review --ai` — each through a real server or process and a fake
model server speaking the OpenAI wire."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import docx
import pytest

from server import user_settings
from server.ai_choice import desktop_ai
from server.engines import local_servers
from server.samples import SHORT_WRITE_UP_MD, messy_investigation_docx
from server.user_settings import UserSettings
from tests.fake_openai import FakeOpenAI
from tests.server_process import running_server

pytestmark = pytest.mark.cloud

MODEL = "local-model"
NO_KEYCHAIN = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


@pytest.fixture
def fake():
    with FakeOpenAI(models=(MODEL, "other-model")) as server:
        yield server


def local_choice(fake) -> dict:
    return {"ai_provider": "openai", "ai_base_url": fake.url + "/v1", "ai_model": MODEL}


def test_settings_page_lists_models_tests_the_connection_and_saves(fake, tmp_path):
    with running_server(tmp_path / "data", extra_env=NO_KEYCHAIN) as server:
        api = server.api
        form = {"ai_provider": "openai", "ai_base_url": fake.url + "/v1"}
        listed = api.post(server.url("/api/v1/settings/ai/models"), json=form).json()
        assert listed == {"models": ["local-model", "other-model"]}

        tested = api.post(server.url("/api/v1/settings/ai/test"), json=local_choice(fake)).json()
        assert tested["ok"] is True and tested["model"] == MODEL
        assert tested["left_machine"] is False and tested["seconds"] >= 0
        assert not (tmp_path / "data" / "settings.json").exists()  # testing saves nothing

        fake.script(MODEL, "denied")
        refused = api.post(server.url("/api/v1/settings/ai/test"), json=local_choice(fake)).json()
        assert refused["ok"] is False and "does not exist" in refused["error"]

        nowhere = {**local_choice(fake), "ai_base_url": "http://127.0.0.1:9/v1"}
        down = api.post(server.url("/api/v1/settings/ai/test"), json=nowhere).json()
        assert down["ok"] is False and "could not be reached" in down["error"]

        incomplete = api.post(server.url("/api/v1/settings"), json={"ai_provider": "openai"})
        assert incomplete.status_code == 400 and "server's URL" in incomplete.text
        saved = api.post(server.url("/api/v1/settings"), json=local_choice(fake))
        assert saved.status_code == 200
        assert user_settings.load(tmp_path / "data").ai_provider == "openai"
        page = api.get(server.url("/settings")).text
        assert 'name="ai_provider" value="openai" checked' in page
        assert f'value="{fake.url}/v1"' in page


def test_a_claude_api_choice_without_a_key_is_refused(tmp_path):
    with running_server(tmp_path / "data", extra_env=NO_KEYCHAIN) as server:
        response = server.api.post(
            server.url("/api/v1/settings"), json={"ai_provider": "anthropic"}
        )
        assert response.status_code == 400 and "needs an API key" in response.text


def test_local_servers_on_their_usual_ports_are_found_and_silence_is_quick(fake):
    known = (("Fake", fake.url + "/v1"), ("Nothing", "http://127.0.0.1:9/v1"))
    assert local_servers.running(known) == [
        {"name": "Fake", "base_url": fake.url + "/v1", "models": ["local-model", "other-model"]}
    ]


def test_the_local_review_merges_ai_findings_and_says_the_document_stayed_here(fake, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    user_settings.save(data, UserSettings(**local_choice(fake)))
    with running_server(data, extra_env=NO_KEYCHAIN) as server:
        created = server.upload(messy_investigation_docx(), "incident.docx")
        review = server.wait_done(created.json()["id"])
        assert review["status"] == "done"
        assert review["engines"] == ["offline", MODEL]
        assert {f["engine"] for f in review["findings"]} == {"offline", MODEL}
        usage = review["ai_usage"]
        assert usage["provider"] == "openai" and usage["left_machine"] is False
        assert usage["estimated_cost_usd"] == 0 and usage["masked"] == 0
        page = server.api.get(server.url(f"/reviews/{review['id']}")).text
        assert "Stayed on this computer: reviewed by a local model server at 127.0.0.1:" in page


def test_an_offline_review_says_the_document_stayed_here(tmp_path):
    with running_server(tmp_path / "data") as server:
        created = server.upload(SHORT_WRITE_UP_MD.encode(), "refunds.md")
        review = server.wait_done(created.json()["id"])
        page = server.api.get(server.url(f"/reviews/{review['id']}")).text
        assert "Stayed on this computer: offline checks only." in page


def test_serve_takes_the_provider_from_the_environment_over_the_page(fake, tmp_path):
    env = {
        "AIPRISM_AI_PROVIDER": "openai",
        "AIPRISM_AI_BASE_URL": fake.url + "/v1",
        "AIPRISM_AI_MODELS": MODEL,
    }
    with running_server(tmp_path / "data", extra_env=env) as server:
        state = server.api.get(server.url("/api/v1/settings")).json()
        assert state["hosted_ai"]["provider"] == "openai"
        blocked = server.api.get(server.url("/api/v1/settings/ai/local-servers"))
        assert blocked.status_code == 409
        tested = server.api.post(server.url("/api/v1/settings/ai/test"), json={}).json()
        assert tested["ok"] is True and tested["model"] == MODEL
        created = server.upload(SHORT_WRITE_UP_MD.encode(), "refunds.md")
        review = server.wait_done(created.json()["id"])
        assert review["engines"] == ["offline", MODEL]


def test_masking_is_on_for_cloud_providers_and_off_for_a_local_model(tmp_path):
    cloud = desktop_ai(UserSettings(ai_provider="bedrock"), tmp_path)
    local = desktop_ai(
        UserSettings(ai_provider="openai", ai_base_url="http://localhost:11434/v1", ai_model="m"),
        tmp_path,
    )
    unmasked = desktop_ai(UserSettings(ai_provider="bedrock", mask_personal_data=False), tmp_path)
    assert cloud.mask_personal_data is True and local.mask_personal_data is False
    assert unmasked.mask_personal_data is False


def guidelines_docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph("Our review rules", style="Heading 1")
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_attached_guidelines_travel_with_every_section_and_are_trimmed_to_budget(fake, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    user_settings.save(data, UserSettings(**local_choice(fake)))
    rule = "Every action item must name an on-call engineer. " * 20
    env = {**NO_KEYCHAIN, "AIPRISM_AI_GUIDANCE_CHARS": "400"}
    with running_server(data, extra_env=env) as server:
        attached = server.api.post(
            server.url("/api/v1/frameworks/investigation/guidelines"),
            files={"file": ("rules.docx", guidelines_docx(rule))},
        )
        assert attached.status_code == 200, attached.text
        shown = attached.json()["guidelines"]
        assert shown["filename"] == "rules.docx" and shown["chars"] > 900
        assert "text" not in shown and shown["excerpt"].startswith("Our review rules")
        read = server.api.get(server.url("/api/v1/frameworks/investigation/guidelines")).json()
        assert read["guidelines"]["filename"] == "rules.docx"

        created = server.upload(SHORT_WRITE_UP_MD.encode(), "refunds.md")
        review = server.wait_done(created.json()["id"])
        assert fake.calls and all("name an on-call engineer" in c.system for c in fake.calls)
        assert all(
            len(c.system.split("<guidance>")[1].split("</guidance>")[0]) < 450 for c in fake.calls
        )
        assert any("guidance for the AI was trimmed" in n for n in review["notices"])

        gone = server.api.delete(server.url("/api/v1/frameworks/investigation/guidelines"))
        assert gone.json() == {"guidelines": None}
        empty = server.api.post(
            server.url("/api/v1/frameworks/investigation/guidelines"),
            files={"file": ("empty.txt", b"   ")},
        )
        assert empty.status_code in (400, 422)


def run_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **NO_KEYCHAIN, **env},
        timeout=120,
        check=False,
    )


def test_cli_ai_without_a_provider_says_how_to_configure_one(tmp_path):
    path = tmp_path / "refunds.md"
    path.write_text(SHORT_WRITE_UP_MD)
    done = run_cli("review", str(path), "--ai", "--data-dir", str(tmp_path / "data"), env={})
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("aiprism: --ai needs an AI provider: set AIPRISM_AI_PROVIDER=openai")


def test_cli_ai_reviews_with_the_configured_provider(fake, tmp_path):
    path = tmp_path / "refunds.md"
    path.write_text(SHORT_WRITE_UP_MD)
    fake.script(MODEL, "invented")
    env = {
        "AIPRISM_AI_PROVIDER": "openai",
        "AIPRISM_AI_BASE_URL": fake.url + "/v1",
        "AIPRISM_AI_MODELS": MODEL,
    }
    done = run_cli("review", str(path), "--ai", "--format", "json", "--fail-on", "never", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["files"][0]
    assert report["ai"]["ok"] and report["ai"]["usage"]["calls"] == 3
    assert report["ai"]["notices"] == [
        "AI review dropped 1 finding quoting text that is not in the document."
    ]
    assert MODEL in {f["engine"] for f in report["findings"]}
    assert "AI: Timeline (" in done.stderr and "dropped 1 finding" in done.stderr

    text = run_cli("review", str(path), "--ai", "--fail-on", "never", env=env)
    assert any(" ai:" in line for line in text.stdout.splitlines())
