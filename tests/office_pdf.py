"""PDFs made the way users make them: LibreOffice Writer, headless, from .docx bytes.

soffice takes seconds to start, so every .docx still missing from the cache is converted in one
call, and each PDF is kept under the hash of the .docx it came from for the rest of the run. Each
call gets a profile folder of its own (-env:UserInstallation), so runs never share or lock one.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess  # nosec B404: runs LibreOffice on files the tests wrote
import tempfile
from pathlib import Path

SOFFICE = shutil.which("soffice") or "/usr/bin/soffice"
TIMEOUT = 300


class OfficeConverter:
    def __init__(self, cache: Path):
        self.cache = cache
        cache.mkdir(parents=True, exist_ok=True)

    def pdfs(self, documents: dict[str, bytes]) -> dict[str, bytes]:
        """name -> PDF bytes for name -> .docx bytes, converting only what is not cached."""
        digests = {name: hashlib.sha256(data).hexdigest() for name, data in documents.items()}
        missing = {
            digest: documents[name]
            for name, digest in digests.items()
            if not (self.cache / f"{digest}.pdf").exists()
        }
        if missing:
            self._convert(missing)
        return {
            name: (self.cache / f"{digest}.pdf").read_bytes() for name, digest in digests.items()
        }

    def _convert(self, documents: dict[str, bytes]) -> None:
        if not Path(SOFFICE).exists():
            raise RuntimeError(
                "LibreOffice not found: apt-get install libreoffice-writer-nogui (.ci/run does)"
            )
        with tempfile.TemporaryDirectory(dir=self.cache) as work:
            folder = Path(work)
            sources = []
            for digest, data in documents.items():
                source = folder / f"{digest}.docx"
                source.write_bytes(data)
                sources.append(str(source))
            command = [
                SOFFICE,
                f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(folder),
                *sources,
            ]
            done = subprocess.run(  # nosec B603: a fixed program and files the tests wrote
                command, capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
            for digest in documents:
                made = folder / f"{digest}.pdf"
                if not made.exists():
                    raise RuntimeError(
                        f"soffice made no PDF of {digest}.docx (exit {done.returncode}): "
                        f"{done.stderr.strip()[-500:]}"
                    )
                made.replace(self.cache / f"{digest}.pdf")
