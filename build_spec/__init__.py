"""Build, packaging and icon scripts for the desktop app (not part of the installed package)."""
