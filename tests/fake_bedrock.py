"""A fake Bedrock Runtime speaking the Converse REST API, so boto3's real client runs against it.

`POST /model/{modelId}/converse` is answered from a script of behaviours per model id (see
tests/fake_wire.py); boto3 serialises, signs and retries exactly as it would against AWS, and the
fake records every request, so tests can count retries and read the prompts. Here "throttle" is a
429 ThrottlingException, "unavailable" a 503, "denied" means the model is not enabled,
"invalid_model" is a ValidationException about the model id, "auth" refuses the credentials and
"truncated" stops at maxTokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from email.message import Message
from typing import Any
from urllib.parse import unquote

from tests import fake_wire

INVENTED_QUOTE = fake_wire.INVENTED_QUOTE
INPUT_TOKENS = fake_wire.INPUT_TOKENS
OUTPUT_TOKENS = fake_wire.OUTPUT_TOKENS
Reply = fake_wire.Reply
_PATH = re.compile(r"^/model/(?P<model>[^/]+)/converse$")


class Call(fake_wire.WireCall):
    """One Converse request; `headers` keep the names as sent."""

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
        return len(self.body["messages"]) > 1 and self.tool == fake_wire.FINDINGS


Behaviour = str | Callable[[Call], Reply]


class FakeBedrock(fake_wire.ScriptedServer[Call]):
    REQUEST_ID = ("x-amzn-RequestId", "fake-request")

    def __init__(self, default: Behaviour = "good", slow_seconds: float = 1.0):
        super().__init__(BEHAVIOURS, default, slow_seconds)

    def _post(self, path: str, headers: Message, body: bytes) -> Reply:
        match = _PATH.match(path)
        if not match:
            return 404, {"x-amzn-ErrorType": "UnknownOperationException"}, {}
        return self._reply(Call(unquote(match["model"]), json.loads(body), dict(headers)))


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
    return fake_wire.paragraphs(call.question)


def first_checkpoint(call: Call) -> str:
    tool = call.body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    items = tool["properties"]["findings"]["items"]["properties"]["checkpoints"]["items"]
    return items["enum"][0]


def good_input(call: Call) -> dict[str, Any]:
    if call.tool == fake_wire.ANSWER:
        return fake_wire.chat_answer(call.system)
    return fake_wire.good_findings(call.question, [first_checkpoint(call)])


def good(call: Call) -> Reply:
    return tool_answer(call, good_input(call))


def invented(call: Call) -> Reply:
    return tool_answer(call, fake_wire.invented_findings(call.question, [first_checkpoint(call)]))


def malformed(call: Call) -> Reply:
    return tool_answer(call, fake_wire.malformed_findings())


def text_only(call: Call) -> Reply:
    response = converse_response(call.tool, {})
    response["output"]["message"]["content"] = [{"text": fake_wire.PROSE}]
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
