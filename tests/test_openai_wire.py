"""The OpenAI-compatible wire's own concern: servers differ in how they can be held to JSON.

`auto` asks for a JSON schema first, then llama.cpp's `json_object` with a schema, then a forced
tool call, then JSON in the text, keeps the first the server takes, and lets the engine's
validation decide what counts whichever way the answer came.
"""

from __future__ import annotations

import pytest

from server.engines.ai import AIEngine
from server.engines.ai_settings import AISettings
from server.frameworks import resolve
from tests.builders import document
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.cloud

FRAMEWORK = resolve("investigation")
MODEL = "local-model"


def two_sections():
    return document(
        ("Background", "background", ["Refunds were paid twice to 40 accounts."]),
        ("Timeline", "timeline", ["On 3 March 2026 the first alert fired."]),
    )


def engine(fake: FakeOpenAI, **overrides) -> AIEngine:
    settings = {
        "provider": "openai",
        "models": (MODEL,),
        "base_url": fake.url + "/v1",
        "concurrency": 1,
        "read_timeout": 5.0,
        **overrides,
    }
    return AIEngine(AISettings(**settings))


@pytest.mark.parametrize(
    ("capabilities", "mode"),
    [
        ({}, "json_schema"),
        ({"json_schema": False}, "json_object"),  # llama-cpp-python's server
        ({"json_schema": False, "json_object": False}, "tool"),
        ({"json_schema": False, "json_object": False, "tools": False}, "text"),
    ],
)
def test_auto_finds_the_way_the_server_takes_once_and_keeps_it(capabilities, mode):
    with FakeOpenAI(models=(MODEL,), **capabilities) as fake:
        result = engine(fake).review(two_sections(), FRAMEWORK)
        assert result.ok and result.notices == () and len(result.findings) == 4
        accepted = [c for c in fake.calls if c.mode == mode]
        assert len(accepted) == 2  # one per section
        refused = fake.calls[: fake.calls.index(accepted[0])]
        assert len(refused) == ["json_schema", "json_object", "tool", "text"].index(mode)
        assert all(c.mode == mode for c in fake.calls[len(refused) :])  # kept for the model


def test_a_server_that_ignores_the_schema_is_still_validated():
    # vLLM-style: json_object honoured, its schema ignored; the prompt carries the schema
    with FakeOpenAI(models=(MODEL,), json_schema=False, json_object_schema=False) as fake:
        fake.script(MODEL, then="malformed")
        result = engine(fake).review(two_sections(), FRAMEWORK)
        assert result.findings == ()
        assert "did not fit the findings schema" in result.notices[0]
        assert "report_findings" in fake.calls[0].system  # the schema went in the prompt


def test_a_local_server_costs_nothing_and_keeps_the_document_here():
    with FakeOpenAI(models=(MODEL,)) as fake:
        result = engine(fake).review(two_sections(), FRAMEWORK)
        assert result.usage["estimated_cost_usd"] == 0
        assert result.usage["left_machine"] is False
        assert result.usage["provider_label"].startswith("a local model server at 127.0.0.1:")


def test_a_remote_server_is_said_to_receive_the_document():
    ai = AISettings(provider="openai", models=("m",), base_url="https://llm.example.com/v1")
    privacy = AIEngine(ai).privacy()
    assert privacy["left_machine"] is True
    assert privacy["provider_label"] == "an OpenAI-compatible server at llm.example.com"
    assert ai.price("m") is None and ai.sections_at_once == 4


def test_local_servers_get_few_slots_and_patient_timeouts():
    ai = AISettings(provider="openai", models=("m",), base_url="http://localhost:11434/v1")
    assert ai.local and ai.sections_at_once == 1 and ai.timeout == 300


def test_the_servers_models_are_listed_and_a_key_is_sent_when_set():
    with FakeOpenAI(models=("b-model", "a-model")) as fake:
        listed = engine(fake, api_key="sk-local-123").provider.list_models()
        assert listed == ["a-model", "b-model"]
        assert fake.model_listings[0]["authorization"] == "Bearer sk-local-123"


def test_an_unreachable_server_reports_unavailable():
    ai = AISettings(
        provider="openai",
        models=(MODEL,),
        base_url="http://127.0.0.1:9/v1",
        max_attempts=1,
        connect_timeout=0.5,
    )
    result = AIEngine(ai).review(two_sections(), FRAMEWORK)
    assert not result.ok
    assert "could not be reached" in result.notices[0]
