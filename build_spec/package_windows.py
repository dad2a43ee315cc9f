"""The Windows installer from the one-folder build: `python build_spec/package_windows.py`.

Writes build/ai-prism.iss (build_spec/descriptors.py's Inno Setup script: per-user, no
administrator rights, Start-menu entry, uninstaller, "Open with" for the document types) and
compiles it with Inno Setup's ISCC into dist/ai-prism_<version>_setup.exe. `--script-only` stops
after writing the script (any platform). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from build_spec import app_info, descriptors  # noqa: E402

ISCC_DEFAULT = Path(os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)")) / "Inno Setup 6"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script-only", action="store_true", help="write the .iss, do not compile")
    args = parser.parse_args(argv)
    version = app_info.version()
    app = ROOT / "dist" / app_info.COMMAND
    script = ROOT / "build" / f"{app_info.COMMAND}.iss"
    script.parent.mkdir(parents=True, exist_ok=True)
    text = descriptors.inno_setup(
        version,
        source_dir=str(app),
        icon=str(ROOT / "build" / "icons" / "ai-prism.ico"),
        output_dir=str(ROOT / "dist"),
    )
    script.write_text(text, encoding="utf-8")
    report = {"script": str(script), "version": version}
    if not args.script_only:
        if not (app / f"{app_info.COMMAND}.exe").exists():
            print(f"package: no build at {app}: run build_spec/build.py first", file=sys.stderr)
            return 1
        iscc = shutil.which("iscc") or str(ISCC_DEFAULT / "ISCC.exe")
        subprocess.run([iscc, "/Q", str(script)], check=True)
        installer = ROOT / "dist" / f"{app_info.COMMAND}_{version}_setup.exe"
        report.update(installer=str(installer), mb=round(installer.stat().st_size / 1e6, 1))
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
