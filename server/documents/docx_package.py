"""A .docx package opened for the reader without python-docx: its body, styles and title.

Importing python-docx and opening a package with it is about a tenth of a second, paid by every
`aiprism review` of a .docx, while the reader needs three things: the main document's body, the
styles part and the core properties' title. Here they are found as python-docx finds them:
relationships walked from the package's, depth first; content types by override, then by
extension; every part python-docx would parse parsed with its parser's options, so that a package
opened here is one python-docx opens too, into the same trees. What python-docx would refuse or
make up (no styles part, two relationships of one type, another main content type, no body)
gives None, and the reader asks python-docx, which says what is wrong as before.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass

from lxml import etree

_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
OFFICE_DOCUMENT, STYLES, IMAGE = (_OFFICE + t for t in ("officeDocument", "styles", "image"))
CORE_PROPERTIES = (
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
)
MAIN_TYPE, STYLES_TYPE = _WML + "document.main+xml", _WML + "styles+xml"
CORE_TYPE = "application/vnd.openxmlformats-package.core-properties+xml"
# The content types python-docx 1.2 reads as XML parts (docx/__init__.py); the rest stay bytes.
XML_TYPES = frozenset(
    [CORE_TYPE, MAIN_TYPE, STYLES_TYPE]
    + [_WML + t + "+xml" for t in ("comments", "footer", "header", "numbering", "settings")]
)
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_BODY = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}body"
_TITLE = "{http://purl.org/dc/elements/1.1/}title"


@dataclass(frozen=True)
class Package:
    body: etree._Element
    styles: etree._Element
    title: str


@dataclass(frozen=True)
class _Relationship:
    type: str
    target: str  # a part name, or what an external relationship points at
    external: bool


def open_package(data: bytes) -> Package | None:
    """The reader's three parts, or None where python-docx must be asked."""
    try:
        return _Opened(zipfile.ZipFile(io.BytesIO(data))).package()
    except Exception:  # anything at all: python-docx, asked next, says what it is
        return None


class _Opened:
    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        # python-docx's parser options; one parser per package, as lxml's are not for sharing
        self.parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
        types = etree.fromstring(archive.read("[Content_Types].xml"), self.parser)
        self.overrides = {
            o.get("PartName").lower(): o.get("ContentType")
            for o in types.findall(_TYPES + "Override")
        }
        self.defaults = {
            d.get("Extension").lower(): d.get("ContentType")
            for d in types.findall(_TYPES + "Default")
        }
        self.types: dict[str, str] = {}
        self.roots: dict[str, etree._Element] = {}
        self.rels: dict[str, list[tuple[str, _Relationship]]] = {}  # (id, relationship)

    def package(self) -> Package | None:
        self._walk("/")
        main = self._related("/", OFFICE_DOCUMENT)
        if main is None or self.types[main] != MAIN_TYPE or main not in self.roots:
            return None
        styles = self._related(main, STYLES)
        core = self._related("/", CORE_PROPERTIES)
        body = self.roots[main].find(_BODY)
        if styles not in self.roots or core not in self.roots or body is None:
            return None
        if self.types[styles] != STYLES_TYPE or self.types[core] != CORE_TYPE:
            return None
        title = self.roots[core].find(_TITLE)
        text = "" if title is None or title.text is None else title.text
        return Package(body, self.roots[styles], text)

    def _walk(self, source: str) -> None:
        """Read `source`'s relationships, then each part they lead to not seen yet, depth first
        (the order decides which relationship type a part is first reached by)."""
        self.rels[source] = self._relationships(source)
        for _, rel in self.rels[source]:
            if rel.external or rel.target in self.types:
                continue
            blob = self.archive.read(rel.target[1:])
            self.types[rel.target] = self._content_type(rel.target)
            if rel.type != IMAGE and self.types[rel.target] in XML_TYPES:
                self.roots[rel.target] = etree.fromstring(blob, self.parser)
            self._walk(rel.target)

    def _relationships(self, source: str) -> list[tuple[str, _Relationship]]:
        folder, name = posixpath.split(source)
        try:
            xml = self.archive.read(posixpath.join(folder, "_rels", f"{name}.rels")[1:])
        except KeyError:
            return []
        found = []
        for element in etree.fromstring(xml, self.parser).findall(_RELATIONSHIP):
            external = element.get("TargetMode", "Internal") == "External"
            target = element.get("Target")
            if not external:
                target = posixpath.abspath(posixpath.join(folder, target))
            found.append((element.get("Id"), _Relationship(element.get("Type"), target, external)))
        return found

    def _content_type(self, part: str) -> str:
        if part.lower() in self.overrides:
            return self.overrides[part.lower()]
        extension = posixpath.splitext(part)[1]
        return self.defaults[(extension[1:] if extension.startswith(".") else extension).lower()]

    def _related(self, source: str, kind: str) -> str | None:
        """The part `source`'s one relationship of `kind` leads to; None for none or several.
        Relationships are kept by id, a later one replacing an earlier one, as python-docx does."""
        by_id = dict(self.rels[source])
        matching = [rel for rel in by_id.values() if rel.type == kind]
        if len(matching) != 1 or matching[0].external:
            return None
        return matching[0].target
