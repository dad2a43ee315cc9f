"""The real local model the AI tests run against: llama.cpp's server with SmolLM2-135M answers.

The server's own quirks that the engine must live with are pinned here too, so that an upgrade of
llama-cpp-python which changes them shows up as a failure in this file rather than as a puzzle in
the review tests: the JSON-schema `response_format` is refused with a 500 (which the `openai` SDK
retries), while `json_object` with a `schema` constrains the answer with a grammar.
"""

from __future__ import annotations

import json

import openai
import pytest
import requests

from tests.local_model import running_local_model

pytestmark = pytest.mark.cloud

SCHEMA = {
    "type": "object",
    "properties": {
        "findings": {
            "type": "array",
            "maxItems": 2,  # the grammar enforces these bounds, so the answer ends within max_tokens
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string", "maxLength": 60},
                    "type": {"type": "string", "enum": ["critical", "important", "suggestion"]},
                    "risk": {"type": "string", "enum": ["high", "medium", "low"]},
                    "confidence": {"type": "number"},
                    "description": {"type": "string", "maxLength": 200},
                },
                "required": ["title", "type", "risk", "confidence", "description"],
            },
        }
    },
    "required": ["findings"],
}
MESSAGES = [
    {"role": "system", "content": "You review incident write-ups. Answer with JSON findings."},
    {
        "role": "user",
        "content": '<section title="Timeline">\n<p n="3">On 3 March 2026 the first alert fired.</p>'
        "\n</section>",
    },
]


def _posts(model) -> int:
    return model.log_path.read_text(errors="replace").count('"POST /v1/chat/completions')


def test_the_local_model_lists_its_alias_and_answers_schema_constrained_json(tmp_path):
    with running_local_model(n_ctx=2048, folder=tmp_path) as model:
        listed = requests.get(f"{model.base_url}/models", timeout=10).json()
        assert [entry["id"] for entry in listed["data"]] == ["smollm2"]

        client = openai.OpenAI(base_url=model.base_url, api_key="unused", max_retries=0)
        answer = client.chat.completions.create(
            model=model.model,
            messages=MESSAGES,
            max_tokens=300,
            temperature=0,
            response_format={"type": "json_object", "schema": SCHEMA},
        )
        assert answer.choices[0].finish_reason == "stop", answer
        findings = json.loads(answer.choices[0].message.content)["findings"]
        assert len(findings) <= 2
        for finding in findings:
            assert finding["type"] in ("critical", "important", "suggestion"), finding
            assert finding["risk"] in ("high", "medium", "low"), finding
            assert len(finding["description"]) <= 200, finding
        assert answer.usage.prompt_tokens > 20 and answer.usage.completion_tokens > 0

        before = _posts(model)
        with pytest.raises(openai.InternalServerError, match="json_object") as refused:
            client.with_options(max_retries=1).chat.completions.create(
                model=model.model,
                messages=MESSAGES,
                max_tokens=20,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "report_findings", "schema": SCHEMA, "strict": True},
                },
            )
        assert refused.value.status_code == 500
        assert _posts(model) - before == 2, model.log_tail()  # the SDK retried the 500 once
