"""A real model answers: a short write-up reviewed end to end through the `openai` provider against
llama.cpp's server running SmolLM2-135M on this machine.

The little model is exactly what a real provider must survive: its server refuses the JSON-schema
`response_format` with a 500, it invents quotes, runs into its token limit and misfiles fields.
Nothing here asserts what the model finds; it asserts what the engine guarantees whatever the
model does: the server really answered (tokens counted), every finding kept quotes text that is
in the document, what was dropped is said in a notice, and the review finishes; then it answers a
question about the document.
"""

from __future__ import annotations

import pytest

from server.documents import load_document
from server.engines.ai import AIEngine
from server.engines.ai_settings import AISettings
from server.engines.merge import merge
from server.engines.offline import review as offline_review
from server.frameworks import resolve
from server.review import ReviewState
from server.samples import SHORT_WRITE_UP_MD as WRITE_UP

pytestmark = pytest.mark.cloud

FRAMEWORK = resolve("investigation")


def test_a_short_write_up_is_reviewed_by_a_real_local_model(local_model):
    document = load_document(WRITE_UP.encode(), "refunds.md", FRAMEWORK)
    ai = AISettings(
        provider="openai",
        base_url=local_model.base_url,
        models=(local_model.model,),
        max_output_tokens=320,  # the 135M model writes about 20 tokens/s here: bound each answer
        concurrency=1,
    )
    engine = AIEngine(ai)
    result = engine.review(document, FRAMEWORK)

    usage = result.usage
    assert result.ok, result.notices
    assert usage["calls"] >= 3 and usage["input_tokens"] > 1000 and usage["output_tokens"] > 0
    assert usage["models"] == [local_model.model] and usage["estimated_cost_usd"] == 0
    assert usage["left_machine"] is False
    texts = {p.index: p.text for p in document.paragraphs}
    for finding in result.findings:
        assert finding.engine == local_model.model and finding.rule.startswith("ai:")
        if finding.span:
            paragraph = texts[finding.span.paragraph]
            assert paragraph[finding.span.start : finding.span.end] == finding.span.quote
    # everything the model got wrong is accounted for in a notice, nothing silently vanishes
    for notice in result.notices:
        assert notice.startswith(("AI review dropped", "AI review skipped section")), notice
    merged = merge(offline_review(document, FRAMEWORK).findings, result.findings)
    assert len(merged) >= len(offline_review(document, FRAMEWORK).findings)

    # and it answers a question about the document, citing only sections that exist
    state = ReviewState(id="r1", document=document, findings=list(merged))
    reply = engine.chat("When were refunds paused?", state, FRAMEWORK)
    assert reply["engine"] == local_model.model and reply["answer"].strip()
    assert reply["usage"]["calls"] >= 1 and reply["usage"]["input_tokens"] > 0
    known = {s.id for s in document.sections}
    assert {c["section_id"] for c in reply["citations"]} <= known
