"""Does every action say who will do it and by when?

An action item is, in a resolving- or preventative-actions section:
- a list item or a table row (a row whose cells are all column names, like
  "Action | Owner | Due date", is a header, not an item);
- a line that starts with a bullet ("-", "•", "1.", "a)") or an action label (PA1, PA1a, PA 2,
  CA-3, A1, AI4, "Action 2");
- a line that starts with an imperative verb ("Add alerting …", "Rotate the keys …").
A line ending in ":" ("The following actions were agreed:") introduces items and is not one, and
narrative prose ("On 5 March the team rolled back …") is not an item either. In any other section
(a combined "Root causes and preventative actions" section is filed as root causes) only lines and
rows that start with an action label count, so root-cause statements are never taken for actions.
A paragraph holding several lines (plain-text input) is read line by line.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from server.engines.compiled_patterns import regex
from server.engines.dates import find_dates
from server.engines.patterns import any_of
from server.engines.registry import CheckContext, Hit, section_check
from server.model import Paragraph, Section, Span

# Section kinds where every item is an action; elsewhere only labelled lines (PA1, Action 3) are.
ACTION_KINDS = ["resolving_actions", "preventative_actions"]

OWNER_PATTERNS = [
    r"\bowner\s*[:=–-]",
    r"\bowned\s+by\b",
    r"\bassigned\s+to\b",
    r"\bassignee\s*[:=–-]",
    r"\bresponsible(?:\s+(?:party|team|person))?\s*[:=–-]",
    r"\blead\s*[:=–-]",
    r"\bDRI\b",
    r"(?<![\w.])@[A-Za-z][\w.-]*",
    r"\b[\w.+-]+@[\w-]+\.[\w.]+",
    # "(Jane Smith)": two or three capitalised words in brackets
    r"\((?-i:[A-Z][a-z'’-]+[ -][A-Z][a-z'’-]+(?:[ -][A-Z][a-z'’-]+)?)\)",
    r"\b(?:team|squad)\s*[:=]",
    r"\b(?:team|squad|on-?call|engineering|ops|operations)\s+(?:will|to|owns?)\b",
]
_MONTHS = (
    "(?:January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)"
)
DATE_PATTERNS = [
    r"\b(?:Q[1-4]|H[12])\s*(?:FY)?\s*'?\d{2,4}\b",
    r"\bFY\s*'?\d{2,4}\b",
    rf"\b(?:by|before|until|in|end of)\s+(?:early\s+|mid-?\s*|late\s+)?{_MONTHS}\b",
    rf"\b{_MONTHS}\.?\s+\d{{4}}\b",
    r"\bby\s+(?:the\s+)?(?:end|start|beginning|middle)\s+of\s+(?:the\s+|this\s+|next\s+)?\w+",
    r"\b(?:EOD|EOW|EOM|EOQ|EOY)\b",
    r"\b(?:next|this)\s+(?:week|sprint|month|quarter)\b",
    r"\b(?:ETA|due|target|deadline|completed?|done)\b(?:\s+date)?\s*[:=–-]\s*\w",
    r"\bstatus\s*[:=–-]\s*(?:done|complete|completed|closed)\b",
    r"(?:^|\|)\s*(?:done|completed|closed)\s*(?:\||$)",
]
# An owner or date slot filled with a placeholder counts as missing.
_NO_OWNER = regex(
    r"\b(?:owner|assigned\s+to|assignee|responsible|lead|dri)\s*[:=–-]?\s*"
    r"(?:tbd|tbc|unknown|unassigned|none|n/?a|\?)(?![\w])",
    re.IGNORECASE,
)
_NO_DATE = regex(
    r"\b(?:due|eta|target|deadline|date)\s*[:=–-]?\s*(?:tbd|tbc|unknown|none|n/?a|\?)(?![\w])",
    re.IGNORECASE,
)

BULLET = regex(r"[ \t]*(?:[•◦▪●○■*–—-]|\(?\d{1,2}[.)]|\(?[a-z][.)]|\[[ xX]?\])[ \t]+")
ACTION_LABEL = regex(
    r"(?:(?:PA|CA|RA)[-#. ]?\d{1,3}[a-z]?|(?:AI|AP|A)[-#.]?\d{1,3}[a-z]?"
    r"|[Aa]ction(?:\s+[Ii]tem)?\s*#?\s*\d{1,3}[a-z]?)(?!\w)"
)
_IMPERATIVE = regex(
    r"(?:Add|Adopt|Agree|Alert|Align|Audit|Automate|Backfill|Build|Change|Clarify|Communicate|"
    r"Configure|Create|Define|Deploy|Deprecate|Design|Disable|Document|Enable|Enforce|Ensure|"
    r"Escalate|Establish|Extend|Fix|Implement|Improve|Increase|Install|Introduce|Investigate|"
    r"Limit|Migrate|Monitor|Move|Notify|Patch|Publish|Reduce|Refund|Remove|Replace|Require|"
    r"Restrict|Review|Revoke|Roll|Rotate|Run|Schedule|Separate|Set|Share|Standardi[sz]e|Test|"
    r"Train|Update|Upgrade|Validate|Verify|Write)\b"
    # "Review of the logs showed …" is narrative, not an instruction.
    r"(?!\s+(?:of|was|were|is|are|has|had|showed|shows|revealed|indicated|found|results)\b)"
)
_HEADER_WORDS = regex(
    r"^(?:#|no\.?|id|ref|item|action(?:\s+item)?s?|description|details?|what|owner|who|"
    r"assignee|responsible|team|lead|dri|due(?:\s+date)?|date|when|target(?:\s+date)?|eta|"
    r"deadline|status|priority|notes?|comments?|completed?(?:\s+date)?|root\s+causes?|rc|pa|"
    r"cause|timestamp|time|event|type|link|ticket)$",
    re.IGNORECASE,
)
_NAME_CELL = regex(r"(?:[A-Z][a-z'’-]+|[A-Z]\.)(?: [A-Z][a-z'’-]+){1,2}")
_WORD_CELL = regex(r"[A-Z][a-zA-Z'’-]+|[A-Z]{2,6}")
_TEAM_CELL = regex(r"[\w&/ -]{2,40}\s(?:team|squad|group|ops|engineering|on-?call)", re.IGNORECASE)
_NOT_NAME_WORDS = (
    "open closed done complete completed in progress not started pending blocked planned ongoing "
    "high medium low critical root cause action owner status yes no tbd tbc n/a resolved "
    "implemented on track hold at risk due date monitoring investigating scheduled todo wip draft "
    "new active cancelled canceled deferred backlog none unknown the and or of to for ok"
)
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())


@dataclass(frozen=True)
class ActionItem:
    """One action: `paragraph.text[start:end]` is its text, without bullet and outer spaces."""

    section: Section
    paragraph: Paragraph
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.paragraph.text[self.start : self.end]

    @property
    def span(self) -> Span:
        return Span.of(self.paragraph, self.start, self.end)

    def summary(self, limit: int = 60) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-blank line, trimmed of surrounding whitespace."""
    offset = 0
    for raw in text.split("\n"):
        start, end = offset, offset + len(raw)
        offset = end + 1
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            yield start, end


