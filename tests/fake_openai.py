"""A fake OpenAI-compatible server speaking Chat Completions, so the official `openai` SDK runs
against it.

The sibling of tests/fake_bedrock.py for local and hosted models behind the OpenAI wire (llama.cpp,
llama-cpp-python, vLLM, LM Studio, Ollama), with the same scripted behaviours (tests/fake_wire.py):
`POST /v1/chat/completions` is answered from a script per model id, and `GET /v1/models` lists the
models given to the constructor. The SDK (with `base_url=fake.url + "/v1"`) serialises,
authenticates and retries as it would against a real server; the fake records every request with
its headers and the structured-output mode it asked for, so tests can count retries and fallbacks.

Such servers differ mostly in how they can be made to answer in JSON, so that is what the
constructor varies: `json_schema` (response_format {"type": "json_schema"}; without it the request
fails with HTTP 500 as llama-cpp-python's server does), `json_object` (plain JSON mode; without it a
400, as LM Studio answers), `json_object_schema` (llama-cpp-python's {"type": "json_object",
"schema": ...}; without it the schema is ignored, as vLLM does) and `tools` (forced function calls;
without them a 400). A request with none of these is answered in prose with a ```json block, the
way a model asked nicely in the prompt answers. On this wire "denied" and "invalid_model" are a
404 model_not_found, "auth" a 401 invalid_api_key, "truncated" a finish_reason "length" with the
JSON cut off.
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
CREATED = 1767225600  # 2026-01-01, so answers are the same every run


class Call(fake_wire.WireCall):
    """One request to `/v1/chat/completions`. `headers` has lower-case names (`authorization`)."""

    @property
    def mode(self) -> str:
        """How the request asks for JSON: "tool", "json_schema", "json_object" or "text"."""
        if self.body.get("tools"):
            return "tool"
        kind = (self.body.get("response_format") or {}).get("type")
        if kind in ("json_schema", "json_object"):
            return kind
        return "text"

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    @property
    def system(self) -> str:
        return "\n".join(
            text_of(m.get("content"))
            for m in self.messages
            if m.get("role") in ("system", "developer")
        )

    @property
    def question(self) -> str:
        """The text of the first user turn (the section, or the chat history's first question)."""
        return fake_wire.first_user_turn(self.messages)

    @property
    def api_key(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ")

    @property
    def _forced_function(self) -> str | None:
        choice = self.body.get("tool_choice")
        if isinstance(choice, dict):
            return (choice.get("function") or {}).get("name")
        tools = self.body.get("tools") or []
        return tools[0]["function"]["name"] if len(tools) == 1 else None

    @property
    def schema(self) -> dict[str, Any] | None:
        """The JSON schema the request gives for the answer, whichever way it gives it."""
        if self.mode == "tool":
            for tool in self.body["tools"]:
                if tool.get("function", {}).get("name") == self._forced_function:
                    return tool["function"].get("parameters")
            return None
        response_format = self.body.get("response_format") or {}
        if self.mode == "json_schema":
            return (response_format.get("json_schema") or {}).get("schema")
        if self.mode == "json_object":
            return response_format.get("schema")
        return None

    @property
    def tool(self) -> str:
        """Which structured answer the request wants: "report_findings" or "answer"."""
        named = None
        if self.mode == "tool":
            named = self._forced_function
        elif self.mode == "json_schema":
            named = (self.body["response_format"].get("json_schema") or {}).get("name")
        return named or fake_wire.schema_tool(self.schema) or fake_wire.prompt_tool(self._all_text)

    @property
    def _all_text(self) -> str:
        return "".join(text_of(m.get("content")) for m in self.messages)

    @property
    def is_retry_with_feedback(self) -> bool:
        turns = [m for m in self.messages if m.get("role") not in ("system", "developer")]
        return len(turns) > 1 and self.tool == fake_wire.FINDINGS


Behaviour = str | Callable[[Call], Reply]


class FakeOpenAI(fake_wire.ScriptedServer[Call]):
    """`url` is the server's root; the SDK's base_url is this plus "/v1"."""

    REQUEST_ID = ("x-request-id", "req_fake")

    def __init__(
        self,
        default: Behaviour = "good",
        slow_seconds: float = 1.0,
        *,
        models: tuple[str, ...] = ("fake-model",),
        json_schema: bool = True,
        json_object: bool = True,
        json_object_schema: bool = True,
        tools: bool = True,
    ):
        self.models = tuple(models)
        self.json_schema = json_schema
        self.json_object = json_object
        self.json_object_schema = json_object_schema
        self.tools = tools
        self.model_listings: list[dict[str, str]] = []  # the headers of each GET /v1/models
        super().__init__(BEHAVIOURS, default, slow_seconds)

    def _refusal(self, call: Call) -> Callable[[Call], Reply] | None:
        if call.mode == "tool" and not self.tools:
            return unsupported_tools
        if call.mode == "json_schema" and not self.json_schema:
            return unsupported_json_schema
        if call.mode == "json_object" and not self.json_object:
            return unsupported_json_object
        return None

    def _behave(self, name: str, call: Call) -> Reply:
        if call.mode == "json_object" and not self.json_object_schema:
            call = _without_schema(call)
        return super()._behave(name, call)

    def _model_list(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": CREATED, "owned_by": "fake"}
                for m in self.models
            ],
        }

    def _post(self, path: str, headers: Message, body: bytes) -> Reply:
        if urlsplit(path).path.rstrip("/") != "/v1/chat/completions":
            return _route_not_found("POST", path)
        try:
            payload = json.loads(body)
        except ValueError:
            return _error_reply(400, "invalid_request_error", "Invalid JSON body.")
        return self._reply(Call(str(payload.get("model", "")), payload, fake_wire.lower(headers)))

    def _get(self, path: str, headers: Message) -> Reply:
        if urlsplit(path).path.rstrip("/") != "/v1/models":
            return _route_not_found("GET", path)
        with self._lock:
            self.model_listings.append(fake_wire.lower(headers))
        return 200, {}, self._model_list()


def _without_schema(call: Call) -> Call:
    """The request as a server that ignores json_object's "schema" sees it."""
    response_format = {k: v for k, v in call.body["response_format"].items() if k != "schema"}
    return Call(call.model, {**call.body, "response_format": response_format}, call.headers)


# --- answers --------------------------------------------------------------------------------------


def tool_answer(call: Call, data: Any) -> Reply:
    """`data` as the request's mode carries it: a tool call, a JSON message, or prose with JSON."""
    return 200, {}, completion_response(call, json.dumps(data))


def completion_response(
    call: Call, json_text: str, finish_reason: str | None = None, output_tokens: int = OUTPUT_TOKENS
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if call.mode == "tool":
        message["tool_calls"] = [
            {
                "id": "call_fake",
                "type": "function",
                "function": {"name": call.tool, "arguments": json_text},
            }
        ]
        finish_reason = finish_reason or "tool_calls"
    elif call.mode == "text":
        message["content"] = f"Here is my review of the section.\n\n```json\n{json_text}\n```\n"
    else:
        message["content"] = json_text
    return chat_completion(call.model, message, finish_reason or "stop", output_tokens)


def chat_completion(
    model: str, message: dict[str, Any], finish_reason: str, output_tokens: int = OUTPUT_TOKENS
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": INPUT_TOKENS,
            "completion_tokens": output_tokens,
            "total_tokens": INPUT_TOKENS + output_tokens,
        },
    }


def _error_reply(
    status: int,
    kind: str,
    message: str,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return status, dict(headers or {}), body


def _route_not_found(method: str, path: str) -> Reply:
    return _error_reply(404, "invalid_request_error", f"Invalid URL ({method} {path})")


def error(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    error_code: str | None = None,
) -> Callable[[Call], Reply]:
    """An OpenAI error: `code` is the error's type (server_error, ...), `error_code` its code."""

    def reply(call: Call) -> Reply:
        return _error_reply(status, code, message, error_code, headers)

    return reply


def unsupported_json_schema(call: Call) -> Reply:
    # llama-cpp-python's server on a response_format it cannot turn into a grammar.
    return (
        500,
        {},
        {
            "error": {
                "message": "Unsupported response_format type 'json_schema'",
                "type": "server_error",
            }
        },
    )


def unsupported_json_object(call: Call) -> Reply:
    return _error_reply(
        400, "invalid_request_error", "'response_format.type' must be 'json_schema' or 'text'"
    )


def unsupported_tools(call: Call) -> Reply:
    return _error_reply(400, "invalid_request_error", "tools are not supported")


def paragraphs(call: Call) -> list[tuple[int, str]]:
    return fake_wire.paragraphs(call.question)


def first_checkpoint(call: Call) -> list[str]:
    """The first checkpoint id, as a one-item list (empty when the request names none)."""
    return fake_wire.schema_checkpoint(call.schema) or fake_wire.prompt_checkpoint(call._all_text)


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
    message = {"role": "assistant", "content": fake_wire.PROSE}
    return 200, {}, chat_completion(call.model, message, "stop")


def truncated(call: Call) -> Reply:
    """Out of tokens halfway through the JSON: finish_reason "length", the text cut off."""
    full = json.dumps(good_input(call))
    max_tokens = call.body.get("max_completion_tokens") or call.body.get("max_tokens")
    response = completion_response(call, full[: len(full) // 2], "length", max_tokens or 100)
    if call.mode == "text":  # the fence never closes either
        content = response["choices"][0]["message"]["content"]
        response["choices"][0]["message"]["content"] = content.rsplit("\n```", 1)[0]
    return 200, {}, response


def _model_not_found(call: Call) -> Reply:
    return _error_reply(
        404,
        "invalid_request_error",
        f"The model `{call.model}` does not exist or you do not have access to it.",
        "model_not_found",
    )


BEHAVIOURS: dict[str, Callable[[Call], Reply]] = {
    "good": good,
    "invented": invented,
    "malformed": malformed,
    "text": text_only,
    "truncated": truncated,
    "throttle": error(
        429,
        "requests",
        "Rate limit reached for requests. Please try again in 200ms.",
        {"retry-after": "0.2", "retry-after-ms": "200"},
        error_code="rate_limit_exceeded",
    ),
    "error500": error(
        500, "server_error", "The server had an error while processing your request."
    ),
    "unavailable": error(
        503, "server_error", "The engine is currently overloaded, please try again later."
    ),
    "denied": _model_not_found,
    "invalid_model": _model_not_found,
    "forbidden": error(403, "invalid_request_error", "You are not allowed to use this model."),
    "auth": error(
        401,
        "invalid_request_error",
        "Incorrect API key provided. You can find your API key in your account settings.",
        error_code="invalid_api_key",
    ),
}
