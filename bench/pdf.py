"""PDF reading speed: AI-Prism's reader as a whole process, beside poppler's pdftotext.

Run with `make bench` or `python -m bench.pdf`. The bench write-up of bench.core (about 100 pages)
gets Word's line numbering and a running footer, and LibreOffice exports it to PDF, as a reviewer
is sent it (kept in bench/out/, made again only when it is gone). Each figure is the median of
several cold processes taken in turn with pdftotext's on the same file: ours reads the PDF into
sections (pypdf, margin numbers, running lines, paragraphs, headings); pdftotext only pulls the
text out, which is the least any reader costs. See bench/README.md.
"""

from __future__ import annotations

import io
import random
import shutil
import sys
from pathlib import Path

from pypdf import PdfReader

from bench.cold import side_by_side
from bench.core import OUT, SEED, build_docx

PYTHON = sys.executable
READ = (
    "import sys; from pathlib import Path; from server.documents import load_path; "
    "from server.frameworks import resolve; load_path(Path(sys.argv[1]), resolve('investigation'))"
)


def exported_pdf() -> Path:
    """The bench write-up with line numbers and page footers, exported by LibreOffice once (a
    saved .docx differs by its zip timestamps, so the PDF file itself is what is kept)."""
    from tests.office_pdf import OfficeConverter  # a bench may use the tests' helpers
    from tests.office_write_ups import add_line_numbers

    path = OUT / "investigation-100p.pdf"
    if path.exists():
        return path
    document = build_docx(random.Random(SEED))
    for section in document.sections:
        add_line_numbers(section, count_by=1, restart="newPage")
        section.footer.paragraphs[0].text = "Trust Investigations - confidential"
    data = io.BytesIO()
    document.save(data)
    pdf = OfficeConverter(OUT / "office-pdf").pdfs({"bench": data.getvalue()})["bench"]
    path.write_bytes(pdf)
    return path


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        print("pdftotext not found: apt-get install poppler-utils (.ci/run does)")
        return
    path = exported_pdf()
    pages = len(PdfReader(path).pages)
    ours, theirs = side_by_side([PYTHON, "-c", READ, str(path)], [pdftotext, str(path), "-"])
    print(f"\nPDF reading, {path.name} ({pages} pages, LibreOffice export with line numbers)")
    print(f"{'':<28}{'s':>8}{'ms/page':>10}")
    print(f"{'aiprism (read + sections)':<28}{ours:>8.2f}{ours / pages * 1000:>10.1f}")
    print(f"{'pdftotext (text only)':<28}{theirs:>8.2f}{theirs / pages * 1000:>10.1f}")
    print(f"ratio: {ours / theirs:.1f}x pdftotext's time")


if __name__ == "__main__":
    main()
