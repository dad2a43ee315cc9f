"""Do the root causes explain why, and does each one lead to a preventative action?

A root-cause statement is a line of a root-causes section: a paragraph, list item, table row or
one line of a multi-line paragraph. Lines that introduce a list ("The root causes were:") and
lines that start with an action label (PA1 …, in a combined "Root causes and preventative
actions" section) are not statements.

Numbered root causes (RC1, RC 2, RC-3, Root Cause 4, RC1a) are linked to preventative actions
(PA1, PA1a, PA 2, PA-3, Preventative Action 4) by number, or by a line that names both
("PA3 (addresses RC1)", a table row "RC1 | … | PA3 | …").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from server.engines.checks.actions import ACTION_LABEL, is_header_row, lines, strip_bullet
from server.engines.compiled_patterns import regex
from server.engines.patterns import any_of
from server.engines.regex_hints import lowered_if_ascii, required_literals
from server.engines.registry import CheckContext, Hit, document_check, section_check
from server.engines.text import sentences, words
from server.model import Paragraph, Section, Span

SHALLOW_PATTERNS = [
    r"\bhuman\s+error\b",
    r"\buser\s+error\b",
    r"\boperator\s+error\b",
    r"\bsystem\s+(?:error|failure|issue|glitch|problem)s?\b",
    r"\btechnical\s+(?:issue|error|glitch|problem|fault)s?\b",
    r"\bglitch\b",
    r"\bbugs?\b",
    r"\boversight\b",
    r"\bmistakes?\b",
    r"\bunknown\b",
    r"\bnot\s+sure\b",
    r"\bunclear\b",
    r"\bthe\s+(?:issue|problem|incident|outage|error)\s+(?:occurred|happened)\b",
    r"\b(?:it|this|the\s+system)\s+(?:failed|broke)\b",
]
CAUSAL_PATTERNS = [
    r"\bbecause\b",
    r"\bdue\s+to\b",
    r"\bowing\s+to\b",
    r"\bas\s+a\s+result\s+of\b",
    r"\bsince\b",
    r"\bcaused\s+by\b",
    r"\bresult(?:ed|s)?\s+from\b",
    r"\bstem(?:med|s)?\s+from\b",
    r"\bwhich\s+led\s+to\b",
    r"\bwhy\b",
]
# After a connective, this many content words (not counting a shallow phrase) make an explanation:
# "due to human error" explains nothing, "due to a retry loop without backoff" does.
_MIN_REASON_WORDS = 2
_STOP_WORDS = (
    "the a an and or but of to in on at by for with from into onto over under about after "
    "before during was were is are be been being has have had did does do not no nor this that "
    "these those there their they them its it our we us you your which who whom whose what when "
    "where while "
    "than then also very more most some any all each both few other such only own same so too can "
    "could should would will may might must shall one two three root cause causes caused rc issue "
    "led lead"
)
_STOP = frozenset(_STOP_WORDS.split())

RC_LABEL = regex(r"(?<![\w-])(?:RC|(?i:root[ -]cause))[ \t]?[-#]?[ \t]?(\d{1,2})[a-z]?(?!\w|\.\d)")
PA_LABEL = regex(
    r"(?<![\w-])(?:PA|(?i:prevent(?:at)?ive[ -]action))[ \t]?[-#]?[ \t]?(\d{1,2})[a-z]?(?!\w|\.\d)"
)


@dataclass(frozen=True)
class Statement:
    paragraph: Paragraph
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.paragraph.text[self.start : self.end]

    @property
    def span(self) -> Span:
        return Span.of(self.paragraph, self.start, self.end)


def statements(section: Section) -> list[Statement]:
    out: list[Statement] = []
    for paragraph in section.body:
        text = paragraph.text
        if paragraph.table_row:
            if text.strip() and not is_header_row(text):
                stripped = text.strip()
                start = text.index(stripped)
                out.append(Statement(paragraph, start, start + len(stripped)))
            continue
        for start, end in lines(text):
            content = strip_bullet(text, start, end)
            if content >= end or text[end - 1] == ":" or ACTION_LABEL.match(text, content, end):
                continue
            out.append(Statement(paragraph, content, end))
    return out


def content_words(text: str) -> set[str]:
    out = set()
    for word in words(text):
        word = word.lower()
        if len(word) < 3 or word in _STOP:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.add(word)
    return out


def _explained(text: str, causal: re.Pattern[str], shallow: re.Pattern[str]) -> bool:
    for match in causal.finditer(text):
        reason = shallow.sub(" ", text[match.end() :])
        if len(content_words(reason)) >= _MIN_REASON_WORDS:
            return True
    return False


def _symptom(ctx: CheckContext) -> list[set[str]]:
    """Content words of what happened: the summary's first sentence and the document title."""
    refs = [content_words(ctx.document.title)]
    for summary in ctx.document.sections_of_kind("executive_summary"):
        first = next((p.text for p in summary.body if p.text.strip()), "")
        bounds = next(sentences(first), None)
        if bounds:
            refs.append(content_words(first[bounds[0] : bounds[1]]))
        break
    return [r for r in refs if r]


