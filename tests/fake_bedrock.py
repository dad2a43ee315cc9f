"""A fake Bedrock Runtime speaking the Converse REST API, so boto3's real client runs against it.

`POST /model/{modelId}/converse` is answered according to a script per model id: a list of
behaviours used one per request, then a default. boto3 serialises, signs and retries exactly as it
would against AWS; the fake records every request it receives, so tests can count retries and read
the prompts.

Behaviours: "good" (a finding quoting the section's first paragraph, and one about the section as
a whole; or a chat answer citing the first section), "throttle", "error500", "unavailable" (503),
"slow" (waits past the client's read timeout, then answers well), "malformed" (tool input that
breaks the schema), "invented" (a quote the section does not contain), "denied" (the model is not
enabled), "invalid_model" (ValidationException about the model id), "auth" (credentials refused),
"text" (no tool call), "truncated" (stopped at maxTokens), or a callable
`(Call) -> (status, headers, body)`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

INVENTED_QUOTE = "The auditors confirmed that every control worked as designed."
INPUT_TOKENS = 1000
OUTPUT_TOKENS = 200
_PARAGRAPH = re.compile(r'<p n="(\d+)">(.*?)</p>')
_SECTION_ID = re.compile(r'<section id="([^"]+)"')
_PATH = re.compile(r"^/model/(?P<model>[^/]+)/converse$")


@dataclass(frozen=True)
class Call:
    model: str
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def system(self) -> str:
        return "\n".join(b.get("text", "") for b in self.body.get("system", []))

    @property
    def question(self) -> str:
        """The text of the first user turn (the section, or the chat history's first question)."""
        for block in self.body["messages"][0]["content"]:
            if "text" in block:
                return block["text"]
        return ""

    @property
    def tool(self) -> str:
        return self.body["toolConfig"]["toolChoice"]["tool"]["name"]

    @property
    def is_retry_with_feedback(self) -> bool:
        return len(self.body["messages"]) > 1 and self.tool == "report_findings"


Reply = tuple[int, dict[str, str], dict[str, Any]]
Behaviour = str | Callable[[Call], Reply]


class FakeBedrock:
    def __init__(self, default: Behaviour = "good", slow_seconds: float = 1.0):
        self.default = default
        self.slow_seconds = slow_seconds
        self.calls: list[Call] = []
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
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeBedrock:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeBedrock:
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
                match = _PATH.match(self.path)
                if not match:
                    self._send(404, {"x-amzn-ErrorType": "UnknownOperationException"}, {})
                    return
                call = Call(unquote(match["model"]), json.loads(body), dict(self.headers))
                status, headers, payload = fake._reply(call)
                self._send(status, headers, payload)

            def _send(self, status: int, headers: dict[str, str], payload: dict) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("x-amzn-RequestId", "fake-request")
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
    return 200, {}, converse_response(call.tool, tool_input)


def converse_response(tool: str, tool_input: Any) -> dict[str, Any]:
    return {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"toolUse": {"toolUseId": "tooluse_fake", "name": tool, "input": tool_input}}
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {
            "inputTokens": INPUT_TOKENS,
            "outputTokens": OUTPUT_TOKENS,
            "totalTokens": INPUT_TOKENS + OUTPUT_TOKENS,
        },
        "metrics": {"latencyMs": 42},
    }


def error(status: int, code: str, message: str) -> Callable[[Call], Reply]:
    # botocore reads the code from x-amzn-ErrorType for rest-json; __type is the JSON-body twin.
    def reply(call: Call) -> Reply:
        return (
            status,
            {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"},
            {
                "__type": code,
                "message": message,
            },
        )

    return reply


def paragraphs(call: Call) -> list[tuple[int, str]]:
    return [(int(n), text) for n, text in _PARAGRAPH.findall(call.question)]


def first_checkpoint(call: Call) -> str:
    tool = call.body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    items = tool["properties"]["findings"]["items"]["properties"]["checkpoints"]["items"]
    return items["enum"][0]


def good(call: Call) -> Reply:
    if call.tool == "answer":
        cited = [*_SECTION_ID.findall(call.system)[:1], "s999"]
        return tool_answer(
            call, {"answer": "The timeline starts on 3 March 2026.", "citations": cited}
        )
    n, text = paragraphs(call)[0]
    quote = " ".join(text.split(" ")[:4])
    return tool_answer(
        call,
        {
            "findings": [
                {
                    "title": f"Vague opening: {quote}",
                    "type": "important",
                    "risk": "medium",
                    "checkpoints": [first_checkpoint(call)],
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
        },
    )


def invented(call: Call) -> Reply:
    return tool_answer(
        call,
        {
            "findings": [
                {
                    "title": "Controls overstated",
                    "type": "critical",
                    "risk": "high",
                    "checkpoints": [first_checkpoint(call)],
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
    response = converse_response(call.tool, {})
    response["output"]["message"]["content"] = [{"text": "This section looks fine to me."}]
    response["stopReason"] = "end_turn"
    return 200, {}, response


def truncated(call: Call) -> Reply:
    response = converse_response(call.tool, {"findings": [{"title": "Cut"}]})
    response["stopReason"] = "max_tokens"
    return 200, {}, response


BEHAVIOURS: dict[str, Callable[[Call], Reply]] = {
    "good": good,
    "truncated": truncated,
    "auth": error(403, "UnrecognizedClientException", "The security token included is invalid."),
    "invented": invented,
    "malformed": malformed,
    "text": text_only,
    "throttle": error(
        429, "ThrottlingException", "Too many requests, please wait before trying again."
    ),
    "error500": error(500, "InternalServerException", "The server encountered an internal error."),
    "unavailable": error(
        503, "ServiceUnavailableException", "Bedrock is unable to process your request."
    ),
    "denied": error(
        403,
        "AccessDeniedException",
        "You don't have access to the model with the specified model ID.",
    ),
    "invalid_model": error(400, "ValidationException", "The provided model identifier is invalid."),
}
