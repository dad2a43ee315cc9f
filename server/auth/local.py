"""Who uses the desktop app (or `aiprism serve` on one's own machine): one person, named in the
settings, by default the operating system account's full name."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from server import user_settings
from server.auth.identity import Actor


def os_full_name() -> str:
    """The account's display name (Windows) or the GECOS full name (macOS, Linux), else the login."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = ""
    if sys.platform == "win32":
        return _windows_display_name() or login
    try:
        import pwd

        gecos = pwd.getpwuid(os.getuid()).pw_gecos.split(",")[0].strip()
    except (ImportError, KeyError, OSError):
        gecos = ""
    return gecos or login


def _windows_display_name() -> str:
    import ctypes

    name_display = 3  # EXTENDED_NAME_FORMAT.NameDisplay
    size = ctypes.c_ulong(0)
    secur32 = ctypes.windll.secur32  # type: ignore[attr-defined]
    secur32.GetUserNameExW(name_display, None, ctypes.byref(size))
    if not size.value:
        return ""  # not in a domain: no display name
    buffer = ctypes.create_unicode_buffer(size.value)
    if not secur32.GetUserNameExW(name_display, buffer, ctypes.byref(size)):
        return ""
    return buffer.value.strip()


def local_actor(data_dir: Path) -> Actor:
    """The person at this machine: the name saved in the settings, else the account's."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "local"
    name = user_settings.load(data_dir).reviewer_name or os_full_name() or login
    return Actor(sub=f"local:{login}", name=name)
