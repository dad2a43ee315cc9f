"""The three AI wires as the contract suite sees them: a fake server and settings pointing at it.

Each fake speaks its wire's real protocol (Converse, Messages, Chat Completions) with the same
behaviour names, so one scenario runs unchanged on every wire through the official SDK's own
serialisation, signing and retries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from server.engines.ai import AIEngine
from server.engines.ai_settings import AISettings
from tests.fake_anthropic import FakeAnthropic
from tests.fake_bedrock import FakeBedrock
from tests.fake_openai import FakeOpenAI

A = "test.model-a"
B = "test.model-b"
WIRES = ("bedrock", "anthropic", "openai")
TEST_KEY = "sk-test-contract-0123456789"


@dataclass
class Wire:
    name: str
    fake: Any
    defaults: dict[str, Any]

    def settings(self, **overrides: Any) -> AISettings:
        values = {
            "models": (A, B),
            "concurrency": 2,
            # Long enough for a loaded machine's fake to answer (a timed-out request is retried,
            # which would add to the calls the tests count); the timeout test sets its own.
            "read_timeout": 5.0,
            "connect_timeout": 0.5,
            "max_attempts": 2,
            "prices": {A: (0.003, 0.015), B: (0.001, 0.005)},
            **self.defaults,
            **overrides,
        }
        return AISettings(**values)

    def engine(self, **overrides: Any) -> AIEngine:
        return AIEngine(self.settings(**overrides))

    @staticmethod
    def sent(call: Any) -> str:
        """Everything a request carried, as text, to search for what must or must not be there."""
        return json.dumps(call.body, ensure_ascii=False)


@contextmanager
def wire(name: str, slow_seconds: float = 30.0, **fake_options: Any) -> Iterator[Wire]:
    if name == "bedrock":
        with FakeBedrock(slow_seconds=slow_seconds) as fake:
            yield Wire(
                name,
                fake,
                {"provider": "bedrock", "region": "us-east-1", "endpoint_url": fake.url},
            )
    elif name == "anthropic":
        with FakeAnthropic(slow_seconds=slow_seconds, **fake_options) as fake:
            yield Wire(
                name,
                fake,
                {"provider": "anthropic", "base_url": fake.url, "api_key": TEST_KEY},
            )
    else:
        with FakeOpenAI(slow_seconds=slow_seconds, models=(A, B), **fake_options) as fake:
            yield Wire(
                name,
                fake,
                # the contract is about the engine; test_openai_wire.py covers finding the mode
                {"provider": "openai", "base_url": fake.url + "/v1", "structured": "json_schema"},
            )


def aws_test_env(monkeypatch, tmp_path) -> None:
    """Credentials that sign requests to the fake, and nothing from the real machine's AWS set-up."""
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "ANTHROPIC_BASE_URL",
        "OPENAI_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
