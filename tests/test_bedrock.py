"""The AI engine against a fake Converse server: boto3's real serialisation, signing and retries."""

from __future__ import annotations

import sys
import time

import pytest

from server.engines import offline
from server.engines.answers import QUOTE_NOT_FOUND, anchor
from server.engines.bedrock import AISettings, AIUnavailable, BedrockEngine
from server.engines.merge import merge
from server.frameworks import resolve
from server.model import Finding, Span, finding_id
from server.review import ReviewState
from tests.builders import document
from tests.fake_bedrock import INPUT_TOKENS, OUTPUT_TOKENS, FakeBedrock, error

pytestmark = pytest.mark.cloud

A = "test.model-a"
B = "test.model-b"
FRAMEWORK = resolve("investigation")


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def fake():
    with FakeBedrock(slow_seconds=3.0) as server:
        yield server


def engine(fake: FakeBedrock, **overrides) -> BedrockEngine:
    settings = {
        "models": (A, B),
        "region": "us-east-1",
        "endpoint_url": fake.url,
        "concurrency": 2,
        "read_timeout": 0.4,
        "connect_timeout": 0.5,
        "max_attempts": 2,
        "prices": {A: (0.003, 0.015), B: (0.001, 0.005)},
        **overrides,
    }
    return BedrockEngine(AISettings(**settings))


def write_up():
    return document(
        ("Executive Summary", "executive_summary", ["Someone noticed the refunds on Monday."]),
        (
            "Timeline",
            "timeline",
            ["On 3 March 2026 the first alert fired.", "The team paused refunds at 10:00."],
        ),
        ("Original Email", "other", ["From: someone@example.com"], "email thread"),
    )


def one_section():
    return document(("Background", "background", ["Refunds were paid twice to 40 accounts."]))


# --- good answers ---------------------------------------------------------------------------------


def test_good_answers_give_findings_with_exact_spans(fake):
    doc = write_up()
    result = engine(fake).review(doc, FRAMEWORK)

    assert result.ok and result.notices == ()
    quoted = [f for f in result.findings if f.span]
    assert len(quoted) == 2 and len(result.findings) == 4
    for f in quoted:
        paragraph = doc.paragraph(f.span.paragraph)
        assert paragraph.text[f.span.start : f.span.end] == f.span.quote
        assert f.span.start == 0 and f.span.quote == " ".join(paragraph.text.split()[:4])
        assert f.rule == "ai:initial_assessment" and f.checkpoints == ("initial_assessment",)
        assert f.id == finding_id(f.rule, f.section_id, f.span, salt=f.title)
    assert {f.engine for f in result.findings} == {A}
    assert {f.rule for f in result.findings if not f.span} == {"ai:general"}
    assert result.engines == (A,)


def test_excluded_sections_are_not_sent(fake):
    engine(fake).review(write_up(), FRAMEWORK)
    assert len(fake.calls) == 2
    assert not any("someone@example.com" in c.question for c in fake.calls)


def test_same_answers_give_the_same_ids(fake):
    first = engine(fake).review(write_up(), FRAMEWORK)
    second = engine(fake).review(write_up(), FRAMEWORK)
    assert [f.id for f in first.findings] == [f.id for f in second.findings]


def test_prompt_carries_checkpoint_guidance_section_text_and_tool(fake):
    engine(fake).review(one_section(), FRAMEWORK)
    (call,) = fake.calls
    checkpoint = FRAMEWORK.checkpoints[0]
    assert checkpoint.guidance in call.system and checkpoint.good in call.system
    assert "Refunds were paid twice to 40 accounts." in call.question
    assert "Section title: Background" in call.question
    assert '"Test write-up" has these sections:\n- Background\n' in call.system
    tool = call.body["toolConfig"]
    assert tool["toolChoice"] == {"tool": {"name": "report_findings"}}
    schema = tool["tools"][0]["toolSpec"]["inputSchema"]["json"]
    enum = schema["properties"]["findings"]["items"]["properties"]["checkpoints"]["items"]["enum"]
    assert enum == [c.id for c in FRAMEWORK.checkpoints]
    assert call.body["inferenceConfig"]["temperature"] == 0
    assert call.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")


