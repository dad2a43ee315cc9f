"""The text files each platform's package carries, written from build_spec/app_info.py so the name,
version, id and document types are said once: the Linux desktop entry and AppStream metadata, the
macOS Info.plist keys, the Windows version resource and the Inno Setup script."""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import escape, quoteattr

from build_spec import app_info
from build_spec.app_info import APP_ID, COMMAND, DOCUMENT_TYPES, NAME

CATEGORIES = "Office;"
KEYWORDS = "review;document;write-up;investigation;docx;pdf;"


def desktop_entry() -> str:
    """/usr/share/applications/<APP_ID>.desktop: `%f` hands the chosen file to the app, which opens
    it as a new review (a second launch passes it to the running window)."""
    mimes = "".join(f"{kind.mime};" for kind in DOCUMENT_TYPES)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={NAME}\n"
        f"GenericName=Document review\n"
        f"Comment={app_info.SUMMARY}\n"
        f"Exec={COMMAND} %f\n"
        f"TryExec={COMMAND}\n"
        f"Icon={APP_ID}\n"
        "Terminal=false\n"
        f"Categories={CATEGORIES}\n"
        f"Keywords={KEYWORDS}\n"
        f"MimeType={mimes}\n"
        f"StartupWMClass={NAME}\n"
    )


def appstream(version: str, released: date) -> str:
    """/usr/share/metainfo/<APP_ID>.metainfo.xml: what software centres show about the app."""
    mimes = "".join(f"\n    <mediatype>{escape(kind.mime)}</mediatype>" for kind in DOCUMENT_TYPES)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<component type="desktop-application">
  <id>{APP_ID}</id>
  <metadata_license>CC0-1.0</metadata_license>
  <project_license>{app_info.LICENSE}</project_license>
  <name>{NAME}</name>
  <summary>{escape(app_info.SUMMARY)}</summary>
  <description>
    <p>{escape(app_info.DESCRIPTION)}</p>
  </description>
  <launchable type="desktop-id">{APP_ID}.desktop</launchable>
  <url type="homepage">{escape(app_info.HOMEPAGE)}</url>
  <content_rating type="oars-1.1"/>
  <provides>
    <binary>{COMMAND}</binary>{mimes}
  </provides>
  <releases>
    <release version={quoteattr(version)} date="{released.isoformat()}"/>
  </releases>
</component>
"""


def info_plist(version: str) -> dict:
    """The keys PyInstaller's BUNDLE adds to the .app's Info.plist (it sets the bundle id, name
    and executable itself)."""
    return {
        "CFBundleDisplayName": NAME,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "LSMinimumSystemVersion": "11.0",
        "NSHighResolutionCapable": True,
        "NSHumanReadableCopyright": f"© {app_info.PUBLISHER}",
        "LSApplicationCategoryType": "public.app-category.productivity",
        "CFBundleDocumentTypes": [
            {
                "CFBundleTypeName": kind.description,
                "CFBundleTypeRole": "Viewer",
                "LSHandlerRank": "Alternate",  # offered in "Open With", never taking over
                "LSItemContentTypes": [kind.uti],
                "CFBundleTypeExtensions": list(kind.extensions),
            }
            for kind in DOCUMENT_TYPES
        ],
    }


def version_tuple(version: str) -> tuple[int, int, int, int]:
    numbers = [int("".join(c for c in part if c.isdigit()) or 0) for part in version.split(".")]
    return tuple([*numbers, 0, 0, 0, 0][:4])  # type: ignore[return-value]


def windows_version_info(version: str) -> str:
    """The version resource of ai-prism.exe (Explorer's Properties → Details), in the text form
    PyInstaller's EXE(version=...) reads."""
    numbers = version_tuple(version)
    strings = {
        "CompanyName": app_info.PUBLISHER,
        "FileDescription": NAME,
        "FileVersion": version,
        "InternalName": COMMAND,
        "OriginalFilename": f"{COMMAND}.exe",
        "ProductName": NAME,
        "ProductVersion": version,
    }
    table = ",\n".join(f"          StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={numbers}, prodvers={numbers}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([
      StringTable('040904B0', [
{table}
      ])
    ]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""


def inno_setup(version: str, source_dir: str, icon: str, output_dir: str) -> str:
    """The Inno Setup script: a per-user install (no administrator rights) into the user's
    programs folder, a Start-menu entry, an uninstaller, and "Open with" for the document types
    (registered under HKCU, offered beside the user's usual program, never replacing it)."""
    app_key = "AIPrism.Document"
    registry = [
        f'Root: HKCU; Subkey: "Software\\Classes\\{app_key}"; ValueType: string; '
        f'ValueName: ""; ValueData: "{NAME} document"; Flags: uninsdeletekey',
        f'Root: HKCU; Subkey: "Software\\Classes\\{app_key}\\DefaultIcon"; ValueType: string; '
        f'ValueName: ""; ValueData: "{{app}}\\{COMMAND}.exe,0"',
        f'Root: HKCU; Subkey: "Software\\Classes\\{app_key}\\shell\\open\\command"; '
        f'ValueType: string; ValueName: ""; ValueData: """{{app}}\\{COMMAND}.exe"" ""%1"""',
        f'Root: HKCU; Subkey: "Software\\Classes\\Applications\\{COMMAND}.exe\\shell\\open\\command"; '
        f'ValueType: string; ValueName: ""; ValueData: """{{app}}\\{COMMAND}.exe"" ""%1"""; '
        "Flags: uninsdeletekey",
    ]
    for ext in app_info.extensions():
        registry.append(
            f'Root: HKCU; Subkey: "Software\\Classes\\.{ext}\\OpenWithProgids"; '
            f'ValueType: string; ValueName: "{app_key}"; ValueData: ""; Flags: uninsdeletevalue'
        )
        registry.append(
            f'Root: HKCU; Subkey: "Software\\Classes\\Applications\\{COMMAND}.exe\\SupportedTypes"; '
            f'ValueType: string; ValueName: ".{ext}"; ValueData: ""'
        )
    rows = "\n".join(registry)
    return f"""; Generated by build_spec/descriptors.py; do not edit.
[Setup]
AppId={APP_ID}
AppName={NAME}
AppVersion={version}
AppVerName={NAME} {version}
AppPublisher={app_info.PUBLISHER}
AppPublisherURL={app_info.HOMEPAGE}
VersionInfoVersion={".".join(map(str, version_tuple(version)))}
DefaultDirName={{autopf}}\\{NAME}
DefaultGroupName={NAME}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesAssociations=yes
SetupIconFile={icon}
UninstallDisplayIcon={{app}}\\{COMMAND}.exe
UninstallDisplayName={NAME} {version}
OutputDir={output_dir}
OutputBaseFilename={COMMAND}_{version}_setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Files]
Source: "{source_dir}\\*"; DestDir: "{{app}}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{{autoprograms}}\\{NAME}"; Filename: "{{app}}\\{COMMAND}.exe"
Name: "{{autodesktop}}\\{NAME}"; Filename: "{{app}}\\{COMMAND}.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{{cm:CreateDesktopIcon}}"; Flags: unchecked

[Registry]
{rows}

[Run]
Filename: "{{app}}\\{COMMAND}.exe"; Description: "{{cm:LaunchProgram,{NAME}}}"; Flags: nowait postinstall skipifsilent
"""
