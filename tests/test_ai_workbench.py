"""The AI engine inside the workbench: a real `aiprism serve` with AI switched on in settings.json,
talking to the fake Converse server through boto3's own endpoint variable, as on a reviewer's desktop.
"""

from __future__ import annotations

import json

import pytest

from server.engines.ai_settings import DEFAULT_MODELS as MODELS
from server.samples import messy_investigation_docx
from tests.fake_bedrock import INPUT_TOKENS, FakeBedrock
from tests.server_process import running_server

pytestmark = pytest.mark.cloud
DEFAULT_MODELS = MODELS["bedrock"]


@pytest.fixture
def fake():
    with FakeBedrock() as server:
        yield server


def aws_env(fake: FakeBedrock, tmp_path) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": fake.url,
    }


def opt_in(data_dir) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = {"ai_enabled": True, "aws_region": "us-east-1"}
    (data_dir / "settings.json").write_text(json.dumps(settings))


def review_sample(server) -> dict:
    created = server.upload(messy_investigation_docx(), "incident.docx")
    assert created.status_code == 202, created.text
    return server.wait_done(created.json()["id"])


def test_opted_in_review_merges_model_findings_and_records_usage(fake, tmp_path):
    opt_in(tmp_path / "data")
    with running_server(tmp_path / "data", extra_env=aws_env(fake, tmp_path)) as server:
        review = review_sample(server)
        assert review["status"] == "done"
        engines = {f["engine"] for f in review["findings"]}
        assert {"offline", DEFAULT_MODELS[0]} <= engines
        assert review["engines"] == ["offline", DEFAULT_MODELS[0]]
        usage = review["ai_usage"]
        assert usage["calls"] == len(fake.calls) > 0
        assert usage["input_tokens"] == INPUT_TOKENS * usage["calls"]
        assert usage["estimated_cost_usd"] > 0
        page = server.api.get(server.url(f"/reviews/{review['id']}"))
        assert "AI engine: " + DEFAULT_MODELS[0] in page.text

        reply = server.api.post(
            server.url(f"/api/v1/reviews/{review['id']}/chat"), json={"message": "What happened?"}
        ).json()
        assert reply["engine"] == DEFAULT_MODELS[0] and reply["citations"]


def test_models_not_enabled_fall_back_to_the_offline_result_with_a_notice(fake, tmp_path):
    fake.default = "denied"
    opt_in(tmp_path / "data")
    with running_server(tmp_path / "data", extra_env=aws_env(fake, tmp_path)) as server:
        review = review_sample(server)
        assert review["status"] == "done"
        assert review["engines"] == ["offline"]
        assert review["findings"] and {f["engine"] for f in review["findings"]} == {"offline"}
        assert any("AI review unavailable" in n for n in review["notices"])

        reply = server.api.post(
            server.url(f"/api/v1/reviews/{review['id']}/chat"),
            json={"message": "Which findings are high risk?"},
        ).json()
        assert reply["engine"] == "offline"
        assert "offline engine" in reply["notice"]


def test_without_opt_in_no_model_is_called(fake, tmp_path):
    with running_server(tmp_path / "data", extra_env=aws_env(fake, tmp_path)) as server:
        review = review_sample(server)
        assert review["engines"] == ["offline"] and review["ai_usage"] is None
    assert fake.calls == []
