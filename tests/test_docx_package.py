"""The reader opens .docx packages without python-docx into what python-docx gives, and leaves to
python-docx every package it would refuse or fill in."""

from __future__ import annotations

import random
import re
import zipfile
from io import BytesIO

import pytest
from docx.opc.part import PartFactory, XmlPart

from bench.core import SEED, build_docx
from server.documents import docx as docx_reader
from server.documents import read_raw
from server.documents.docx_package import XML_TYPES, open_package
from server.documents.limits import DEFAULT_LIMITS
from server.errors import DocumentError
from server.samples import messy_investigation_docx
from tests.hostile_corpus import FORMAT_CASES, plain_docx, rewrite_zip

DOCX_CASES = [case for case in FORMAT_CASES if case.filename.endswith(".docx")]
RELS = "word/_rels/document.xml.rels"


def test_the_parts_read_as_xml_are_the_ones_python_docx_reads_as_xml():
    import docx  # noqa: F401  (registers its part types)

    registered = {t for t, cls in PartFactory.part_type_for.items() if issubclass(cls, XmlPart)}
    assert registered == XML_TYPES


def _both_ways(data: bytes, monkeypatch) -> tuple[object, object]:
    """What the reader gives (or raises) opening the package itself, and through python-docx."""

    def read():
        try:
            return read_raw(data, "case.docx", DEFAULT_LIMITS)
        except DocumentError as exc:
            return type(exc), exc.message
        except Exception as exc:  # what python-docx lets through, the same either way
            return type(exc), str(exc)

    ours = read()
    with monkeypatch.context() as patched:
        patched.setattr(docx_reader, "open_package", lambda data: None)
        theirs = read()
    return ours, theirs


@pytest.mark.parametrize("case", DOCX_CASES, ids=[c.kind for c in DOCX_CASES])
def test_every_hostile_package_reads_or_fails_the_same_either_way(case, monkeypatch):
    ours, theirs = _both_ways(case.build(), monkeypatch)
    assert ours == theirs


def test_real_write_ups_read_the_same_either_way(monkeypatch):
    for data in (messy_investigation_docx(), _saved(build_docx(random.Random(SEED), parts=1))):
        assert open_package(data) is not None
        ours, theirs = _both_ways(data, monkeypatch)
        assert ours == theirs


def _rels_with(data: bytes, extra: str) -> bytes:
    rels = zipfile.ZipFile(BytesIO(data)).read(RELS).decode()
    return rewrite_zip(data, {RELS: rels.replace("</Relationships>", extra + "</Relationships>")})


STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"


def _unusual() -> dict[str, bytes]:
    data = plain_docx("The refunds were paid twice.", heading="Background")
    rels = zipfile.ZipFile(BytesIO(data)).read(RELS).decode()
    no_styles = re.sub(r"<Relationship [^>]*/styles\"[^>]*/>", "", rels)
    return {
        "no styles part": rewrite_zip(data, {RELS: no_styles.encode()}),
        "two styles parts": _rels_with(
            data, f'<Relationship Id="rId99" Type="{STYLES}" Target="styles.xml"/>'
        ),
        "no core properties": rewrite_zip(
            data,
            {
                "_rels/.rels": re.sub(
                    rb"<Relationship [^>]*core-properties\"[^>]*/>", b"", _pkg(data)
                )
            },
        ),
        "a part a relationship names is missing": _rels_with(
            data, '<Relationship Id="rId98" Type="urn:x" Target="missing.xml"/>'
        ),
        "a broken settings part": rewrite_zip(data, {"word/settings.xml": b"<w:settings"}),
        "a broken part nothing names": rewrite_zip(data, add={"customXml/x.xml": b"<broken"}),
    }


def _pkg(data: bytes) -> bytes:
    return zipfile.ZipFile(BytesIO(data)).read("_rels/.rels")


@pytest.mark.parametrize("name", list(_unusual()))
def test_unusual_packages_read_the_same_either_way(name, monkeypatch):
    data = _unusual()[name]
    unread = name == "a broken part nothing names"  # python-docx never parses it either
    assert (open_package(data) is not None) == unread  # else left to python-docx
    ours, theirs = _both_ways(data, monkeypatch)
    assert ours == theirs


def _saved(document) -> bytes:
    out = BytesIO()
    document.save(out)
    return out.getvalue()
