"""Load and validate framework packs (TOML) with errors that name the file, line and key.

Built-in packs live beside this module in `packs/`; user packs are `*.toml` files in the data
folder's `frameworks/` directory and may override a built-in pack with the same id.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from server import toml_text
from server.engines.compiled_patterns import regex
from server.engines.patterns import compile_checked
from server.engines.registry import CheckSpec, load_checks
from server.errors import FrameworkError, UnknownFramework
from server.frameworks.model import Checkpoint, ExcludedSection, ExpectedSection, Framework, Rule
from server.frameworks.positions import key_path_at, locate
from server.model import FINDING_TYPES, RISKS

__all__ = ["available", "builtin_paths", "load_path", "locate", "parse", "resolve"]

BUILTIN_DIR = Path(__file__).parent / "packs"
DEFAULT_FRAMEWORK = "investigation"
_ID = regex(r"^[a-z][a-z0-9_]*$")
MAX_PACK_BYTES = 1_000_000
# Section kinds a rule may name besides the pack's own: every section, unmatched headings, and
# the text before the first heading.
BUILTIN_KINDS = frozenset({"*", "other", "opening"})

# The keys each table may hold: a misspelt optional key (`requried = true`) would otherwise be
# ignored without a word.
_KEYS = {
    "pack": {
        "id",
        "name",
        "version",
        "description",
        "ai_guidance",
        "sections",
        "exclude",
        "checkpoints",
        "rules",
    },
    "sections": {"id", "title", "aliases", "required"},
    "exclude": {"id", "title", "aliases"},
    "checkpoints": {"id", "name", "good", "guidance", "sections"},
    "rules": {
        "id",
        "check",
        "type",
        "risk",
        "confidence",
        "title",
        "message",
        "suggestion",
        "questions",
        "checkpoints",
        "sections",
        "include_excluded",
        "enabled",
        "params",
    },
}
# Template fields are filled from a check's values: plain names, with an optional short format
# spec (`{words}`, `{ratio:.0%}`); attribute or index access and huge widths are refused.
_FIELD = regex(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FORMAT_SPEC = regex(r"^[<>^]?\d{0,2},?(?:\.\d{1,2})?[sdf%]?$")


_IDENT = regex(r"[a-z][a-z0-9_]*")


def builtin_paths() -> list[Path]:
    return sorted(BUILTIN_DIR.glob("*.toml"))


def available(user_dir: Path | None = None) -> dict[str, Framework]:
    """Every loadable pack by id; a user pack replaces a built-in one with the same id.

    A broken user pack raises (naming its file and line) rather than vanishing from the list.
    """
    packs: dict[str, Framework] = {}
    for path in builtin_paths() + _user_paths(user_dir):
        framework = load_path(path)
        packs[framework.id] = framework
    return packs


def resolve(name_or_path: str | None, user_dir: Path | None = None) -> Framework:
    """A framework by id (user packs first), or by path to a .toml file."""
    name = name_or_path or DEFAULT_FRAMEWORK
    if name.endswith(".toml") or "/" in name or "\\" in name:
        return load_path(Path(name))
    # Only the pack asked for is loaded (a pack's patterns are compiled and checked as it loads):
    # a user pack with that id wins, else the built-in file named after it.
    users = [load_path(path) for path in _user_paths(user_dir)]  # a broken one still raises
    chosen = [framework for framework in users if framework.id == name]
    if chosen:
        return chosen[-1]  # as in `available`: a later file wins
    builtin = BUILTIN_DIR / f"{name}.toml"
    if _IDENT.fullmatch(name) and builtin.is_file():
        framework = load_path(builtin)
        if framework.id == name:
            return framework
    packs = available(user_dir)
    if name in packs:
        return packs[name]
    known = ", ".join(sorted(packs))
    raise UnknownFramework(f"No framework called '{name}'. Available: {known}.")


def _user_paths(user_dir: Path | None) -> list[Path]:
    return sorted(user_dir.glob("*.toml")) if user_dir and user_dir.is_dir() else []


def load_path(path: Path) -> Framework:
    try:
        if path.stat().st_size > MAX_PACK_BYTES:  # before reading: it may be anything
            raise FrameworkError(f"{path}: framework file is larger than {MAX_PACK_BYTES} bytes.")
        raw = path.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise FrameworkError(f"{path}: cannot read the framework file ({reason}).") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FrameworkError(f"{path}: framework file is not UTF-8 text.") from exc
    return parse(text, str(path))


def parse(text: str, source: str = "<string>") -> Framework:
    try:
        data = toml_text.loads(text, source)
    except toml_text.TomlError as exc:
        raise _syntax_error(exc, text.splitlines(), source) from exc
    except RecursionError as exc:  # tomllib parses nested arrays and tables recursively
        raise FrameworkError(
            f"{source}: arrays or tables are nested too deeply to read (a pack needs only a few levels)."
        ) from exc
    return _Validator(text, source).framework(data)


_AT = regex(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


def _syntax_error(exc: toml_text.TomlError, lines: list[str], source: str) -> FrameworkError:
    """`file:line: key '…': TOML syntax error: …` from tomllib's '(at line L, column C)' suffix."""
    message = str(exc)
    at = _AT.search(message)
    if not at:
        return FrameworkError(f"{source}: TOML syntax error: {message}")
    reason = message[: at.start()]
    line = int(at.group(1)) if at.group(1) else max(len(lines), 1)
    column = f" (column {at.group(2)})" if at.group(2) else ""
    key = key_path_at(lines, line - 1)
    where = f"{source}:{line}: key '{key}'" if key else f"{source}:{line}"
    return FrameworkError(f"{where}: TOML syntax error: {reason}{column}")


