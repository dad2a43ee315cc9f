"""What a reviewer can do to a review, as plain functions over a store: the web layer's one door.

Every change is an appended event; every read is a fold of the log (cached per process and
brought up to date with the events appended since, so several workers stay consistent).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections import OrderedDict
from datetime import date, timedelta

from server import carry, claims, learning, upkeep
from server import diff as version_diff
from server import stats as review_stats
from server.ai_choice import AIChoice
from server.auth.identity import current_actor
from server.chat import answer as offline_answer
from server.cpu_pool import CpuPool
from server.documents import clean_filename, load_document
from server.documents.limits import Deadline
from server.engines import guidance as team_guidance
from server.engines import offline
from server.engines.ai import AIUnavailable
from server.engines.merge import merge
from server.errors import AIPrismError
from server.frameworks import available, resolve
from server.frameworks.model import Framework
from server.jobs import JobRunner
from server.model import FINDING_TYPES, RISKS, Finding, Span, finding_id
from server.review import DECISIONS, ReviewState, apply
from server.settings import Settings
from server.store.base import HistoryPage, HistoryQuery, ReviewStore, StoreConflict

log = logging.getLogger(__name__)

CACHED_REVIEWS = 200  # folded states kept per process; older ones are folded again when read


class NotFound(AIPrismError):
    code = "not_found"
    http_status = 404


class InvalidRequest(AIPrismError):
    code = "invalid_request"
    http_status = 400


class Conflict(AIPrismError):
    code = "conflict"
    http_status = 409


class ReviewService:
    def __init__(self, store: ReviewStore, settings: Settings, jobs: JobRunner):
        self.store = store
        self.settings = settings
        self.jobs = jobs
        self.ai = AIChoice(settings)
        self._cache: OrderedDict[str, ReviewState] = OrderedDict()  # least recently read first
        self._locks: dict[str, threading.RLock] = {}
        self._lock = threading.Lock()  # guards the two dicts' membership
        self._cpu_work = threading.Lock()
        # Hosted: reading and the offline rules in child processes (server/cpu_pool.py).
        self.cpu = (
            CpuPool(settings.cpu_processes, settings.frameworks_dir, settings.limits)
            if settings.cpu_processes
            else None
        )
        self.warmed = threading.Event()  # set once the warm-up has run (server/web: start_warming)

    # --- reading ---
    def get(self, review_id: str) -> ReviewState:
        with self._review_lock(review_id):  # one review at a time; other reviews read meanwhile
            state = self._cache.get(review_id) or ReviewState(id=review_id)
            for event in self.store.events(review_id, after=state.last_seq):
                apply(state, event)
            if state.last_seq == 0:
                with self._lock:  # unknown ids (typos, probes) leave nothing behind
                    self._locks.pop(review_id, None)
                raise NotFound(f"No review with id '{review_id}'.")
            with self._lock:
                self._cache[review_id] = state
                self._cache.move_to_end(review_id)
                while len(self._cache) > CACHED_REVIEWS:
                    self._cache.popitem(last=False)
            return state

    def _review_lock(self, review_id: str) -> threading.RLock:
        with self._lock:
            return self._locks.setdefault(review_id, threading.RLock())

    def history(self, query: HistoryQuery | None = None) -> HistoryPage:
        return self.store.history(query or HistoryQuery())

    def events(self, review_id: str) -> list[dict]:
        self.get(review_id)
        return [e.to_dict() for e in self.store.events(review_id)]

    def progress(self, review_id: str) -> dict:
        state = self.get(review_id)
        stored = self.store.progress(review_id) or {}
        progress = {
            "done": stored.get("done", 0),
            "total": stored.get("total", 0),
            "stage": stored.get("stage", state.status),
        }  # not the heartbeat's owner and time: they are the workers' business
        return {"id": review_id, "status": state.status, "progress": progress, "error": state.error}

    # --- creating and analysing ---
    def create(
        self, data: bytes, filename: str, framework: str | None = None, parent_id: str | None = None
    ) -> ReviewState:
        """Read the document now (so a broken file is refused at once); analyse it in the background."""
        filename = clean_filename(filename)
        fw = resolve(framework or self.settings.default_framework, self.settings.frameworks_dir)
        if self.cpu:
            doc_format, sections = self.cpu.outline(data, filename, fw.id)
        else:
            document = load_document(data, filename, fw, self.settings.limits)
            doc_format, sections = document.format, len(document.sections)
        version = 1
        if parent_id:
            version = self.get(parent_id).version + 1
        review_id = uuid.uuid4().hex[:16]
        sha = self.store.put_blob(review_id, data)
        self._append(
            review_id,
            "created",
            {
                "filename": filename,
                "sha256": sha,
                "size": len(data),
                "format": doc_format,
                "framework": fw.id,
                "parent_id": parent_id,
                "version": version,
            },
        )
        self.store.set_progress(review_id, {"done": 0, "total": sections + 1, "stage": "queued"})
        self.jobs.submit(review_id, lambda: self.analyse(review_id))
        return self.get(review_id)

    def analyse(self, review_id: str) -> None:
        """The background job: claim the run, run the engines, record the outcome; never raises.

        Returns at once when the review needs no analysis or another worker claims it first
        (server/claims.py), so resuming the same review in several workers runs it once.
        """
        state = self.get(review_id)
        if not self._needs_analysis(state):
            return
        try:
            self._append(
                review_id, "started", {"owner": claims.THIS_PROCESS}, expect_seq=state.last_seq
            )
        except StoreConflict:
            log.info("review %s was claimed by another worker", review_id)
            return
        queued = self.store.progress(review_id) or {}
        with claims.Heartbeat(self.store, review_id) as heartbeat:
            heartbeat.progress(0, int(queued.get("total") or 0), "reading")
            try:
                self._run_engines(self.get(review_id), heartbeat.progress)
            except AIPrismError as exc:
                self._append(
                    review_id, "failed", {"error": {"code": exc.code, "message": exc.message}}
                )
            except Exception:
                log.exception("analysis of review %s failed", review_id)
                self._append(
                    review_id,
                    "failed",
                    {
                        "error": {
                            "code": "analysis_failed",
                            "message": "The analysis stopped unexpectedly; retry it.",
                        }
                    },
                )

    def _run_engines(self, state: ReviewState, report: offline.ProgressCallback) -> None:
        fw = resolve(state.framework, self.settings.frameworks_dir)
        data = self.store.get_blob(state.id, state.sha256)
        muted = frozenset(self.store.get_setting("muted_rules", []) or [])
        engine = self.ai.engine()
        if self.cpu:  # in a child process, while this thread waits
            result = self.cpu.review(data, state.filename, fw.id, muted, date.today())
            document = result.document
        else:
            # Reading and the offline rules are pure Python CPU work: under the GIL, two of them
            # at once in one process finish no sooner, and slow the request threads (/health
            # included). Waiting on the AI engine, which is most of an AI review, runs side by side.
            with self._cpu_work:
                deadline = Deadline(self.settings.limits, state.filename)
                document = load_document(data, state.filename, fw, self.settings.limits, deadline)
                ai_total = len(engine.sections_to_review(document)) if engine else 0

                def progress(done: int, total: int, stage: str) -> None:
                    report(done, total + ai_total, stage)

                result = offline.review(
                    document,
                    fw,
                    as_of=date.today(),
                    on_progress=deadline.watch(progress),
                    muted_rules=muted,
                )
        findings, engines = result.findings, [offline.ENGINE_ID]
        notices = [f"Muted rules not run: {', '.join(sorted(muted))}."] if muted else []
        usage = None
        if engine is not None:
            offline_total = len(document.sections) + 1

            def ai_progress(done: int, total: int, stage: str) -> None:
                report(offline_total + done, offline_total + total, stage)

            guidance, trimmed = self.guidance(fw, engine.settings.guidance_chars)
            ai = engine.review(
                document,
                fw,
                on_progress=ai_progress,
                guidance=guidance,
                examples=learning.recent_examples(self.store),
            )
            usage = ai.usage
            notices += [trimmed] if trimmed else []
            notices += ai.notices
            if ai.ok:
                findings = merge(findings, [f for f in ai.findings if f.rule not in muted])
                engines += ai.engines
        if self.store.keeps_totals:  # a bucket alone would read every summary, every analysis
            findings = learning.with_learning(findings, learning.rule_counts(self.store.totals()))
        analysed = {
            "document": document.to_dict(),
            "findings": [f.to_dict() for f in findings],
            "framework_version": fw.version,
            "engines": engines,
            "notices": notices,
            "ai_usage": usage,
        }
        # One summary after both events: a worker killed between them leaves the summary behind
        # its log, which the background scan notices and finishes (resume_interrupted). Readers in
        # this process wait on the review's lock, so none sees it done without its carried decisions.
        with self.store.changing(state.id), self._review_lock(state.id):
            self._append_event(state.id, "analysed", analysed)
            self._carry(state.id)
            self._put_summary(state.id)

    def _carry(self, review_id: str) -> None:
        """Append `carried`: the previous version's decisions that hold in this one, once. Skipped
        while the previous version is not analysed (or is deleted); a decision made here meanwhile
        is kept (the append waits for a log that has not moved, else looks again)."""
        while carry.due(state := self.get(review_id)):
            assert state.parent_id is not None
            parent = self._analysed_or_none(state.parent_id)
            if parent is None:
                return
            payload = carry.carried(parent, state)
            with contextlib.suppress(StoreConflict):  # a decision came first: look again
                self._append_event(review_id, "carried", payload, expect_seq=state.last_seq)

    def _analysed_or_none(self, review_id: str) -> ReviewState | None:
        try:
            state = self.get(review_id)
        except NotFound:
            return None
        return state if state.status == "done" else None

    def _needs_analysis(self, state: ReviewState) -> bool:
        """Queued or failed, or running for an owner that has stopped (crashed, killed, gone)."""
        if state.status in ("queued", "failed"):
            return True
        if state.status != "running":
            return False
        if state.runner == claims.THIS_PROCESS:
            return not self.jobs.is_active(state.id)
        return claims.is_abandoned(state.runner, state.started_at, self.store.progress(state.id))

    def retry(self, review_id: str) -> ReviewState:
        state = self.get(review_id)
        if not self._needs_analysis(state):  # done, or running in a worker that is alive
            raise Conflict("Only a failed or interrupted analysis can be retried.")
        self.jobs.submit(review_id, lambda: self.analyse(review_id))
        return state

    def start_resuming(self) -> None:
        """In the background, now and then every so often: pick up analyses that a crashed,
        killed or replaced worker left unfinished, and bring lagging history rows up to date.
        Before the first scan, summaries written before the running totals get their tallies."""

        upgraded = [False]

        def scan() -> None:
            if not upgraded[0]:  # asked once per process: an upgraded store stays upgraded
                if upkeep.needs_upgrade(self.store):
                    count = upkeep.upgrade(self.store)
                    log.info("gave %d review summaries their statistics tallies", count)
                upgraded[0] = True
            self.resume_interrupted()

        self.jobs.every(claims.STALE_AFTER_SECONDS, scan, name="resume-analyses")

    def start_warming(self) -> None:
        """Prepare in the background what the first review would otherwise pay for at once: the
        packs and their compiled patterns, the readers, the syllable table. It holds the CPU slot,
        so a review uploaded meanwhile starts when it is done, no later than it would have cold."""
        self.jobs.submit("warm-up", self.warm_up, bounded=False)

    def warm_up(self) -> None:
        """Read and review the built-in sample write-up with every framework, the likely one first,
        and load the syllable table (the sample's sections are too short to score); a failure is
        only logged."""
        from server import samples
        from server.engines import syllables

        if self.cpu:  # the children load the packs, readers and syllable table as they start
            try:
                self.cpu.warm()
                available(self.settings.frameworks_dir)  # what creating a review resolves here
            except Exception:
                log.exception("warm-up of the review processes failed")
            self.warmed.set()
            return
        sample = samples.messy_investigation_docx()  # reading it walks the .docx reader's paths
        try:
            packs = available(self.settings.frameworks_dir)
        except AIPrismError as exc:
            log.warning("warm-up skipped: %s", exc.message)
            self.warmed.set()
            return
        default = self.settings.default_framework
        for fw in sorted(packs.values(), key=lambda f: f.id != default):
            with self._cpu_work:  # one framework at a time: a real review waits for one at most
                try:
                    document = load_document(sample, "warm-up.docx", fw, self.settings.limits)
                    offline.review(document, fw, as_of=date.today())
                except Exception:
                    log.exception("warm-up with framework %s failed", fw.id)
        with self._cpu_work:
            try:
                syllables.english()
            except Exception:
                log.exception("warm-up of the syllable table failed")
        self.warmed.set()

    def resume_interrupted(self) -> list[str]:
        """Queue every analysis that needs running; return their ids. Only the reviews the store
        marks as unfinished are read (a queued or running analysis, or a summary whose writer was
        killed before it caught up with the log), so an idle service reads nothing per review."""
        resumed = []
        for review_id in self.store.unfinished():
            try:
                state = self.get(review_id)
            except NotFound:
                continue  # deleted since the listing
            self._put_summary(state.id)  # catches up a lagging one; clears a stale mark
            self.store.settled(state.id)
            if self._needs_analysis(state) and state.status != "failed":
                self.jobs.submit(state.id, lambda rid=state.id: self.analyse(rid), bounded=False)
                resumed.append(state.id)
            elif carry.due(state):  # its worker was killed between `analysed` and `carried`
                with self.store.changing(state.id):
                    self._carry(state.id)
                    self._put_summary(state.id)
        return resumed

    def new_version(self, review_id: str, data: bytes, filename: str) -> ReviewState:
        parent = self.get(review_id)
        return self.create(data, filename, parent.framework, parent_id=review_id)

    def delete(self, review_id: str) -> None:
        if not self.store.delete_review(review_id):
            raise NotFound(f"No review with id '{review_id}'.")
        with self._lock:
            self._cache.pop(review_id, None)
            self._locks.pop(review_id, None)

    # --- triage ---
    def decide(
        self, review_id: str, finding_id: str, action: str, text: str | None = None
    ) -> ReviewState:
        state = self._analysed(review_id)
        if action not in DECISIONS:
            raise InvalidRequest(f"'action' must be one of: {', '.join(DECISIONS)}.")
        if state.finding(finding_id) is None:
            raise NotFound(f"No finding '{finding_id}' in this review.")
        text = (text or "").strip() or None
        if text and len(text) > 5000:
            raise InvalidRequest("Edited text is limited to 5,000 characters.")
        self._append(
            review_id, "decision", {"finding_id": finding_id, "action": action, "text": text}
        )
        return self.get(review_id)

    def add_finding(self, review_id: str, data: dict) -> Finding:
        """A reviewer's own finding, on a quote in a section (or on the section as a whole)."""
        state = self._analysed(review_id)
        assert state.document is not None
        section = state.document.section(str(data.get("section_id", "")))
        if section is None:
            raise InvalidRequest("'section_id' must name a section of this document.")
        kind = data.get("type", "suggestion")
        risk = data.get("risk", "medium")
        description = str(data.get("description", "")).strip()
        if kind not in FINDING_TYPES or risk not in RISKS:
            raise InvalidRequest(
                f"'type' must be one of {FINDING_TYPES} and 'risk' one of {RISKS}."
            )
        if not description or len(description) > 5000:
            raise InvalidRequest("A finding needs a description (up to 5,000 characters).")
        span = _locate_quote(section, data)
        title = str(data.get("title") or description.split(".")[0])[:120]
        finding = Finding(
            id=finding_id("custom", section.id, span, salt=uuid.uuid4().hex),
            engine="reviewer",
            rule="custom",
            type=kind,
            checkpoints=tuple(str(c) for c in data.get("checkpoints", []))[:10],
            risk=risk,
            confidence=1.0,
            title=title,
            description=description,
            suggestion=str(data.get("suggestion", "")).strip()[:5000],
            questions=tuple(str(q) for q in data.get("questions", []))[:10],
            section_id=section.id,
            span=span,
        )
        self._append(review_id, "finding_added", {"finding": finding.to_dict()})
        return finding

    def chat(self, review_id: str, message: str) -> dict:
        state = self._analysed(review_id)
        message = (message or "").strip()
        if not message or len(message) > 2000:
            raise InvalidRequest("Ask a question of up to 2,000 characters.")
        fw = resolve(state.framework, self.settings.frameworks_dir)
        reply = self._answer(message, state, fw)
        self._append(review_id, "chat", {"message": message, **reply})
        return reply

    def _answer(self, message: str, state: ReviewState, fw) -> dict:
        """The AI engine's answer when one is on, else (or when it cannot answer) the offline one."""
        engine = self.ai.engine()
        if engine is None:
            return offline_answer(message, state, fw)
        try:
            return engine.chat(message, state, fw)
        except AIUnavailable as exc:
            reply = offline_answer(message, state, fw)
            return {**reply, "notice": f"{exc.message} This answer comes from the offline engine."}

    def complete(self, review_id: str) -> ReviewState:
        state = self._analysed(review_id)
        if state.completed_at:
            return state
        self._append(review_id, "completed", {})
        return self.get(review_id)

    # --- outputs ---
    def export(self, review_id: str, fmt: str) -> tuple[bytes, str, str]:
        """(content, mimetype, download name) of an export; recorded in the audit trail."""
        from server.exports.report import report_csv, report_html, report_json

        state = self._analysed(review_id)
        stem = state.filename.rsplit(".", 1)[0] or "review"
        fw = resolve(state.framework, self.settings.frameworks_dir)
        if fmt == "docx":
            from server.exports.docx_comments import annotate_docx

            if state.format != "docx":
                raise InvalidRequest(
                    "Only .docx documents can be annotated; download the report instead."
                )
            assert state.document is not None
            content = annotate_docx(
                self.store.get_blob(state.id, state.sha256),
                state.document,
                state.accepted(),
                texts=state.edited_texts(),
                authors=state.deciders(),
            )
            result = (content, DOCX_MIME, f"{stem}.reviewed.docx")
        elif fmt == "html":
            result = (
                report_html(state, fw).encode(),
                "text/html; charset=utf-8",
                f"{stem}.report.html",
            )
        elif fmt == "csv":
            result = (
                report_csv(state).encode("utf-8-sig"),
                "text/csv; charset=utf-8",
                f"{stem}.findings.csv",
            )
        elif fmt == "json":
            import json

            body = json.dumps(report_json(state), indent=2, ensure_ascii=False).encode()
            result = (body, "application/json", f"{stem}.review.json")
        else:
            raise NotFound(f"No export format '{fmt}'.")
        self._append(review_id, "exported", {"format": fmt})
        return result

    def diff(self, review_id: str) -> dict:
        state = self._analysed(review_id)
        if not state.parent_id:
            raise InvalidRequest(
                "This review is the first version; upload a new version to compare."
            )
        return version_diff.compare(self._analysed(state.parent_id), state)

    def stats(self) -> dict:
        since = (date.today() - timedelta(days=review_stats.OVER_TIME_DAYS)).isoformat()
        figures = review_stats.compute(
            self.store.totals(since), set(self.store.get_setting("muted_rules", []) or []), since
        )
        if figures["noisy_rules"]:  # their examples cost a few reads, so only when there are some
            learning.add_examples(figures["noisy_rules"], learning.recent_examples(self.store))
        return figures

    # --- the team's guidance for the AI ---
    def guidance(self, fw: Framework, budget: int) -> tuple[str, str | None]:
        return team_guidance.compose(fw, self.guidelines(fw.id), budget)

    def guidelines(self, framework_id: str) -> dict | None:
        return self.store.get_setting(team_guidance.setting_key(framework_id))

    def attach_guidelines(self, framework_id: str, data: bytes, filename: str) -> dict:
        """Read a guidelines document with the review readers and keep its text for the framework."""
        fw = resolve(framework_id, self.settings.frameworks_dir)
        filename = clean_filename(filename)
        document = load_document(data, filename, fw, self.settings.limits)
        stored = team_guidance.attached(document, filename)
        if not stored["text"]:
            raise InvalidRequest("The guidelines document has no text.")
        self.store.put_setting(team_guidance.setting_key(fw.id), stored)
        return stored

    def detach_guidelines(self, framework_id: str) -> None:
        fw = resolve(framework_id, self.settings.frameworks_dir)
        self.store.put_setting(team_guidance.setting_key(fw.id), None)

    def set_muted(self, rule: str, muted: bool) -> list[str]:
        current = set(self.store.get_setting("muted_rules", []) or [])
        (current.add if muted else current.discard)(rule)
        self.store.put_setting("muted_rules", sorted(current))
        return sorted(current)

    # --- internals ---
    def _analysed(self, review_id: str) -> ReviewState:
        state = self.get(review_id)
        if state.status != "done" or state.document is None:
            raise Conflict(f"The review is {state.status}; wait for the analysis to finish.")
        return state

    def _append(
        self, review_id: str, kind: str, payload: dict, expect_seq: int | None = None
    ) -> None:
        with self.store.changing(review_id):
            self._append_event(review_id, kind, payload, expect_seq)
            self._put_summary(review_id)

    def _append_event(
        self, review_id: str, kind: str, payload: dict, expect_seq: int | None = None
    ) -> None:
        actor = current_actor.get()  # who asked, when a request did (server/auth/identity.py)
        if actor is not None:
            payload = {**payload, "actor": actor.to_dict()}
        self.store.append(review_id, kind, payload, expect_seq=expect_seq)

    def _put_summary(self, review_id: str) -> None:
        self.store.put_summary(review_id, review_stats.summary_of(self.get(review_id)))


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _locate_quote(section, data: dict) -> Span | None:
    """Where a reviewer's quote is: in the paragraph the page named (at its offset when the quote
    is there), else its first place in the section."""
    quote = str(data.get("quote") or "")
    if not quote:
        return None
    para = None
    if data.get("paragraph") is not None:
        index = int(data["paragraph"])
        para = next((p for p in section.paragraphs if p.index == index and not p.excluded), None)
    span = _in_paragraph(para, quote, int(data.get("start", -1))) if para else section.locate(quote)
    if span is None:
        raise InvalidRequest(
            "The quoted text was not found in that section; select text within one paragraph."
        )
    return span


def _in_paragraph(para, quote: str, start: int) -> Span | None:
    if start < 0 or para.text[start : start + len(quote)] != quote:
        start = para.text.find(quote)
    return Span.of(para, start, start + len(quote)) if start >= 0 else None
