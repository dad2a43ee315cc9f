"""A fake OpenAI-compatible server speaking Chat Completions, so the official `openai` SDK runs
against it.

The sibling of tests/fake_bedrock.py for local and hosted models behind the OpenAI wire (llama.cpp,
llama-cpp-python, vLLM, LM Studio, Ollama): `POST /v1/chat/completions` is answered according to a
script per model id, a list of behaviours used one per request, then a default; `GET /v1/models`
lists the models given to the constructor. The SDK (with `base_url=fake.url + "/v1"`) serialises,
authenticates and retries as it would against a real server; the fake records every request with
its headers and the structured-output mode it asked for, so tests can count retries and fallbacks.

Such servers differ mostly in how they can be made to answer in JSON, so that is what the
constructor varies: `json_schema` (response_format {"type": "json_schema"}; without it the request
fails with HTTP 500 as llama-cpp-python's server does), `json_object` (plain JSON mode; without it a
400, as LM Studio answers), `json_object_schema` (llama-cpp-python's {"type": "json_object",
"schema": ...}; without it the schema is ignored, as vLLM does) and `tools` (forced function calls;
without them a 400). A request with none of these is answered in prose with a ```json block, the
way a model asked nicely in the prompt answers. The behaviour names are fake_bedrock's, so one
contract suite can run the same scenarios on every wire.

Behaviours: "good" (a finding quoting the section's first paragraph, and one about the section as
a whole; or a chat answer citing the first section), "throttle" (429 with retry-after),
"error500", "unavailable" (503), "slow" (waits `slow_seconds`, then answers well), "malformed"
(JSON that breaks the schema), "invented" (a quote the section does not contain), "denied" and
"invalid_model" (404 model_not_found), "forbidden" (403), "auth" (401 invalid_api_key),
"truncated" (finish_reason "length", the JSON cut off), "text" (prose, no JSON at all), or a
callable `(Call) -> (status, headers, body)`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

INVENTED_QUOTE = "The auditors confirmed that every control worked as designed."
INPUT_TOKENS = 1000
OUTPUT_TOKENS = 200
CREATED = 1767225600  # 2026-01-01, so answers are the same every run
_PARAGRAPH = re.compile(r'<p n="(\d+)">(.*?)</p>')
_SECTION_ID = re.compile(r'<section id="([^"]+)"')
_CHECKPOINT_ID = re.compile(r'<checkpoint id="([^"]+)"')
_FINDINGS = "report_findings"
_ANSWER = "answer"


def _text(content: Any) -> str:
    """A message's text: a plain string, or the text of its content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


@dataclass(frozen=True)
class Call:
    """One request to `/v1/chat/completions`. `headers` has lower-case names (`authorization`)."""

    model: str
    body: dict[str, Any]
    headers: dict[str, str]

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
            _text(m.get("content"))
            for m in self.messages
            if m.get("role") in ("system", "developer")
        )

    @property
    def question(self) -> str:
        """The text of the first user turn (the section, or the chat history's first question)."""
        for message in self.messages:
            if message.get("role") == "user":
                return _text(message.get("content"))
        return ""

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
        if named:
            return named
        properties = (self.schema or {}).get("properties", {})
        if "findings" in properties:
            return _FINDINGS
        if "answer" in properties:
            return _ANSWER
        everything = "".join(_text(m.get("content")) for m in self.messages)
        return _FINDINGS if _FINDINGS in everything else _ANSWER

    @property
    def is_retry_with_feedback(self) -> bool:
        turns = [m for m in self.messages if m.get("role") not in ("system", "developer")]
        return len(turns) > 1 and self.tool == _FINDINGS


Reply = tuple[int, dict[str, str], dict[str, Any]]
Behaviour = str | Callable[[Call], Reply]


