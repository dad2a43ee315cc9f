"""What the fake AI servers (fake_bedrock, fake_anthropic, fake_openai) have in common.

One contract suite runs the same scenarios on every wire, so the three fakes must answer the same
prompt with the same findings and share one behaviour vocabulary; keeping those here means they
cannot drift apart. `ScriptedServer` is the HTTP server a fake adds its routes and request parsing
to: it answers each model's requests with a script of behaviours, one per request, then a default,
and records every request as the fake's `Call`. The answer contents are functions of the prompt's
text and the requested schema; each fake wraps them in its own wire's response.

Behaviours every fake knows: "good" (a finding quoting the section's first paragraph, and one
about the section as a whole; or a chat answer citing the first section), "slow" (waits
`slow_seconds`, then answers well), "malformed" (findings that break the schema), "invented" (a
quote the section does not contain), "text" (prose, no structured answer), "truncated" (stopped at
the token limit), and errors "throttle", "error500", "unavailable", "auth", "denied",
"invalid_model". A behaviour may also be a callable `(Call) -> (status, headers, body)`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Self, TypeVar

INVENTED_QUOTE = "The auditors confirmed that every control worked as designed."
INPUT_TOKENS = 1000
OUTPUT_TOKENS = 200
PROSE = "This section looks fine to me."
FINDINGS = "report_findings"
ANSWER = "answer"
_PARAGRAPH = re.compile(r'<p n="(\d+)">(.*?)</p>')
_SECTION_ID = re.compile(r'<section id="([^"]+)"')
_CHECKPOINT_ID = re.compile(r'<checkpoint id="([^"]+)"')

Reply = tuple[int, dict[str, str], dict[str, Any]]
Behaviour = str | Callable[[Any], Reply]


@dataclass(frozen=True)
class WireCall:
    """One request to a fake; each fake's `Call` adds what its wire's body says."""

    model: str
    body: dict[str, Any]
    headers: dict[str, str]


C = TypeVar("C", bound=WireCall)


def text_of(content: Any) -> str:
    """A message's or system prompt's text: a plain string, or the text of its text blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


def first_user_turn(messages: list[dict[str, Any]]) -> str:
    """The text of the first user turn (the section, or the chat history's first question)."""
    for message in messages:
        if message.get("role") == "user":
            return text_of(message.get("content"))
    return ""


def lower(headers: Message) -> dict[str, str]:
    """Request headers with lower-case names, as the Anthropic and OpenAI fakes record them."""
    return {k.lower(): v for k, v in headers.items()}


# --- the scripted server --------------------------------------------------------------------------


class ScriptedServer(Generic[C]):
    """A local HTTP server answering each model's requests from a script of behaviours.

    A subclass gives `REQUEST_ID` (the header naming the request on its wire), `_post` (and `_get`
    if it has GET routes) to parse a request into its Call and `self._reply(call)` it, and the
    named behaviours it knows.
    """

    REQUEST_ID: tuple[str, str]

    def __init__(
        self,
        behaviours: Mapping[str, Callable[[C], Reply]],
        default: Behaviour,
        slow_seconds: float,
    ):
        self.default = default
        self.slow_seconds = slow_seconds
        self.calls: list[C] = []
        self._behaviours = behaviours
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

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, model: str, *steps: Behaviour, then: Behaviour | None = None) -> None:
        """Answer `model`'s next requests with `steps`, one each, then with `then` (or the default)."""
        with self._lock:
            self._scripts[model] = list(steps)
            if then is not None:
                self._defaults[model] = then

    def calls_to(self, model: str) -> list[C]:
        with self._lock:
            return [c for c in self.calls if c.model == model]

    def _refusal(self, call: C) -> Behaviour | None:
        """The server's own answer to a request it turns away before any model sees it."""
        return None

    def _next(self, call: C) -> Behaviour:
        """The behaviour for `call`. A refusal takes no step of the script: the script is what the
        model does, and a request the server turns away never reaches the model."""
        with self._lock:
            self.calls.append(call)
            refusal = self._refusal(call)
            if refusal is not None:
                return refusal
            steps = self._scripts.get(call.model)
            if steps:
                return steps.pop(0)
            return self._defaults.get(call.model, self.default)

    def _reply(self, call: C) -> Reply:
        behaviour = self._next(call)
        if callable(behaviour):
            return behaviour(call)
        if behaviour == "slow":
            self._closing.wait(self.slow_seconds)
            behaviour = "good"
        return self._behave(behaviour, call)

    def _behave(self, name: str, call: C) -> Reply:
        return self._behaviours[name](call)

    def _post(self, path: str, headers: Message, body: bytes) -> Reply:
        raise NotImplementedError

    def _get(self, path: str, headers: Message) -> Reply | None:
        """The answer to a GET, or None if the wire has no GET routes (501, as for any method
        the server does not implement)."""
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._send(*fake._post(self.path, self.headers, body))

            def do_GET(self) -> None:
                reply = fake._get(self.path, self.headers)
                if reply is None:
                    self.send_error(
                        HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})"
                    )
                    return
                self._send(*reply)

            def _send(self, status: int, headers: dict[str, str], payload: dict) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header(*fake.REQUEST_ID)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (read timeout)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


