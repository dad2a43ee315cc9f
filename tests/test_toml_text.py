"""server/toml_text.py: the same parse as tomllib, from an empty cache and from a filled one; a
changed text parsed anew; a damaged entry parsed again; dates parsed but not kept; refusals
with tomllib's own message."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from server import toml_text
from server.frameworks.loader import BUILTIN_DIR
from server.version import PYPROJECT


@pytest.fixture(autouse=True)
def cache_folder(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "ai-prism"


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("toml-*.marshal"))


@pytest.mark.parametrize("path", [*sorted(BUILTIN_DIR.glob("*.toml")), PYPROJECT], ids=str)
def test_the_parse_is_tomllibs_cold_and_warm(path, cache_folder):
    text = path.read_text(encoding="utf-8")
    expected = tomllib.loads(text)
    for run in ("empty cache", "filled cache"):
        parsed = toml_text.loads(text, str(path))
        assert parsed == expected, run
        assert json.dumps(parsed) == json.dumps(expected), run  # key order too
    assert len(_entries(cache_folder)) == 1


def test_a_changed_text_is_parsed_anew_and_replaces_its_entry(cache_folder):
    assert toml_text.loads('id = "one"\n', "pack.toml") == {"id": "one"}
    assert toml_text.loads('id = "two"\n', "pack.toml") == {"id": "two"}
    assert toml_text.loads('id = "one"\n', "other.toml") == {"id": "one"}
    assert len(_entries(cache_folder)) == 2  # one per file name


@pytest.mark.parametrize("damage", [b"", b"\x00not marshal", b"\xe3" * 40])
def test_a_damaged_entry_is_parsed_again(damage, cache_folder):
    toml_text.loads('id = "one"\n', "pack.toml")
    (entry,) = _entries(cache_folder)
    entry.write_bytes(damage)
    assert toml_text.loads('id = "one"\n', "pack.toml") == {"id": "one"}
    assert entry.read_bytes() != damage  # and replaced


def test_dates_are_parsed_but_not_kept(cache_folder):
    text = "when = 2026-12-02\n"
    assert toml_text.loads(text, "dated.toml") == tomllib.loads(text)
    assert _entries(cache_folder) == []


def test_a_refused_text_raises_tomllibs_message(cache_folder):
    text = 'id = "one"\nid = "two"\n'
    with pytest.raises(tomllib.TOMLDecodeError) as by_tomllib:
        tomllib.loads(text)
    with pytest.raises(toml_text.TomlError) as ours:
        toml_text.loads(text, "pack.toml")
    assert str(ours.value) == str(by_tomllib.value)
    assert _entries(cache_folder) == []
