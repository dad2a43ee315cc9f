"""Where a key path sits in TOML text, so a pack error can name its line.

tomllib keeps no positions, so this reads the text again. It first blanks out string contents and
comments (keeping every column), so a '[', '=' or '#' inside a message is never taken for TOML
syntax; then it walks the key path through table headers, `key =` lines, dotted keys, inline
tables and the items of arrays written over several lines.
"""

from __future__ import annotations

import re
from typing import Any

_HEADER = re.compile(r"^[ \t]*(\[\[?)[ \t]*([A-Za-z0-9_\-. \t]+?)[ \t]*\]\]?[ \t]*$")
_BLANK = "\0"  # what string contents become in the masked text


def locate(lines: list[str], path: tuple[Any, ...]) -> int | None:
    """1-based line of a key path like ('rules', 3, 'params', 'max_words'), or None.

    A key that is not in the text (a missing required key) gives the line of the table that
    should hold it, and None at the top level.
    """
    mask = _mask(lines)
    headers = _headers(mask)
    block_start, block_end = 0, len(lines)  # the current table, sub-tables included
    direct_end = headers[0][0] if headers else len(lines)  # where its own keys stop
    table = ""
    cursor: tuple[int, int] | None = None  # (line, column) inside a value written on a key line
    best: int | None = None
    steps = list(path)
    while steps:
        step = steps.pop(0)
        if isinstance(step, int):
            found = _item(mask, cursor, step) if cursor else None
            if found is None:
                return best
            cursor, best = found, found[0] + 1
            continue
        name = f"{table}.{step}" if table else step
        index = steps[0] if steps and isinstance(steps[0], int) else None
        header = None if cursor else _table(headers, name, index, block_start, block_end)
        if header is not None:
            if index is not None:
                steps.pop(0)
            block_start, block_end, direct_end = header
            table, best = name, block_start + 1
            continue
        found = _key(lines, mask, step, cursor or (block_start, 0), direct_end, nested=bool(cursor))
        if found is None:
            return best
        table, cursor, best = name, found, found[0] + 1
    return best


def _mask(lines: list[str]) -> list[str]:
    """Each line with string contents replaced by NUL and comments by spaces; columns kept."""
    out = []
    quote = ""  # delimiter of the string open at the end of the previous line (multi-line only)
    for line in lines:
        chars = list(line)
        i = 0
        while i < len(line):
            if quote:
                if line.startswith(quote, i):
                    i, quote = i + len(quote), ""
                    continue
                escaped = quote[0] == '"' and line[i] == "\\"
                for k in range(i, min(i + (2 if escaped else 1), len(line))):
                    chars[k] = _BLANK
                i += 2 if escaped else 1
            elif line[i] == "#":
                chars[i:] = " " * (len(line) - i)
                break
            elif line[i] in "\"'":
                quote = line[i] * (3 if line.startswith(line[i] * 3, i) else 1)
                i += len(quote)
            else:
                i += 1
        if len(quote) == 1:
            quote = ""  # a one-line string cannot run on (tomllib has already accepted the text)
        out.append("".join(chars))
    return out


def _headers(mask: list[str]) -> list[tuple[int, bool, str]]:
    """(line index, is an array of tables, dotted name) of every table header."""
    found = []
    for n, line in enumerate(mask):
        if m := _HEADER.match(line):
            found.append((n, m.group(1) == "[[", re.sub(r"\s*\.\s*", ".", m.group(2))))
    return found


def _table(
    headers: list[tuple[int, bool, str]], name: str, index: int | None, start: int, end: int
) -> tuple[int, int, int] | None:
    """(header line, end of the table's block, end of its own keys) of `[name]` or the
    index-th `[[name]]` between start and end."""
    matches = [
        n
        for n, array, h in headers
        if h == name and array == (index is not None) and start <= n < end
    ]
    if index is not None:
        matches = matches[index : index + 1]
    if not matches:
        return None
    line = matches[0]
    later = [(n, h) for n, _, h in headers if n > line]
    block_end = next((n for n, h in later if not h.startswith(name + ".")), end)
    direct_end = later[0][0] if later else end
    return line, min(block_end, end), min(direct_end, end)


def _key(
    lines: list[str], mask: list[str], key: str, start: tuple[int, int], end: int, nested: bool
) -> tuple[int, int] | None:
    """(line, column after '=' or '.') of `key` at the start of a line from `start` to `end`.

    Nested (inside a value being read): the key may also follow '{', ',' or a dotted prefix.
    """
    name = rf"(?P<key>{re.escape(key)}|\"{re.escape(key)}\")[ \t]*[=.]"
    prefix = (
        r"(?:^[ \t]*(?:[\w-]+[ \t]*\.[ \t]*)*|[{,][ \t]*|(?<=\.)[ \t]*)" if nested else r"^[ \t]*"
    )
    pattern = re.compile(prefix + name)
    first, column = start
    for n in range(first, min(end, len(lines))):
        for m in pattern.finditer(lines[n], column if n == first else 0):
            if mask[n][m.start("key")] != _BLANK:  # not inside a string
                return n, m.end()
    return None


def _item(mask: list[str], start: tuple[int, int], index: int) -> tuple[int, int] | None:
    """(line, column) where the index-th item of the array value at `start` begins."""
    depth, count, expecting = 0, -1, False
    first, column = start
    for n in range(first, len(mask)):
        for i in range(column if n == first else 0, len(mask[n])):
            c = mask[n][i]
            if c.isspace():
                continue
            if depth == 0 and c != "[":
                return None  # not an array
            if depth == 1 and expecting and c not in ",]":
                count += 1
                if count == index:
                    return n, i
                expecting = False
            if c in "[{":
                depth += 1
                expecting = expecting or depth == 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return None
            elif c == "," and depth == 1:
                expecting = True
    return None


def key_path_at(lines: list[str], n: int) -> str | None:
    """The dotted key assigned on line n (0-based), e.g. 'rules[1].confidence', if it is one."""
    if not 0 <= n < len(lines):
        return None
    m = re.match(r"^[ \t]*([A-Za-z0-9_\-.]+|\"[^\"]*\")[ \t]*=", lines[n])
    if not m:
        return None
    headers = [h for h in _headers(_mask(lines[:n])) if h[0] < n]
    if not headers:
        return m.group(1)
    _, array, table = headers[-1]
    if array:
        table += f"[{sum(1 for _, a, h in headers if a and h == table) - 1}]"
    return f"{table}.{m.group(1)}"
