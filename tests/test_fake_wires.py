"""The fake Anthropic and OpenAI servers against the official SDKs, so their wire shapes are real.

A contract suite runs one set of scenarios on the Bedrock, Anthropic and OpenAI wires; it can only
be trusted if each fake answers what the real client parses, and fails the way the real client
raises. These tests drive each fake with its vendor's SDK (no engine code in between) and check
that the three fakes share one behaviour vocabulary and give the same answers to the same prompt.
"""

from __future__ import annotations

import json
import re
import threading
import time

import anthropic
import openai
import pytest

from server.engines.prompts import (
    ANSWER_SCHEMA,
    chat_system_prompt,
    document_context,
    findings_schema,
    review_system_prompt,
    section_message,
)
from server.frameworks import resolve
from tests import fake_anthropic, fake_bedrock, fake_openai
from tests.builders import document
from tests.fake_anthropic import FakeAnthropic
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.cloud

MODEL = "claude-test"
LOCAL = "local-a"
FRAMEWORK = resolve("investigation")
FIRST_CHECKPOINT = FRAMEWORK.checkpoints[0].id
DOC = document(
    ("Executive Summary", "executive_summary", ["Someone noticed the refunds on Monday."]),
    ("Timeline", "timeline", ["On 3 March 2026 the first alert fired."]),
)
SECTION = DOC.sections[0]
SYSTEM = review_system_prompt(FRAMEWORK, DOC)
USER = section_message(SECTION, FRAMEWORK)
SCHEMA = findings_schema(FRAMEWORK)
CHAT_SYSTEM = chat_system_prompt(FRAMEWORK, document_context(DOC, 10_000), "(no findings)")
QUOTE = "Someone noticed the refunds"
PARAGRAPH = SECTION.body[0].index


def expected_findings(checkpoints: list[str]) -> dict:
    return fake_anthropic.good_input(_anthropic_call(checkpoints))


def _anthropic_call(checkpoints: list[str]) -> fake_anthropic.Call:
    """A findings request naming `checkpoints` (empty: a schema without an enum)."""
    schema = findings_schema(FRAMEWORK) if checkpoints else {"type": "object"}
    body = {
        "model": MODEL,
        "system": "",
        "messages": [{"role": "user", "content": USER}],
        "tools": [{"name": "report_findings", "input_schema": schema}],
        "tool_choice": {"type": "tool", "name": "report_findings"},
    }
    return fake_anthropic.Call(MODEL, body, {})


# --- one vocabulary -------------------------------------------------------------------------------


def test_the_fakes_share_constants_and_behaviours():
    for module in (fake_anthropic, fake_openai):
        assert module.INPUT_TOKENS == fake_bedrock.INPUT_TOKENS
        assert module.OUTPUT_TOKENS == fake_bedrock.OUTPUT_TOKENS
        assert module.INVENTED_QUOTE == fake_bedrock.INVENTED_QUOTE
        assert set(fake_bedrock.BEHAVIOURS) <= set(module.BEHAVIOURS)
        assert {"auth", "truncated", "forbidden"} <= set(module.BEHAVIOURS)
    assert "overloaded" in fake_anthropic.BEHAVIOURS


def test_the_fakes_answer_a_section_as_fake_bedrock_does():
    converse = {
        "system": [{"text": SYSTEM}],
        "messages": [{"role": "user", "content": [{"text": USER}]}],
        "toolConfig": {
            "tools": [{"toolSpec": {"name": "report_findings", "inputSchema": {"json": SCHEMA}}}],
            "toolChoice": {"tool": {"name": "report_findings"}},
        },
    }
    _, _, bedrock = fake_bedrock.good(fake_bedrock.Call(MODEL, converse, {}))
    expected = bedrock["output"]["message"]["content"][0]["toolUse"]["input"]

    assert expected_findings([FIRST_CHECKPOINT]) == expected
    openai_call = fake_openai.Call(
        LOCAL,
        {
            "model": LOCAL,
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "report_findings", "schema": SCHEMA},
            },
        },
        {},
    )
    assert fake_openai.good_input(openai_call) == expected
    assert expected["findings"][0]["quote"] == QUOTE


