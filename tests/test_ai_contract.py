"""One contract for the AI engine on every wire: Bedrock Converse, the Claude Messages API and
OpenAI-compatible Chat Completions, each against a fake server speaking its real protocol.

Whatever the wire, the engine must give the same findings for the same answers, fall back down the
model list the same way, send an unusable answer back once, drop what a model invents, and never
make anything up when no model answers.
"""

from __future__ import annotations

import time

import pytest

from server.engines.ai import AIUnavailable
from server.frameworks import resolve
from server.model import Finding, finding_id
from server.review import ReviewState
from tests.ai_wires import WIRES, A, B, aws_test_env, wire
from tests.builders import document

pytestmark = pytest.mark.cloud

FRAMEWORK = resolve("investigation")
INPUT_TOKENS = 1000  # what every fake reports per call
OUTPUT_TOKENS = 200


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    aws_test_env(monkeypatch, tmp_path)


@pytest.fixture(params=WIRES)
def w(request):
    with wire(request.param) as each:
        yield each


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


def test_good_answers_give_findings_with_exact_spans(w):
    doc = write_up()
    result = w.engine().review(doc, FRAMEWORK)

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


def test_excluded_sections_are_not_sent(w):
    w.engine().review(write_up(), FRAMEWORK)
    assert len(w.fake.calls) == 2
    assert not any("someone@example.com" in w.sent(c) for c in w.fake.calls)


def test_same_answers_give_the_same_ids_on_every_wire(w):
    first = w.engine().review(write_up(), FRAMEWORK)
    second = w.engine().review(write_up(), FRAMEWORK)
    assert [f.id for f in first.findings] == [f.id for f in second.findings]


def test_prompt_carries_checkpoint_guidance_section_text_and_schema(w):
    w.engine().review(one_section(), FRAMEWORK, guidance="Always name the on-call engineer.")
    (call,) = w.fake.calls
    checkpoint = FRAMEWORK.checkpoints[0]
    assert checkpoint.good in call.system
    # a model on this computer (every fake listens on 127.0.0.1: the openai wire's is one) gets
    # the compact prompt, without each checkpoint's review instructions
    assert (checkpoint.guidance in call.system) is (w.name != "openai")
    assert "Always name the on-call engineer." in call.system
    assert "Refunds were paid twice to 40 accounts." in call.question
    assert "Section title: Background" in call.question
    assert call.tool == "report_findings"
    sent = w.sent(call)
    for c in FRAMEWORK.checkpoints:
        assert f'"{c.id}"' in sent  # the schema's checkpoint enum


def test_progress_is_reported_per_section(w):
    seen = []
    w.engine().review(write_up(), FRAMEWORK, on_progress=lambda *a: seen.append(a))
    assert [(done, total) for done, total, _ in seen] == [(1, 2), (2, 2)]
    assert {what for _, _, what in seen} == {"AI: Executive Summary", "AI: Timeline"}


def test_usage_sums_tokens_estimates_cost_and_says_where_the_document_went(w):
    usage = w.engine().review(write_up(), FRAMEWORK).usage
    assert usage["input_tokens"] == 2 * INPUT_TOKENS
    assert usage["output_tokens"] == 2 * OUTPUT_TOKENS
    assert usage["calls"] == 2 and usage["model"] == A and usage["models"] == [A]
    per_call = INPUT_TOKENS / 1000 * 0.003 + OUTPUT_TOKENS / 1000 * 0.015
    assert usage["estimated_cost_usd"] == pytest.approx(2 * per_call)
    assert usage["provider"] == w.name
    # every fake listens on 127.0.0.1: only the OpenAI-compatible wire is a local model there
    assert usage["left_machine"] is (w.name != "openai")


def test_unknown_price_gives_no_cost_estimate(w):
    usage = w.engine(prices={}).review(one_section(), FRAMEWORK).usage
    assert usage["estimated_cost_usd"] is None and usage["input_tokens"] == INPUT_TOKENS


# --- retries and fallback -------------------------------------------------------------------------


def test_throttling_is_retried_by_the_sdk_then_succeeds(w):
    w.fake.script(A, "throttle")
    result = w.engine().review(one_section(), FRAMEWORK)
    assert len(w.fake.calls_to(A)) == 2 and not w.fake.calls_to(B)
    assert result.ok and result.notices == () and result.findings


