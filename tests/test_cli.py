"""The `aiprism` command as a user or a CI job runs it: real processes, real files, exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from server.samples import messy_investigation_docx

AS_OF = "2026-11-28"


def aiprism(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    path = tmp_path / "payment-reversal.docx"
    path.write_bytes(messy_investigation_docx())
    return path


def review_json(path: Path, *extra: str) -> dict:
    result = aiprism(
        "review", str(path), "--format", "json", "--as-of", AS_OF, "--fail-on", "never", *extra
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_real_world_write_up_sections_exclusions_placeholders_and_personal_data(messy):
    report = review_json(messy)["files"][0]
    sections = report["document"]["sections"]
    kinds = [s["kind"] for s in sections]
    for kind in (
        "executive_summary",
        "background",
        "timeline",
        "impact",
        "resolving_actions",
        "root_causes",
    ):
        assert kind in kinds
    thread = sections[-1]
    assert thread["excluded"] and thread["exclusion_reason"] == "email thread"

    quotes = {(f["rule"], f["span"]["quote"]) for f in report["findings"] if f["span"]}
    assert ("placeholder", "XX-XXX-XXXX") in quotes
    assert any(rule == "placeholder" and "Completed: X" in quote for rule, quote in quotes)
    assert any(rule == "placeholder" and "TBD" in quote for rule, quote in quotes)
    personal = {quote for rule, quote in quotes if rule == "personal_data"}
    assert {"dana.whitfield@example.com", "ops.lead@example.com", "+1 415 555 0134"} <= personal
    assert "4829 1046 7731 2210" in personal

    paragraphs = {p["index"]: p["text"] for s in sections for p in s["paragraphs"]}
    for f in report["findings"]:
        if f["span"]:
            span = f["span"]
            assert paragraphs[span["paragraph"]][span["start"] : span["end"]] == span["quote"]


def test_no_content_findings_come_from_the_excluded_thread(messy):
    report = review_json(messy)["files"][0]
    thread_id = report["document"]["sections"][-1]["id"]
    rules = {f["rule"] for f in report["findings"] if f["section_id"] == thread_id}
    assert rules <= {"personal_data"}


def test_json_output_is_byte_identical_across_runs(messy):
    args = ("review", str(messy), "--format", "json", "--as-of", AS_OF)
    assert aiprism(*args).stdout == aiprism(*args).stdout


def test_text_output_is_one_linter_line_per_finding(messy):
    result = aiprism("review", str(messy), "--as-of", AS_OF, "--fail-on", "never")
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith(f"{messy}: ") for line in lines)
    assert any(" ¶" in line and "CRITICAL high placeholder — " in line for line in lines)


@pytest.mark.parametrize(("fail_on", "code"), [("critical", 1), ("never", 0)])
def test_exit_code_follows_fail_on(messy, fail_on, code):
    assert aiprism("review", str(messy), "--as-of", AS_OF, "--fail-on", fail_on).returncode == code


def test_clean_document_exits_zero_by_default(tmp_path):
    path = tmp_path / "note.md"
    path.write_text(
        "# Summary\n\nThe outage was resolved on 2026-03-11 and no customer was affected.\n"
    )
    assert aiprism("review", str(path), "--as-of", AS_OF, "--framework", "general").returncode == 0


def test_unreadable_file_exits_two_with_one_line_naming_it(tmp_path, messy):
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    result = aiprism("review", str(messy), str(broken), "--as-of", AS_OF)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "broken.docx" in result.stderr
    assert str(messy) in result.stdout  # the readable file was still reviewed


def test_missing_file_exits_two(tmp_path):
    result = aiprism("review", str(tmp_path / "nope.docx"))
    assert result.returncode == 2 and "nope.docx" in result.stderr


def test_export_docx_puts_comments_exactly_on_the_quotes(messy, tmp_path):
    out = tmp_path / "reviewed.docx"
    report = review_json(messy, "--export-docx", str(out))["files"][0]
    anchored = commented_texts(out.read_bytes())
    for f in report["findings"]:
        if f["span"] and f["rule"] in ("placeholder", "personal_data"):
            assert f["span"]["quote"] in anchored


def test_export_docx_to_a_folder_for_several_inputs(messy, tmp_path):
    second = tmp_path / "second.docx"
    second.write_bytes(messy.read_bytes())
    folder = tmp_path / "out"
    result = aiprism(
        "review", str(messy), str(second), "--export-docx", str(folder), "--fail-on", "never"
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == [
        "payment-reversal.reviewed.docx",
        "second.reviewed.docx",
    ]


def test_export_of_a_non_docx_source_is_refused(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("Summary\n\nTBD\n")
    result = aiprism("review", str(path), "--export-docx", str(tmp_path / "x.docx"))
    assert result.returncode == 2 and "only .docx" in result.stderr


def test_frameworks_list_and_show():
    listed = aiprism("frameworks", "list")
    assert listed.returncode == 0
    assert {line.split("\t")[0] for line in listed.stdout.splitlines()} >= {
        "investigation",
        "general",
    }
    shown = aiprism("frameworks", "show", "investigation")
    assert shown.returncode == 0 and "root_cause_analysis" in shown.stdout


def test_frameworks_validate_names_file_line_and_key(tmp_path):
    pack = tmp_path / "bad.toml"
    pack.write_text(
        'id = "bad"\nname = "Bad"\nversion = "1"\n\n[[rules]]\nid = "r"\ncheck = "thin_section"\n'
        'type = "important"\nrisk = "severe"\nconfidence = 0.5\ntitle = "t"\nmessage = "m"\n'
    )
    result = aiprism("frameworks", "validate", str(pack))
    assert result.returncode == 2
    assert f"{pack}:9" in result.stderr and "rules[0].risk" in result.stderr


def test_unknown_framework_lists_the_available_ones(messy):
    result = aiprism("review", str(messy), "--framework", "nope")
    assert result.returncode == 2 and "investigation" in result.stderr


def commented_texts(data: bytes) -> set[str]:
    """Text inside each comment range of a .docx, by walking runs between range markers."""
    from docx.oxml.ns import qn

    body = docx.Document(io.BytesIO(data)).element.body
    open_ranges: dict[str, list[str]] = {}
    found: set[str] = set()
    for element in body.iter():
        if element.tag == qn("w:commentRangeStart"):
            open_ranges[element.get(qn("w:id"))] = []
        elif element.tag == qn("w:commentRangeEnd"):
            parts = open_ranges.pop(element.get(qn("w:id")), None)
            if parts is not None:
                found.add("".join(parts))
        elif element.tag == qn("w:t"):
            for parts in open_ranges.values():
                parts.append(element.text or "")
    return found


def test_version_is_the_one_in_pyproject():
    import tomllib

    version = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    result = aiprism("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"aiprism {version['project']['version']}"
