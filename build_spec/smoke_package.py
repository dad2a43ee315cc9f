"""Install the .deb on this machine, use it as a user would, remove it (as root):
`python build_spec/smoke_package.py [--deb PATH]`.

1. `dpkg -i`: the files land where they should and the system's desktop database now offers
   AI-Prism for .docx, .pdf, .md and .txt.
2. The installed desktop entry's Exec line, with a document for its %f, plus `--self-test`, on an
   Xvfb screen: the window opens on the new review of that document, then runs its self-test.
3. `ai-prism --serve` once, leaving a review and settings in the user's data folder.
4. `dpkg -r`: every file the package installed is gone, the user's data and settings stay.
Standard library only (plus the project's sample builder). Prints one JSON line; exits non-zero
with the reason when a step fails.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from build_spec import app_info  # noqa: E402
from build_spec.smoke_test import URL_LINE, SmokeFailed, isolated_env, self_test  # noqa: E402
from desktop.bridge import LocalApi  # noqa: E402
from server.samples import messy_investigation_docx  # noqa: E402

PACKAGE = app_info.COMMAND
DESKTOP_ENTRY = Path("/usr/share/applications") / f"{app_info.APP_ID}.desktop"
MIME_CACHE = Path("/usr/share/applications/mimeinfo.cache")
FIELD_CODES = ("%f", "%F", "%u", "%U")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ROOT / "dist" / f"{PACKAGE}_{app_info.version()}_amd64.deb"
    parser.add_argument("--deb", type=Path, default=default)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("smoke-package: dpkg -i needs root", file=sys.stderr)
        return 2
    if not args.deb.exists():
        print(f"smoke-package: no package at {args.deb}; run `make package`", file=sys.stderr)
        return 2
    figures: dict = {"deb": str(args.deb)}
    with tempfile.TemporaryDirectory(prefix="aiprism-deb-smoke-") as temp:
        folder = Path(temp)
        env = isolated_env(folder)
        try:
            figures.update(run(args.deb, folder, env))
        except SmokeFailed as exc:
            _dpkg("--remove", PACKAGE, check=False)
            print(json.dumps({**figures, "smoke_package": "failed", "reason": str(exc)}))
            print(f"smoke-package: FAILED: {exc}", file=sys.stderr)
            return 1
    print(json.dumps({**figures, "smoke_package": "passed"}), flush=True)
    return 0


def run(deb: Path, folder: Path, env: dict) -> dict:
    figures: dict = {}
    _dpkg("--install", str(deb))
    installed = _installed_paths()
    figures["installed_files"] = sum(1 for path in installed if not path.is_dir())
    outside = [
        str(p) for p in installed
        if not str(p).startswith(("/opt/ai-prism", "/usr/bin/ai-prism", "/usr/share/applications/",
                                  "/usr/share/icons/hicolor/", "/usr/share/metainfo/"))
        and not p.is_dir()
    ]  # fmt: skip
    if outside:
        raise SmokeFailed(f"files outside the package's places: {outside[:5]}")
    figures["mime_types_offered"] = _offered_mime_types()
    said = subprocess.run([PACKAGE, "--version"], capture_output=True, text=True, env=env)
    figures["version"] = said.stdout.strip()
    if figures["version"] != f"aiprism-desktop {app_info.version()}":
        raise SmokeFailed(f"`{PACKAGE} --version` said {said.stdout!r} {said.stderr[-500:]!r}")

    document = folder / "Payment reversal – incident review.docx"
    document.write_bytes(messy_investigation_docx())
    command = [*desktop_command(document), "--self-test"]
    figures["launched"] = command
    figures.update(self_test(Path(command[0]), env, command))
    opened = figures.get("opened_document") or {}
    if opened.get("name") != document.name or not opened.get("findings"):
        raise SmokeFailed(f"the window did not open {document.name} as a review: {opened}")

    data = Path(env["XDG_DATA_HOME"]) / "ai-prism"
    leave_user_data(env)
    _dpkg("--remove", PACKAGE)
    left = [str(p) for p in installed if p.exists() and not p.is_dir()]
    if left or Path("/opt/ai-prism").exists():
        raise SmokeFailed(f"files left after removal: {left[:5] or ['/opt/ai-prism']}")
    if _offered_mime_types():
        raise SmokeFailed("the desktop database still offers AI-Prism after removal")
    kept = sorted(p.name for p in data.iterdir()) if data.exists() else []
    if not {"settings.json", "reviews.sqlite3"} <= set(kept):
        raise SmokeFailed(f"the user's data folder lost its reviews or settings: {kept}")
    figures["user_data_kept"] = kept
    return figures


def desktop_command(document: Path) -> list[str]:
    """The installed desktop entry's Exec line, as a launcher runs it with `document` chosen."""
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read_string(DESKTOP_ENTRY.read_text(encoding="utf-8"))
    words = shlex.split(entry["Desktop Entry"]["Exec"])
    command = [str(document) if word in FIELD_CODES else word for word in words]
    return [_which(command[0]), *command[1:]]


def leave_user_data(env: dict) -> None:
    """One review and a saved setting in the user's own data folder, through the installed app."""
    process = subprocess.Popen(
        [PACKAGE, "--serve", "--port", "0", "--no-browser"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        match = URL_LINE.match(process.stdout.readline().strip())
        if not match:
            raise SmokeFailed(f"the installed app printed no URL: {process.stderr.read()[-2000:]}")
        base, token = match.group(1), match.group(2)
        LocalApi(base, token).upload(messy_investigation_docx(), "kept.docx", None, None)
        request = urllib.request.Request(  # noqa: S310 (the app's own http://127.0.0.1 URL)
            base + "api/v1/settings",
            data=json.dumps({"framework": "general"}).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            if response.status != 200:
                raise SmokeFailed(f"saving a setting answered {response.status}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)


def _offered_mime_types() -> list[str]:
    """The MIME types the system's desktop database maps to AI-Prism's entry."""
    if not MIME_CACHE.exists():
        return []
    name = DESKTOP_ENTRY.name
    return sorted(
        line.split("=", 1)[0]
        for line in MIME_CACHE.read_text(encoding="utf-8").splitlines()
        if "=" in line and name in line.split("=", 1)[1].split(";")
    )


def _installed_paths() -> list[Path]:
    listing = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True, check=True)
    return [Path(line) for line in listing.stdout.splitlines() if line.startswith("/")]


def _dpkg(action: str, target: str, check: bool = True) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(["dpkg", action, target], capture_output=True, text=True, env=env)
    if check and result.returncode != 0:
        raise SmokeFailed(f"dpkg {action} failed: {result.stdout[-1500:]}{result.stderr[-1500:]}")


def _which(command: str) -> str:
    from shutil import which

    found = which(command)
    if found is None:
        raise SmokeFailed(f"{command} is not on PATH after installing")
    return found


if __name__ == "__main__":
    sys.exit(main())
