"""Configuring the AI engine from the environment (hosted, `aiprism serve`, the CLI): every
provider accepted, every problem listed at once, keys never repeated back."""

from __future__ import annotations

import pytest

from server.engines.ai_settings import AIConfigError, AISettings, describe_ai
from server.hosted import HostedSettingsError, hosted_settings

HOSTED = {"AIPRISM_ACCESS_TOKEN": "t" * 32}
KEY = "sk-ant-settings-test-0123456789"


def test_off_unless_a_provider_is_named_outside_the_hosted_service():
    assert AISettings.from_env({}) is None
    assert AISettings.from_env({"AIPRISM_AI_PROVIDER": "off"}) is None


def test_an_openai_compatible_server_needs_its_url_and_a_model():
    ai = AISettings.from_env(
        {
            "AIPRISM_AI_PROVIDER": "openai",
            "AIPRISM_AI_BASE_URL": "http://127.0.0.1:8080/v1",
            "AIPRISM_AI_MODELS": "smollm2, qwen",
        }
    )
    assert ai.provider == "openai" and ai.models == ("smollm2", "qwen") and ai.local
    assert ai.api_key is None and ai.sections_at_once == 1


def test_the_claude_api_key_comes_from_aiprism_or_the_sdks_own_variable():
    own = AISettings.from_env({"AIPRISM_AI_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": KEY})
    ours = AISettings.from_env({"AIPRISM_AI_PROVIDER": "anthropic", "AIPRISM_AI_API_KEY": KEY})
    assert own.api_key == ours.api_key == KEY
    assert own.models == ("claude-sonnet-4-5", "claude-haiku-4-5")
    assert KEY not in repr(own)


def test_every_problem_is_listed_at_once():
    with pytest.raises(AIConfigError) as caught:
        AISettings.from_env(
            {
                "AIPRISM_AI_PROVIDER": "openai",
                "AIPRISM_AI_CONCURRENCY": "lots",
                "AIPRISM_AI_STRUCTURED": "xml",
                "AIPRISM_AI_MASK_PERSONAL_DATA": "maybe",
            }
        )
    text = "\n".join(caught.value.problems)
    for name in (
        "AIPRISM_AI_CONCURRENCY must be a number",
        "AIPRISM_AI_MODELS must name the model",
        "AIPRISM_AI_BASE_URL must be the server's URL",
        "AIPRISM_AI_STRUCTURED must be one of",
        "AIPRISM_AI_MASK_PERSONAL_DATA must be 1 or 0",
    ):
        assert name in text


def test_an_unknown_provider_is_named():
    with pytest.raises(AIConfigError, match="AIPRISM_AI_PROVIDER must be one of"):
        AISettings.from_env({"AIPRISM_AI_PROVIDER": "gemini"})


@pytest.mark.parametrize(
    ("env", "provider"),
    [
        ({}, "bedrock"),
        ({"AIPRISM_AI_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": KEY}, "anthropic"),
        (
            {
                "AIPRISM_AI_PROVIDER": "openai",
                "AIPRISM_AI_BASE_URL": "https://vllm.internal.example/v1",
                "AIPRISM_AI_MODELS": "meta-llama/Llama-3.3-70B-Instruct",
                "AIPRISM_AI_API_KEY": KEY,
            },
            "openai",
        ),
    ],
)
def test_hosted_settings_accept_all_three_providers(env, provider):
    settings = hosted_settings({**HOSTED, **env})
    assert settings.ai is not None and settings.ai.provider == provider
    assert KEY not in describe_ai(settings.ai)


def test_hosted_ai_off_by_either_switch():
    assert hosted_settings({**HOSTED, "AIPRISM_AI": "off"}).ai is None
    assert hosted_settings({**HOSTED, "AIPRISM_AI_PROVIDER": "off"}).ai is None


def test_hosted_problems_with_the_ai_are_listed_with_the_others():
    with pytest.raises(HostedSettingsError) as caught:
        hosted_settings({"AIPRISM_AI_PROVIDER": "anthropic", "AIPRISM_MAX_UPLOAD_MB": "x"})
    text = str(caught.value)
    assert "AIPRISM_ACCESS_TOKEN is not set" in text
    assert "needs an API key" in text
    assert "AIPRISM_MAX_UPLOAD_MB" in text