# --- Anthropic Messages ---------------------------------------------------------------------------


@pytest.fixture
def claude():
    with FakeAnthropic(slow_seconds=30.0) as server:
        yield server


# One SDK client per module, pointed at each test's fake with with_options: building a client
# loads the CA bundle (some 30 ms), which would be most of each test's time.
_ANTHROPIC = anthropic.Anthropic(
    api_key="sk-ant-test", base_url="http://127.0.0.1:9", max_retries=0
)
_OPENAI = openai.OpenAI(api_key="sk-local", base_url="http://127.0.0.1:9/v1", max_retries=0)


def client(fake: FakeAnthropic, **options) -> anthropic.Anthropic:
    return _ANTHROPIC.with_options(base_url=fake.url, **options)


def review(sdk: anthropic.Anthropic, max_tokens: int = 1024) -> anthropic.types.Message:
    return sdk.messages.create(
        model=MODEL,
        max_tokens=max_tokens,
        system=[{"type": "text", "text": SYSTEM}],
        messages=[{"role": "user", "content": [{"type": "text", "text": USER}]}],
        tools=[{"name": "report_findings", "description": "Report.", "input_schema": SCHEMA}],
        tool_choice={"type": "tool", "name": "report_findings"},
        extra_body={"temperature": 0},  # not a create() argument in anthropic 2.x
    )


def test_anthropic_a_good_answer_is_a_tool_use_block(claude):
    message = review(client(claude))

    assert message.stop_reason == "tool_use"
    (block,) = message.content
    assert block.type == "tool_use"
    assert block.name == "report_findings"
    assert block.input == expected_findings([FIRST_CHECKPOINT])
    assert message.usage.input_tokens == fake_anthropic.INPUT_TOKENS
    assert message.usage.output_tokens == fake_anthropic.OUTPUT_TOKENS
    (call,) = claude.calls_to(MODEL)
    assert call.api_key == "sk-ant-test"
    assert call.headers["anthropic-version"]
    assert call.system == SYSTEM
    assert call.question == USER
    assert call.tool == "report_findings"
    assert call.body["temperature"] == 0


def test_anthropic_lists_its_models():
    with FakeAnthropic(models=(MODEL, "claude-other")) as fake:
        listed = [m.id for m in client(fake).models.list(limit=100)]

    assert listed == [MODEL, "claude-other"]
    assert fake.model_listings[0]["anthropic-version"]


def test_anthropic_a_chat_answer_cites_the_first_section(claude):
    message = client(claude).messages.create(
        model=MODEL,
        max_tokens=512,
        system=CHAT_SYSTEM,
        messages=[{"role": "user", "content": "When did the timeline start?"}],
        tools=[{"name": "answer", "description": "Answer.", "input_schema": ANSWER_SCHEMA}],
        tool_choice={"type": "tool", "name": "answer"},
    )

    assert message.content[0].input == {
        "answer": "The timeline starts on 3 March 2026.",
        "citations": ["s1", "s999"],
    }


def test_anthropic_structured_outputs_answer_json_text(claude):
    claude.script(MODEL, "good", "truncated")
    sdk = client(claude)
    request = {
        "model": MODEL,
        "max_tokens": 1024,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": USER}],
        "output_config": {"format": {"type": "json_schema", "schema": SCHEMA}},
    }

    whole, cut = sdk.messages.create(**request), sdk.messages.create(**request)

    assert whole.stop_reason == "end_turn"
    assert json.loads(whole.content[0].text) == expected_findings([FIRST_CHECKPOINT])
    assert cut.stop_reason == "max_tokens"
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content[0].text)