def strip_bullet(text: str, start: int, end: int) -> int:
    """Where the content of a line starts once a leading bullet or list number is skipped."""
    match = BULLET.match(text, start, end)
    return match.end() if match else start


def is_header_row(text: str) -> bool:
    cells = [c.strip() for c in text.split("|") if c.strip()]
    return bool(cells) and all(_HEADER_WORDS.match(c) for c in cells)


def starts_with_action_label(text: str, start: int = 0, end: int | None = None) -> bool:
    end = len(text) if end is None else end
    return ACTION_LABEL.match(text, strip_bullet(text, start, end), end) is not None


def action_items(section: Section, action_kinds: Collection[str]) -> list[ActionItem]:
    """The action items of a section, in order (see the module docstring for what counts)."""
    in_actions = section.kind in action_kinds
    items: list[ActionItem] = []
    for paragraph in section.body:
        text = paragraph.text
        if paragraph.table_row:
            bounds = next(lines(text), None)
            if bounds is None or is_header_row(text):
                continue
            start, end = bounds[0], len(text.rstrip())
            if in_actions or starts_with_action_label(text, start, end):
                items.append(ActionItem(section, paragraph, start, end))
            continue
        for start, end in lines(text):
            content = strip_bullet(text, start, end)
            if text[end - 1] == ":" or content >= end:
                continue
            labelled = ACTION_LABEL.match(text, content, end) is not None
            listed = paragraph.list_item or content > start
            verb = _IMPERATIVE.match(text, content, end) is not None
            if labelled or (in_actions and (listed or verb)):
                items.append(ActionItem(section, paragraph, content, end))
    return items


def has_owner(item: ActionItem, owner: re.Pattern[str]) -> bool:
    text = item.text
    if _NO_OWNER.search(text):
        return False
    if owner.search(text):
        return True
    return item.paragraph.table_row and any(_looks_like_owner(c) for c in text.split("|")[1:])


def has_date(item: ActionItem, dated: re.Pattern[str]) -> bool:
    text = item.text
    if find_dates(text, year=2000):
        return True
    if _NO_DATE.search(text):
        return False
    return dated.search(text) is not None


def _looks_like_owner(cell: str) -> bool:
    cell = cell.strip()
    if not cell or len(cell.split()) > 4 or any(ch.isdigit() for ch in cell):
        return False
    if _TEAM_CELL.fullmatch(cell):
        return True
    if not (_NAME_CELL.fullmatch(cell) or _WORD_CELL.fullmatch(cell)):
        return False
    return not any(word.lower().strip(".") in _NOT_NAMES for word in cell.split())


@section_check("action_owner", owner_patterns=OWNER_PATTERNS, action_kinds=ACTION_KINDS)
def action_owner(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """An action item that names no owner (person, team, @handle, e-mail or owner column)."""
    owner = any_of(ctx.param("owner_patterns"))
    for item in action_items(section, ctx.param("action_kinds")):
        if not has_owner(item, owner):
            yield Hit(section, item.span, {"action": item.summary()})


@section_check("action_due_date", date_patterns=DATE_PATTERNS, action_kinds=ACTION_KINDS)
def action_due_date(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """An action item with no target or completion date (a date, a quarter, "by end of month")."""
    dated = any_of(ctx.param("date_patterns"))
    for item in action_items(section, ctx.param("action_kinds")):
        if not has_date(item, dated):
            yield Hit(section, item.span, {"action": item.summary()})
