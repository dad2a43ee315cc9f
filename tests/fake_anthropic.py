"""A fake Anthropic API speaking the Messages wire protocol, so the official `anthropic` SDK runs
against it.

The sibling of tests/fake_bedrock.py for the same model reached directly, with the same scripted
behaviours (tests/fake_wire.py): `POST /v1/messages` is answered from a script per model id, and
`GET /v1/models` lists the models given to the constructor. The SDK (with `base_url=fake.url`)
serialises, authenticates and retries exactly as it would against api.anthropic.com; the fake
records every request with its headers, so tests can see which key was sent.

On this wire "throttle" is a 429 rate_limit_error with retry-after, "overloaded" a 529
overloaded_error (how Anthropic says it cannot serve now), "denied" and "invalid_model" a 404
not_found_error naming the model (Anthropic's answer both to a model that does not exist and to
one the key may not use), "forbidden" a 403 permission_error, "auth" a 401 authentication_error.
A request with no tools gets its JSON as text: bare under `output_config.format` (structured
outputs), else in a ```json block.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from tests import fake_wire
from tests.fake_wire import text_of

INVENTED_QUOTE = fake_wire.INVENTED_QUOTE
INPUT_TOKENS = fake_wire.INPUT_TOKENS
OUTPUT_TOKENS = fake_wire.OUTPUT_TOKENS
Reply = fake_wire.Reply


class Call(fake_wire.WireCall):
    """One request to `/v1/messages`. `headers` has lower-case names (`x-api-key`, ...)."""

    @property
    def system(self) -> str:
        return text_of(self.body.get("system", ""))

    @property
    def question(self) -> str:
        """The text of the first user turn (the section, or the chat history's first question)."""
        return fake_wire.first_user_turn(self.body.get("messages", []))

    @property
    def api_key(self) -> str:
        """The key the SDK sent: `x-api-key`, or a bearer token (`auth_token`, newer SDKs)."""
        if "x-api-key" in self.headers:
            return self.headers["x-api-key"]
        return self.headers.get("authorization", "").removeprefix("Bearer ")

    @property
    def output_schema(self) -> dict[str, Any] | None:
        """The schema of `output_config.format` (structured outputs, no tool), if given."""
        output = (self.body.get("output_config") or {}).get("format") or {}
        return output.get("schema") if output.get("type") == "json_schema" else None

    @property
    def schema(self) -> dict[str, Any] | None:
        """The input_schema of the tool the request wants called, else its output schema."""
        for tool in self.body.get("tools", []):
            if tool.get("name") == self._tool_named:
                return tool.get("input_schema")
        return self.output_schema

    @property
    def _tool_named(self) -> str | None:
        choice = self.body.get("tool_choice") or {}
        if choice.get("type") == "tool" and choice.get("name"):
            return choice["name"]
        tools = self.body.get("tools", [])
        return tools[0].get("name") if len(tools) == 1 else None

    @property
    def tool(self) -> str:
        """The tool the request forces; else its only tool; else guessed from schema or prompt."""
        return (
            self._tool_named
            or fake_wire.schema_tool(self.output_schema)
            or fake_wire.prompt_tool(
                self.system
                + "".join(text_of(m.get("content")) for m in self.body.get("messages", []))
            )
        )

    @property
    def is_retry_with_feedback(self) -> bool:
        return len(self.body.get("messages", [])) > 1 and self.tool == fake_wire.FINDINGS


Behaviour = str | Callable[[Call], Reply]


class FakeAnthropic(fake_wire.ScriptedServer[Call]):
    """`url` is the SDK's base_url (it appends /v1/messages itself)."""

    REQUEST_ID = ("request-id", "req_fake")

    def __init__(
        self,
        default: Behaviour = "good",
        slow_seconds: float = 1.0,
        *,
        models: tuple[str, ...] = ("claude-fake",),
    ):
        self.models = tuple(models)
        self.model_listings: list[dict[str, str]] = []  # the headers of each GET /v1/models
        super().__init__(BEHAVIOURS, default, slow_seconds)

    def _post(self, path: str, headers: Message, body: bytes) -> Reply:
        if urlsplit(path).path != "/v1/messages":
            return _not_found(f"Unknown route: POST {path}")
        try:
            payload = json.loads(body)
        except ValueError:
            return _error_reply(400, "invalid_request_error", "Invalid JSON body.")
        return self._reply(Call(str(payload.get("model", "")), payload, fake_wire.lower(headers)))

    def _get(self, path: str, headers: Message) -> Reply:
        if urlsplit(path).path != "/v1/models":
            return _not_found(f"Unknown route: GET {path}")
        with self._lock:
            self.model_listings.append(fake_wire.lower(headers))
        return 200, {}, model_list(self.models)


# --- answers --------------------------------------------------------------------------------------


def tool_answer(call: Call, tool_input: Any) -> Reply:
    if not call.body.get("tools"):
        if call.output_schema is not None:  # structured outputs: the text is the JSON
            content = [{"type": "text", "text": json.dumps(tool_input)}]
            return 200, {}, message_response(call.model, content, "end_turn")
        # No tool offered: the model can only write, so the JSON comes in a fenced block.
        fenced = f"Here is my answer.\n\n```json\n{json.dumps(tool_input, indent=2)}\n```\n"
        return 200, {}, message_response(call.model, [{"type": "text", "text": fenced}], "end_turn")
    block = {"type": "tool_use", "id": "toolu_fake", "name": call.tool, "input": tool_input}
    return 200, {}, message_response(call.model, [block], "tool_use")


def message_response(
    model: str, content: list[dict[str, Any]], stop_reason: str, output_tokens: int = OUTPUT_TOKENS
) -> dict[str, Any]:
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": output_tokens},
    }


