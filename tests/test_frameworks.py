"""Framework packs: the built-in packs load, and a broken pack is reported by file, line and key.

Every pack in these tests is written out in full, so the line an error names can be counted in the
test itself (line 1 is the first line after the opening quotes).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.engines.registry import REGISTRY, section_check
from server.errors import FrameworkError, UnknownFramework
from server.frameworks import available, load_path, parse, resolve
from server.frameworks.loader import builtin_paths, locate

INVESTIGATION_CHECKPOINTS = [
    "initial_assessment",
    "investigation_process",
    "actor_classification",
    "decision_enforcement",
    "high_risk_verification",
    "repeat_cases_appeals",
    "account_security",
    "financial_impact",
    "outreach",
    "sentiment_escalation",
    "root_cause_analysis",
    "preventative_actions",
    "documentation_reporting",
    "cross_team_collaboration",
    "quality_control",
    "continuous_improvement",
    "communication_standards",
    "metrics",
    "legal_compliance",
    "launch_rollback",
]


def toml(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def error_of(text: str) -> str:
    with pytest.raises(FrameworkError) as caught:
        parse(toml(text), "pack.toml")
    return caught.value.message


# --- Built-in packs ---------------------------------------------------------------------------


def test_every_builtin_pack_loads_and_its_id_matches_its_file_name():
    paths = builtin_paths()
    assert {p.stem for p in paths} >= {"investigation", "general"}
    for path in paths:
        framework = load_path(path)
        assert framework.id == path.stem
        assert framework.source == str(path)
        assert framework.sections and framework.checkpoints


def test_investigation_pack_has_exactly_the_twenty_checkpoints():
    framework = resolve("investigation")
    assert [c.id for c in framework.checkpoints] == INVESTIGATION_CHECKPOINTS


@pytest.mark.parametrize("pack", ["investigation", "general"])
def test_every_builtin_checkpoint_says_what_good_looks_like_and_how_to_judge_it(pack):
    framework = resolve(pack)
    kinds = {s.id for s in framework.sections}
    for checkpoint in framework.checkpoints:
        assert checkpoint.name.strip(), checkpoint.id
        assert len(checkpoint.good.split()) >= 20, checkpoint.id
        assert len(checkpoint.guidance.split()) >= 40, checkpoint.id
        assert checkpoint.sections and set(checkpoint.sections) <= kinds, checkpoint.id
        assert "  " not in checkpoint.good + checkpoint.guidance, checkpoint.id


def test_general_pack_expects_the_usual_business_sections_and_excludes_threads_and_logs():
    framework = resolve("general")
    assert [s.id for s in framework.sections][:6] == [
        "summary",
        "background",
        "analysis",
        "risks",
        "recommendations",
        "conclusion",
    ]
    assert {e.id for e in framework.exclude} == {"email_thread", "raw_log"}
    assert 8 <= len(framework.checkpoints) <= 12


def test_example_pack_in_the_documentation_loads():
    doc = Path(__file__).parent.parent / "docs" / "frameworks.md"
    example = re.search(r"```toml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    framework = parse(example.group(1), "docs/frameworks.md")
    assert framework.id == "vendor_review"
    assert framework.rule("thin_risks").params == {"min_words": 40}


def test_default_framework_is_the_investigation_pack():
    assert resolve(None).id == "investigation"


# --- Errors name the file, the line and the key ----------------------------------------------


def test_toml_syntax_error_names_line_and_key():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[rules]]
        id = "thin"
        confidence = 0.5.
        """
    )
    assert message.startswith("pack.toml:7: key 'rules[0].confidence': TOML syntax error")


def test_unknown_check_is_reported_with_the_known_ones():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[rules]]
        id = "thin"
        check = "no_such_check"
        type = "suggestion"
        risk = "low"
        confidence = 0.5
        title = "Thin"
        message = "Too short"
        """
    )
    assert message.startswith("pack.toml:7: key 'rules[0].check': unknown check 'no_such_check'")
    assert "thin_section" in message


def test_param_of_the_wrong_type_is_reported_on_its_line():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[rules]]
        id = "thin"
        check = "thin_section"
        type = "suggestion"
        risk = "low"
        confidence = 0.5
        title = "Thin"
        message = "Only {words} words"

        [rules.params]
        min_words = "twenty"
        """
    )
    assert message == (
        "pack.toml:15: key 'rules[0].params.min_words': expected an integer, got a string"
    )


