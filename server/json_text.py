"""JSON text as `json.dumps(value, indent=2, ensure_ascii=False)` writes it, in about half the time.

With an indent the standard library encodes in Python, one generator per level, and a review's
report (every paragraph of the document and every finding) takes some 60 ms for a 100-page
write-up. This writes the same text with plain recursive functions, a value's pieces joined
before they are added to the output; strings go through the standard library's own C string
encoder. Only what `json.dumps` accepts without a `default` is accepted; tests/test_json_text.py
holds it to the standard library's output.
"""

from __future__ import annotations

from json.encoder import encode_basestring  # the C encoder when available, as json uses

_INDENT = "  "
_SCALARS = (str, int, float, type(None))  # bool is an int


def dumps(value: object) -> str:
    parts: list[str] = []
    _write(value, parts, "\n")
    return "".join(parts)


def _write(value: object, parts: list[str], newline: str) -> None:
    if isinstance(value, dict):
        _dict(value, parts, newline)
    elif isinstance(value, (list, tuple)):
        _list(value, parts, newline)
    else:
        parts.append(_scalar(value))


def _dict(value: dict, parts: list[str], newline: str) -> None:
    if not value:
        parts.append("{}")
        return
    inner = newline + _INDENT
    separator = "{" + inner
    add, encode = parts.append, encode_basestring
    for key, item in value.items():
        head = separator + encode(key if type(key) is str else _key(key)) + ": "
        kind = type(item)
        if kind is str:
            add(head + encode(item))
        elif kind is dict or kind is list or kind is tuple or not isinstance(item, _SCALARS):
            add(head)
            _write(item, parts, inner)
        else:
            add(head + _scalar(item))
        separator = "," + inner
    parts.append(newline + "}")


def _list(value: list | tuple, parts: list[str], newline: str) -> None:
    if not value:
        parts.append("[]")
        return
    inner = newline + _INDENT
    separator = "[" + inner
    add, encode = parts.append, encode_basestring
    for item in value:
        kind = type(item)
        if kind is str:
            add(separator + encode(item))
        elif kind is dict or kind is list or kind is tuple or not isinstance(item, _SCALARS):
            add(separator)
            _write(item, parts, inner)
        else:
            add(separator + _scalar(item))
        separator = "," + inner
    parts.append(newline + "]")


def _scalar(value: object) -> str:
    """A value that is not a container, tried in the order json's encoder tries types."""
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _key(key: object) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == float("-inf"):
        return "-Infinity"
    return float.__repr__(value)
