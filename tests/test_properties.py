"""Properties that hold for any input, checked with generated ones (hypothesis).

- Any bytes, under any supported extension, either load or raise a DocumentError: never another
  exception, which would reach a reviewer as a traceback or a 500.
- Any well-formed document loads, reviews and exports, and gives the same finding ids twice.
- Pack patterns made possessive (server/engines/patterns.py) find exactly what `re` finds.
"""

from __future__ import annotations

import io
import re
from datetime import date

import docx
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from server.documents import load_document
from server.engines import offline
from server.engines.patterns import compile_checked
from server.errors import DocumentError
from server.exports.docx_comments import annotate_docx
from server.frameworks import available, resolve
from server.samples import messy_investigation_docx
from tests.hostile_corpus import text_pdf

AS_OF = date(2026, 11, 28)
FRAMEWORK = resolve("investigation")
EXTENSIONS = (".docx", ".pdf", ".md", ".txt")
SAMPLES = {
    ".docx": messy_investigation_docx(),
    ".pdf": text_pdf("Executive Summary", "The refund check was skipped on 3 March 2026.", pages=2),
    ".md": b"# Executive Summary\n\nOwner: TBD. Due 3 March 2026.\n\n- one\n- two\n",
    ".txt": b"EXECUTIVE SUMMARY\n\nThe check was skipped.\n\nTimeline\n3 March 2026: found.\n",
}
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

# Words the checks react to, mixed with arbitrary text.
VOCABULARY = (
    "TBD",
    "Owner:",
    "owner: X",
    "due",
    "3 March 2026",
    "2026-03-11",
    "we think",
    "it was decided",
    "root cause",
    "because",
    "human error",
    "jane.doe@example.com",
    "+44 20 7946 0958",
    "the team will fix it",
    "RLS",
    "(RLS)",
    "approximately",
    "ticket  :  ",
    "\t",
    "   ",
    "<script>alert(1)</script>",
)
HEADINGS = (
    "Executive Summary",
    "Background",
    "Timeline",
    "Root Cause",
    "Resolving Actions",
    "Impact",
    "Appendix",
    "From: someone",
)
xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=60,
)
phrase = st.one_of(st.sampled_from(VOCABULARY), xml_text)
paragraph = st.lists(phrase, min_size=1, max_size=12).map(" ".join)
heading = st.one_of(st.sampled_from(HEADINGS), xml_text.filter(lambda t: t.strip()))
outline = st.lists(st.tuples(heading, st.lists(paragraph, max_size=4)), min_size=1, max_size=6)


# --- any bytes ---------------------------------------------------------------------------------


def load_or_refuse(data: bytes, filename: str) -> None:
    try:
        load_document(data, filename, FRAMEWORK)
    except DocumentError as exc:
        assert exc.message and "Traceback" not in exc.message
        event(exc.code)
    else:
        event("loaded")


@FAST
@given(data=st.binary(max_size=3000), extension=st.sampled_from(EXTENSIONS))
def test_random_bytes_load_or_raise_a_document_error(data: bytes, extension: str):
    load_or_refuse(data, "random" + extension)


@FAST
@given(
    prefix=st.sampled_from([b"PK\x03\x04", b"%PDF-1.4\n", b"\xef\xbb\xbf", b"\xff\xfe", b"# "]),
    data=st.binary(max_size=2000),
    extension=st.sampled_from(EXTENSIONS),
)
def test_random_bytes_behind_a_real_signature_load_or_raise_a_document_error(
    prefix: bytes, data: bytes, extension: str
):
    load_or_refuse(prefix + data, "signed" + extension)


@FAST
@given(
    extension=st.sampled_from(EXTENSIONS),
    edits=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=8)), max_size=6),
    cut=st.one_of(st.just(1.0), st.floats(0.05, 1.0)),
)
def test_damaged_real_files_load_or_raise_a_document_error(extension, edits, cut):
    data = bytearray(SAMPLES[extension])
    for where, replacement in edits:
        at = int(where * (len(data) - 1))
        data[at : at + len(replacement)] = replacement
    load_or_refuse(bytes(data[: max(1, int(len(data) * cut))]), "damaged" + extension)


# --- any well-formed document ------------------------------------------------------------------


def docx_of(sections: list[tuple[str, list[str]]]) -> bytes:
    document = docx.Document()
    for title, paragraphs in sections:
        document.add_heading(title, 1)
        for text in paragraphs:
            document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def markdown_of(sections: list[tuple[str, list[str]]]) -> bytes:
    lines = []
    for title, paragraphs in sections:
        lines += [f"## {title}", ""] + [f"{p}\n" for p in paragraphs]
    return "\n".join(lines).encode()


def text_of(sections: list[tuple[str, list[str]]]) -> bytes:
    lines = []
    for title, paragraphs in sections:
        lines += [title.upper(), ""] + [f"{p}\n" for p in paragraphs]
    return "\n".join(lines).encode()


def review_twice(data: bytes, filename: str):
    try:
        document = load_document(data, filename, FRAMEWORK)
    except DocumentError as exc:  # generated text can be empty, e.g. only spaces
        assert exc.code == "empty_document", exc.message
        return None
    first = offline.review(document, FRAMEWORK, as_of=AS_OF)
    again = offline.review(load_document(data, filename, FRAMEWORK), FRAMEWORK, as_of=AS_OF)
    assert [f.id for f in first.findings] == [f.id for f in again.findings]
    assert len({f.id for f in first.findings}) == len(first.findings)
    return first


@FAST
@given(sections=outline)
def test_any_word_document_loads_reviews_and_exports(sections):
    data = docx_of(sections)
    result = review_twice(data, "generated.docx")
    if result is not None:
        annotated = annotate_docx(data, result.document, result.findings)
        assert docx.Document(io.BytesIO(annotated)).paragraphs


@FAST
@given(sections=outline, as_markdown=st.booleans())
def test_any_markdown_or_text_document_loads_and_reviews(sections, as_markdown: bool):
    if as_markdown:
        review_twice(markdown_of(sections), "generated.md")
    else:
        review_twice(text_of(sections), "generated.txt")


# --- pack patterns -----------------------------------------------------------------------------


def pack_patterns() -> list[str]:
    found = set()
    for framework in available().values():
        for rule in framework.rules:
            for name, value in rule.params.items():
                if name.endswith(("pattern", "patterns")):
                    found.update(value if isinstance(value, list) else [value])
    return sorted(found)


PATTERN_TEXT = st.lists(
    st.one_of(
        st.sampled_from(VOCABULARY + HEADINGS + ("#", ":", "-", ".", "X", "XX-XX", "123", "Q3")),
        st.text(alphabet=" \t\n:;-/.,#?0123456789aAxXé’", max_size=8),
    ),
    max_size=30,
).map("".join)


PATTERNS = [(compile_checked(p), re.compile(p, re.IGNORECASE)) for p in pack_patterns()]


@settings(max_examples=100, deadline=None, derandomize=True)
@given(text=PATTERN_TEXT)
def test_pack_patterns_find_what_re_finds(text: str):
    for ours, plain in PATTERNS:
        assert [m.span() for m in ours.finditer(text)] == [m.span() for m in plain.finditer(text)]
