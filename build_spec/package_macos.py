"""The macOS disk image from the .app bundle: `python build_spec/package_macos.py`.

dist/AI-Prism.app (PyInstaller's BUNDLE, see aiprism.spec) packed with dmgbuild into
dist/AI-Prism_<version>.dmg: the app beside a link to /Applications, to drag it across. Needs
dmgbuild (`pip install dmgbuild`) and macOS's hdiutil. Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from build_spec import app_info  # noqa: E402

APP = ROOT / "dist" / f"{app_info.NAME}.app"


def dmg_settings(app: Path, icon: Path) -> dict:
    """dmgbuild's settings: a compressed image whose window shows the app and /Applications."""
    return {
        "format": "UDZO",
        "files": [str(app)],
        "symlinks": {"Applications": "/Applications"},
        "icon": str(icon),
        "icon_size": 128,
        "window_rect": ((200, 120), (560, 340)),
        "icon_locations": {app.name: (140, 160), "Applications": (420, 160)},
        "show_status_bar": False,
        "show_toolbar": False,
        "show_sidebar": False,
    }


def main() -> int:
    import dmgbuild

    if not APP.exists():
        print(f"package: no {APP}: run build_spec/build.py on macOS first", file=sys.stderr)
        return 1
    version = app_info.version()
    target = ROOT / "dist" / f"{app_info.NAME}_{version}.dmg"
    icon = ROOT / "build" / "icons" / "ai-prism.icns"
    dmgbuild.build_dmg(str(target), app_info.NAME, settings=dmg_settings(APP, icon))
    print(json.dumps({"dmg": str(target), "mb": round(target.stat().st_size / 1e6, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
