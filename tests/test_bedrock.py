"""The Bedrock wire's own concerns against a fake Converse server: boto3's real serialisation,
SigV4 signing and credential chain. What every wire shares is in tests/test_ai_contract.py."""

from __future__ import annotations

import sys

import pytest

from server.engines import offline
from server.engines.ai import AIEngine
from server.engines.ai_settings import AISettings
from server.engines.answers import anchor
from server.engines.merge import merge
from server.frameworks import resolve
from server.model import Finding, Span, finding_id
from tests.ai_wires import aws_test_env
from tests.builders import document
from tests.fake_bedrock import FakeBedrock

pytestmark = pytest.mark.cloud

A = "test.model-a"
B = "test.model-b"
FRAMEWORK = resolve("investigation")


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    aws_test_env(monkeypatch, tmp_path)


@pytest.fixture
def fake():
    with FakeBedrock(slow_seconds=3.0) as server:
        yield server


def engine(fake: FakeBedrock, **overrides) -> AIEngine:
    settings = {
        "provider": "bedrock",
        "models": (A, B),
        "region": "us-east-1",
        "endpoint_url": fake.url,
        "concurrency": 2,
        "read_timeout": 5.0,  # a loaded machine's fake answers well within it; a timeout retries
        "connect_timeout": 0.5,
        "max_attempts": 2,
        **overrides,
    }
    return AIEngine(AISettings(**settings))


def one_section():
    return document(("Background", "background", ["Refunds were paid twice to 40 accounts."]))


def test_request_is_a_signed_converse_call_forcing_the_tool(fake):
    engine(fake).review(one_section(), FRAMEWORK)
    (call,) = fake.calls
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


def test_missing_credentials_reports_unavailable_without_calling(fake, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = engine(fake).review(one_section(), FRAMEWORK)
    assert not result.ok and result.findings == () and fake.calls == []
    assert "credentials" in result.notices[0] and "offline findings only" in result.notices[0]


def test_without_boto3_the_review_reports_unavailable(fake, monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 now raises ImportError
    result = engine(fake).review(one_section(), FRAMEWORK)
    assert not result.ok and "boto3 is not installed" in result.notices[0]


def test_model_not_enabled_names_the_reason(fake):
    fake.script(A, then="denied")
    result = engine(fake).review(one_section(), FRAMEWORK)
    assert "not enabled for this account or region" in result.notices[0]


def test_bedrock_and_the_claude_api_share_the_claude_price_table():
    for model in ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"):
        assert AISettings().price(model) == (0.003, 0.015)


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