@pytest.mark.parametrize("failure", ["throttle", "error500", "unavailable"])
def test_persistent_failure_falls_back_to_the_next_model(w, failure):
    w.fake.script(A, then=failure)
    result = w.engine().review(one_section(), FRAMEWORK)
    assert len(w.fake.calls_to(A)) == 2  # the SDK's first try and one retry
    assert len(w.fake.calls_to(B)) == 1
    assert result.ok and {f.engine for f in result.findings} == {B}
    (notice,) = result.notices
    assert A in notice and "next model" in notice


def test_slow_answer_times_out_and_falls_back(w):
    w.fake.script(A, then="slow")
    started = time.monotonic()
    result = w.engine(read_timeout=0.4).review(one_section(), FRAMEWORK)
    # Did not wait for the slow answer (which would come after 30 s; closing the fake ends it).
    assert time.monotonic() - started < w.fake.slow_seconds
    assert result.ok and {f.engine for f in result.findings} == {B}
    assert "no answer within 0.4 s" in result.notices[0]


def test_model_not_available_goes_to_the_next_model_without_retrying(w):
    w.fake.script(A, then="denied")
    result = w.engine().review(write_up(), FRAMEWORK)
    assert len(w.fake.calls_to(A)) <= 2  # one per section already in flight, never retried
    assert len(w.fake.calls_to(B)) == 2
    assert result.ok and {f.engine for f in result.findings} == {B}
    assert A in result.notices[0]


def test_refused_credentials_stop_calling_and_report_unavailable(w):
    w.fake.script(A, then="auth")
    result = w.engine(concurrency=1).review(write_up(), FRAMEWORK)
    assert not result.ok and result.findings == ()
    assert len(w.fake.calls_to(A)) == 1 and not w.fake.calls_to(B)
    (notice,) = result.notices
    assert notice.startswith("AI review unavailable (") and "offline findings only" in notice


def test_all_models_failing_stops_calling_and_reports_unavailable(w):
    w.fake.script(A, then="unavailable")
    w.fake.script(B, then="unavailable")
    doc = document(*[(f"Part {n}", "other", [f"Paragraph {n} says little."]) for n in range(4)])
    result = w.engine(concurrency=1).review(doc, FRAMEWORK)
    assert not result.ok and result.findings == ()
    assert len(w.fake.calls) == 4  # two tries per model on the first section, then nothing
    (notice,) = result.notices
    assert notice.startswith("AI review unavailable (") and "offline findings only" in notice
    assert "503" in notice


def test_a_request_the_service_refuses_skips_that_section_only(w):
    too_long = {
        "bedrock": ("ValidationException", "Input is too long for requested model."),
        "anthropic": ("invalid_request_error", "prompt is too long: 250000 tokens > 200000"),
        "openai": ("invalid_request_error", "This model's maximum context length is 8192 tokens"),
    }[w.name]
    from tests import fake_anthropic, fake_bedrock, fake_openai

    fakes = {"bedrock": fake_bedrock, "anthropic": fake_anthropic, "openai": fake_openai}
    w.fake.script(A, fakes[w.name].error(400, *too_long))
    result = w.engine().review(write_up(), FRAMEWORK)
    assert result.ok and not w.fake.calls_to(B)
    assert len(result.findings) == 2
    (notice,) = result.notices
    assert "skipped section" in notice and too_long[1][:20] in notice


def test_no_reviewable_text_makes_no_call(w):
    result = w.engine().review(document(("Background", "background", ["  "])), FRAMEWORK)
    assert result.ok and result.findings == () and w.fake.calls == []


# --- answers that cannot be used as they are ------------------------------------------------------


def test_malformed_answer_is_sent_back_once_then_dropped_with_a_notice(w):
    w.fake.script(A, then="malformed")
    result = w.engine().review(one_section(), FRAMEWORK)
    assert len(w.fake.calls_to(A)) == 2 and not w.fake.calls_to(B)
    assert result.ok and result.findings == () and result.usage["models"] == [A]
    assert result.notices == (
        "AI review dropped 1 finding that did not fit the findings schema after one correction.",
    )
    retry = w.sent(w.fake.calls_to(A)[1])
    assert "That answer cannot be used" in retry and "type must be one of" in retry


def test_malformed_answer_then_a_good_one_is_used(w):
    w.fake.script(A, "malformed")
    result = w.engine().review(one_section(), FRAMEWORK)
    assert len(w.fake.calls_to(A)) == 2 and result.notices == () and len(result.findings) == 2


