"""What every installer says about the app, in one place: the spec, the .deb, the Inno Setup
script and the macOS Info.plist read it from here (and the version from pyproject.toml).
Standard library only: the spec, build.py, package_deb.py and the tests all import it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

NAME = "AI-Prism"
COMMAND = "ai-prism"  # the binary, the .deb package, /usr/bin/ai-prism, the icon's name
# Reverse-DNS id shared by the macOS bundle, the AppStream component and the desktop entry; an
# installed app is known by it, so it must not change between releases.
APP_ID = "org.aiprism.AIPrism"
SUMMARY = "Review write-ups against a framework, offline first"
DESCRIPTION = (
    "AI-Prism reviews documents (Word, PDF, Markdown and plain text) against a review framework: "
    "it splits a write-up into sections, checks each one and lists what to fix, with Word "
    "comments anchored to the quoted text. Everything runs on this computer unless you choose "
    "an AI provider."
)
PUBLISHER = "AI-Prism"
HOMEPAGE = "https://aiprism.org/"  # placeholder until the project has a public page
LICENSE = "LicenseRef-proprietary"


@dataclass(frozen=True)
class DocumentType:
    extensions: tuple[str, ...]
    mime: str
    uti: str  # macOS Uniform Type Identifier
    description: str


DOCUMENT_TYPES = (
    DocumentType(
        ("docx",),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "org.openxmlformats.wordprocessingml.document",
        "Word document",
    ),
    DocumentType(("pdf",), "application/pdf", "com.adobe.pdf", "PDF document"),
    DocumentType(("md", "markdown"), "text/markdown", "net.daringfireball.markdown", "Markdown"),
    DocumentType(("txt",), "text/plain", "public.plain-text", "Plain text"),
)


def version(pyproject: Path = ROOT / "pyproject.toml") -> str:
    return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]


def extensions() -> list[str]:
    return [ext for kind in DOCUMENT_TYPES for ext in kind.extensions]
