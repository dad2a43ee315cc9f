"""Build the frozen app: `python build_spec/build.py [--onefile] [--force]`.

PyInstaller runs from its own venv under build/ holding only the app's runtime dependencies, the
`desktop` extra and PyInstaller, so no test tool is bundled; the project's sources come from the
working tree. The venv is rebuilt only when those requirements change, and the app only when a
source, the spec or the venv changed (a fingerprint in build/), so a rerun with nothing new takes
well under a second. Prints one JSON line: what was built, how long it took, how big it is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
VENV = BUILD / "venv"
DIST = ROOT / "dist"
ICONS = BUILD / "icons"
SOURCES = ("server", "desktop")
# The build_spec files the frozen app depends on (not the packaging or smoke-test scripts, so
# editing those does not rebuild it).
SPEC_INPUTS = ("aiprism.spec", "ai_prism.py", "app_info.py", "descriptors.py", "icon.py")
PROJECT = "ai-prism"
PYINSTALLER = "pyinstaller>=6.10"
PILLOW = "pillow>=11.3"  # renders the icon at build time (build_spec/icon.py); never bundled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onefile", action="store_true", help="one self-unpacking file instead")
    parser.add_argument("--force", action="store_true", help="build even if up to date")
    args = parser.parse_args(argv)
    began = time.monotonic()
    python = ensure_venv()
    name = "ai-prism-onefile" if args.onefile else "ai-prism"
    target = DIST / name
    binary = target if args.onefile else target / name
    if sys.platform == "win32":
        binary = binary.with_suffix(".exe")
    stamp = BUILD / f"{name}.fingerprint"
    fingerprint = source_fingerprint()
    icons = (ICONS / "ai-prism.icns").exists()
    if not args.force and binary.exists() and icons and _read(stamp) == fingerprint:
        report(binary, target, "up to date", time.monotonic() - began)
        return 0
    stamp.unlink(missing_ok=True)
    env = {**os.environ, "AIPRISM_ONEFILE": "1" if args.onefile else "0"}
    started = time.monotonic()
    subprocess.run(  # the icons the spec and the installers use, into build/icons
        [str(python), str(ROOT / "build_spec" / "icon.py"), str(ICONS)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [
            str(python), "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
            "--distpath", str(DIST), "--workpath", str(BUILD / "pyinstaller"),
            str(ROOT / "build_spec" / "aiprism.spec"),
        ],
        check=True,
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    stamp.write_text(fingerprint)
    report(binary, target, "built", time.monotonic() - started)
    return 0


def requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [*project["dependencies"], *_expanded(extras["desktop"], extras), PYINSTALLER, PILLOW]


def _expanded(wanted: list[str], extras: dict[str, list[str]]) -> list[str]:
    """An extra's requirements with `ai-prism[other]` replaced by that extra's own: the project
    is not installed into the build venv (its sources are bundled), so pip must not look for it."""
    out = []
    for requirement in wanted:
        if requirement.startswith(f"{PROJECT}["):
            for name in requirement[len(PROJECT) + 1 : -1].split(","):
                out += _expanded(extras[name.strip()], extras)
        else:
            out.append(requirement)
    return out


def ensure_venv() -> Path:
    """The build venv's python, (re)created when the requirements changed."""
    wanted = "\n".join(requirements()) + "\n"
    python = VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    stamp = VENV / "requirements.txt"
    if python.exists() and _read(stamp) == wanted:
        return python
    print("build: creating the build venv (runtime + desktop + PyInstaller only)", flush=True)
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    requirements_file = BUILD / "requirements.in"
    requirements_file.write_text(wanted)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements_file)], check=True
    )
    stamp.write_text(wanted)
    return python


def source_fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(_read(VENV / "requirements.txt").encode())
    digest.update((ROOT / "pyproject.toml").read_bytes())
    paths = [path for folder in SOURCES for path in sorted((ROOT / folder).rglob("*"))]
    paths += [ROOT / "build_spec" / name for name in SPEC_INPUTS]
    for path in paths:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def folder_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def report(binary: Path, target: Path, what: str, seconds: float) -> None:
    size = folder_size(target)
    print(
        json.dumps(
            {
                "build": what,
                "binary": str(binary.relative_to(ROOT)),
                "seconds": round(seconds, 1),
                "size_mb": round(size / 1_000_000, 1),
            }
        ),
        flush=True,
    )


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