def model_list(models: tuple[str, ...]) -> dict[str, Any]:
    """One page of `GET /v1/models`, every model on it."""
    data = [
        {
            "type": "model",
            "id": m,
            "display_name": m,
            "created_at": "2026-01-01T00:00:00Z",
            "lifecycle": "active",
        }
        for m in models
    ]
    return {
        "data": data,
        "has_more": False,
        "first_id": models[0] if models else None,
        "last_id": models[-1] if models else None,
    }


def _error_reply(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    return (
        status,
        dict(headers or {}),
        {"type": "error", "error": {"type": kind, "message": message}},
    )


def _not_found(message: str) -> Reply:
    return _error_reply(404, "not_found_error", message)


def error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Callable[[Call], Reply]:
    """An Anthropic error: `code` is the error type (rate_limit_error, overloaded_error, ...)."""

    def reply(call: Call) -> Reply:
        return _error_reply(status, code, message, headers)

    return reply


def paragraphs(call: Call) -> list[tuple[int, str]]:
    return fake_wire.paragraphs(call.question)


def first_checkpoint(call: Call) -> list[str]:
    """The first checkpoint id, as a one-item list (empty when the request names none)."""
    return fake_wire.schema_checkpoint(call.schema) or fake_wire.prompt_checkpoint(
        call.system + call.question
    )


def good_input(call: Call) -> dict[str, Any]:
    """fake_bedrock.good's tool input, finding for finding."""
    if call.tool == fake_wire.ANSWER:
        return fake_wire.chat_answer(call.system)
    return fake_wire.good_findings(call.question, first_checkpoint(call))


def good(call: Call) -> Reply:
    return tool_answer(call, good_input(call))


def invented(call: Call) -> Reply:
    return tool_answer(call, fake_wire.invented_findings(call.question, first_checkpoint(call)))


def malformed(call: Call) -> Reply:
    return tool_answer(call, fake_wire.malformed_findings())


def text_only(call: Call) -> Reply:
    content = [{"type": "text", "text": fake_wire.PROSE}]
    return 200, {}, message_response(call.model, content, "end_turn")


def truncated(call: Call) -> Reply:
    """Out of tokens mid-answer: a tool call gets what was parsed of its input so far; a text
    answer stops halfway through its JSON."""
    full = good_input(call)
    max_tokens = call.body.get("max_tokens", OUTPUT_TOKENS)
    if not call.body.get("tools"):
        cut = json.dumps(full)[: len(json.dumps(full)) // 2]
        text = cut if call.output_schema is not None else f"Here is my answer.\n\n```json\n{cut}"
        content = [{"type": "text", "text": text}]
        return 200, {}, message_response(call.model, content, "max_tokens", max_tokens)
    partial: dict[str, Any]
    if "findings" in full:
        first = full["findings"][0]
        partial = {"findings": [{"title": first["title"], "type": first["type"]}]}
    else:
        partial = {"answer": full["answer"][:12]}
    block = {"type": "tool_use", "id": "toolu_fake", "name": call.tool, "input": partial}
    return 200, {}, message_response(call.model, [block], "max_tokens", max_tokens)


def _model_not_found(call: Call) -> Reply:
    return _not_found(f"model: {call.model}")


BEHAVIOURS: dict[str, Callable[[Call], Reply]] = {
    "good": good,
    "invented": invented,
    "malformed": malformed,
    "text": text_only,
    "truncated": truncated,
    "throttle": error(
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit.",
        {"retry-after": "0.2", "retry-after-ms": "200"},
    ),
    "error500": error(500, "api_error", "Internal server error"),
    "unavailable": error(503, "api_error", "Service unavailable."),
    "overloaded": error(529, "overloaded_error", "Overloaded"),
    "denied": _model_not_found,
    "invalid_model": _model_not_found,
    "forbidden": error(
        403, "permission_error", "Your API key does not have permission to use this resource."
    ),
    "auth": error(401, "authentication_error", "invalid x-api-key"),
}
