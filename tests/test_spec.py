"""The PyInstaller spec's platform branches, evaluated here with the platform switched and
PyInstaller's build steps recorded instead of run: a mistake in the Windows or macOS branch shows
up on this machine, not on the first CI run on those systems. Also the text files each installer
carries (build_spec/descriptors.py), the icon, and the one version they all state."""

from __future__ import annotations

import ast
import configparser
import plistlib
import re
import sys
import tomllib
import types
from pathlib import Path

import pytest

from build_spec import app_info, descriptors, icon

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "build_spec" / "aiprism.spec"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

# What PyInstaller's analysis would hand back, with some of everything the spec filters out.
BINARIES = [
    ("PySide6/Qt/lib/libQt6WebEngineCore.so.6", "/src/a", "BINARY"),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/src/b", "BINARY"),
    ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", "/src/c", "BINARY"),
    ("libgtk-3.so.0", "/src/d", "BINARY"),
    ("libpython3.11.so.1.0", "/src/e", "BINARY"),
]
DATAS = [
    ("PySide6/Qt/translations/qtwebengine_locales/de.pak", "/src/1", "DATA"),
    ("PySide6/Qt/translations/qtwebengine_locales/en-US.pak", "/src/2", "DATA"),
    ("PySide6/Qt/translations/qt_de.qm", "/src/3", "DATA"),
    ("PySide6/Qt/resources/qtwebengine_devtools_resources.pak", "/src/4", "DATA"),
    ("PySide6/Qt/resources/qtwebengine_resources.pak", "/src/5", "DATA"),
    ("botocore/data/endpoints.json", "/src/6", "DATA"),
    ("botocore/data/bedrock-runtime/2023-09-30/service-2.json.gz", "/src/7", "DATA"),
    ("botocore/data/sts/2011-06-15/service-2.json.gz", "/src/8", "DATA"),
    ("botocore/data/ec2/2016-11-15/service-2.json.gz", "/src/9", "DATA"),
    ("pyphen/dictionaries/hyph_en_US.dic", "/src/10", "DATA"),
    ("pyphen/dictionaries/hyph_de_DE.dic", "/src/11", "DATA"),
]


class Step:
    """A recorded PyInstaller build step (Analysis, PYZ, EXE, COLLECT, BUNDLE)."""

    def __init__(self, kind: str, steps: list, args: tuple, kwargs: dict):
        self.kind, self.args, self.kwargs = kind, args, kwargs
        steps.append(self)