@pytest.mark.parametrize(
    ("behaviour", "raised", "status", "kind"),
    [
        ("throttle", anthropic.RateLimitError, 429, "rate_limit_error"),
        ("error500", anthropic.InternalServerError, 500, "api_error"),
        ("unavailable", anthropic.InternalServerError, 503, "api_error"),
        ("overloaded", anthropic.InternalServerError, 529, "overloaded_error"),
        ("denied", anthropic.NotFoundError, 404, "not_found_error"),
        ("forbidden", anthropic.PermissionDeniedError, 403, "permission_error"),
        ("auth", anthropic.AuthenticationError, 401, "authentication_error"),
    ],
)
def test_anthropic_errors_are_the_sdks_typed_exceptions(claude, behaviour, raised, status, kind):
    claude.script(MODEL, behaviour)

    with pytest.raises(raised) as caught:
        review(client(claude))

    assert caught.value.status_code == status
    assert caught.value.body["error"]["type"] == kind
    if behaviour == "denied":
        assert f"model: {MODEL}" in str(caught.value)
    assert len(claude.calls) == 1


def test_anthropic_a_custom_error_reply(claude):
    claude.script(MODEL, fake_anthropic.error(400, "invalid_request_error", "max_tokens: too big"))

    with pytest.raises(anthropic.BadRequestError, match="max_tokens: too big"):
        review(client(claude))


def test_anthropic_retries_a_throttle_after_retry_after(claude):
    claude.script(MODEL, "throttle", then="good")
    started = time.monotonic()

    message = review(client(claude, max_retries=2))

    assert time.monotonic() - started >= 0.2
    assert message.stop_reason == "tool_use"
    retries = [c.headers["x-stainless-retry-count"] for c in claude.calls_to(MODEL)]
    assert retries == ["0", "1"]


def test_anthropic_waits_the_seconds_retry_after_asks(claude):
    # 0.7 s is longer than the SDK's first back-off (0.5 s at most), so only the header explains it.
    wait = fake_anthropic.error(429, "rate_limit_error", "Slow down.", {"retry-after": "0.7"})
    claude.script(MODEL, wait)

    started = time.monotonic()
    review(client(claude, max_retries=1))

    assert time.monotonic() - started >= 0.7


def test_anthropic_prefers_retry_after_ms(claude):
    wait = fake_anthropic.error(
        429, "rate_limit_error", "Slow down.", {"retry-after": "30", "retry-after-ms": "10"}
    )
    claude.script(MODEL, wait)

    started = time.monotonic()
    review(client(claude, max_retries=1))

    assert time.monotonic() - started < 5


def test_anthropic_truncated_stops_at_max_tokens_inside_the_tool_call(claude):
    claude.script(MODEL, "truncated")

    message = review(client(claude), max_tokens=64)

    assert message.stop_reason == "max_tokens"
    assert message.content[0].type == "tool_use"
    assert message.content[0].input == {
        "findings": [{"title": f"Vague opening: {QUOTE}", "type": "important"}]
    }
    assert message.usage.output_tokens == 64


def test_anthropic_text_invented_and_malformed(claude):
    claude.script(MODEL, "text", "invented", "malformed")
    sdk = client(claude)

    text, made_up, broken = review(sdk), review(sdk), review(sdk)

    assert text.stop_reason == "end_turn"
    assert [b.type for b in text.content] == ["text"]
    assert made_up.content[0].input["findings"][0]["quote"] == fake_anthropic.INVENTED_QUOTE
    assert broken.content[0].input["findings"][0]["type"] == "catastrophic"


def test_anthropic_a_slow_answer_times_out_and_does_not_hold_up_shutdown():
    fake = FakeAnthropic(default="slow", slow_seconds=30.0).start()
    with pytest.raises(anthropic.APITimeoutError):
        review(client(fake, timeout=0.3))

    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 2


# --- OpenAI Chat Completions ----------------------------------------------------------------------


@pytest.fixture
def local():
    with FakeOpenAI(models=(LOCAL, "local-b"), slow_seconds=30.0) as server:
        yield server


def chat(fake: FakeOpenAI, **options) -> openai.OpenAI:
    return _OPENAI.with_options(base_url=fake.url + "/v1", **options)


MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]
JSON_SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "report_findings", "schema": SCHEMA, "strict": True},
}
TOOL = {
    "tools": [{"type": "function", "function": {"name": "report_findings", "parameters": SCHEMA}}],
    "tool_choice": {"type": "function", "function": {"name": "report_findings"}},
}


