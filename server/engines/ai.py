"""The AI engine: one section loop over any provider, with the same validation whatever the wire.

Failures degrade in a fixed order and are always visible: each provider's SDK absorbs throttling
and transient errors; a model that still fails (throttled, 5xx, no answer in time, not enabled)
hands the remaining sections to the next model in `AISettings.models`; when none works the review
reports `ok=False` with a notice and no AI findings, and the caller shows the offline result. An
answer that does not fit the schema is sent back once with the problems; from the second answer
the findings that fit are kept and the rest dropped with a notice. A finding whose quote is not in
the section is dropped too. Nothing here raises out of `review()`, and nothing is made up.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from server.engines import prompts
from server.engines.ai_chain import Chain, Meter
from server.engines.ai_settings import AISettings
from server.engines.answers import InvalidAnswer, answer_from_tool
from server.engines.answers import findings_from_answer as parse_findings
from server.engines.masking import Masker
from server.engines.offline import ProgressCallback, order_findings
from server.engines.providers import build
from server.engines.providers.base import (
    ModelFailed,
    Provider,
    Reply,
    RequestFailed,
    StopCalling,
    Tool,
    Turn,
)
from server.errors import AIPrismError
from server.frameworks.model import Framework
from server.model import Document, Finding, Section
from server.review import ReviewState

log = logging.getLogger(__name__)

CHAT_HISTORY_TURNS = 3


class AIUnavailable(AIPrismError):
    """No configured model could answer; the caller falls back to the offline engine."""

    code = "ai_unavailable"
    http_status = 503


@dataclass(frozen=True)
class AIReview:
    findings: tuple[Finding, ...]
    notices: tuple[str, ...]
    # input_tokens, output_tokens, estimated_cost_usd (None: a model without a price), calls,
    # models (those that answered, in fallback order), model (the first of them), provider,
    # provider_label, left_machine and masked (personal values masked before sending)
    usage: dict[str, Any]
    ok: bool  # False: no model worked, findings are empty, show the offline result

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(self.usage["models"])


@dataclass
class _Outcome:
    findings: tuple[Finding, ...] = ()
    notice: str | None = None
    invented: int = 0
    invalid: int = 0


@dataclass
class _Request:
    """What every section of one review shares."""

    framework: Framework
    system: str
    tool: Tool
    chain: Chain
    meter: Meter
    masker: Masker | None = None
    examples: tuple[Mapping[str, Any], ...] = ()


class AIEngine:
    def __init__(self, settings: AISettings, provider: Provider | None = None):
        self.settings = settings
        self.provider = provider or build(settings)

    @staticmethod
    def sections_to_review(document: Document) -> list[Section]:
        return [s for s in document.sections if not s.excluded and s.text.strip()]

    def privacy(self) -> dict[str, Any]:
        where = self.provider.privacy
        return {
            "provider": self.provider.name,
            "provider_label": where.label,
            "left_machine": where.leaves_machine,
        }

    # --- review ---------------------------------------------------------------------------------

    def review(
        self,
        document: Document,
        framework: Framework,
        on_progress: ProgressCallback | None = None,
        guidance: str = "",
        examples: Sequence[Mapping[str, Any]] = (),
    ) -> AIReview:
        """`examples`: the team's recent decisions, newest first (server/learning.py); each
        section is sent with a few of those on its checkpoints."""
        sections = self.sections_to_review(document)
        masker = Masker() if self.settings.mask_personal_data else None
        sent = masker.document(document) if masker else document
        request = _Request(
            framework=framework,
            system=prompts.review_system_prompt(
                framework, sent, guidance, compact=self.settings.local
            ),
            tool=prompts.findings_tool(framework),
            chain=Chain(self.settings.models),
            meter=Meter(self.settings),
            masker=masker,
            examples=tuple(examples),
        )
        outcomes: list[_Outcome] = [_Outcome() for _ in sections]
        if sections:
            masked = {s.id: s for s in sent.sections}
            workers = max(1, min(self.settings.sections_at_once, len(sections)))
            with ThreadPoolExecutor(workers, thread_name_prefix="aiprism-ai") as pool:
                futures = {
                    pool.submit(self._section, s, masked[s.id], request): n
                    for n, s in enumerate(sections)
                }
                for done, future in enumerate(as_completed(futures), start=1):
                    n = futures[future]
                    outcomes[n] = future.result()
                    if on_progress:
                        on_progress(done, len(sections), f"AI: {sections[n].title}")
        usage = {
            **request.meter.snapshot(),
            **self.privacy(),
            "masked": masker.count if masker else 0,
        }
        chain = request.chain
        if chain.current() is None:
            reason = self.provider.redact(chain.reason())
            notice = f"AI review unavailable ({reason}); showing offline findings only."
            return AIReview((), (notice,), usage, ok=False)
        notices = [
            self.provider.redact(
                f"AI model {model} failed ({reason}); its remaining sections went to the next model."
            )
            for model, reason in chain.failures
        ]
        notices += [self.provider.redact(o.notice) for o in outcomes if o.notice]
        notices += _dropped_notices(outcomes)
        findings = [f for o in outcomes for f in o.findings]
        return AIReview(tuple(order_findings(findings)), tuple(notices), usage, ok=True)

    def _section(self, section: Section, sent: Section, request: _Request) -> _Outcome:
        """Review one section on the current model, moving down the chain; never raises."""
        message = prompts.section_message(sent, request.framework, request.examples)
        question = [Turn("user", message)]
        chain = request.chain
        while (model := chain.current()) is not None:
            try:
                answer = self._ask(
                    model,
                    request,
                    question,
                    request.tool,
                    lambda data, lenient, m=model: parse_findings(
                        data, section, request.framework, m, lenient
                    ),
                )
                return _Outcome(
                    answer.findings, invented=answer.invented_quotes, invalid=answer.invalid
                )
            except InvalidAnswer as exc:
                log.warning("AI answer for %r unusable twice: %s", section.title, exc)
                return _Outcome(
                    notice=f"AI review skipped section '{section.title}': the model's answer "
                    f"could not be used twice ({exc.problems[0]})."
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
        request: _Request,
        turns: list[Turn],
        tool: Tool,
        parse: Callable[[Any, bool], Any],
    ) -> Any:
        """Call the model and parse its answer; an unusable answer is sent back once."""
        reply = self._call(model, request, turns, tool)
        try:
            return parse(self._data(reply, tool, request), False)
        except InvalidAnswer as exc:
            retry = [*turns, *_feedback(reply, exc.problems, tool)]
            reply = self._call(model, request, retry, tool)
            return parse(self._data(reply, tool, request), True)

    def _call(self, model: str, request: _Request, turns: list[Turn], tool: Tool) -> Reply:
        reply = self.provider.ask(model, request.system, turns, tool)
        request.meter.add(model, reply)
        return reply

    @staticmethod
    def _data(reply: Reply, tool: Tool, request: _Request) -> Any:
        if reply.truncated:
            raise InvalidAnswer(["the answer was cut off at the token limit: make it shorter"])
        if reply.data is None:
            raise InvalidAnswer([f"the answer must be the JSON input of the {tool.name} tool"])
        return request.masker.unmask(reply.data) if request.masker else reply.data

    # --- chat -----------------------------------------------------------------------------------

    def chat(self, question: str, state: ReviewState, framework: Framework) -> dict[str, Any]:
        """Answer from the document and its findings, citing sections; raises AIUnavailable."""
        document = state.document
        if document is None:
            raise AIUnavailable(
                "The document has not been analysed yet, so there is nothing to ask."
            )
        masker = Masker() if self.settings.mask_personal_data else None
        hide = masker.mask if masker else (lambda text: text)
        sent = masker.document(document) if masker else document
        system = prompts.chat_system_prompt(
            framework,
            prompts.document_context(sent, self.settings.chat_chars),
            hide(prompts.findings_context(state, self.settings.chat_findings)),
        )
        turns: list[Turn] = []
        for turn in state.chat[-CHAT_HISTORY_TURNS:]:
            if turn.get("message") and turn.get("answer"):
                turns += [
                    Turn("user", hide(turn["message"])),
                    Turn("assistant", hide(turn["answer"])),
                ]
        turns.append(Turn("user", hide(question)))
        known = {s.id for s in document.sections}
        request = _Request(
            framework,
            system,
            prompts.answer_tool(),
            Chain(self.settings.models),
            Meter(self.settings),
            masker,
        )
        chain = request.chain
        while (model := chain.current()) is not None:
            try:
                answer, cited = self._ask(
                    model,
                    request,
                    turns,
                    request.tool,
                    lambda data, _lenient: answer_from_tool(data, known),
                )
            except InvalidAnswer:
                raise AIUnavailable("The AI model did not give a usable answer.") from None
            except StopCalling as exc:
                chain.stop(exc.reason)
            except RequestFailed as exc:
                reason = self.provider.redact(exc.reason)
                raise AIUnavailable(f"The AI chat could not answer ({reason}).") from None
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
                    "usage": {**request.meter.snapshot(), **self.privacy()},
                }
        reason = self.provider.redact(chain.reason())
        raise AIUnavailable(f"The AI chat is unavailable ({reason}).")

    # --- settings page --------------------------------------------------------------------------

    def test_connection(self) -> dict[str, Any]:
        """One tiny call to the first model: what a reviewer sees after "Test connection"."""
        model = self.settings.models[0] if self.settings.models else None
        if model is None:
            return {"ok": False, "error": "No model is chosen."}
        tool = prompts.answer_tool()
        started = time.perf_counter()
        try:
            reply = self.provider.ask(
                model,
                "You check that a connection works. Answer in one short sentence.",
                [Turn("user", "Say hello.")],
                tool,
            )
        except ModelFailed as exc:
            return {"ok": False, "model": model, "error": self.provider.redact(exc.reason)}
        return {
            "ok": True,
            "model": model,
            "seconds": round(time.perf_counter() - started, 2),
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            **self.privacy(),
        }


def _feedback(reply: Reply, problems: list[str], tool: Tool) -> list[Turn]:
    """The turns that send an unusable answer back: what the model said, then what was wrong."""
    said = json.dumps(reply.data, ensure_ascii=False) if reply.data is not None else reply.text
    text = (
        f"That answer cannot be used: {'; '.join(problems[:20])}. "
        f"Give the {tool.name} input again, fixed."
    )
    if not said.strip():
        return []  # nothing to reply to: the retry repeats the question
    return [Turn("assistant", said[:8000]), Turn("user", text)]


def _dropped_notices(outcomes: list[_Outcome]) -> list[str]:
    notices = []
    invented = sum(o.invented for o in outcomes)
    invalid = sum(o.invalid for o in outcomes)
    if invented:
        notices.append(
            f"AI review dropped {invented} finding{'s' * (invented != 1)} quoting text that is "
            "not in the document."
        )
    if invalid:
        notices.append(
            f"AI review dropped {invalid} finding{'s' * (invalid != 1)} that did not fit the "
            "findings schema after one correction."
        )
    return notices
