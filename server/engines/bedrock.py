"""The AI engine: Claude on Amazon Bedrock through the Converse API, section by section.

Failures degrade in a fixed order and are always visible: botocore's adaptive retry mode absorbs
throttling and transient errors; a model that still fails (throttled, 5xx, no answer in time, not
enabled for the account) hands the remaining sections to the next model in `AISettings.models`;
when none works the review reports `ok=False` with a notice and no AI findings, and the caller shows
the offline result. A model's answer that does not fit the schema is sent back once with the
problems, then the section is skipped with a notice. Nothing here raises out of `review()`, and
nothing is made up: findings come only from a validated tool answer.

boto3 is imported on first use, so the offline desktop runs without it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from server import __version__
from server.engines import prompts
from server.engines.answers import InvalidAnswer, answer_from_tool, findings_from_answer
from server.engines.bedrock_errors import ModelFailed, RequestFailed, StopCalling, classify
from server.engines.offline import ProgressCallback, order_findings
from server.errors import AIPrismError
from server.frameworks.model import Framework
from server.model import Document, Finding, Section
from server.review import ReviewState

log = logging.getLogger(__name__)


DEFAULT_MODELS = (
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us.anthropic.claude-haiku-4-5-20251001-v1:0",
)
DEFAULT_REGION = "us-east-1"  # the us.* inference profiles above are served from US regions
# Estimated on-demand prices in USD per 1,000 tokens (input, output), matched as a substring of the
# model id. Estimates only, for the "about how much did this cost" line: batch, cached and
# provisioned prices differ, and AWS changes prices; check the Bedrock pricing page.
PRICES: dict[str, tuple[float, float]] = {
    "anthropic.claude-sonnet-4-5": (0.003, 0.015),
    "anthropic.claude-sonnet-4": (0.003, 0.015),
    "anthropic.claude-3-7-sonnet": (0.003, 0.015),
    "anthropic.claude-3-5-sonnet": (0.003, 0.015),
    "anthropic.claude-haiku-4-5": (0.001, 0.005),
    "anthropic.claude-3-5-haiku": (0.0008, 0.004),
    "anthropic.claude-3-haiku": (0.00025, 0.00125),
    "anthropic.claude-opus-4-5": (0.005, 0.025),
    "anthropic.claude-opus-4-1": (0.015, 0.075),
    "anthropic.claude-opus-4": (0.015, 0.075),
}
CHAT_HISTORY_TURNS = 3


class AIUnavailable(AIPrismError):
    """No configured model could answer; the caller falls back to the offline engine."""

    code = "ai_unavailable"
    http_status = 503


@dataclass(frozen=True)
class AISettings:
    models: tuple[str, ...] = DEFAULT_MODELS  # model or inference-profile ids, in fallback order
    region: str | None = None  # None: the profile's or environment's region, else us-east-1
    concurrency: int = 4  # sections reviewed at once
    endpoint_url: str | None = None  # None: boto3's default, or AWS_ENDPOINT_URL_BEDROCK_RUNTIME
    profile: str | None = None  # AWS profile name; None: the normal credential chain
    read_timeout: float = 90.0  # a long section's findings can take a minute to write
    connect_timeout: float = 10.0
    max_attempts: int = 4  # per call, first try included (botocore adaptive retry mode)
    max_output_tokens: int = 4096
    chat_context_chars: int = 60_000  # document text sent with a chat question
    prices: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(PRICES))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AISettings:
        """Settings from AIPRISM_AI_* variables; unset ones keep their defaults."""
        values: dict[str, Any] = {}
        if env.get("AIPRISM_AI_MODELS"):
            values["models"] = tuple(
                m.strip() for m in env["AIPRISM_AI_MODELS"].split(",") if m.strip()
            )
        for name, key in (
            ("AIPRISM_AI_REGION", "region"),
            ("AIPRISM_AI_ENDPOINT_URL", "endpoint_url"),
            ("AIPRISM_AI_PROFILE", "profile"),
        ):
            if env.get(name):
                values[key] = env[name]
        for name, key, kind in (
            ("AIPRISM_AI_CONCURRENCY", "concurrency", int),
            ("AIPRISM_AI_MAX_ATTEMPTS", "max_attempts", int),
            ("AIPRISM_AI_MAX_TOKENS", "max_output_tokens", int),
            ("AIPRISM_AI_READ_TIMEOUT", "read_timeout", float),
        ):
            if env.get(name):
                try:
                    values[key] = kind(env[name])
                except ValueError:
                    raise AIPrismError(f"{name} must be a number, not {env[name]!r}.") from None
        return cls(**values)

    def price(self, model: str) -> tuple[float, float] | None:
        matches = [key for key in self.prices if key in model]
        return self.prices[max(matches, key=len)] if matches else None


@dataclass(frozen=True)
class AIReview:
    findings: tuple[Finding, ...]
    notices: tuple[str, ...]
    # input_tokens, output_tokens, estimated_cost_usd (None: a model without a price), calls,
    # models (those that answered, in fallback order) and model (the first of them)
    usage: dict[str, Any]
    ok: bool  # False: no model worked, findings are empty, show the offline result

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(self.usage["models"])


class _Chain:
    """The fallback list shared by the section workers: which model to use now, and why not others."""

    def __init__(self, models: tuple[str, ...]):
        self._models = list(models)
        self._at = 0
        self._lock = threading.Lock()
        self.failures: list[tuple[str, str]] = []
        self.stopped: str | None = None

    def current(self) -> str | None:
        with self._lock:
            if self.stopped is None and self._at < len(self._models):
                return self._models[self._at]
            return None

    def fail(self, model: str, reason: str) -> None:
        with self._lock:
            if self._at < len(self._models) and self._models[self._at] == model:
                log.warning("AI model %s failed: %s", model, reason)
                self.failures.append((model, reason))
                self._at += 1

    def stop(self, reason: str) -> None:
        with self._lock:
            self.stopped = self.stopped or reason

    def reason(self) -> str:
        if self.stopped:
            return self.stopped
        reasons = list(dict.fromkeys(reason for _, reason in self.failures))
        if len(reasons) == 1:
            return reasons[0]
        return (
            "; ".join(f"{model}: {reason}" for model, reason in self.failures)
            or "no AI model is configured"
        )


class _Meter:
    """Tokens and calls, summed across threads; cost is estimated from `AISettings.prices`."""

    def __init__(self, settings: AISettings):
        self._settings = settings
        self._lock = threading.Lock()
        self._tokens: dict[str, list[int]] = {}
        self.calls = 0

    def add(self, model: str, usage: Mapping[str, Any]) -> None:
        with self._lock:
            self.calls += 1
            tokens = self._tokens.setdefault(model, [0, 0])
            tokens[0] += int(usage.get("inputTokens", 0))
            tokens[1] += int(usage.get("outputTokens", 0))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            answered = [m for m in self._settings.models if m in self._tokens]
            cost: float | None = 0.0
            for model, (tokens_in, tokens_out) in self._tokens.items():
                price = self._settings.price(model)
                if price is None:
                    cost = None
                elif cost is not None:
                    cost += tokens_in / 1000 * price[0] + tokens_out / 1000 * price[1]
            return {
                "input_tokens": sum(t[0] for t in self._tokens.values()),
                "output_tokens": sum(t[1] for t in self._tokens.values()),
                "estimated_cost_usd": round(cost, 6) if cost is not None else None,
                "model": answered[0] if answered else None,
                "models": answered,
                "calls": self.calls,
            }


@dataclass
class _Outcome:
    findings: tuple[Finding, ...] = ()
    notice: str | None = None


class BedrockEngine:
    def __init__(self, settings: AISettings | None = None, client: Any = None):
        """`client`: a ready bedrock-runtime client for every model (else built on first use)."""
        self.settings = settings or AISettings()
        self._shared = client
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, model: str) -> Any:
        """The bedrock-runtime client for `model`; raises StopCalling when it cannot be built.

        One client per model, because the adaptive retry mode's rate limiter lives in the client
        and Bedrock's quotas are per model: a throttled model must not slow down its fallback.
        """
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
                    read_timeout=s.read_timeout,
                    connect_timeout=s.connect_timeout,
                    max_pool_connections=max(10, s.concurrency),
                    user_agent_extra=f"ai-prism/{__version__}",
                ),
            )
        except Exception as exc:
            raise classify(exc, s.read_timeout) from exc

    # --- review ---------------------------------------------------------------------------------

    @staticmethod
    def sections_to_review(document: Document) -> list[Section]:
        return [s for s in document.sections if not s.excluded and s.text.strip()]

    def review(
        self,
        document: Document,
        framework: Framework,
        on_progress: ProgressCallback | None = None,
    ) -> AIReview:
        sections = self.sections_to_review(document)
        chain = _Chain(self.settings.models)
        meter = _Meter(self.settings)
        outcomes: list[_Outcome] = []
        if sections and (first := chain.current()) is not None:
            try:
                self.client(first)
            except ModelFailed as exc:
                chain.stop(exc.reason)
            except Exception as exc:
                log.exception("Bedrock client could not be built")
                chain.stop(f"the Bedrock client could not be built ({type(exc).__name__})")
            system = prompts.review_system_prompt(framework, document)
            tools = prompts.findings_tool(framework)
            workers = max(1, min(self.settings.concurrency, len(sections)))
            outcomes = [_Outcome() for _ in sections]
            with ThreadPoolExecutor(workers, thread_name_prefix="aiprism-ai") as pool:
                futures = {
                    pool.submit(self._section, s, framework, system, tools, chain, meter): n
                    for n, s in enumerate(sections)
                }
                for done, future in enumerate(as_completed(futures), start=1):
                    n = futures[future]
                    outcomes[n] = future.result()
                    if on_progress:
                        on_progress(done, len(sections), f"AI: {sections[n].title}")
        usage = meter.snapshot()
        if chain.current() is None:
            notice = f"AI review unavailable ({chain.reason()}); showing offline findings only."
            return AIReview((), (notice,), usage, ok=False)
        notices = [
            f"AI model {model} failed ({reason}); its remaining sections went to the next model."
            for model, reason in chain.failures
        ]
        notices += [o.notice for o in outcomes if o.notice]
        findings = [f for o in outcomes for f in o.findings]
        return AIReview(tuple(order_findings(findings)), tuple(notices), usage, ok=True)

    def _section(
        self,
        section: Section,
        framework: Framework,
        system: str,
        tools: dict[str, Any],
        chain: _Chain,
        meter: _Meter,
    ) -> _Outcome:
        """Review one section on the current model, moving down the chain; never raises."""
        question = [_user(prompts.section_message(section, framework))]
        while (model := chain.current()) is not None:
            try:
                findings = self._ask(
                    model,
                    system,
                    question,
                    tools,
                    meter,
                    lambda data, m=model: findings_from_answer(data, section, framework, m),
                )
                return _Outcome(findings)
            except InvalidAnswer as exc:
                log.warning("AI answer for %r invalid twice: %s", section.title, exc)
                return _Outcome(
                    notice=f"AI review skipped section '{section.title}': the model's answer "
                    "did not fit the findings schema twice."
                )
            except RequestFailed as exc:
                return _Outcome(
                    notice=f"AI review skipped section '{section.title}': {exc.reason}."
                )
            except StopCalling as exc:
                chain.stop(exc.reason)
            except ModelFailed as exc:
                chain.fail(model, exc.reason)
            except Exception as exc:  # a bug here must not lose the offline review
                log.exception("AI review of section %r failed", section.title)
                return _Outcome(
                    notice=f"AI review skipped section '{section.title}': unexpected error "
                    f"({type(exc).__name__})."
                )
        return _Outcome()

    def _ask(
        self,
        model: str,
        system: str,
        messages: list[dict[str, Any]],
        tools: dict[str, Any],
        meter: _Meter,
        parse: Callable[[Any], Any],
    ) -> Any:
        """Call the model and parse its tool input; an invalid answer is sent back once."""
        name = tools["toolChoice"]["tool"]["name"]
        response = self._converse(model, system, messages, tools, meter)
        try:
            return parse(_tool_input(response, name))
        except InvalidAnswer as exc:
            retry = [*messages, *_feedback(response, exc.problems, name)]
            response = self._converse(model, system, retry, tools, meter)
            return parse(_tool_input(response, name))

    def _converse(
        self,
        model: str,
        system: str,
        messages: list[dict[str, Any]],
        tools: dict[str, Any],
        meter: _Meter,
    ) -> dict[str, Any]:
        try:
            response = self.client(model).converse(
                modelId=model,
                system=[{"text": system}],
                messages=messages,
                toolConfig=tools,
                inferenceConfig={"maxTokens": self.settings.max_output_tokens, "temperature": 0},
            )
        except ModelFailed:
            raise
        except Exception as exc:
            raise classify(exc, self.settings.read_timeout) from exc
        meter.add(model, response.get("usage") or {})
        return response

    # --- chat -----------------------------------------------------------------------------------

    def chat(self, question: str, state: ReviewState, framework: Framework) -> dict[str, Any]:
        """Answer from the document and its findings, citing sections; raises AIUnavailable."""
        document = state.document
        if document is None:
            raise AIUnavailable(
                "The document has not been analysed yet, so there is nothing to ask."
            )
        system = prompts.chat_system_prompt(
            framework,
            prompts.document_context(document, self.settings.chat_context_chars),
            prompts.findings_context(state),
        )
        messages: list[dict[str, Any]] = []
        for turn in state.chat[-CHAT_HISTORY_TURNS:]:
            if turn.get("message") and turn.get("answer"):
                messages += [_user(turn["message"]), _assistant(turn["answer"])]
        messages.append(_user(question))
        known = {s.id for s in document.sections}
        chain = _Chain(self.settings.models)
        meter = _Meter(self.settings)
        while (model := chain.current()) is not None:
            try:
                answer, cited = self._ask(
                    model,
                    system,
                    messages,
                    prompts.answer_tool(),
                    meter,
                    lambda data: answer_from_tool(data, known),
                )
            except InvalidAnswer:
                raise AIUnavailable("The AI model did not give a usable answer.") from None
            except StopCalling as exc:
                chain.stop(exc.reason)
            except RequestFailed as exc:
                raise AIUnavailable(f"The AI chat could not answer ({exc.reason}).") from None
            except ModelFailed as exc:
                chain.fail(model, exc.reason)
            else:
                citations = [
                    {"section_id": sid, "section": section.title, "paragraph": None}
                    for sid in cited
                    if (section := document.section(sid)) is not None
                ]
                return {
                    "answer": answer,
                    "citations": citations,
                    "engine": model,
                    "usage": meter.snapshot(),
                }
        raise AIUnavailable(f"The AI chat is unavailable ({chain.reason()}).")


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


def _assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"text": text}]}


def _tool_input(response: Mapping[str, Any], name: str) -> Any:
    if response.get("stopReason") == "max_tokens":
        raise InvalidAnswer(["the answer was cut off at the token limit: make it shorter"])
    content = ((response.get("output") or {}).get("message") or {}).get("content") or []
    for block in content:
        use = block.get("toolUse")
        if use and use.get("name") == name:
            return use.get("input")
    raise InvalidAnswer([f"the answer must call the {name} tool"])


def _feedback(response: Mapping[str, Any], problems: list[str], name: str) -> list[dict]:
    """The turns that send an invalid answer back: the model's own message, then what was wrong."""
    message = (response.get("output") or {}).get("message") or {}
    content = message.get("content") or []
    text = f"That answer cannot be used: {'; '.join(problems[:20])}. Call {name} again, fixed."
    use = next((b["toolUse"] for b in content if b.get("toolUse")), None)
    if not content:
        return []  # nothing to reply to: the retry repeats the question
    if use is None:
        return [{"role": "assistant", "content": content}, _user(text)]
    result = {"toolUseId": use["toolUseId"], "content": [{"text": text}], "status": "error"}
    return [
        {"role": "assistant", "content": content},
        {"role": "user", "content": [{"toolResult": result}]},
    ]