def complete(sdk: openai.OpenAI, **request):
    return sdk.chat.completions.create(model=LOCAL, messages=MESSAGES, **request)


def test_openai_lists_its_models(local):
    assert [m.id for m in chat(local).models.list()] == [LOCAL, "local-b"]
    assert local.model_listings[0]["authorization"] == "Bearer sk-local"


def test_openai_json_schema_answers_json_in_the_content(local):
    completion = complete(chat(local), response_format=JSON_SCHEMA, temperature=0)

    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.tool_calls is None
    assert json.loads(choice.message.content) == expected_findings([FIRST_CHECKPOINT])
    assert completion.usage.prompt_tokens == fake_openai.INPUT_TOKENS
    assert completion.usage.total_tokens == fake_openai.INPUT_TOKENS + fake_openai.OUTPUT_TOKENS
    (call,) = local.calls_to(LOCAL)
    assert call.mode == "json_schema"
    assert call.api_key == "sk-local"
    assert call.tool == "report_findings"
    assert call.system == SYSTEM
    assert call.question == USER


def test_openai_json_object_with_a_schema(local):
    completion = complete(chat(local), response_format={"type": "json_object", "schema": SCHEMA})

    assert json.loads(completion.choices[0].message.content) == expected_findings(
        [FIRST_CHECKPOINT]
    )
    (call,) = local.calls
    assert call.mode == "json_object"
    assert call.body["response_format"]["schema"] == SCHEMA  # the SDK passes the extension on


def test_openai_json_object_schema_through_extra_body(local):
    extra = {"response_format": {"type": "json_object", "schema": SCHEMA}}
    completion = complete(chat(local), extra_body=extra)

    assert json.loads(completion.choices[0].message.content)["findings"][0]["quote"] == QUOTE
    assert local.calls[0].mode == "json_object"


def test_openai_a_server_that_ignores_the_schema_still_answers_json():
    with FakeOpenAI(json_object_schema=False) as fake:
        completion = complete(chat(fake), response_format={"type": "json_object", "schema": SCHEMA})

    # The checkpoint then comes from the system prompt's <checkpoint id="..."> tags.
    answer = json.loads(completion.choices[0].message.content)
    assert answer == expected_findings([FIRST_CHECKPOINT])


def test_openai_tool_mode_answers_with_a_tool_call(local):
    completion = complete(chat(local), **TOOL)

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (tool_call,) = choice.message.tool_calls
    assert tool_call.type == "function"
    assert tool_call.function.name == "report_findings"
    assert json.loads(tool_call.function.arguments) == expected_findings([FIRST_CHECKPOINT])
    assert local.calls[0].mode == "tool"


def test_openai_text_mode_answers_prose_with_a_json_block(local):
    completion = complete(chat(local))

    content = completion.choices[0].message.content
    fenced = re.search(r"```json\n(.*?)\n```", content, re.S)
    assert fenced and not content.startswith("```")
    assert json.loads(fenced[1]) == expected_findings([FIRST_CHECKPOINT])
    assert local.calls[0].mode == "text"
    assert local.calls[0].tool == "report_findings"  # from the prompt's words alone


def test_openai_a_chat_answer_cites_the_first_section(local):
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": ANSWER_SCHEMA},
    }
    completion = chat(local).chat.completions.create(
        model=LOCAL,
        messages=[
            {"role": "system", "content": CHAT_SYSTEM},
            {"role": "user", "content": "When did the timeline start?"},
        ],
        response_format=response_format,
    )

    assert json.loads(completion.choices[0].message.content)["citations"] == ["s1", "s999"]


def test_openai_without_json_schema_the_server_fails_with_500():
    with FakeOpenAI(json_schema=False) as fake:
        fake.script(LOCAL, "text")
        with pytest.raises(openai.InternalServerError, match="response_format") as caught:
            complete(chat(fake), response_format=JSON_SCHEMA)
        assert caught.value.status_code == 500
        # The refusal took no step of the script: the model never saw the request.
        completion = complete(chat(fake), response_format={"type": "json_object"})

    assert completion.choices[0].message.content == "This section looks fine to me."
    assert [c.mode for c in fake.calls] == ["json_schema", "json_object"]


