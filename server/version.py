"""The version, kept in one place: pyproject.toml's `project.version`.

A source checkout (and the frozen app, whose build bundles pyproject.toml beside `server/`) reads
it from the file; an installed wheel from its own metadata, which pip wrote from the same field.
"""

from __future__ import annotations

from pathlib import Path

from server import toml_text

DISTRIBUTION = "ai-prism"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def read_version(pyproject: Path = PYPROJECT) -> str:
    try:
        project = toml_text.loads(pyproject.read_text(encoding="utf-8"), str(pyproject))
        project = project.get("project", {})
    except (OSError, toml_text.TomlError):
        project = {}
    if project.get("name") == DISTRIBUTION and project.get("version"):
        return str(project["version"])
    from importlib import metadata  # some 40 ms to import: only when there is no pyproject

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"