# --- answer contents ------------------------------------------------------------------------------


def paragraphs(section: str) -> list[tuple[int, str]]:
    """The numbered paragraphs of a section message: (n, text)."""
    return [(int(n), text) for n, text in _PARAGRAPH.findall(section)]


def schema_checkpoint(schema: Any) -> list[str]:
    """The first checkpoint id a findings schema allows, as a one-item list (empty if none)."""
    try:
        items = schema["properties"]["findings"]["items"]
        return [items["properties"]["checkpoints"]["items"]["enum"][0]]
    except (KeyError, IndexError, TypeError):
        return []


def prompt_checkpoint(prompt: str) -> list[str]:
    """The first checkpoint id the prompt names, as a one-item list (empty if none)."""
    return _CHECKPOINT_ID.findall(prompt)[:1]


def schema_tool(schema: dict[str, Any] | None) -> str | None:
    """The structured answer a schema describes: FINDINGS, ANSWER, or None if it says neither."""
    properties = (schema or {}).get("properties", {})
    if "findings" in properties:
        return FINDINGS
    if "answer" in properties:
        return ANSWER
    return None


def prompt_tool(prompt: str) -> str:
    """The structured answer a prompt asks for, when nothing else says."""
    return FINDINGS if FINDINGS in prompt else ANSWER


def chat_answer(system: str) -> dict[str, Any]:
    """A chat answer citing the first section of the document in `system`, and one that is not."""
    cited = [*_SECTION_ID.findall(system)[:1], "s999"]
    return {"answer": "The timeline starts on 3 March 2026.", "citations": cited}


def good_findings(section: str, checkpoints: list[str]) -> dict[str, Any]:
    """A finding quoting the section's first paragraph, and one about the section as a whole."""
    n, text = paragraphs(section)[0]
    quote = " ".join(text.split(" ")[:4])
    return {
        "findings": [
            {
                "title": f"Vague opening: {quote}",
                "type": "important",
                "risk": "medium",
                "checkpoints": checkpoints,
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


def invented_findings(section: str, checkpoints: list[str]) -> dict[str, Any]:
    """A finding quoting INVENTED_QUOTE, which the section does not contain."""
    return {
        "findings": [
            {
                "title": "Controls overstated",
                "type": "critical",
                "risk": "high",
                "checkpoints": checkpoints,
                "confidence": 0.9,
                "description": "The section claims every control worked.",
                "quote": INVENTED_QUOTE,
                "paragraph": paragraphs(section)[0][0],
            }
        ]
    }


def malformed_findings() -> dict[str, Any]:
    """A finding that breaks the findings schema."""
    return {"findings": [{"title": "", "type": "catastrophic", "confidence": "very"}]}