def test_endpoint_from_the_environment_is_respected(fake, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.url)
    result = engine(fake, endpoint_url=None).review(one_section(), FRAMEWORK)
    assert result.ok and len(fake.calls) == 1


def test_progress_is_reported_per_section(fake):
    seen = []
    engine(fake).review(write_up(), FRAMEWORK, on_progress=lambda *a: seen.append(a))
    assert [(done, total) for done, total, _ in seen] == [(1, 2), (2, 2)]
    assert {what for _, _, what in seen} == {"AI: Executive Summary", "AI: Timeline"}


def test_usage_sums_tokens_and_estimates_cost(fake):
    usage = engine(fake).review(write_up(), FRAMEWORK).usage
    assert usage["input_tokens"] == 2 * INPUT_TOKENS
    assert usage["output_tokens"] == 2 * OUTPUT_TOKENS
    assert usage["calls"] == 2 and usage["model"] == A and usage["models"] == [A]
    per_call = INPUT_TOKENS / 1000 * 0.003 + OUTPUT_TOKENS / 1000 * 0.015
    assert usage["estimated_cost_usd"] == pytest.approx(2 * per_call)


def test_unknown_price_gives_no_cost_estimate(fake):
    usage = engine(fake, prices={}).review(one_section(), FRAMEWORK).usage
    assert usage["estimated_cost_usd"] is None and usage["input_tokens"] == INPUT_TOKENS


# --- retries and fallback -------------------------------------------------------------------------


def test_throttling_is_retried_by_botocore_then_succeeds(fake):
    fake.script(A, "throttle")
    result = engine(fake).review(one_section(), FRAMEWORK)
    assert len(fake.calls_to(A)) == 2 and not fake.calls_to(B)
    assert result.ok and result.notices == () and result.findings


@pytest.mark.parametrize("failure", ["throttle", "error500", "unavailable"])
def test_persistent_failure_falls_back_to_the_next_model(fake, failure):
    fake.script(A, then=failure)
    result = engine(fake).review(one_section(), FRAMEWORK)
    assert len(fake.calls_to(A)) == 2  # botocore's first try and one retry
    assert len(fake.calls_to(B)) == 1
    assert result.ok and {f.engine for f in result.findings} == {B}
    (notice,) = result.notices
    assert A in notice and "next model" in notice


def test_slow_answer_times_out_and_falls_back(fake):
    fake.script(A, then="slow")
    started = time.monotonic()
    result = engine(fake).review(one_section(), FRAMEWORK)
    assert time.monotonic() - started < 2.5  # did not wait for the slow answer
    assert result.ok and {f.engine for f in result.findings} == {B}
    assert "no answer within 0.4 s" in result.notices[0]


@pytest.mark.parametrize("failure", ["denied", "invalid_model"])
def test_model_not_enabled_goes_to_the_next_model_without_retrying(fake, failure):
    fake.script(A, then=failure)
    result = engine(fake).review(write_up(), FRAMEWORK)
    assert len(fake.calls_to(A)) <= 2  # one per section already in flight, never retried
    assert len(fake.calls_to(B)) == 2
    assert result.ok and {f.engine for f in result.findings} == {B}
    assert "not enabled" in result.notices[0]


def test_all_models_failing_stops_calling_and_reports_unavailable(fake):
    fake.script(A, then="unavailable")
    fake.script(B, then="unavailable")
    doc = document(*[(f"Part {n}", "other", [f"Paragraph {n} says little."]) for n in range(4)])
    result = engine(fake, concurrency=1).review(doc, FRAMEWORK)
    assert not result.ok and result.findings == ()
    assert len(fake.calls) == 4  # two tries per model on the first section, then nothing
    (notice,) = result.notices
    assert notice.startswith("AI review unavailable (") and "offline findings only" in notice
    assert "HTTP 503" in notice