@section_check(
    "root_cause_depth",
    shallow_patterns=SHALLOW_PATTERNS,
    causal_patterns=CAUSAL_PATTERNS,
    max_overlap=0.7,
)
def root_cause_depth(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """A root cause that names a symptom or a label ("human error", "a bug") without saying why,
    or that mostly repeats the summary's account of what happened."""
    shallow = any_of(ctx.param("shallow_patterns"))
    causal = any_of(ctx.param("causal_patterns"))
    symptom = _symptom(ctx)
    for statement in statements(section):
        text = statement.text
        if _explained(text, causal, shallow):
            continue
        found = shallow.search(text)
        if found:
            reason = f"names “{found.group(0)}” without saying why it happened"
            yield Hit(section, statement.span, {"reason": reason, "phrase": found.group(0)})
            continue
        own = content_words(text)
        if len(own) >= 2 and any(
            len(own & ref) / len(own) >= ctx.param("max_overlap") for ref in symptom
        ):
            reason = "repeats what the summary says happened rather than why"
            yield Hit(section, statement.span, {"reason": reason, "phrase": ""})


@dataclass(frozen=True)
class Label:
    kind: str  # "RC" or "PA"
    number: int
    section: Section
    paragraph: Paragraph
    start: int
    end: int
    line: tuple[int, int]  # (paragraph index, line start): labels on one line are linked

    @property
    def span(self) -> Span:
        return Span.of(self.paragraph, self.start, self.end)


@dataclass(frozen=True)
class Links:
    root_causes: dict[int, Label]  # first mention of each RC number (in root causes if there)
    actions: dict[int, Label]  # first mention of each PA number (in preventative actions if there)
    linked_causes: set[int]
    linked_actions: set[int]


def labels(ctx: CheckContext) -> list[Label]:
    """RC and PA labels in the sections the rule covers; three rules read them, so each run
    finds them once per set of sections."""
    sections = ctx.sections()
    return ctx.once(
        ("root_causes.labels", tuple(s.id for s in sections)), lambda: _labels(sections)
    )


_LABEL_NEEDS = [required_literals(p.pattern, p.flags) for p in (RC_LABEL, PA_LABEL)]


def _labels(sections: tuple[Section, ...]) -> list[Label]:
    out: list[Label] = []
    for section in sections:
        for paragraph in section.body:
            text = paragraph.text
            lowered = lowered_if_ascii(text)
            if not any(needs.met_by(text, lowered) for needs in _LABEL_NEEDS):
                continue  # no 'RC', 'PA', 'root cause' or 'preventive action' anywhere in it
            for start, end in lines(text):
                for kind, pattern in (("RC", RC_LABEL), ("PA", PA_LABEL)):
                    for m in pattern.finditer(text, start, end):
                        where = (paragraph.index, start)
                        out.append(
                            Label(kind, int(m[1]), section, paragraph, m.start(), m.end(), where)
                        )
    return out


def links(ctx: CheckContext) -> Links:
    found = labels(ctx)
    causes = _first(found, "RC", "root_causes")
    actions = _first(found, "PA", "preventative_actions")
    by_line: dict[tuple[int, int], list[Label]] = {}
    for label in found:
        by_line.setdefault(label.line, []).append(label)
    linked_causes = set(causes) & set(actions)
    linked_actions = set(linked_causes)
    for together in by_line.values():
        line_causes = {lb.number for lb in together if lb.kind == "RC"}
        line_actions = {lb.number for lb in together if lb.kind == "PA"}
        if line_causes and line_actions:
            linked_causes |= line_causes
            linked_actions |= line_actions
    return Links(causes, actions, linked_causes, linked_actions & set(actions))


def _first(found: list[Label], kind: str, home: str) -> dict[int, Label]:
    first: dict[int, Label] = {}
    for label in found:
        if label.kind != kind:
            continue
        known = first.get(label.number)
        if known is None or (known.section.kind != home and label.section.kind == home):
            first[label.number] = label
    return dict(sorted(first.items()))


@document_check("root_cause_without_action")
def root_cause_without_action(ctx: CheckContext) -> Iterator[Hit]:
    """A numbered root cause with no preventative action for it; or root causes that are not
    numbered while there are no preventative actions at all."""
    found = links(ctx)
    for number, label in found.root_causes.items():
        if number not in found.linked_causes:
            yield Hit(label.section, label.span, {"rc": f"RC{number}", "count": 1})
    if found.root_causes or found.actions:
        return
    causes = [s for s in ctx.document.sections_of_kind("root_causes") if ctx.covers(s)]
    if not causes or any("action" in s.title.lower() for s in causes):
        return
    prevention = ctx.document.sections_of_kind("preventative_actions")
    if any(p.text.strip() for s in prevention for p in s.body):
        return
    count = sum(len(statements(s)) for s in causes)
    if count:
        listed = "the root cause listed" if count == 1 else f"the {count} root causes listed"
        yield Hit(causes[0], None, {"rc": listed, "count": count}, key="unlinked")


@document_check("orphan_preventative_action")
def orphan_preventative_action(ctx: CheckContext) -> Iterator[Hit]:
    """A numbered preventative action whose root cause (same number, or one named beside it)
    does not exist; only judged when root causes are numbered at all."""
    found = links(ctx)
    if not found.root_causes:
        return
    for number, label in found.actions.items():
        if number not in found.linked_actions:
            yield Hit(label.section, label.span, {"pa": f"PA{number}", "rc": f"RC{number}"})