def evaluate(platform: str, monkeypatch, tmp_path, onefile: bool = False) -> dict:
    """Run the spec as PyInstaller would on `platform`; its recorded steps by kind."""
    steps: list[Step] = []

    class Analysis(Step):
        def __init__(self, *args, **kwargs):
            super().__init__("Analysis", steps, args, kwargs)
            self.pure, self.scripts = ["pure"], ["script"]
            self.binaries = list(BINARIES)
            # PyInstaller lists each file under its destination folder
            self.datas = [
                (str(Path(dest, Path(src).name)), src, "DATA") for src, dest in kwargs["datas"]
            ] + list(DATAS)

    def step(kind):
        return lambda *args, **kwargs: Step(kind, steps, args, kwargs)

    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_data_files = lambda package, subdir=None, **_: [(f"/site/{package}", package)]
    hooks.collect_submodules = lambda package, **_: [package, f"{package}.app"]
    hooks.copy_metadata = lambda package, **_: [(f"/site/{package}.dist-info", package)]
    for name, module in {
        "PyInstaller": types.ModuleType("PyInstaller"),
        "PyInstaller.utils": types.ModuleType("PyInstaller.utils"),
        "PyInstaller.utils.hooks": hooks,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("AIPRISM_ONEFILE", "1" if onefile else "0")
    namespace = {
        "SPECPATH": str(SPEC.parent),
        "workpath": str(tmp_path / "work"),
        "Analysis": Analysis,
        **{kind: step(kind) for kind in ("PYZ", "EXE", "COLLECT", "BUNDLE")},
    }
    exec(compile(SPEC.read_text(), str(SPEC), "exec"), namespace)
    recorded: dict = {}
    for s in steps:
        recorded.setdefault(s.kind, s)
    return recorded


def names(entries) -> list[str]:
    return [entry[0] for entry in entries]


def common_checks(steps: dict) -> None:
    analysis = steps["Analysis"]
    datas = {dest: src for src, dest in analysis.kwargs["datas"]}
    for folder in ("server/web/templates", "server/web/static", "server/frameworks/packs",
                   "server/exports/templates"):  # fmt: skip
        assert Path(datas[folder]).is_dir(), folder
    assert Path(datas["."]).name == "pyproject.toml"  # server.version reads it when frozen
    assert "pyproject.toml" in names(analysis.datas)
    kept = names(analysis.datas)
    assert "PySide6/Qt/translations/qtwebengine_locales/en-US.pak" in kept
    assert "PySide6/Qt/translations/qtwebengine_locales/de.pak" not in kept
    assert "PySide6/Qt/translations/qt_de.qm" not in kept
    assert "PySide6/Qt/resources/qtwebengine_devtools_resources.pak" not in kept
    assert "PySide6/Qt/resources/qtwebengine_resources.pak" in kept
    assert "botocore/data/endpoints.json" in kept
    assert "botocore/data/bedrock-runtime/2023-09-30/service-2.json.gz" in kept
    assert "botocore/data/sts/2011-06-15/service-2.json.gz" in kept  # the credential chain
    assert "botocore/data/ec2/2016-11-15/service-2.json.gz" not in kept
    assert "pyphen/dictionaries/hyph_en_US.dic" in kept
    assert "pyphen/dictionaries/hyph_de_DE.dic" not in kept
    assert "PIL" in analysis.kwargs["excludes"]  # build-time only
    assert "pytest" in analysis.kwargs["excludes"]
    assert steps["PYZ"].args == (["pure"],)


def test_linux_uses_qt_a_console_binary_stripped_and_no_gtk_theme(monkeypatch, tmp_path):
    steps = evaluate("linux", monkeypatch, tmp_path)
    common_checks(steps)
    analysis = steps["Analysis"]
    assert "webview.platforms.qt" in analysis.kwargs["hiddenimports"]
    excluded = analysis.kwargs["excludes"]
    assert {"webview.platforms.winforms", "webview.platforms.cocoa", "clr"} <= set(excluded)
    assert "webview.platforms.qt" not in excluded
    kept = names(analysis.binaries)
    assert "libgtk-3.so.0" not in kept
    assert "PySide6/Qt/plugins/platformthemes/libqgtk3.so" not in kept
    assert "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so" in kept
    assert "PySide6/Qt/lib/libQt6WebEngineCore.so.6" in kept
    exe = steps["EXE"]
    assert exe.kwargs["console"] is True and exe.kwargs["strip"] is True
    assert "icon" not in exe.kwargs
    assert steps["COLLECT"].kwargs["name"] == "ai-prism"
    assert "BUNDLE" not in steps


def test_windows_uses_webview2_no_console_the_ico_and_a_version_resource(monkeypatch, tmp_path):
    steps = evaluate("win32", monkeypatch, tmp_path)
    common_checks(steps)
    analysis = steps["Analysis"]
    hidden = analysis.kwargs["hiddenimports"]
    assert {"webview.platforms.winforms", "webview.platforms.edgechromium", "clr"} <= set(hidden)
    excluded = set(analysis.kwargs["excludes"])
    assert "webview.platforms.qt" in excluded
    assert not {"clr", "pythonnet", "webview.platforms.edgechromium"} & excluded
    assert not any(name.startswith("PySide6.") for name in hidden)
    exe = steps["EXE"]
    assert exe.kwargs["console"] is False  # no terminal beside the window
    assert exe.kwargs["strip"] is False
    assert exe.kwargs["icon"] == str(ROOT / "build" / "icons" / "ai-prism.ico")
    version_file = Path(exe.kwargs["version"])
    resource = parse_version_info(version_file.read_text())
    assert resource["strings"]["ProductVersion"] == VERSION
    assert resource["filevers"] == descriptors.version_tuple(VERSION)
    assert "BUNDLE" not in steps


def test_macos_builds_an_app_bundle_with_its_id_version_and_document_types(monkeypatch, tmp_path):
    steps = evaluate("darwin", monkeypatch, tmp_path)
    common_checks(steps)
    analysis = steps["Analysis"]
    assert "webview.platforms.cocoa" in analysis.kwargs["hiddenimports"]
    assert "webview.platforms.qt" in analysis.kwargs["excludes"]
    exe = steps["EXE"]
    assert exe.kwargs["console"] is False
    assert exe.kwargs["argv_emulation"] is True  # Finder's "open this file" becomes argv
    assert exe.kwargs["icon"].endswith("ai-prism.icns")
    bundle = steps["BUNDLE"]
    assert bundle.args == (steps["COLLECT"],)
    assert bundle.kwargs["name"] == "AI-Prism.app"
    assert bundle.kwargs["bundle_identifier"] == app_info.APP_ID
    assert bundle.kwargs["version"] == VERSION
    assert bundle.kwargs["icon"].endswith("ai-prism.icns")
    plist = bundle.kwargs["info_plist"]
    plistlib.dumps(plist)  # every value is one a plist can hold
    assert plist["CFBundleShortVersionString"] == VERSION
    extensions = {
        ext for kind in plist["CFBundleDocumentTypes"] for ext in kind["CFBundleTypeExtensions"]
    }
    assert extensions == {"docx", "pdf", "md", "markdown", "txt"}
    assert all(kind["LSItemContentTypes"] for kind in plist["CFBundleDocumentTypes"])


@pytest.mark.parametrize("platform", ["linux", "win32", "darwin"])
def test_onefile_puts_everything_in_one_executable(platform, monkeypatch, tmp_path):
    steps = evaluate(platform, monkeypatch, tmp_path, onefile=True)
    exe = steps["EXE"]
    assert exe.kwargs["name"] == "ai-prism-onefile"
    assert exe.args[2] and exe.args[3]  # binaries and data inside
    assert "COLLECT" not in steps and "BUNDLE" not in steps


def parse_version_info(text: str) -> dict:
    """Evaluate the version resource text the way PyInstaller does (its classes recorded here)."""
    found: dict = {"strings": {}}

    def fixed(**kwargs):
        found.update(kwargs)

    def string(key, value):
        found["strings"][key] = value

    classes = {
        "VSVersionInfo": lambda **_: None,
        "FixedFileInfo": fixed,
        "StringFileInfo": lambda *_: None,
        "StringTable": lambda *_: None,
        "StringStruct": string,
        "VarFileInfo": lambda *_: None,
        "VarStruct": lambda *_: None,
    }
    ast.parse(text, mode="eval")
    eval(compile(text, "version-info", "eval"), classes)
    return found


def test_the_version_is_said_once_in_pyproject_and_read_everywhere():
    import server

    assert server.__version__ == VERSION == app_info.version()
    assert "dynamic" not in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_version_falls_back_to_package_metadata_without_a_pyproject(tmp_path):
    from server.version import read_version

    other = tmp_path / "pyproject.toml"
    other.write_text('[project]\nname = "something-else"\nversion = "9.9"\n')
    assert read_version(other) != "9.9"  # another project's file is never taken for ours
    assert read_version(tmp_path / "missing.toml") in (VERSION, "unknown")


def test_the_favicon_is_the_icon_drawn_here():
    favicon = (ROOT / "server" / "web" / "static" / "favicon.svg").read_text()
    assert favicon == icon.svg(), (
        "run: python build_spec/icon.py --svg > server/web/static/favicon.svg"
    )


def test_the_icon_renders_to_every_size_and_format(tmp_path):
    from PIL import Image

    written = icon.write_all(tmp_path)
    for size in icon.PNG_SIZES:
        with Image.open(written[f"png{size}"]) as image:
            assert image.size == (size, size) and image.mode == "RGBA"
            middle = image.getpixel((size // 2, size * 3 // 4))
            corner = image.getpixel((0, 0))
            assert corner[3] == 0  # transparent around the mark
            assert middle[3] >= 250 and middle[2] > middle[0]  # the blue triangle
    with Image.open(written["ico"]) as ico:
        assert {(16, 16), (32, 32), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(written["icns"]) as icns:
        assert (512, 512, 2) in icns.info["sizes"] or (1024, 1024) in icns.info.get("sizes", [])


def test_the_desktop_entry_opens_the_document_types_with_the_file_chosen():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read_string(descriptors.desktop_entry())
    section = entry["Desktop Entry"]
    assert section["Exec"] == "ai-prism %f"
    assert section["Icon"] == app_info.APP_ID
    mimes = set(filter(None, section["MimeType"].split(";")))
    assert mimes == {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/pdf",
        "text/markdown",
        "text/plain",
    }


def test_the_inno_setup_script_installs_per_user_with_every_association():
    script = descriptors.inno_setup(VERSION, r"C:\dist\ai-prism", r"C:\icons\ai-prism.ico", "out")
    assert "PrivilegesRequired=lowest" in script  # no administrator rights
    assert f"AppVersion={VERSION}\n" in script
    assert "{autoprograms}" in script  # the Start-menu entry
    assert "Root: HKLM" not in script and "Root: HKCR" not in script
    for ext in app_info.extensions():
        assert f'Subkey: "Software\\Classes\\.{ext}\\OpenWithProgids"' in script
    sections = re.findall(r"^\[(\w+)\]$", script, flags=re.MULTILINE)
    assert sections == ["Setup", "Files", "Icons", "Tasks", "Registry", "Run"]


def test_the_disk_image_shows_the_app_beside_a_link_to_applications():
    from build_spec.package_macos import APP, dmg_settings

    settings = dmg_settings(APP, ROOT / "build" / "icons" / "ai-prism.icns")
    assert settings["files"] == [str(APP)] and APP.name == "AI-Prism.app"
    assert settings["symlinks"] == {"Applications": "/Applications"}
    assert set(settings["icon_locations"]) == {"AI-Prism.app", "Applications"}
