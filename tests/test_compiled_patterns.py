"""Pack patterns' compiled form is remembered across runs, and a remembered one is the same pattern."""

from __future__ import annotations

import marshal
import re
from re import _compiler

import pytest

from server.engines import patterns
from server.engines.compiled_patterns import CompiledPatterns, entry_of, from_entry
from server.frameworks import available
from tests.damaged_caches import DAMAGED

SAFE_ONE = r"\bowner\s*:\s*(?P<who>\w+)"


def _pack_patterns() -> list[str]:
    found: set[str] = set()
    for framework in available().values():
        for rule in framework.rules:
            for name, value in rule.params.items():
                if name.endswith(("pattern", "patterns")):
                    found.update([value] if isinstance(value, str) else value)
    return sorted(found)


def _rewritten(pattern: str):
    tree = patterns._parse(pattern)
    patterns._possessify(tree.data, tree.state.flags, end_safe=True)
    return tree


def test_a_remembered_pattern_equals_what_re_compiles_from_the_rewritten_tree():
    every = _pack_patterns()
    for pattern in [*every, "|".join(f"(?:{p})" for p in every), SAFE_ONE]:
        expected = _compiler.compile(_rewritten(pattern), re.IGNORECASE)
        entry = marshal.loads(marshal.dumps(entry_of(_rewritten(pattern), re.IGNORECASE)))
        again = from_entry(entry)
        assert again == expected  # flags and instructions
        assert (again.groups, again.groupindex, again.pattern) == (
            expected.groups,
            expected.groupindex,
            expected.pattern,
        )


def test_compiled_patterns_are_saved_and_read_back(tmp_path, monkeypatch):
    cache = CompiledPatterns(tmp_path / "compiled.marshal")
    monkeypatch.setattr(patterns, "COMPILED", cache)
    patterns._compile.cache_clear()
    first = patterns._compile(SAFE_ONE)
    cache.save()
    patterns._compile.cache_clear()
    monkeypatch.setattr(patterns, "COMPILED", CompiledPatterns(tmp_path / "compiled.marshal"))
    monkeypatch.setattr(patterns, "_parse", lambda p: pytest.fail("compiled again"))
    assert patterns._compile(SAFE_ONE) == first
    patterns._compile.cache_clear()


@pytest.mark.parametrize(
    "content",
    [
        *DAMAGED,
        marshal.dumps({SAFE_ONE: [2, [99999, 1, 2], 2, {"who": 1}]}),  # code _sre refuses
        marshal.dumps({SAFE_ONE: [2, "code", 2, {}]}),
        marshal.dumps({SAFE_ONE: [2, [1], 2]}),
    ],
)
def test_a_corrupt_cache_only_means_compiling_again(tmp_path, monkeypatch, content):
    (tmp_path / "compiled.marshal").write_bytes(content)
    cache = CompiledPatterns(tmp_path / "compiled.marshal")
    monkeypatch.setattr(patterns, "COMPILED", cache)
    patterns._compile.cache_clear()
    compiled = patterns._compile(SAFE_ONE)
    patterns._compile.cache_clear()
    assert compiled == _compiler.compile(_rewritten(SAFE_ONE), re.IGNORECASE)
    assert compiled.search("Owner:  Dana").group("who") == "Dana"
    cache.save()
    assert SAFE_ONE in marshal.loads((tmp_path / "compiled.marshal").read_bytes())


def test_an_unwritable_cache_only_costs_time(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    cache = CompiledPatterns(blocked / "compiled.marshal")
    cache.add(SAFE_ONE, entry_of(_rewritten(SAFE_ONE), re.IGNORECASE))
    cache.save()  # logs, does not raise
    assert cache.get(SAFE_ONE) is not None


def test_the_modules_own_patterns_are_what_re_compiles():
    import importlib

    import server.engines.checks  # noqa: F401  (imports every check module)

    modules = [
        "server.documents.docx",
        "server.documents.headings",
        "server.documents.sections",
        "server.engines.dates",
        "server.engines.text",
        "server.frameworks.loader",
        *(f"server.engines.checks.{name}" for name in ("acronyms", "actions", "language")),
        *(f"server.engines.checks.{name}" for name in ("personal_data", "root_causes")),
    ]
    seen = 0
    for name in modules:
        for value in vars(importlib.import_module(name)).values():
            found = [value] if isinstance(value, re.Pattern) else []
            if isinstance(value, (list, tuple)):
                found = [v for v in value if isinstance(v, re.Pattern)]
                found += [x for v in value if isinstance(v, tuple) for x in v]
            for pattern in (p for p in found if isinstance(p, re.Pattern)):
                expected = re.compile(pattern.pattern, pattern.flags)
                assert pattern == expected and pattern.groupindex == expected.groupindex, pattern
                seen += 1
    assert seen > 40


def test_a_regex_read_back_from_the_cache_is_the_same(tmp_path, monkeypatch):
    from server.engines import compiled_patterns

    monkeypatch.setattr(
        compiled_patterns, "REGEXES", CompiledPatterns(tmp_path / "re.marshal", name="re")
    )
    first = compiled_patterns.regex(r"(?P<day>\d{1,2})\s+(?i:jan|feb)", re.MULTILINE)
    compiled_patterns.REGEXES.save()
    monkeypatch.setattr(
        compiled_patterns, "REGEXES", CompiledPatterns(tmp_path / "re.marshal", name="re")
    )
    monkeypatch.setattr(compiled_patterns, "_parser", None)  # compiling again would fail
    again = compiled_patterns.regex(r"(?P<day>\d{1,2})\s+(?i:jan|feb)", re.MULTILINE)
    expected = re.compile(r"(?P<day>\d{1,2})\s+(?i:jan|feb)", re.MULTILINE)
    assert first == again == expected and again.pattern == expected.pattern
    assert again.groupindex == expected.groupindex and again.flags == expected.flags
