"""How the AI engine is configured: which provider, which models, and each wire's limits.

One value for every form of the product. Hosted, `aiprism serve` and the CLI read it from
`AIPRISM_AI_*` variables (`from_env`, every problem listed at once); the desktop builds it from the
Settings page (server/ai_choice.py). Defaults differ per provider because the wires differ: a local
model server takes one request at a time and answers slowly, a cloud API many and quickly.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit

from server.errors import SettingsProblems

PROVIDERS = ("bedrock", "anthropic", "openai")
PROVIDER_NAMES = {
    "bedrock": "Amazon Bedrock",
    "anthropic": "Claude API",
    "openai": "OpenAI-compatible server",
}
DEFAULT_MODELS: dict[str, tuple[str, ...]] = {
    "bedrock": (
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    ),
    "anthropic": ("claude-sonnet-4-5", "claude-haiku-4-5"),
    "openai": (),  # a local server serves whatever it loaded: the model must be named
}
DEFAULT_REGION = "us-east-1"  # the us.* inference profiles above are served from US regions
# Estimated on-demand prices in USD per 1,000 tokens (input, output), matched as a substring of the
# model id, so one table serves the Claude API ("claude-sonnet-4-5") and Bedrock
# ("us.anthropic.claude-sonnet-4-5-20250929-v1:0"), which charge the same on demand. Estimates only,
# for the "about how much did this cost" line; check the providers' pricing pages.
CLAUDE_PRICES: dict[str, tuple[float, float]] = {
    "claude-sonnet-4-5": (0.003, 0.015),
    "claude-sonnet-4": (0.003, 0.015),
    "claude-3-7-sonnet": (0.003, 0.015),
    "claude-3-5-sonnet": (0.003, 0.015),
    "claude-haiku-4-5": (0.001, 0.005),
    "claude-3-5-haiku": (0.0008, 0.004),
    "claude-3-haiku": (0.00025, 0.00125),
    "claude-opus-4-5": (0.005, 0.025),
    "claude-opus-4-1": (0.015, 0.075),
    "claude-opus-4": (0.015, 0.075),
}
# Sections reviewed at once. A local server (llama.cpp, Ollama, LM Studio) runs on the laptop's own
# cores, usually one request at a time: more only wait in its queue, against the read timeout
# (`make bench-ai` on llama.cpp's server: two at once finished no sooner than one).
LOCAL_CONCURRENCY = 1
CLOUD_CONCURRENCY = 4
LOCAL_READ_TIMEOUT = 300.0  # a laptop writes a section's findings at a few tokens per second
CLOUD_READ_TIMEOUT = 90.0  # a long section's findings can take a minute to write
LOCAL_CHAT_CHARS = 8_000
CLOUD_CHAT_CHARS = 60_000
STRUCTURED_MODES = ("auto", "json_schema", "json_object", "tool", "text")
MAX_CONCURRENCY = 64


class AIConfigError(SettingsProblems):
    """The AI configuration cannot work."""

    code = "ai_config"


@dataclass(frozen=True)
class AISettings:
    provider: str = "bedrock"
    models: tuple[str, ...] = ()  # in fallback order; () = the provider's defaults
    base_url: str | None = None  # openai: the server's /v1 URL; anthropic: a proxy (else the SDK's)
    api_key: str | None = field(default=None, repr=False)  # None: the SDK's own variable, if any
    region: str | None = None  # bedrock; None: the profile's or environment's region
    profile: str | None = None  # bedrock: AWS profile name; None: the normal credential chain
    endpoint_url: str | None = (
        None  # bedrock; None: boto3's default, AWS_ENDPOINT_URL_BEDROCK_RUNTIME
    )
    concurrency: int | None = (
        None  # None: LOCAL_CONCURRENCY on this machine, else CLOUD_CONCURRENCY
    )
    read_timeout: float | None = None  # None: LOCAL_READ_TIMEOUT or CLOUD_READ_TIMEOUT
    connect_timeout: float = 10.0
    max_attempts: int = 4  # per call, first try included
    max_output_tokens: int = 4096
    structured: str = "auto"  # openai: how to ask for JSON (auto tries the best the server takes)
    mask_personal_data: bool = False  # mask e-mails, phones, account numbers before sending
    guidance_chars: int = 6000  # budget for the team's guidance sent with every section
    chat_context_chars: int | None = None  # document text sent with a chat question; None:
    # LOCAL_CHAT_CHARS on this computer (a local model's context is small), else CLOUD_CHAT_CHARS
    prices: Mapping[str, tuple[float, float]] | None = None  # None: CLAUDE_PRICES, or free if local

    def __post_init__(self) -> None:
        if not self.models:
            object.__setattr__(self, "models", DEFAULT_MODELS.get(self.provider, ()))

    @property
    def local(self) -> bool:
        """True when the document stays on this computer (an OpenAI-compatible server on loopback)."""
        return self.provider == "openai" and is_loopback_url(self.base_url or "")

    def _here_or_cloud(self, chosen: Any, local: Any, cloud: Any) -> Any:
        """`chosen` when set, else the default for a model on this computer or in a cloud."""
        return chosen or (local if self.local else cloud)

    @property
    def sections_at_once(self) -> int:
        return self._here_or_cloud(self.concurrency, LOCAL_CONCURRENCY, CLOUD_CONCURRENCY)

    @property
    def timeout(self) -> float:
        return self._here_or_cloud(self.read_timeout, LOCAL_READ_TIMEOUT, CLOUD_READ_TIMEOUT)

    @property
    def chat_chars(self) -> int:
        return self._here_or_cloud(self.chat_context_chars, LOCAL_CHAT_CHARS, CLOUD_CHAT_CHARS)

    @property
    def chat_findings(self) -> int:
        """How many findings a chat question carries (a tenth of the characters' worth)."""
        return max(10, self.chat_chars // 300)

    def price(self, model: str) -> tuple[float, float] | None:
        """USD per 1,000 tokens (input, output); None when unknown, (0, 0) on this computer."""
        if self.prices is None and self.local:
            return (0.0, 0.0)
        prices = CLAUDE_PRICES if self.prices is None else self.prices
        matches = [key for key in prices if key in model]
        return prices[max(matches, key=len)] if matches else None

    def key(self) -> tuple:
        """Every field, hashable: two settings that differ anywhere get engines of their own."""
        return tuple(
            tuple(sorted(value.items())) if isinstance(value, Mapping) else value
            for value in (getattr(self, f.name) for f in fields(self))
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str], default_provider: str = "off") -> AISettings | None:
        """Settings from AIPRISM_AI_* variables, None when the provider is off.

        Raises AIConfigError listing every problem. `default_provider` applies when
        AIPRISM_AI_PROVIDER is unset (hosted keeps its Bedrock default; elsewhere AI is opt-in).
        """
        problems: list[str] = []
        provider = _provider(env, default_provider, problems)
        if provider == "off":
            if problems:
                raise AIConfigError(problems)
            return None
        values: dict[str, Any] = {"provider": provider}
        if env.get("AIPRISM_AI_MODELS"):
            models = tuple(m.strip() for m in env["AIPRISM_AI_MODELS"].split(",") if m.strip())
            if models:
                values["models"] = models
            else:
                problems.append(f"AIPRISM_AI_MODELS names no model: {env['AIPRISM_AI_MODELS']!r}.")
        for name, key in (
            ("AIPRISM_AI_BASE_URL", "base_url"),
            ("AIPRISM_AI_REGION", "region"),
            ("AIPRISM_AI_ENDPOINT_URL", "endpoint_url"),
            ("AIPRISM_AI_PROFILE", "profile"),
        ):
            if env.get(name, "").strip():
                values[key] = env[name].strip()
        values["api_key"] = _api_key(env, provider)
        values.update(limits_from_env(env, problems))
        structured = env.get("AIPRISM_AI_STRUCTURED", "").strip().lower()
        if structured:
            values["structured"] = structured
        mask = env.get("AIPRISM_AI_MASK_PERSONAL_DATA", "").strip().lower()
        if mask:
            if mask not in ("1", "0", "true", "false", "on", "off", "yes", "no"):
                problems.append(f"AIPRISM_AI_MASK_PERSONAL_DATA must be 1 or 0, not {mask!r}.")
            values["mask_personal_data"] = mask in ("1", "true", "on", "yes")
        settings = cls(**values)
        problems += settings.problems(env_names=True)
        if problems:
            raise AIConfigError(problems)
        return settings

    def problems(self, env_names: bool = False) -> list[str]:
        """Everything that keeps these settings from working, named as the user set it."""
        name = _names(env_names)
        found = []
        if self.provider not in PROVIDERS:
            found.append(f"{name['provider']} must be one of {', '.join(PROVIDERS)}.")
            return found
        if not self.models:
            found.append(
                f"{name['models']} must name the model to use"
                + (" (the server's /v1/models lists them)." if self.provider == "openai" else ".")
            )
        if self.provider == "openai":
            if not self.base_url:
                found.append(
                    f"{name['base_url']} must be the server's URL, for example "
                    "http://127.0.0.1:11434/v1 (Ollama) or http://127.0.0.1:8080/v1 (llama.cpp)."
                )
            elif not is_http_url(self.base_url):
                found.append(f"{name['base_url']} must be an http:// or https:// URL.")
        if self.provider == "anthropic":
            if not self.api_key:
                found.append(
                    f"{name['api_key']} is not set: the Claude API needs an API key "
                    "(from console.anthropic.com)."
                )
            if self.base_url and not is_http_url(self.base_url):
                found.append(f"{name['base_url']} must be an http:// or https:// URL.")
        if self.concurrency is not None and not 1 <= self.concurrency <= MAX_CONCURRENCY:
            found.append(f"{name['concurrency']} must be from 1 to {MAX_CONCURRENCY}.")
        if self.structured not in STRUCTURED_MODES:
            found.append(f"{name['structured']} must be one of {', '.join(STRUCTURED_MODES)}.")
        if self.max_attempts < 1 or self.max_output_tokens < 64 or self.guidance_chars < 0:
            found.append(
                f"{name['limits']}: max attempts must be at least 1, max tokens at least 64."
            )
        return found

    def with_region(self, region: str) -> AISettings:
        return self if self.region or self.provider != "bedrock" else replace(self, region=region)


def limits_from_env(env: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    """The AIPRISM_AI_* limits that apply whoever chose the provider (the desktop page too)."""
    values: dict[str, Any] = {}
    for name, key, kind in (
        ("AIPRISM_AI_CONCURRENCY", "concurrency", int),
        ("AIPRISM_AI_MAX_ATTEMPTS", "max_attempts", int),
        ("AIPRISM_AI_MAX_TOKENS", "max_output_tokens", int),
        ("AIPRISM_AI_READ_TIMEOUT", "read_timeout", float),
        ("AIPRISM_AI_GUIDANCE_CHARS", "guidance_chars", int),
    ):
        raw = env.get(name, "").strip()
        if raw:
            try:
                values[key] = kind(raw)
            except ValueError:
                problems.append(f"{name} must be a number, not {raw!r}.")
    return values


def ai_limits(env: Mapping[str, str]) -> dict[str, Any]:
    """`limits_from_env`, raising AIConfigError with every problem."""
    problems: list[str] = []
    values = limits_from_env(env, problems)
    if problems:
        raise AIConfigError(problems)
    return values


def is_loopback_url(url: str) -> bool:
    """True for http(s) URLs whose host is this machine (127.0.0.0/8, ::1, localhost)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _provider(env: Mapping[str, str], default: str, problems: list[str]) -> str:
    raw = env.get("AIPRISM_AI_PROVIDER", "").strip().lower()
    switch = env.get("AIPRISM_AI", "").strip().lower()  # the older on/off switch, still honoured
    if switch and switch not in ("on", "off"):
        problems.append(f"AIPRISM_AI must be 'on' or 'off', not {switch!r}.")
    if switch == "off":
        if raw and raw != "off":
            problems.append(f"AIPRISM_AI=off and AIPRISM_AI_PROVIDER={raw} disagree; set one.")
        return "off"
    if not raw:
        return "bedrock" if switch == "on" and default == "off" else default
    if raw not in (*PROVIDERS, "off"):
        problems.append(
            f"AIPRISM_AI_PROVIDER must be one of bedrock, anthropic, openai or off, not {raw!r}."
        )
        return "off"
    return raw


def _api_key(env: Mapping[str, str], provider: str) -> str | None:
    own = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}.get(provider)
    key = env.get("AIPRISM_AI_API_KEY", "").strip() or (env.get(own, "").strip() if own else "")
    return key or None


def _names(env_names: bool) -> dict[str, str]:
    if env_names:
        return {
            "provider": "AIPRISM_AI_PROVIDER",
            "models": "AIPRISM_AI_MODELS",
            "base_url": "AIPRISM_AI_BASE_URL",
            "api_key": "AIPRISM_AI_API_KEY (or ANTHROPIC_API_KEY)",
            "concurrency": "AIPRISM_AI_CONCURRENCY",
            "structured": "AIPRISM_AI_STRUCTURED",
            "limits": "AIPRISM_AI_MAX_ATTEMPTS / AIPRISM_AI_MAX_TOKENS",
        }
    return {
        "provider": "The AI provider",
        "models": "The model",
        "base_url": "The server URL",
        "api_key": "The API key",
        "concurrency": "Sections at once",
        "structured": "The structured output mode",
        "limits": "The AI limits",
    }


def describe_ai(ai: AISettings) -> str:
    """One line for a start-up log: provider, models in fallback order, and where (never the key)."""
    where = {
        "bedrock": f"in {ai.region or DEFAULT_REGION}",
        "anthropic": f"at {ai.base_url or 'api.anthropic.com'}",
        "openai": f"at {ai.base_url}",
    }.get(ai.provider, "")
    return f"{PROVIDER_NAMES.get(ai.provider, ai.provider)} {' > '.join(ai.models)} {where}".strip()
