"""A fake Anthropic API speaking the Messages wire protocol, so the official `anthropic` SDK runs
against it.

The sibling of tests/fake_bedrock.py for the same model reached directly: `POST /v1/messages` is
answered according to a script per model id, a list of behaviours used one per request, then a
default; `GET /v1/models` lists the models given to the constructor. The SDK serialises,
authenticates and retries exactly as it would against api.anthropic.com (give it
`base_url=fake.url`); the fake records every request with its headers, so tests can count retries,
read the prompts and see which key was sent. The behaviour names are fake_bedrock's, so one
contract suite can run the same scenarios on every wire.

Behaviours: "good" (a finding quoting the section's first paragraph, and one about the section as
a whole; or a chat answer citing the first section), "throttle" (429 rate_limit_error with
retry-after), "error500" (api_error), "unavailable" (503), "overloaded" (529 overloaded_error, which is
how Anthropic says it cannot serve now), "slow" (waits `slow_seconds`, then answers well),
"malformed" (tool input that breaks the schema), "invented" (a quote the section does not contain),
"denied" and "invalid_model" (404 not_found_error naming the model: Anthropic's answer both to a
model that does not exist and to one the key may not use), "forbidden" (403 permission_error),
"auth" (401 authentication_error), "truncated" (stop_reason "max_tokens" with a partial tool_use),
"text" (prose, no tool call), or a callable `(Call) -> (status, headers, body)`. A request with
no tools gets its JSON as text: bare under `output_config.format` (structured outputs), else in a
```json block.
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
_PARAGRAPH = re.compile(r'<p n="(\d+)">(.*?)</p>')
_SECTION_ID = re.compile(r'<section id="([^"]+)"')
_CHECKPOINT_ID = re.compile(r'<checkpoint id="([^"]+)"')
_FINDINGS = "report_findings"
_ANSWER = "answer"


def _text(content: Any) -> str:
    """A message's or system prompt's text: a plain string, or the text of its text blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


@dataclass(frozen=True)
class Call:
    """One request to `/v1/messages`. `headers` has lower-case names (`x-api-key`, ...)."""

    model: str
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def system(self) -> str:
        return _text(self.body.get("system", ""))

    @property
    def question(self) -> str:
        """The text of the first user turn (the section, or the chat history's first question)."""
        for message in self.body.get("messages", []):
            if message.get("role") == "user":
                return _text(message.get("content"))
        return ""

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
        named = self._tool_named
        if named:
            return named
        properties = (self.output_schema or {}).get("properties", {})
        if "findings" in properties:
            return _FINDINGS
        if "answer" in properties:
            return _ANSWER
        everything = self.system + "".join(
            _text(m.get("content")) for m in self.body.get("messages", [])
        )
        return _FINDINGS if _FINDINGS in everything else _ANSWER

    @property
    def is_retry_with_feedback(self) -> bool:
        return len(self.body.get("messages", [])) > 1 and self.tool == _FINDINGS


Reply = tuple[int, dict[str, str], dict[str, Any]]
Behaviour = str | Callable[[Call], Reply]


class FakeAnthropic:
    def __init__(
        self,
        default: Behaviour = "good",
        slow_seconds: float = 1.0,
        *,
        models: tuple[str, ...] = ("claude-fake",),
    ):
        self.default = default
        self.slow_seconds = slow_seconds
        self.models = tuple(models)
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
        """The SDK's base_url (it appends /v1/messages itself)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeAnthropic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeAnthropic:
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
        with self._lock:
            self.calls.append(call)
            steps = self._scripts.get(call.model)
            if steps:
                return steps.pop(0)
            return self._defaults.get(call.model, self.default)

    def _reply(self, call: Call) -> Reply:
        behaviour = self._next(call)
        if callable(behaviour):
            return behaviour(call)
        if behaviour == "slow":
            self._closing.wait(self.slow_seconds)
            behaviour = "good"
        return BEHAVIOURS[behaviour](call)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if urlsplit(self.path).path != "/v1/messages":
                    self._send(*_not_found(f"Unknown route: POST {self.path}"))
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
                if urlsplit(self.path).path != "/v1/models":
                    self._send(*_not_found(f"Unknown route: GET {self.path}"))
                    return
                with fake._lock:
                    fake.model_listings.append({k.lower(): v for k, v in self.headers.items()})
                self._send(200, {}, model_list(fake.models))

            def _send(self, status: int, headers: dict[str, str], payload: dict) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("request-id", "req_fake")
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (read timeout)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


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
    return [(int(n), text) for n, text in _PARAGRAPH.findall(call.question)]


def first_checkpoint(call: Call) -> list[str]:
    """The first checkpoint id, as a one-item list (empty when the request names none)."""
    try:
        items = call.schema["properties"]["findings"]["items"]  # type: ignore[index]
        return [items["properties"]["checkpoints"]["items"]["enum"][0]]
    except (KeyError, IndexError, TypeError):
        found = _CHECKPOINT_ID.findall(call.system + call.question)
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
    content = [{"type": "text", "text": "This section looks fine to me."}]
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


_overloaded = error(529, "overloaded_error", "Overloaded")

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
    "overloaded": _overloaded,
    "denied": _model_not_found,
    "invalid_model": _model_not_found,
    "forbidden": error(
        403, "permission_error", "Your API key does not have permission to use this resource."
    ),
    "auth": error(401, "authentication_error", "invalid x-api-key"),
}
