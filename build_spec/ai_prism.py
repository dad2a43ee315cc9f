"""The frozen app's entry point (PyInstaller needs a script, not a console-script entry)."""

from desktop.app import main

if __name__ == "__main__":
    raise SystemExit(main())