def test_unknown_param_is_reported_in_an_inline_table():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[rules]]
        id = "missing"
        check = "missing_section"
        type = "critical"
        risk = "high"
        confidence = 0.9
        title = "Missing"
        message = "No {expected}"

        [[rules]]
        id = "thin"
        check = "thin_section"
        type = "suggestion"
        risk = "low"
        confidence = 0.5
        title = "Thin"
        message = "Only {words} words"
        params = { max_words = 5 }
        """
    )
    assert message.startswith("pack.toml:22: key 'rules[1].params.max_words': unknown parameter")
    assert "min_words" in message


def test_param_written_as_a_dotted_key_is_located():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[rules]]
        id = "thin"
        check = "thin_section"
        type = "suggestion"
        risk = "low"
        confidence = 0.5
        title = "Thin"
        message = "Only {words} words"
        params.min_words = 2.5
        """
    )
    assert message.startswith("pack.toml:13: key 'rules[0].params.min_words': expected an integer")


def test_unknown_checkpoint_in_a_rule_is_reported_on_its_item_line():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[checkpoints]]
        id = "evidence"
        name = "Evidence"
        good = "Claims cite their sources."
        guidance = "Check every claim has a source."

        [[rules]]
        id = "thin"
        check = "thin_section"
        type = "suggestion"
        risk = "low"
        confidence = 0.5
        title = "Thin"
        message = "Only {words} words"
        checkpoints = [
            "evidence",
            "evidense",
        ]
        """
    )
    assert message.startswith(
        "pack.toml:21: key 'rules[0].checkpoints[1]': unknown checkpoint 'evidense'"
    )


def test_unknown_section_kind_in_a_checkpoint_is_reported():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[sections]]
        id = "summary"
        title = "Summary"

        [[checkpoints]]
        id = "purpose"
        name = "Purpose"
        good = "Says what it is for."
        guidance = "Check the purpose is stated."
        sections = ["summary", "sumary"]
        """
    )
    assert message.startswith(
        "pack.toml:14: key 'checkpoints[0].sections[1]': unknown section kind 'sumary'"
    )


def test_unknown_section_kind_in_a_rule_is_reported():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[sections]]
        id = "summary"
        title = "Summary"

        [[rules]]
        id = "thin"
        check = "thin_section"
        sections = ["summary", "other", "timeline"]
        type = "suggestion"
        risk = "low"
        confidence = 0.5
        title = "Thin"
        message = "Only {words} words"
        """
    )
    assert message.startswith(
        "pack.toml:12: key 'rules[0].sections[2]': unknown section kind 'timeline'"
    )


def test_confidence_out_of_range_is_reported():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[rules]]
        id = "thin"
        check = "thin_section"
        type = "suggestion"
        risk = "low"
        confidence = 1.5
        title = "Thin"
        message = "Only {words} words"
        """
    )
    assert message == "pack.toml:10: key 'rules[0].confidence': must be between 0 and 1, got 1.5"


def test_duplicate_section_id_is_reported_on_the_second_one():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[sections]]
        id = "summary"
        title = "Summary"

        [[sections]]
        id = "summary"
        title = "Overview"
        """
    )
    assert message == (
        "pack.toml:10: key 'sections[1].id': duplicate id 'summary' (first used on line 6)"
    )


def test_duplicate_checkpoint_id_is_reported():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[checkpoints]]
        id = "evidence"
        name = "Evidence"
        good = "Claims cite their sources."
        guidance = "Check every claim has a source."

        [[checkpoints]]
        id = "evidence"
        name = "Evidence again"
        good = "Claims cite their sources."
        guidance = "Check every claim has a source."
        """
    )
    assert message.startswith("pack.toml:12: key 'checkpoints[1].id': duplicate id 'evidence'")