class FakeOpenAI:
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
        self.default = default
        self.slow_seconds = slow_seconds
        self.models = tuple(models)
        self.json_schema = json_schema
        self.json_object = json_object
        self.json_object_schema = json_object_schema
        self.tools = tools
        self.calls: list[Call] = []
        self.model_listings: list[dict[str, str]] = []  # the headers of each GET /v1/models
        self._scripts: dict[str, list[Behaviour]] = {}
        self._defaults: dict[str, Behaviour] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """The server's root; the SDK's base_url is this plus "/v1"."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, model: str, *steps: Behaviour, then: Behaviour | None = None) -> None:
        """Answer `model`'s next requests with `steps`, one each, then with `then` (or the default)."""
        with self._lock:
            self._scripts[model] = list(steps)
            if then is not None:
                self._defaults[model] = then

    def calls_to(self, model: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.model == model]

    def _next(self, call: Call) -> Behaviour:
        """The behaviour for `call`: the server's refusal if it cannot honour the request's mode.

        A refusal takes no step of the script: the script is what the model does, and a request
        the server turns away never reaches the model.
        """
        with self._lock:
            self.calls.append(call)
            refusal = self._refusal(call)
            if refusal is not None:
                return refusal
            steps = self._scripts.get(call.model)
            if steps:
                return steps.pop(0)
            return self._defaults.get(call.model, self.default)

    def _refusal(self, call: Call) -> Callable[[Call], Reply] | None:
        if call.mode == "tool" and not self.tools:
            return unsupported_tools
        if call.mode == "json_schema" and not self.json_schema:
            return unsupported_json_schema
        if call.mode == "json_object" and not self.json_object:
            return unsupported_json_object
        return None

    def _reply(self, call: Call) -> Reply:
        behaviour = self._next(call)
        if callable(behaviour):
            return behaviour(call)
        if behaviour == "slow":
            self._closing.wait(self.slow_seconds)
            behaviour = "good"
        if call.mode == "json_object" and not self.json_object_schema:
            call = _without_schema(call)
        return BEHAVIOURS[behaviour](call)

    def _model_list(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": CREATED, "owned_by": "fake"}
                for m in self.models
            ],
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path = urlsplit(self.path).path.rstrip("/")
                if path != "/v1/chat/completions":
                    self._send(*_route_not_found("POST", self.path))
                    return
                try:
                    payload = json.loads(body)
                except ValueError:
                    self._send(*_error_reply(400, "invalid_request_error", "Invalid JSON body."))
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                call = Call(str(payload.get("model", "")), payload, headers)
                self._send(*fake._reply(call))

            def do_GET(self) -> None:
                if urlsplit(self.path).path.rstrip("/") != "/v1/models":
                    self._send(*_route_not_found("GET", self.path))
                    return
                with fake._lock:
                    fake.model_listings.append({k.lower(): v for k, v in self.headers.items()})
                self._send(200, {}, fake._model_list())

            def _send(self, status: int, headers: dict[str, str], payload: dict) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("x-request-id", "req_fake")
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (read timeout)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


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
    return [(int(n), text) for n, text in _PARAGRAPH.findall(call.question)]


def first_checkpoint(call: Call) -> list[str]:
    """The first checkpoint id, as a one-item list (empty when the request names none)."""
    try:
        items = call.schema["properties"]["findings"]["items"]  # type: ignore[index]
        return [items["properties"]["checkpoints"]["items"]["enum"][0]]
    except (KeyError, IndexError, TypeError):
        found = _CHECKPOINT_ID.findall("".join(_text(m.get("content")) for m in call.messages))
        return found[:1]


def good_input(call: Call) -> dict[str, Any]:
    """fake_bedrock.good's tool input, finding for finding."""
    if call.tool == _ANSWER:
        cited = [*_SECTION_ID.findall(call.system)[:1], "s999"]
        return {"answer": "The timeline starts on 3 March 2026.", "citations": cited}
    n, text = paragraphs(call)[0]
    quote = " ".join(text.split(" ")[:4])
    return {
        "findings": [
            {
                "title": f"Vague opening: {quote}",
                "type": "important",
                "risk": "medium",
                "checkpoints": first_checkpoint(call),
                "confidence": 0.7,
                "description": "The opening words do not say who detected the issue.",
                "suggestion": "Name the team that detected it.",
                "questions": ["Who raised the alert?"],
                "quote": quote,
                "paragraph": n,
            },
            {
                "title": "No severity rationale",
                "type": "suggestion",
                "risk": "low",
                "checkpoints": [],
                "confidence": 0.5,
                "description": "The section does not say why the severity was chosen.",
            },
        ]
    }


def good(call: Call) -> Reply:
    return tool_answer(call, good_input(call))


def invented(call: Call) -> Reply:
    return tool_answer(
        call,
        {
            "findings": [
                {
                    "title": "Controls overstated",
                    "type": "critical",
                    "risk": "high",
                    "checkpoints": first_checkpoint(call),
                    "confidence": 0.9,
                    "description": "The section claims every control worked.",
                    "quote": INVENTED_QUOTE,
                    "paragraph": paragraphs(call)[0][0],
                }
            ]
        },
    )


def malformed(call: Call) -> Reply:
    return tool_answer(
        call, {"findings": [{"title": "", "type": "catastrophic", "confidence": "very"}]}
    )


def text_only(call: Call) -> Reply:
    message = {"role": "assistant", "content": "This section looks fine to me."}
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
