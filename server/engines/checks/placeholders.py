"""Template text left in a document: 'TBD', 'XX-XXX-XXXX', 'Owner: X', '[INSERT NAME]'.

A placeholder means the author never came back to a fact the reader needs, so the pattern list is
data a pack can extend. Capitals-only tokens are matched case-sensitively so 'todo' in prose and
'Xbox' or 'XML' never hit; a lone 'X' counts only as the value of a label ('Owner: X').
"""

from __future__ import annotations

from collections.abc import Iterator

from server.engines.patterns import pattern_set
from server.engines.registry import CheckContext, Hit, section_check
from server.model import Section, Span

PLACEHOLDER_PATTERNS = [
    r"\b(?:TBD|TBC|TBA)\b",
    r"(?-i:\b(?:TODO|FIXME)\b)",
    # XX-XXX-XXXX, XXXX, X.X; not part of a masked number such as XXXX XXXX 1234 or 1234-XXXX.
    r"(?<!\d[-/. ])\b(?>X[X/.\-]*X)\b(?![-/. X]*\d)",
    # 'Owner: X', 'Completed: ?', 'Date: ??' where the whole value is the mark.
    r"\b[A-Za-z]+(?: [A-Za-z]+)?:[ \t]*(?:X|\?+)(?=[ \t]*(?:$|[,;|)\t]|\.(?:\s|$)))",
    r"\[\s*(?:name|insert|enter|add|placeholder|tbd|tbc|todo|link|owner)\b[^\[\]\n]{0,80}\]",
    r"<\s*(?:insert|add|enter|name)\b[^<>\n]{0,80}>",
    r"\{\{[^{}\n]{0,80}\}\}",
    r"\bN/A\?",
    r"\?{2,}",
    r"\blorem\s+ipsum\b",
]


@section_check("placeholder", patterns=PLACEHOLDER_PATTERNS)
def placeholder(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """One hit per placeholder, quoting exactly the placeholder text."""
    patterns = pattern_set(tuple(ctx.param("patterns")))
    for paragraph in section.body:
        for m in patterns.finditer(paragraph.text):
            if m.end() > m.start():
                span = Span.of(paragraph, m.start(), m.end())
                yield Hit(section, span, {"placeholder": m.group()})
