"""Claude on Amazon Bedrock through the Converse API: the company's cloud, with its AWS credentials.

Throttling and transient errors are absorbed by botocore's adaptive retry mode, one client per model
because the mode's rate limiter lives in the client and Bedrock's quotas are per model: a throttled
model must not slow down its fallback. boto3 is imported on first use, so the desktop starts
without it.
"""

from __future__ import annotations

import threading
from typing import Any

from server import __version__
from server.engines.ai_settings import DEFAULT_REGION, AISettings
from server.engines.providers.base import Privacy, Reply, StopCalling, Tool, Turn
from server.engines.providers.bedrock_errors import ModelFailed, classify


class BedrockProvider:
    name = "bedrock"

    def __init__(self, settings: AISettings, client: Any = None):
        """`client`: a ready bedrock-runtime client for every model (else built on first use)."""
        self.settings = settings
        self._shared = client
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def privacy(self) -> Privacy:
        region = self.settings.region or DEFAULT_REGION
        return Privacy(f"Amazon Bedrock ({region})", leaves_machine=True)

    def list_models(self) -> list[str]:
        return list(self.settings.models)

    def redact(self, text: str) -> str:
        return text  # AWS credentials never appear in botocore's error messages

    def client(self, model: str) -> Any:
        """The bedrock-runtime client for `model`; raises StopCalling when it cannot be built."""
        if self._shared is not None:
            return self._shared
        with self._lock:
            if model not in self._clients:
                self._clients[model] = self._build_client()
            return self._clients[model]

    def _build_client(self) -> Any:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise StopCalling(
                "boto3 is not installed; install AI-Prism with its 'cloud' extra"
            ) from None
        s = self.settings
        try:
            session = boto3.Session(profile_name=s.profile) if s.profile else boto3.Session()
            return session.client(
                "bedrock-runtime",
                region_name=s.region or session.region_name or DEFAULT_REGION,
                endpoint_url=s.endpoint_url,
                config=Config(
                    retries={"mode": "adaptive", "total_max_attempts": s.max_attempts},
                    read_timeout=s.timeout,
                    connect_timeout=s.connect_timeout,
                    max_pool_connections=max(10, s.sections_at_once),
                    user_agent_extra=f"ai-prism/{__version__}",
                ),
            )
        except Exception as exc:
            raise classify(exc, s.timeout) from exc

    def ask(self, model: str, system: str, turns: list[Turn], tool: Tool) -> Reply:
        client = self.client(model)
        try:
            response = client.converse(
                modelId=model,
                system=[{"text": system}],
                messages=[{"role": t.role, "content": [{"text": t.text}]} for t in turns],
                toolConfig={
                    "tools": [
                        {
                            "toolSpec": {
                                "name": tool.name,
                                "description": tool.description,
                                "inputSchema": {"json": tool.schema},
                            }
                        }
                    ],
                    "toolChoice": {"tool": {"name": tool.name}},
                },
                inferenceConfig={"maxTokens": self.settings.max_output_tokens, "temperature": 0},
            )
        except ModelFailed:
            raise
        except Exception as exc:
            raise classify(exc, self.settings.timeout) from exc
        usage = response.get("usage") or {}
        content = ((response.get("output") or {}).get("message") or {}).get("content") or []
        data = next(
            (
                b["toolUse"].get("input")
                for b in content
                if b.get("toolUse") and b["toolUse"].get("name") == tool.name
            ),
            None,
        )
        return Reply(
            data=data,
            text="\n".join(b["text"] for b in content if b.get("text")),
            input_tokens=int(usage.get("inputTokens", 0)),
            output_tokens=int(usage.get("outputTokens", 0)),
            truncated=response.get("stopReason") == "max_tokens",
        )
