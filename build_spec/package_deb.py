"""Build the Debian package from the one-folder build: `python build_spec/package_deb.py [--fast]`.

dist/ai-prism_<version>_amd64.deb holds the app in /opt/ai-prism, /usr/bin/ai-prism (a link to
it), a desktop entry that offers "Open with AI-Prism" for .docx/.pdf/.md/.txt, the icon in the
hicolor theme and AppStream metadata; nothing else. Debian's own triggers (desktop-file-utils,
hicolor-icon-theme) refresh the MIME and icon caches, so there are no maintainer scripts. The
desktop entry and metadata are checked with desktop-file-validate and appstreamcli first.
Prints one JSON line: the package, its size, the unpacked size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from build_spec import app_info, descriptors  # noqa: E402
from build_spec.icon import NAME as ICON_FILE  # noqa: E402
from build_spec.icon import PNG_SIZES  # noqa: E402

APP = ROOT / "dist" / app_info.COMMAND
ICONS = ROOT / "build" / "icons"
LIBRARIES = ROOT / "build_spec" / "linux" / "runtime-libraries.txt"
INSTALL_DIR = Path("/opt") / app_info.COMMAND
MAINTAINER = f"{app_info.PUBLISHER} maintainers <maintainers@aiprism.org>"


class PackageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the .deb")
    parser.add_argument("--fast", action="store_true", help="light gzip instead of xz (tests)")
    args = parser.parse_args(argv)
    try:
        report = build(args.out, fast=args.fast)
    except PackageError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report), flush=True)
    return 0


def runtime_libraries() -> list[str]:
    lines = LIBRARIES.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def build(out: Path, fast: bool = False) -> dict:
    binary = APP / app_info.COMMAND
    if not binary.exists() or not (ICONS / f"{ICON_FILE}.svg").exists():
        raise PackageError(f"no build at {APP}: run `make build` first")
    version = app_info.version()
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{app_info.COMMAND}_{version}_amd64.deb"
    with tempfile.TemporaryDirectory(prefix="aiprism-deb-") as temp:
        root = Path(temp) / "root"
        stage(root, version)
        check(root)
        compression = ["-Zgzip", "-z1"] if fast else ["-Zxz"]
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", *compression, "--build", str(root), str(target)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return {
        "package": str(target),
        "version": version,
        "deb_mb": round(target.stat().st_size / 1_000_000, 1),
        "unpacked_mb": round(_size(APP) / 1_000_000, 1),
    }


def stage(root: Path, version: str) -> None:
    """The package's files under `root`, as they will be installed, plus DEBIAN/control."""
    shutil.copytree(APP, root / INSTALL_DIR.relative_to("/"), symlinks=True)
    # Qt WebEngine creates this (empty) folder beside its resources at start when it may write
    # there, as root does (a smoke test may have made it already): the package owns it, so
    # removing the package removes it too.
    locales = root / INSTALL_DIR.relative_to("/") / "_internal/PySide6/Qt/resources/locales"
    locales.mkdir(exist_ok=True)
    bin_dir = root / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / app_info.COMMAND).symlink_to(INSTALL_DIR / app_info.COMMAND)
    share = root / "usr" / "share"
    _write(share / "applications" / f"{app_info.APP_ID}.desktop", descriptors.desktop_entry())
    released = datetime.now(UTC).date()
    metainfo = descriptors.appstream(version, released)
    _write(share / "metainfo" / f"{app_info.APP_ID}.metainfo.xml", metainfo)
    hicolor = share / "icons" / "hicolor"
    for size in PNG_SIZES:
        _copy(
            ICONS / f"{ICON_FILE}-{size}.png",
            hicolor / f"{size}x{size}" / "apps" / f"{app_info.APP_ID}.png",
        )
    _copy(ICONS / f"{ICON_FILE}.svg", hicolor / "scalable" / "apps" / f"{app_info.APP_ID}.svg")
    _normalise_modes(root)
    control = root / "DEBIAN" / "control"
    _write(control, control_file(version, _size(root) // 1024))


def control_file(version: str, installed_kib: int) -> str:
    description = "\n".join(f" {line}" for line in textwrap.wrap(app_info.DESCRIPTION, 76))
    return (
        f"Package: {app_info.COMMAND}\n"
        f"Version: {version}\n"
        "Architecture: amd64\n"
        f"Maintainer: {MAINTAINER}\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(runtime_libraries())}\n"
        "Section: text\n"
        "Priority: optional\n"
        f"Homepage: {app_info.HOMEPAGE}\n"
        f"Description: {app_info.SUMMARY}\n{description}\n"
    )


def check(root: Path) -> None:
    """desktop-file-validate and appstreamcli on the staged files; a complaint stops the build."""
    share = root / "usr" / "share"
    checks = [
        ["desktop-file-validate", str(share / "applications" / f"{app_info.APP_ID}.desktop")],
        ["appstreamcli", "validate", "--no-net", "--pedantic",
         str(share / "metainfo" / f"{app_info.APP_ID}.metainfo.xml")],
    ]  # fmt: skip
    for command in checks:
        if shutil.which(command[0]) is None:
            raise PackageError(f"{command[0]} is not installed (see .ci/run's DEB_PACKAGES)")
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or (command[0] == "desktop-file-validate" and result.stdout):
            raise PackageError(f"{' '.join(command[:2])} failed:\n{result.stdout}{result.stderr}")


def _normalise_modes(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        executable = path.is_dir() or path.stat().st_mode & 0o111
        path.chmod(0o755 if executable else 0o644)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


if __name__ == "__main__":
    sys.exit(main())