def test_heading_name_shared_by_two_sections_is_refused():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[sections]]
        id = "summary"
        title = "Summary"
        aliases = ["Overview"]

        [[sections]]
        id = "background"
        title = "Background"
        aliases = ["context", "overview"]
        """
    )
    assert message.startswith(
        "pack.toml:13: key 'sections[1].aliases[1]': 'overview' is already a name of 'summary'"
    )


@pytest.fixture
def patterns_check():
    """A throwaway check with a `patterns` list parameter, removed again afterwards."""
    name = "test_frameworks_patterns"
    section_check(name, patterns=[])(lambda ctx, section: iter(()))
    yield name
    REGISTRY.pop(name, None)


def test_hostile_regex_in_patterns_is_refused_on_its_line(patterns_check):
    message = error_of(
        f"""
        id = "bad"
        name = "Bad"
        version = "1"

        [[rules]]
        id = "words"
        check = "{patterns_check}"
        type = "suggestion"
        risk = "low"
        confidence = 0.5
        title = "Pattern"
        message = "Found {{quote}}"

        [rules.params]
        patterns = [
            'TBD',
            '(a+)+$',  # nested repetition: can hang on long text
        ]
        """
    )
    assert message.startswith("pack.toml:17: key 'rules[0].params.patterns[1]': pattern '(a+)+$'")
    assert "nests repeated groups" in message


def test_harmless_patterns_load(patterns_check):
    framework = parse(
        toml(
            f"""
            id = "ok"
            name = "OK"
            version = "1"

            [[rules]]
            id = "words"
            check = "{patterns_check}"
            type = "suggestion"
            risk = "low"
            confidence = 0.5
            title = "Pattern"
            message = "Found {{quote}} in {{section}}"
            params = {{ patterns = ['\\bTBD\\b', 'lorem ipsum'] }}
            """
        )
    )
    assert framework.rule("words").params == {"patterns": [r"\bTBD\b", "lorem ipsum"]}


def test_missing_required_key_is_reported_on_its_table_header():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[checkpoints]]
        id = "evidence"
        name = "Evidence"
        good = "Claims cite their sources."
        guidance = "Check every claim has a source."

        [[checkpoints]]
        id = "purpose"
        name = "Purpose"
        good = "Says what it is for."
        """
    )
    assert message == (
        "pack.toml:11: key 'checkpoints[1].guidance': "
        "required key is missing from this [[checkpoints]] table"
    )


def test_missing_top_level_key_names_the_key():
    message = error_of(
        """
        id = "bad"
        version = "1"
        """
    )
    assert message == "pack.toml: key 'name': required key is missing from the top of the pack"


def test_misspelt_key_is_refused_rather_than_ignored():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[sections]]
        id = "summary"
        title = "Summary"
        requried = true
        """
    )
    assert message.startswith("pack.toml:8: key 'sections[0].requried': unknown key")


def test_message_template_with_attribute_access_is_refused():
    message = error_of(
        """
        id = "bad"
        name = "Bad"
        version = "1"

        [[rules]]
        id = "thin"
        check = "thin_section"
        type = "suggestion"
        risk = "low"
        confidence = 0.5
        title = "Thin"
        message = "Only {words.__class__} words"
        """
    )
    assert message.startswith("pack.toml:12: key 'rules[0].message': template field")


def test_valid_rule_is_built_with_its_defaults():
    framework = parse(
        toml(
            """
            id = "small"
            name = "Small"
            version = "2.1"

            [[sections]]
            id = "summary"
            title = "Summary"
            required = true

            [[rules]]
            id = "thin"
            check = "thin_section"
            type = "suggestion"
            risk = "low"
            confidence = 1
            title = "Thin section"
            message = "'{section}' has {words} words"
            params = { min_words = 40 }
            """
        )
    )
    rule = framework.rule("thin")
    assert rule.confidence == 1.0
    assert rule.sections == ("*",)
    assert rule.enabled and not rule.include_excluded
    assert rule.params == {"min_words": 40}
    assert framework.expected("summary").required


# --- locate() on its own ----------------------------------------------------------------------

LOCATE_SAMPLE = toml(
    '''
    id = "x"  # a comment that mentions [[rules]]
    name = "X"
    version = "1"
    description = """
    [[rules]]
    id = "not a table: this is inside a string"
    """

    [[rules]]
    id = "first"
    title = "says [x], id = 3"
    params.min_words = 5

    [[rules]]
    id = "second"
    questions = [
        "One?",
        "Two, three?",  # a comma inside a string
        "Four?",
    ]

    [rules.params]
    patterns = ["a", "b"]
    '''
)


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("id",), 1),
        (("description",), 4),
        (("rules", 0), 9),
        (("rules", 0, "id"), 10),
        (("rules", 0, "title"), 11),
        (("rules", 0, "params", "min_words"), 12),
        (("rules", 1, "id"), 15),
        (("rules", 1, "questions", 2), 19),
        (("rules", 1, "params"), 22),
        (("rules", 1, "params", "patterns", 1), 23),
        (("rules", 1, "message"), 14),  # absent: the line of its table
        (("rules", 2), None),
        (("checkpoints",), None),
    ],
)
def test_locate_finds_the_line_of_a_key_path(path, line):
    assert locate(LOCATE_SAMPLE.splitlines(), path) == line


# --- User packs ------------------------------------------------------------------------------

USER_PACK = """
id = "{id}"
name = "{name}"
version = "9.9"

