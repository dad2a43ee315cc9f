"""The CLI's JSON writer gives exactly the text of `json.dumps(value, indent=2, ensure_ascii=False)`."""

from __future__ import annotations

import json
from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server import json_text
from server.samples import messy_investigation_docx


class Text(str):
    pass


class Number(int):
    pass


class Items(list):
    pass


VALUES = [
    {},
    [],
    (),
    "",
    0,
    -7,
    10**30,
    1.0,
    0.1,
    1e300,
    -0.0,
    float("nan"),
    float("inf"),
    float("-inf"),
    True,
    False,
    None,
    {"a": [], "b": {}, "c": [[]], "d": [{}], "e": ({"f": (1, 2.5, None)},)},
    {"quote": 'He said "owner: TBD"\n\ttab \\ back \x00 \x1f \u2028 é 😀 \ud800'},
    {3: "int key", 2.5: "float key", True: "bool key", None: "null key", "z": False},
    {Text("sub"): Text("class"), "n": Number(3), "items": Items([1, Items([2])])},
    OrderedDict([("second", 2), ("first", 1)]),
    [[[[["deep"]]]], {"x": {"y": {"z": []}}}],
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_the_same_text_as_the_standard_library(value):
    assert json_text.dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=1e-6, max_value=1e18)  # around where Python starts writing exponents
    | st.text()
    | st.text(st.characters(codec="utf-8") | st.sampled_from(["\ud800", "\x00", "\u2028"]))
)
VALUES_OF_ANY_SHAPE = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        | st.dictionaries(
            st.integers() | st.floats() | st.booleans() | st.none(), inner, max_size=2
        )
    ),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(VALUES_OF_ANY_SHAPE)
def test_the_same_text_as_the_standard_library_for_values_of_any_shape(value):
    assert json_text.dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_a_review_report_is_the_same_text(tmp_path):
    from server.cli import _json
    from server.documents import load_path
    from server.engines import offline
    from server.frameworks import resolve

    path = tmp_path / "messy.docx"
    path.write_bytes(messy_investigation_docx())
    framework = resolve(None)
    result = offline.review(load_path(path, framework), framework)
    files = {"files": [{"document": result.document.to_dict(), "summary": result.summary()}]}
    files["files"][0]["findings"] = [f.to_dict() for f in result.findings]
    assert json_text.dumps(files) == json.dumps(files, indent=2, ensure_ascii=False)
    assert _json([(path, result)], framework, {})  # what the command prints goes through it


@pytest.mark.parametrize("value", [{"set": {1}}, [b"bytes"], {(1, 2): "tuple key"}, object()])
def test_what_the_standard_library_refuses_is_refused(value):
    with pytest.raises(TypeError):
        json.dumps(value, indent=2, ensure_ascii=False)
    with pytest.raises(TypeError):
        json_text.dumps(value)