def test_answer_without_the_structured_input_is_sent_back(w):
    w.fake.script(A, "text")
    result = w.engine().review(one_section(), FRAMEWORK)
    retry = w.sent(w.fake.calls_to(A)[1])
    assert "must be the JSON input of the report_findings tool" in retry
    assert result.findings and result.notices == ()


def test_an_answer_cut_off_twice_skips_the_section_with_a_notice(w):
    w.fake.script(A, then="truncated")
    result = w.engine().review(one_section(), FRAMEWORK)
    assert len(w.fake.calls_to(A)) == 2 and result.findings == ()
    (notice,) = result.notices
    assert "skipped section 'Background'" in notice and "token limit" in notice


def test_a_finding_quoting_text_not_in_the_document_is_dropped_with_a_notice(w):
    w.fake.script(A, then="invented")
    result = w.engine().review(one_section(), FRAMEWORK)
    assert result.ok and result.findings == ()
    assert result.notices == (
        "AI review dropped 1 finding quoting text that is not in the document.",
    )


# --- privacy --------------------------------------------------------------------------------------


def test_masked_personal_data_never_reaches_the_wire_and_quotes_still_anchor(w):
    doc = document(
        (
            "Background",
            "background",
            ["jane.doe@example.com reported it from +44 20 7946 0958 on Monday."],
        )
    )
    result = w.engine(mask_personal_data=True).review(doc, FRAMEWORK)
    for call in w.fake.calls:
        sent = w.sent(call)
        assert "jane.doe@example.com" not in sent and "7946" not in sent
        assert "[EMAIL-1]" in sent and "[PHONE-1]" in sent
    (quoted,) = [f for f in result.findings if f.span]
    assert quoted.span.quote == "jane.doe@example.com reported it from"  # unmasked, anchored
    assert "[EMAIL-1]" not in quoted.title and "jane.doe@example.com" in quoted.title
    assert result.usage["masked"] == 2


# --- chat -----------------------------------------------------------------------------------------


def review_state(doc) -> ReviewState:
    finding = Finding(
        id="F1",
        engine="x",
        rule="ai:general",
        type="important",
        checkpoints=(),
        risk="medium",
        confidence=0.6,
        title="Timeline starts late",
        description="d",
        suggestion="",
        questions=(),
        section_id="s2",
        span=None,
    )
    return ReviewState(
        id="r1",
        document=doc,
        findings=[finding],
        chat=[{"message": "What is this?", "answer": "An investigation write-up."}],
    )


def test_chat_answers_with_citations_of_known_sections(w):
    reply = w.engine().chat("When did it start?", review_state(write_up()), FRAMEWORK)
    assert reply["answer"] == "The timeline starts on 3 March 2026."
    assert reply["citations"] == [
        {"section_id": "s1", "section": "Executive Summary", "paragraph": None}
    ]
    assert reply["engine"] == A and reply["usage"]["calls"] == 1
    (call,) = w.fake.calls
    assert call.tool == "answer"
    assert "On 3 March 2026 the first alert fired." in call.system
    assert "Timeline starts late" in call.system
    sent = w.sent(call)
    assert sent.index("What is this?") < sent.index("An investigation write-up.")
    assert sent.rindex("When did it start?") > sent.index("An investigation write-up.")


def test_chat_falls_back_to_the_next_model(w):
    w.fake.script(A, then="denied")
    reply = w.engine().chat("When did it start?", review_state(write_up()), FRAMEWORK)
    assert reply["engine"] == B


def test_chat_raises_ai_unavailable_when_every_model_fails(w):
    w.fake.script(A, then="denied")
    w.fake.script(B, then="unavailable")
    with pytest.raises(AIUnavailable) as caught:
        w.engine().chat("When did it start?", review_state(write_up()), FRAMEWORK)
    assert "unavailable" in caught.value.message and A in caught.value.message


# --- Test connection ------------------------------------------------------------------------------


def test_test_connection_reports_the_model_and_time(w):
    result = w.engine().test_connection()
    assert result["ok"] is True and result["model"] == A and result["seconds"] >= 0
    assert result["provider"] == w.name


def test_test_connection_reports_the_services_error(w):
    w.fake.script(A, then="auth")
    result = w.engine().test_connection()
    assert result["ok"] is False and result["model"] == A and result["error"]
