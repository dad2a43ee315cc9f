"""Any OpenAI-compatible Chat Completions server through the official `openai` SDK and a base URL.

Local model servers (Ollama, LM Studio, llama.cpp, vLLM) and hosted ones differ in how they can be
held to a JSON answer, so the structured answer is asked for in the best way the server takes:
`response_format` with a JSON schema; else `{"type": "json_object", "schema": ...}` (llama.cpp's
Python server knows only that form, and answers the first with a 500); else a forced tool call;
else JSON in the text. `auto` tries them in that order on the first call to a model and keeps the
first the server accepts. Whichever is used, the engine's validation decides what counts.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any
from urllib.parse import urlsplit

from server.engines.ai_settings import AISettings
from server.engines.providers import sdk_errors
from server.engines.providers.base import (
    ModelFailed,
    Privacy,
    Reply,
    RequestFailed,
    Tool,
    Turn,
    redact,
)

log = logging.getLogger(__name__)
MODES = ("json_schema", "json_object", "tool", "text")
NO_KEY = "not-needed"  # local servers ignore the key, but the SDK refuses to start without one
# How servers refuse a request shape they do not support (llama.cpp: a 500 naming response_format),
# as opposed to refusing this request (too long for the context) or failing.
_UNSUPPORTED = (400, 422, 500, 501)
_SHAPE_WORDS = ("response_format", "json_schema", "schema", "tool", "function")


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(self, settings: AISettings):
        self.settings = settings
        self.client = sdk_errors.LazyClient(self._build_client)
        self._modes: dict[str, str] = {}  # model -> the mode the server accepted
        self._lock = threading.Lock()

    @property
    def service(self) -> str:
        return f"the model server at {self._where()}"

    @property
    def privacy(self) -> Privacy:
        if self.settings.local:
            return Privacy(f"a local model server at {self._where()}", leaves_machine=False)
        return Privacy(f"an OpenAI-compatible server at {self._where()}", leaves_machine=True)

    def _where(self) -> str:
        parts = urlsplit(self.settings.base_url or "")
        return parts.netloc or "(no URL)"

    def redact(self, text: str) -> str:
        return redact(text, self.settings.api_key)

    def _build_client(self) -> Any:
        openai = sdk_errors.import_sdk("openai")
        s = self.settings
        options = sdk_errors.client_options(openai, s)
        return openai.OpenAI(base_url=s.base_url, api_key=s.api_key or NO_KEY, **options)

    def list_models(self) -> list[str]:
        import openai

        try:
            return sorted(m.id for m in self.client().models.list())
        except openai.OpenAIError as exc:
            raise self._failed(exc) from exc

    def ask(self, model: str, system: str, turns: list[Turn], tool: Tool) -> Reply:

        client = self.client()
        with self._lock:
            known = self._modes.get(model)
        if known or self.settings.structured != "auto":
            mode = known or self.settings.structured
            return self._ask(client, mode, model, system, turns, tool, probing=False)
        # Find the mode once per model: a refusal of the shape moves to the next one, without the
        # SDK's retries (a 500 here means "not supported", not "try again").
        no_retries = client.with_options(max_retries=0)
        for mode in MODES:
            try:
                reply = self._ask(no_retries, mode, model, system, turns, tool, probing=True)
            except _Refused as refused:
                log.info(
                    "%s refused %s output (%s); trying the next way", self.service, mode, refused
                )
                continue
            with self._lock:
                self._modes[model] = mode
            log.info("%s: structured output by %s for %s", self.service, mode, model)
            return reply
        raise RequestFailed(f"{self.service} accepted no way of asking for JSON")

    def _ask(
        self,
        client: Any,
        mode: str,
        model: str,
        system: str,
        turns: list[Turn],
        tool: Tool,
        probing: bool,
    ) -> Reply:
        import openai

        try:
            response = client.chat.completions.create(
                model=model,
                messages=_messages(mode, system, turns, tool),
                max_tokens=self.settings.max_output_tokens,
                temperature=0,
                **_request(mode, tool),
            )
        except openai.APIStatusError as exc:
            if probing and mode != MODES[-1] and _refuses_shape(exc):
                raise _Refused(f"HTTP {exc.status_code}") from exc
            raise self._failed(exc) from exc
        except openai.OpenAIError as exc:
            raise self._failed(exc) from exc
        if not response.choices:
            raise ModelFailed(f"{self.service} sent an answer without a message")
        choice = response.choices[0]
        message = choice.message
        text = message.content or ""
        if mode == "tool":
            calls = [c for c in (message.tool_calls or []) if c.function.name == tool.name]
            text = calls[0].function.arguments if calls else text
        usage = response.usage
        return Reply(
            data=json_in(text),
            text=text,
            input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            truncated=choice.finish_reason == "length",
        )

    def _failed(self, exc: Exception) -> ModelFailed:
        import openai

        return sdk_errors.classify(exc, openai, self.service, self.settings.timeout, self.redact)


class _Refused(Exception):
    """The server does not take this way of asking for JSON."""


def _refuses_shape(exc: Any) -> bool:
    message = sdk_errors.server_message(exc).lower()
    return exc.status_code in _UNSUPPORTED and any(word in message for word in _SHAPE_WORDS)


def _request(mode: str, tool: Tool) -> dict[str, Any]:
    if mode == "json_schema":
        schema = {"name": tool.name, "schema": tool.schema, "strict": False}
        return {"response_format": {"type": "json_schema", "json_schema": schema}}
    if mode == "json_object":
        return {"response_format": {"type": "json_object", "schema": tool.schema}}
    if mode == "tool":
        function = {"name": tool.name, "description": tool.description, "parameters": tool.schema}
        return {
            "tools": [{"type": "function", "function": function}],
            "tool_choice": {"type": "function", "function": {"name": tool.name}},
        }
    return {}


def _messages(mode: str, system: str, turns: list[Turn], tool: Tool) -> list[dict[str, str]]:
    """The system prompt, told to write the tool's input as JSON when there is no tool call."""
    if mode != "tool":
        system += (
            f"\nHere you do not call {tool.name}: answer with only the JSON object it takes, "
            f"no other text. Its JSON schema:\n{json.dumps(tool.schema, separators=(',', ':'))}\n"
        )
    return [{"role": "system", "content": system}] + [
        {"role": t.role, "content": t.text} for t in turns
    ]


def json_in(text: str) -> Any:
    """The JSON object in a model's text: all of it, or a ```json block, or the outermost {...}."""
    text = text.strip()
    candidates = [text]
    if "```" in text:
        fenced = text.split("```")[1]
        candidates.append(fenced.removeprefix("json").strip())
    if "{" in text and "}" in text:
        candidates.append(text[text.index("{") : text.rindex("}") + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None
