"""Load and validate framework packs (TOML) with errors that name the file, line and key.

Built-in packs live beside this module in `packs/`; user packs are `*.toml` files in the data
folder's `frameworks/` directory and may override a built-in pack with the same id.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from server.engines.registry import load_checks
from server.errors import FrameworkError, UnknownFramework
from server.frameworks.model import Checkpoint, ExcludedSection, ExpectedSection, Framework, Rule
from server.model import FINDING_TYPES, RISKS

BUILTIN_DIR = Path(__file__).parent / "packs"
DEFAULT_FRAMEWORK = "investigation"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_PACK_BYTES = 1_000_000


def builtin_paths() -> list[Path]:
    return sorted(BUILTIN_DIR.glob("*.toml"))


def available(user_dir: Path | None = None) -> dict[str, Framework]:
    """Every loadable pack by id; a user pack replaces a built-in one with the same id."""
    packs: dict[str, Framework] = {}
    for path in builtin_paths() + _user_paths(user_dir):
        framework = load_path(path)
        packs[framework.id] = framework
    return packs


def resolve(name_or_path: str | None, user_dir: Path | None = None) -> Framework:
    """A framework by id, or by path to a .toml file."""
    name = name_or_path or DEFAULT_FRAMEWORK
    if name.endswith(".toml") or "/" in name or "\\" in name:
        return load_path(Path(name))
    for path in _user_paths(user_dir) + builtin_paths():
        if path.stem == name:
            return load_path(path)
    packs = available(user_dir)
    if name in packs:
        return packs[name]
    known = ", ".join(sorted(packs))
    raise UnknownFramework(f"No framework called '{name}'. Available: {known}.")


def _user_paths(user_dir: Path | None) -> list[Path]:
    return sorted(user_dir.glob("*.toml")) if user_dir and user_dir.is_dir() else []


def load_path(path: Path) -> Framework:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FrameworkError(f"{path}: cannot read the framework file ({exc.strerror}).") from exc
    if len(raw) > MAX_PACK_BYTES:
        raise FrameworkError(f"{path}: framework file is larger than {MAX_PACK_BYTES} bytes.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FrameworkError(f"{path}: framework file is not UTF-8 text.") from exc
    return parse(text, str(path))


def parse(text: str, source: str = "<string>") -> Framework:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FrameworkError(f"{source}: TOML syntax error: {exc}") from exc
    return _Validator(text, source).framework(data)


class _Validator:
    """Turns a parsed TOML table into a Framework, raising on the first problem with its location."""

    def __init__(self, text: str, source: str):
        self.lines = text.splitlines()
        self.source = source

    def fail(self, path: tuple[Any, ...], problem: str) -> FrameworkError:
        key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")
        line = locate(self.lines, path)
        where = f"{self.source}:{line}" if line else self.source
        return FrameworkError(f"{where}: key '{key}': {problem}")

    def get(self, table: dict, path: tuple, key: str, kind: type, default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                raise self.fail(path, f"missing required key '{key}'")
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail((*path, key), f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    def strings(self, table: dict, path: tuple, key: str) -> tuple[str, ...]:
        values = self.get(table, path, key, list, [])
        for i, v in enumerate(values):
            if not isinstance(v, str):
                raise self.fail((*path, key, i), "expected a string")
        return tuple(values)

    def ident(self, table: dict, path: tuple) -> str:
        value = self.get(table, path, "id", str)
        if not _ID.match(value):
            raise self.fail((*path, "id"), "ids use lower-case letters, digits and '_'")
        return value

    def tables(self, data: dict, key: str) -> Iterable[tuple[tuple, dict]]:
        items = self.get(data, (), key, list, [])
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.fail((key, i), "expected a table ([[{key}]])")
            yield (key, i), item

    def framework(self, data: dict) -> Framework:
        sections = tuple(
            ExpectedSection(
                id=self.ident(t, p),
                title=self.get(t, p, "title", str),
                aliases=self.strings(t, p, "aliases"),
                required=self.get(t, p, "required", bool, False),
                order=p[1],
            )
            for p, t in self.tables(data, "sections")
        )
        kinds = {s.id for s in sections}
        exclude = tuple(
            ExcludedSection(
                id=self.ident(t, p),
                title=self.get(t, p, "title", str),
                aliases=self.strings(t, p, "aliases"),
            )
            for p, t in self.tables(data, "exclude")
        )
        checkpoints = tuple(self.checkpoint(p, t, kinds) for p, t in self.tables(data, "checkpoints"))
        checkpoint_ids = {c.id for c in checkpoints}
        rules = tuple(self.rule(p, t, kinds, checkpoint_ids) for p, t in self.tables(data, "rules"))
        self.unique("sections", [s.id for s in sections])
        self.unique("checkpoints", [c.id for c in checkpoints])
        self.unique("rules", [r.id for r in rules])
        return Framework(
            id=self.ident(data, ()),
            name=self.get(data, (), "name", str),
            version=str(self.get(data, (), "version", str)),
            description=self.get(data, (), "description", str, ""),
            sections=sections,
            exclude=exclude,
            checkpoints=checkpoints,
            rules=rules,
            source=self.source,
        )

    def unique(self, key: str, ids: list[str]) -> None:
        seen: set[str] = set()
        for i, value in enumerate(ids):
            if value in seen:
                raise self.fail((key, i, "id"), f"duplicate id '{value}'")
            seen.add(value)

    def checkpoint(self, p: tuple, t: dict, kinds: set[str]) -> Checkpoint:
        section_kinds = self.strings(t, p, "sections")
        self.known((*p, "sections"), section_kinds, kinds, "section")
        return Checkpoint(
            id=self.ident(t, p),
            name=self.get(t, p, "name", str),
            good=self.get(t, p, "good", str),
            guidance=self.get(t, p, "guidance", str),
            sections=section_kinds,
        )

    def rule(self, p: tuple, t: dict, kinds: set[str], checkpoint_ids: set[str]) -> Rule:
        registry = load_checks()
        check = self.get(t, p, "check", str)
        if check not in registry:
            raise self.fail((*p, "check"), f"unknown check '{check}'; known: {', '.join(sorted(registry))}")
        rule_type = self.get(t, p, "type", str)
        if rule_type not in FINDING_TYPES:
            raise self.fail((*p, "type"), f"must be one of {', '.join(FINDING_TYPES)}")
        risk = self.get(t, p, "risk", str)
        if risk not in RISKS:
            raise self.fail((*p, "risk"), f"must be one of {', '.join(RISKS)}")
        confidence = self.get(t, p, "confidence", float)
        if not 0.0 <= confidence <= 1.0:
            raise self.fail((*p, "confidence"), "must be between 0 and 1")
        checkpoints = self.strings(t, p, "checkpoints")
        self.known((*p, "checkpoints"), checkpoints, checkpoint_ids, "checkpoint")
        sections = self.strings(t, p, "sections") or ("*",)
        self.known((*p, "sections"), sections, kinds | {"*", "other", "opening"}, "section")
        params = self.params((*p, "params"), self.get(t, p, "params", dict, {}), registry[check].params)
        return Rule(
            id=self.ident(t, p),
            check=check,
            type=rule_type,
            risk=risk,
            confidence=confidence,
            title=self.get(t, p, "title", str),
            message=self.get(t, p, "message", str),
            suggestion=self.get(t, p, "suggestion", str, ""),
            questions=self.strings(t, p, "questions"),
            checkpoints=checkpoints,
            sections=sections,
            include_excluded=self.get(t, p, "include_excluded", bool, False),
            enabled=self.get(t, p, "enabled", bool, True),
            params=params,
        )

    def known(self, path: tuple, values: Iterable[str], allowed: set[str], what: str) -> None:
        for i, value in enumerate(values):
            if value not in allowed:
                raise self.fail((*path, i), f"unknown {what} '{value}'")

    def params(self, path: tuple, given: dict, declared: dict[str, Any]) -> dict[str, Any]:
        from server.engines.patterns import compile_checked

        out: dict[str, Any] = {}
        for name, value in given.items():
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise self.fail((*path, name), f"unknown parameter; this check takes: {known}")
            default = declared[name]
            if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not type(default):
                expected = type(default).__name__
                raise self.fail((*path, name), f"expected {expected}, got {type(value).__name__}")
            if isinstance(default, list):
                for i, item in enumerate(value):
                    if not isinstance(item, str):
                        raise self.fail((*path, name, i), "expected a string")
                    if name.endswith("patterns"):
                        try:
                            compile_checked(item)
                        except ValueError as exc:
                            raise self.fail((*path, name, i), str(exc)) from exc
            out[name] = value
        return out


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?\s*(#.*)?$")


def locate(lines: list[str], path: tuple[Any, ...]) -> int | None:
    """1-based line of a key path like ('rules', 3, 'params', 'max_words'), as near as can be told.

    tomllib keeps no positions, so this walks the headers: the n-th `[[rules]]`, then an optional
    `[rules.params]` sub-table, then the `key =` line inside that block.
    """
    if not path:
        return None
    table_name, index = str(path[0]), path[1] if len(path) > 1 and isinstance(path[1], int) else None
    rest = [p for p in path[2 if index is not None else 1 :] if not isinstance(p, int)]
    start, end, count = 0, len(lines), -1
    if index is not None:
        found = False
        for n, line in enumerate(lines):
            m = _HEADER.match(line)
            if not m:
                continue
            if found:
                if m.group(2) == table_name or not m.group(2).startswith(table_name + "."):
                    end = n
                    break
            elif m.group(1) == "[[" and m.group(2) == table_name:
                count += 1
                if count == index:
                    start, found = n, True
        if not found:
            return _key_line(lines, 0, len(lines), table_name)
    else:
        rest = [table_name, *rest]
    best = start + 1 if index is not None else None
    for depth, key in enumerate(rest):
        sub = ".".join([table_name, *rest[: depth + 1]])
        for n in range(start, end):
            m = _HEADER.match(lines[n])
            if m and m.group(2) == sub:
                start, best = n, n + 1
                break
        else:
            line = _key_line(lines, start, end, key)
            if line:
                start, best = line - 1, line
    return best


def _key_line(lines: list[str], start: int, end: int, key: str) -> int | None:
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for n in range(start, end):
        if pattern.match(lines[n]):
            return n + 1
    return None