class _Validator:
    """Turns parsed TOML into a Framework, raising on the first problem with its location."""

    def __init__(self, text: str, source: str):
        self.lines = text.splitlines()
        self.source = source
        self.registry: dict[str, CheckSpec] = load_checks()

    def fail(self, path: tuple[Any, ...], problem: str) -> FrameworkError:
        line = locate(self.lines, path)
        where = f"{self.source}:{line}" if line else self.source
        return FrameworkError(f"{where}: key '{_key_name(path)}': {problem}")

    def get(self, table: dict, path: tuple, key: str, kind: type, default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                where = f"this [[{path[0]}]] table" if path else "the top of the pack"
                raise self.fail((*path, key), f"required key is missing from {where}")
            return default
        value = table[key]
        if kind is float and _is_integer(value):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and not _is_integer(value)):
            raise self.fail((*path, key), f"expected {_kind(kind)}, got {_kind(type(value))}")
        return value

    def text(self, table: dict, path: tuple, key: str, default: Any = ...) -> str:
        """A string that, when present, says something."""
        value = self.get(table, path, key, str, default)
        if key in table and not value.strip():
            raise self.fail((*path, key), "must not be empty")
        return value

    def strings(self, table: dict, path: tuple, key: str) -> tuple[str, ...]:
        values = self.get(table, path, key, list, [])
        for i, v in enumerate(values):
            if not isinstance(v, str) or not v.strip():
                raise self.fail((*path, key, i), "expected a non-empty string")
        return tuple(values)

    def ident(self, table: dict, path: tuple) -> str:
        value = self.get(table, path, "id", str)
        if not _ID.match(value):
            raise self.fail((*path, "id"), "ids use lower-case letters, digits and '_'")
        return value

    def only_known_keys(self, table: dict, path: tuple, kind: str) -> None:
        for key in table:
            if key not in _KEYS[kind]:
                allowed = ", ".join(sorted(_KEYS[kind]))
                raise self.fail((*path, key), f"unknown key; allowed here: {allowed}")

    def tables(self, data: dict, key: str) -> Iterable[tuple[tuple, dict]]:
        items = self.get(data, (), key, list, [])
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.fail((key, i), f"expected a table ([[{key}]])")
            self.only_known_keys(item, (key, i), key)
            yield (key, i), item

    def framework(self, data: dict) -> Framework:
        self.only_known_keys(data, (), "pack")
        framework_id = self.ident(data, ())
        name = self.text(data, (), "name")
        version = self.text(data, (), "version")
        description = self.get(data, (), "description", str, "")
        ai_guidance = self.get(data, (), "ai_guidance", str, "")
        sections = tuple(
            ExpectedSection(
                id=self.ident(t, p),
                title=self.text(t, p, "title"),
                aliases=self.strings(t, p, "aliases"),
                required=self.get(t, p, "required", bool, False),
                order=p[1],
            )
            for p, t in self.tables(data, "sections")
        )
        exclude = tuple(
            ExcludedSection(
                id=self.ident(t, p),
                title=self.text(t, p, "title"),
                aliases=self.strings(t, p, "aliases"),
            )
            for p, t in self.tables(data, "exclude")
        )
        self.unique("sections", [s.id for s in sections])
        self.unique("exclude", [e.id for e in exclude])
        self.distinct_names(sections, exclude)
        kinds = {s.id for s in sections}
        checkpoints = tuple(
            self.checkpoint(p, t, kinds) for p, t in self.tables(data, "checkpoints")
        )
        self.unique("checkpoints", [c.id for c in checkpoints])
        checkpoint_ids = {c.id for c in checkpoints}
        rules = tuple(self.rule(p, t, kinds, checkpoint_ids) for p, t in self.tables(data, "rules"))
        self.unique("rules", [r.id for r in rules])
        return Framework(
            id=framework_id,
            name=name,
            version=version,
            description=description,
            sections=sections,
            exclude=exclude,
            checkpoints=checkpoints,
            rules=rules,
            source=self.source,
            ai_guidance=ai_guidance.strip(),
        )

    def unique(self, key: str, ids: list[str]) -> None:
        seen: dict[str, int] = {}
        for i, value in enumerate(ids):
            if value in seen:
                first = locate(self.lines, (key, seen[value], "id"))
                also = f" (first used on line {first})" if first else ""
                raise self.fail((key, i, "id"), f"duplicate id '{value}'{also}")
            seen[value] = i

    def distinct_names(
        self, sections: tuple[ExpectedSection, ...], exclude: tuple[ExcludedSection, ...]
    ) -> None:
        """A heading name may belong to one section kind only, or the match would be a coin toss."""
        owner: dict[str, str] = {}
        for key, entries in (("sections", sections), ("exclude", exclude)):
            for i, entry in enumerate(entries):
                for j, name in enumerate(entry.names):
                    folded = " ".join(name.casefold().split()).rstrip(":")
                    if owner.setdefault(folded, entry.id) != entry.id:
                        path = (key, i, "title") if j == 0 else (key, i, "aliases", j - 1)
                        raise self.fail(path, f"'{name}' is already a name of '{owner[folded]}'")

    def checkpoint(self, p: tuple, t: dict, kinds: set[str]) -> Checkpoint:
        checkpoint_id = self.ident(t, p)
        section_kinds = self.strings(t, p, "sections")
        self.known((*p, "sections"), section_kinds, kinds, "section kind")
        return Checkpoint(
            id=checkpoint_id,
            name=self.text(t, p, "name"),
            good=self.text(t, p, "good"),
            guidance=self.text(t, p, "guidance"),
            sections=section_kinds,
        )

    def rule(self, p: tuple, t: dict, kinds: set[str], checkpoint_ids: set[str]) -> Rule:
        rule_id = self.ident(t, p)
        check = self.get(t, p, "check", str)
        if check not in self.registry:
            known = ", ".join(sorted(self.registry))
            raise self.fail((*p, "check"), f"unknown check '{check}'; known: {known}")
        rule_type = self.get(t, p, "type", str)
        if rule_type not in FINDING_TYPES:
            raise self.fail((*p, "type"), f"must be one of {', '.join(FINDING_TYPES)}")
        risk = self.get(t, p, "risk", str)
        if risk not in RISKS:
            raise self.fail((*p, "risk"), f"must be one of {', '.join(RISKS)}")
        confidence = self.get(t, p, "confidence", float)
        if not 0.0 <= confidence <= 1.0:
            raise self.fail((*p, "confidence"), f"must be between 0 and 1, got {confidence:g}")
        checkpoints = self.strings(t, p, "checkpoints")
        self.known((*p, "checkpoints"), checkpoints, checkpoint_ids, "checkpoint")
        sections = self.strings(t, p, "sections") or ("*",)
        self.known((*p, "sections"), sections, kinds | BUILTIN_KINDS, "section kind")
        params = self.params((*p, "params"), self.get(t, p, "params", dict, {}), check)
        return Rule(
            id=rule_id,
            check=check,
            type=rule_type,
            risk=risk,
            confidence=confidence,
            title=self.template(self.text(t, p, "title"), (*p, "title")),
            message=self.template(self.text(t, p, "message"), (*p, "message")),
            suggestion=self.template(self.get(t, p, "suggestion", str, ""), (*p, "suggestion")),
            questions=tuple(
                self.template(q, (*p, "questions", i))
                for i, q in enumerate(self.strings(t, p, "questions"))
            ),
            checkpoints=checkpoints,
            sections=sections,
            include_excluded=self.get(t, p, "include_excluded", bool, False),
            enabled=self.get(t, p, "enabled", bool, True),
            params=params,
        )

    def template(self, value: str, path: tuple) -> str:
        """A message template: `{name}` fields only, so filling it can neither fail nor leak."""
        try:
            fields = [
                (f, spec, conv)
                for _, f, spec, conv in string.Formatter().parse(value)
                if f is not None
            ]
        except ValueError as exc:
            raise self.fail(
                path, f"bad template ({exc}); write a literal brace as '{{{{' or '}}}}'"
            ) from exc
        for name, spec, conversion in fields:
            if not _FIELD.match(name) or conversion or not _FORMAT_SPEC.match(spec or ""):
                raise self.fail(
                    path, f"template field '{{{name}}}' must be a plain name like '{{quote}}'"
                )
        return value

    def known(self, path: tuple, values: Iterable[str], allowed: set[str], what: str) -> None:
        for i, value in enumerate(values):
            if value not in allowed:
                choices = ", ".join(sorted(allowed)) or "none defined"
                raise self.fail((*path, i), f"unknown {what} '{value}'; known: {choices}")

    def params(self, path: tuple, given: dict, check: str) -> dict[str, Any]:
        declared = self.registry[check].params
        out: dict[str, Any] = {}
        for name, value in given.items():
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise self.fail(
                    (*path, name), f"unknown parameter of check '{check}'; it takes: {known}"
                )
            default = declared[name]
            if isinstance(default, float) and _is_integer(value):
                value = float(value)
            expected = list if isinstance(default, tuple) else type(default)
            if type(value) is not expected:
                raise self.fail(
                    (*path, name), f"expected {_kind(expected)}, got {_kind(type(value))}"
                )
            if isinstance(value, list):
                item_type = type(default[0]) if default else str
                for i, item in enumerate(value):
                    if type(item) is not item_type:
                        raise self.fail((*path, name, i), f"expected {_kind(item_type)}")
                    self.pattern((*path, name, i), name, item)
            else:
                self.pattern((*path, name), name, value)
            out[name] = value
        return out

    def pattern(self, path: tuple, name: str, value: Any) -> None:
        """Parameters named `pattern` / `…patterns` are regular expressions: refuse hostile ones."""
        if isinstance(value, str) and name.endswith(("pattern", "patterns")):
            try:
                compile_checked(value)
            except ValueError as exc:
                raise self.fail(path, str(exc)) from exc


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # TOML true is not 1


def _kind(kind: type) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    names |= {list: "a list", dict: "a table"}
    return names.get(kind, kind.__name__)


def _key_name(path: tuple[Any, ...]) -> str:
    """('rules', 2, 'params', 'patterns', 0) -> 'rules[2].params.patterns[0]'."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    return name
