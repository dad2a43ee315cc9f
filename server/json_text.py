"""JSON text as `json.dumps(value, indent=2, ensure_ascii=False)` writes it, in a tenth of the time.

With an indent the standard library encodes in Python, one generator per level: some 60 ms for a
100-page write-up's report. orjson writes it in a few milliseconds, and writes the same text for
the values a report is made of: dicts with string keys, lists, tuples, strings, booleans, None,
integers within 64 bits, and floats that Python writes without an exponent (0, and from 1e-4 to
1e16). Anything else (NaN, 1e-05, a subclass, a lone surrogate) is written by the standard library,
so the text is always json.dumps's; tests/test_json_text.py holds it to that.
"""

from __future__ import annotations

import json


def dumps(value: object) -> str:
    if _written_alike(value):
        import orjson  # here: only `aiprism review --format json` writes JSON text

        try:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        except orjson.JSONEncodeError:  # a lone surrogate, or nesting deeper than orjson goes
            pass
    return json.dumps(value, indent=2, ensure_ascii=False)


def _written_alike(value: object) -> bool:
    """Whether orjson writes `value` as json.dumps does."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is dict:
        return all(type(k) is str for k in value) and all(map(_written_alike, value.values()))
    if kind is list or kind is tuple:
        return all(map(_written_alike, value))
    if kind is int:
        return -(2**63) <= value < 2**64
    if kind is float:
        return value == 0 or 1e-4 <= abs(value) < 1e16
    return False