[[sections]]
id = "summary"
title = "Summary"
"""


def write_pack(folder: Path, filename: str, pack_id: str, name: str) -> Path:
    path = folder / filename
    path.write_text(USER_PACK.format(id=pack_id, name=name), encoding="utf-8")
    return path


def test_user_pack_with_a_builtin_id_overrides_it_whatever_its_file_name(tmp_path):
    path = write_pack(tmp_path, "my-team.toml", "investigation", "Our investigations")
    assert available(tmp_path)["investigation"].source == str(path)
    framework = resolve("investigation", tmp_path)
    assert framework.name == "Our investigations"
    assert framework.version == "9.9"


def test_user_pack_with_a_new_id_extends_the_list(tmp_path):
    write_pack(tmp_path, "vendor.toml", "vendor_review", "Vendor review")
    assert set(available(tmp_path)) == {"general", "investigation", "vendor_review"}
    assert resolve("vendor_review", tmp_path).name == "Vendor review"
    assert resolve("general", tmp_path).id == "general"


def test_missing_user_folder_gives_the_builtin_packs(tmp_path):
    assert set(available(tmp_path / "absent")) == {"general", "investigation"}


def test_pack_is_resolved_by_path(tmp_path):
    path = write_pack(tmp_path, "elsewhere.toml", "elsewhere", "Loaded by path")
    assert resolve(str(path)).name == "Loaded by path"


def test_unknown_id_lists_the_available_packs(tmp_path):
    write_pack(tmp_path, "vendor.toml", "vendor_review", "Vendor review")
    with pytest.raises(UnknownFramework) as caught:
        resolve("nonexistent", tmp_path)
    assert caught.value.message == (
        "No framework called 'nonexistent'. Available: general, investigation, vendor_review."
    )


def test_broken_user_pack_is_named_not_skipped(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('id = "broken"\nname = "Broken"\nversion = 1\n', encoding="utf-8")
    with pytest.raises(FrameworkError) as caught:
        available(tmp_path)
    assert caught.value.message == (f"{path}:3: key 'version': expected a string, got an integer")


def test_missing_pack_file_is_a_framework_error(tmp_path):
    with pytest.raises(FrameworkError, match="cannot read the framework file"):
        resolve(str(tmp_path / "absent.toml"))


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet="[]{}=\"'#.,\\ \nabrules0", max_size=200),
    path=st.lists(st.one_of(st.sampled_from(["rules", "a", "b"]), st.integers(0, 3)), max_size=5),
)
def test_locate_never_fails_on_any_text(text, path):
    """It runs while an error is being reported, so it must not raise one of its own."""
    lines = text.splitlines()
    line = locate(lines, tuple(path))
    assert line is None or 1 <= line <= len(lines)
