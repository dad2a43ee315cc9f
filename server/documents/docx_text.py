"""How a Word paragraph's text is assembled from its runs: shared by the reader and the exporter.

The reader's paragraph text and the exporter's run offsets must agree character for character,
or comments land on the wrong words; so both walk the XML through `paragraph_runs`.
"""

from __future__ import annotations

from collections.abc import Iterator

_PREFIXES = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}


def qn(tag: str) -> str:
    """`w:p` in Clark notation, as python-docx's `qn` writes it (without importing python-docx)."""
    prefix, name = tag.split(":")
    return "{" + _PREFIXES[prefix] + "}" + name


W_P = qn("w:p")
W_R = qn("w:r")
_TEXT = qn("w:t")
_TAB = qn("w:tab")
_BREAKS = {qn("w:br"), qn("w:cr")}
_NOBREAK_HYPHEN = qn("w:noBreakHyphen")
_DEL = qn("w:del")
_MOVE_FROM = qn("w:moveFrom")


def body_paragraphs(body) -> list:
    """Every `w:p` under the body in document order, table cells included: the locator space."""
    return [p for p in body.iter(W_P) if not _inside_deleted(p)]


def paragraph_runs(p) -> Iterator[tuple[object, str]]:
    """(w:r element, its visible text) for each run of the paragraph, in order.

    Runs inside hyperlinks, smart tags and insertions count; deleted text and nested paragraphs
    (text boxes) do not.
    """
    for r in p.iter(W_R):
        if _belongs_to(r, p):
            yield r, run_text(r)


def run_text(r) -> str:
    parts: list[str] = []
    for child in r:
        tag = child.tag
        if tag == _TEXT:
            parts.append(child.text or "")
        elif tag == _TAB:
            parts.append("\t")
        elif tag in _BREAKS:
            parts.append("\n")
        elif tag == _NOBREAK_HYPHEN:
            parts.append("-")
    return "".join(parts)


def paragraph_text(p) -> str:
    return "".join(text for _, text in paragraph_runs(p))


def _belongs_to(r, p) -> bool:
    """Whether run `r` is p's own (its nearest paragraph is p, not a text box inside p) and not
    deleted: one walk up from the run, usually a single step, does both tests."""
    parent = r.getparent()
    while parent is not None and parent.tag != W_P:
        if parent.tag in (_DEL, _MOVE_FROM):
            return False
        parent = parent.getparent()
    return parent is p


def _inside_deleted(element) -> bool:
    parent = element.getparent()
    while parent is not None:
        if parent.tag in (_DEL, _MOVE_FROM):
            return True
        parent = parent.getparent()
    return False