def test_openai_without_tools_or_json_mode_the_server_says_400():
    with FakeOpenAI(tools=False, json_object=False) as fake:
        with pytest.raises(openai.BadRequestError, match="tools are not supported"):
            complete(chat(fake), **TOOL)
        with pytest.raises(openai.BadRequestError, match="response_format"):
            complete(chat(fake), response_format={"type": "json_object"})
        assert complete(chat(fake), response_format=JSON_SCHEMA).choices[0].message.content


@pytest.mark.parametrize(
    ("behaviour", "raised", "status"),
    [
        ("throttle", openai.RateLimitError, 429),
        ("error500", openai.InternalServerError, 500),
        ("unavailable", openai.InternalServerError, 503),
        ("denied", openai.NotFoundError, 404),
        ("forbidden", openai.PermissionDeniedError, 403),
        ("auth", openai.AuthenticationError, 401),
    ],
)
def test_openai_errors_are_the_sdks_typed_exceptions(local, behaviour, raised, status):
    local.script(LOCAL, behaviour)

    with pytest.raises(raised) as caught:
        complete(chat(local), response_format=JSON_SCHEMA)

    assert caught.value.status_code == status
    if behaviour == "denied":
        assert caught.value.code == "model_not_found"
        assert f"The model `{LOCAL}` does not exist" in caught.value.message
    if behaviour == "auth":
        assert caught.value.code == "invalid_api_key"
    assert len(local.calls) == 1


def test_openai_retries_a_throttle_after_retry_after(local):
    local.script(LOCAL, "throttle", then="good")
    started = time.monotonic()

    completion = complete(chat(local, max_retries=2), response_format=JSON_SCHEMA)

    assert time.monotonic() - started >= 0.2
    assert json.loads(completion.choices[0].message.content)["findings"]
    retries = [c.headers["x-stainless-retry-count"] for c in local.calls_to(LOCAL)]
    assert retries == ["0", "1"]


def test_openai_does_not_retry_when_retry_after_is_over_two_minutes(local):
    local.script(LOCAL, fake_openai.error(429, "requests", "Later.", {"retry-after": "600"}))

    with pytest.raises(openai.RateLimitError):
        complete(chat(local, max_retries=2), response_format=JSON_SCHEMA)

    assert len(local.calls) == 1


@pytest.mark.parametrize("mode", ["json_schema", "tool", "text"])
def test_openai_truncated_stops_for_length_with_broken_json(local, mode):
    request = {
        "json_schema": {"response_format": JSON_SCHEMA},
        "tool": TOOL,
        "text": {},
    }[mode]
    local.script(LOCAL, "truncated")

    choice = complete(chat(local), max_tokens=64, **request).choices[0]

    assert choice.finish_reason == "length"
    if mode == "tool":
        text = choice.message.tool_calls[0].function.arguments
    else:
        text = choice.message.content.split("```json\n")[-1]
    assert text.startswith('{"findings"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_openai_text_invented_and_malformed(local):
    local.script(LOCAL, "text", "invented", "malformed")
    sdk = chat(local)

    text, made_up, broken = (complete(sdk, response_format=JSON_SCHEMA) for _ in range(3))

    assert "{" not in text.choices[0].message.content
    findings = json.loads(made_up.choices[0].message.content)["findings"]
    assert findings[0]["quote"] == fake_openai.INVENTED_QUOTE
    assert json.loads(broken.choices[0].message.content)["findings"][0]["type"] == "catastrophic"


def test_openai_a_slow_answer_times_out_and_does_not_hold_up_shutdown():
    fake = FakeOpenAI(default="slow", slow_seconds=30.0).start()
    with pytest.raises(openai.APITimeoutError):
        complete(chat(fake, timeout=0.3))

    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 2


def test_openai_concurrent_requests_are_all_recorded(local):
    sdk = chat(local)
    threads = [threading.Thread(target=complete, args=(sdk,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(local.calls_to(LOCAL)) == 8