def test_missing_credentials_reports_unavailable_without_calling(fake, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = engine(fake).review(write_up(), FRAMEWORK)
    assert not result.ok and result.findings == () and fake.calls == []
    assert "credentials" in result.notices[0] and "offline findings only" in result.notices[0]


def test_without_boto3_the_review_reports_unavailable(fake, monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 now raises ImportError
    result = engine(fake).review(one_section(), FRAMEWORK)
    assert not result.ok and "boto3 is not installed" in result.notices[0]


def test_no_model_configured_reports_unavailable(fake):
    result = engine(fake, models=()).review(one_section(), FRAMEWORK)
    assert not result.ok and "no AI model is configured" in result.notices[0]


def test_request_bedrock_refuses_skips_the_section_only(fake):
    fake.script(A, error(400, "ValidationException", "Input is too long for requested model."))
    result = engine(fake).review(write_up(), FRAMEWORK)
    assert result.ok and not fake.calls_to(B)
    assert len(result.findings) == 2
    (notice,) = result.notices
    assert "skipped section" in notice and "Input is too long" in notice


def test_no_reviewable_text_makes_no_call(fake):
    result = engine(fake).review(document(("Background", "background", ["  "])), FRAMEWORK)
    assert result.ok and result.findings == () and fake.calls == []


# --- invalid answers ------------------------------------------------------------------------------


def test_malformed_answer_is_retried_once_then_the_section_is_skipped(fake):
    fake.script(A, then="malformed")
    result = engine(fake).review(one_section(), FRAMEWORK)
    assert len(fake.calls_to(A)) == 2 and not fake.calls_to(B)
    assert result.ok and result.findings == () and result.usage["models"] == [A]
    assert result.notices == (
        "AI review skipped section 'Background': the model's answer did not fit the findings "
        "schema twice.",
    )
    retry = fake.calls_to(A)[1].body["messages"]
    assert [m["role"] for m in retry] == ["user", "assistant", "user"]
    feedback = retry[2]["content"][0]["toolResult"]
    assert feedback["status"] == "error" and "type must be one of" in feedback["content"][0]["text"]


def test_malformed_answer_then_a_good_one_is_used(fake):
    fake.script(A, "malformed")
    result = engine(fake).review(one_section(), FRAMEWORK)
    assert len(fake.calls_to(A)) == 2 and result.notices == () and len(result.findings) == 2


def test_answer_without_the_tool_is_sent_back(fake):
    fake.script(A, "text")
    result = engine(fake).review(one_section(), FRAMEWORK)
    retry = fake.calls_to(A)[1].body["messages"]
    assert "must call the report_findings tool" in retry[2]["content"][0]["text"]
    assert result.findings and result.notices == ()


def test_invented_quote_anchors_to_the_section_and_says_so(fake):
    fake.script(A, then="invented")
    doc = one_section()
    (finding,) = engine(fake).review(doc, FRAMEWORK).findings
    assert finding.span is None and finding.section_id == doc.sections[0].id
    assert finding.description.endswith(QUOTE_NOT_FOUND)


def test_quote_with_other_whitespace_and_quote_marks_maps_to_exact_offsets():
    doc = document(("Background", "background", ["Intro.", "The  alert was\u00a0raised by “Ops”."]))
    section = doc.sections[0]
    span = anchor('"alert was raised by "Ops""', section)
    paragraph = doc.paragraph(span.paragraph)
    assert span.quote == paragraph.text[span.start : span.end] == "alert was\u00a0raised by “Ops”"
    assert anchor("alert was raised by the auditors", section) is None


# --- merge ----------------------------------------------------------------------------------------


def finding(
    rule, section, span=None, checkpoints=("initial_assessment",), title="A title", engine="x"
):
    return Finding(
        id=finding_id(rule, section, span, salt=title),
        engine=engine,
        rule=rule,
        type="important",
        checkpoints=checkpoints,
        risk="medium",
        confidence=0.6,
        title=title,
        description="d",
        suggestion="",
        questions=(),
        section_id=section,
        span=span,
    )


def test_merge_drops_ai_findings_that_repeat_offline_ones():
    offline_ones = [
        finding("vague", "s1", Span(1, 0, 10, "Someone no"), title="Vague wording"),
        finding(
            "missing_owner", "s2", None, checkpoints=("decision_enforcement",), title="No owner"
        ),
    ]
    overlapping = finding("ai:initial_assessment", "s1", Span(1, 5, 20, "x"), title="Unclear who")
    same_gap = finding("ai:decision_enforcement", "s2", None, ("decision_enforcement",), "Owner?")
    same_title = finding("ai:general", "s1", None, (), title="Vague wording.")
    merged = merge(offline_ones, [overlapping, same_gap, same_title])
    assert sorted(f.id for f in merged) == sorted(f.id for f in offline_ones)


def test_merge_keeps_ai_findings_that_add_something():
    offline_ones = [finding("vague", "s1", Span(1, 0, 10, "Someone no"), title="Vague wording")]
    other_text = finding("ai:initial_assessment", "s1", Span(1, 12, 20, "x"), title="Unclear who")
    other_checkpoint = finding(
        "ai:impact", "s1", Span(1, 0, 10, "x"), ("financial_impact",), title="Amount missing"
    )
    same_title_elsewhere = finding("ai:general", "s3", None, (), title="Vague wording")
    repeated = finding("ai:initial_assessment", "s1", Span(1, 14, 18, "y"), title="Who noticed?")
    merged = merge(offline_ones, [other_text, other_checkpoint, same_title_elsewhere, repeated])
    expected = [*offline_ones, other_text, other_checkpoint, same_title_elsewhere]
    assert [f.id for f in merged] == [f.id for f in offline.order_findings(expected)]


# --- chat -----------------------------------------------------------------------------------------


def review_state(doc) -> ReviewState:
    findings = [finding("ai:general", "s2", None, (), title="Timeline starts late")]
    return ReviewState(
        id="r1",
        document=doc,
        findings=findings,
        chat=[{"message": "What is this?", "answer": "An investigation write-up."}],
    )


def test_chat_answers_with_citations_of_known_sections(fake):
    doc = write_up()
    reply = engine(fake).chat("When did it start?", review_state(doc), FRAMEWORK)
    assert reply["answer"] == "The timeline starts on 3 March 2026."
    assert reply["citations"] == [
        {"section_id": "s1", "section": "Executive Summary", "paragraph": None}
    ]
    assert reply["engine"] == A and reply["usage"]["calls"] == 1
    (call,) = fake.calls
    assert call.tool == "answer"
    assert "On 3 March 2026 the first alert fired." in call.system
    assert "Timeline starts late" in call.system
    roles = [m["role"] for m in call.body["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert call.body["messages"][-1]["content"][0]["text"] == "When did it start?"


def test_chat_falls_back_to_the_next_model(fake):
    fake.script(A, then="denied")
    reply = engine(fake).chat("When did it start?", review_state(write_up()), FRAMEWORK)
    assert reply["engine"] == B


def test_chat_raises_ai_unavailable_when_every_model_fails(fake):
    fake.script(A, then="denied")
    fake.script(B, then="unavailable")
    with pytest.raises(AIUnavailable) as caught:
        engine(fake).chat("When did it start?", review_state(write_up()), FRAMEWORK)
    assert "unavailable" in caught.value.message and A in caught.value.message


# --- settings -------------------------------------------------------------------------------------


def test_settings_from_the_environment():
    settings = AISettings.from_env(
        {
            "AIPRISM_AI_MODELS": "m1, m2",
            "AIPRISM_AI_CONCURRENCY": "8",
            "AIPRISM_AI_REGION": "eu-west-1",
        }
    )
    assert settings.models == ("m1", "m2") and settings.concurrency == 8
    assert settings.region == "eu-west-1" and settings.endpoint_url is None
    assert AISettings().price("us.anthropic.claude-sonnet-4-5-20250929-v1:0") == (0.003, 0.015)
