"""Broken and hostile files through the CLI and a real server (corpus: tests/hostile_corpus.py).

Every file is either refused with a reason a reviewer can act on (CLI: exit 2 and one line on
stderr; API: a 4xx JSON error) or read and reviewed like any other document. Nothing prints a
traceback, the server stays up and small, and a refused upload leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import requests

from server.cli import main
from server.documents import load_document
from server.documents.limits import SETTINGS, Deadline, Limits
from server.engines import offline
from server.errors import DocumentError, InvalidSetting, ReviewTooSlow
from server.frameworks import resolve
from server.samples import messy_investigation_docx
from tests.hostile_corpus import (
    FORMAT_CASES,
    HOSTILE_NAMES,
    IMG,
    MB,
    SCRIPT,
    Case,
    five_thousand_sections_docx,
    plain_docx,
)
from tests.server_process import running_server

AS_OF = "2026-11-28"
CASES = {case.kind: case for case in FORMAT_CASES}
PEAK_RSS_LIMIT_MB = 600
TRACEBACK = re.compile(r'Traceback|File "/')
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
HOSTILE_PATTERNS = (
    r"(a+)+$",
    r"((a+))+$",
    r"(a|ab)+$",
    r"(.*a){12}",
    r"(?:\d{1,2})+:",
    r".*.*=",
    r"\w+\s*\w+!",
    r"(x+x+)+y",
)


def pack(pattern: str = "TBD", syntax_error: bool = False) -> str:
    """A user framework pack with one placeholder rule using `pattern`."""
    return f"""id = "hostile"
name = "Hostile"
version = "1"

[[rules]]
id = "words"
check = "placeholder"
type = "suggestion"
risk = "low"
confidence = 0.5
title = "Pattern"
message = "Found {{quote}}"
{"[rules.params" if syntax_error else "[rules.params]"}
patterns = ['{pattern}']
"""


def test_the_corpus_has_at_least_25_kinds():
    assert len(FORMAT_CASES) + len(HOSTILE_NAMES) + len(HOSTILE_PATTERNS) >= 25
    assert len(CASES) == len(FORMAT_CASES)


# --- the library: the error is a DocumentError with the expected code -----------------------


@pytest.mark.parametrize("case", FORMAT_CASES, ids=lambda c: c.kind)
def test_each_kind_is_refused_with_its_code_or_read(case: Case):
    framework = resolve("investigation")
    if case.refused:
        with pytest.raises(DocumentError) as info:
            load_document(case.build(), case.filename, framework)
        assert info.value.code == case.code, info.value.message
        assert case.filename in info.value.message
    else:
        document = load_document(case.build(), case.filename, framework)
        assert offline.review(document, framework, as_of=date(2026, 11, 28)).findings
        texts = [p.text for s in document.sections for p in s.paragraphs]
        assert not any(CONTROL.search(t) for t in texts), "control characters reach the text"


# --- the CLI ---------------------------------------------------------------------------------


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str) -> None:
    assert err.startswith("aiprism: ") and err.count("\n") == 1, err
    assert not TRACEBACK.search(err), err


@pytest.mark.parametrize("case", FORMAT_CASES, ids=lambda c: c.kind)
def test_cli_exits_2_with_one_line_or_reviews(case: Case, tmp_path, capsys):
    path = tmp_path / case.filename
    path.write_bytes(case.build())
    code, out, err = run_cli(
        capsys, "review", str(path), "--format", "json", "--as-of", AS_OF, "--fail-on", "never"
    )
    if case.refused:
        assert code == 2
        assert_one_line(err)
        assert case.filename in err
        assert json.loads(out) == {"files": []}
    else:
        assert code == 0, err
        assert err == ""
        report = json.loads(out)["files"][0]
        assert report["document"]["sections"] and report["findings"]


@pytest.mark.parametrize(
    "kind",
    ["docx_zip_bomb", "docx_billion_laughs", "pdf_5000_pages", "markdown_50000_nested_quotes"],
)
def test_cli_as_a_real_process(kind: str, tmp_path):
    case = CASES[kind]
    path = tmp_path / case.filename
    path.write_bytes(case.build())
    result = subprocess.run(
        [sys.executable, "-m", "server", "review", str(path), "--fail-on", "never"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert not TRACEBACK.search(result.stderr), result.stderr
    if case.refused:
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and case.filename in result.stderr
    else:
        assert result.returncode == 0 and result.stderr == ""


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, capsys):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(51 * MB)  # sparse: nothing is written, and nothing may be read
    code, _, err = run_cli(capsys, "review", str(huge))
    assert code == 2
    assert_one_line(err)
    assert "is 51.0 MB; the limit is 50.0 MB" in err

    small = tmp_path / "two-mb.txt"
    small.write_bytes(b"The refund check was skipped.\n" * (2 * MB // 30))
    code, _, err = run_cli(capsys, "review", str(small), "--max-upload-mb", "1")
    assert code == 2 and "the limit is 1.0 MB" in err


def test_limits_come_from_the_environment_and_flags_override_them(tmp_path, capsys, monkeypatch):
    path = tmp_path / "pages.txt"
    path.write_bytes(b"Summary\n\n" + b"One paragraph here.\n\n" * 30)
    monkeypatch.setenv("AIPRISM_MAX_PARAGRAPHS", "10")
    code, _, err = run_cli(capsys, "review", str(path))
    assert code == 2 and "the limit is 10." in err
    code, _, err = run_cli(
        capsys, "review", str(path), "--max-paragraphs", "100", "--fail-on", "never"
    )
    assert code == 0, err
    monkeypatch.setenv("AIPRISM_MAX_PARAGRAPHS", "lots")
    code, _, err = run_cli(capsys, "review", str(path))
    assert code == 2
    assert_one_line(err)
    assert "AIPRISM_MAX_PARAGRAPHS must be a positive whole number" in err


def test_every_limit_has_a_variable_a_flag_and_a_line_in_the_docs():
    docs = (Path(__file__).parent.parent / "docs" / "limits.md").read_text()
    assert {s.field for s in SETTINGS} == set(Limits.__dataclass_fields__)
    environ = {}
    for setting in SETTINGS:
        assert setting.env in docs and setting.flag in docs
        assert f"| {setting.show(Limits())} |" in docs, setting.env
        environ[setting.env] = "7"
    assert all(getattr(Limits.from_env(environ), s.field) == 7 * s.scale for s in SETTINGS)
    with pytest.raises(InvalidSetting):
        Limits.from_env({"AIPRISM_MAX_SECONDS": "-1"})


def test_the_time_limit_stops_a_review_between_sections():
    ticks = iter(range(1_000_000))
    framework = resolve("investigation")
    document = load_document(five_thousand_sections_docx(), "long.docx", framework)
    deadline = Deadline(replace(Limits(), max_seconds=100), "long.docx", clock=lambda: next(ticks))
    with pytest.raises(ReviewTooSlow) as info:
        offline.review(document, framework, on_progress=deadline.watch())
    assert info.value.code == "review_too_slow"
    assert "took more than 100 s to read and review (stopped at section 101 of 5000)" in (
        info.value.message
    )


def test_the_time_limit_covers_reading(tmp_path, capsys):
    path = tmp_path / "slow.docx"
    path.write_bytes(five_thousand_sections_docx())
    code, _, err = run_cli(capsys, "review", str(path), "--max-seconds", "0.001")
    assert code == 2
    assert_one_line(err)
    assert "took more than 0.001 s to read and review" in err


@pytest.mark.parametrize(
    "name",
    ["invoice\u202excod.docx", "y" * 250 + ".docx", " leading space.docx"],
    ids=["right-to-left-mark", "250-characters", "leading-space"],
)
def test_cli_reads_files_with_odd_names(name: str, tmp_path, capsys):
    path = tmp_path / name
    path.write_bytes(plain_docx("The refund check was skipped on 3 March 2026."))
    code, out, err = run_cli(capsys, "review", str(path), "--format", "json", "--fail-on", "never")
    assert code == 0, err
    assert json.loads(out)["files"][0]["document"]["sections"]


@pytest.mark.parametrize(
    "name",
    ["bad\x00name.docx", "x" * 1000 + ".docx", "evil\x1b]0;pwned\x07\u202e.docx"],
    ids=["nul", "1000-characters", "terminal-escape"],
)
def test_cli_refuses_impossible_file_names_in_one_line(name: str, tmp_path, capsys):
    code, _, err = run_cli(capsys, "review", str(tmp_path / name))
    assert code == 2
    assert_one_line(err)
    assert "cannot open" in err
    assert not CONTROL.search(err[:-1]) and "\u202e" not in err  # shown escaped, not obeyed


@pytest.mark.parametrize("pattern", HOSTILE_PATTERNS)
def test_hostile_regex_in_a_pack_is_refused_at_load_time(pattern: str, tmp_path, capsys):
    path = tmp_path / "hostile.toml"
    path.write_text(pack(pattern))
    code, _, err = run_cli(capsys, "frameworks", "validate", str(path))
    assert code == 2
    assert_one_line(err)
    assert f"{path}:14: key 'rules[0].params.patterns[0]': pattern" in err
    assert "can take hours on one long paragraph" in err


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (pack(syntax_error=True), ":13: TOML syntax error"),
        (pack(r"(a|ab)+$"), ":14: key 'rules[0].params.patterns[0]'"),
        ('id = "deep"\nx = ' + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ],
    ids=["toml-syntax-error", "hostile-regex", "5000-nested-arrays"],
)
def test_broken_packs_stop_the_cli_with_one_line(text: str, says: str, tmp_path, capsys):
    document = tmp_path / "doc.docx"
    document.write_bytes(plain_docx("TBD"))
    path = tmp_path / "broken.toml"
    path.write_text(text)
    code, _, err = run_cli(capsys, "review", str(document), "--framework", str(path))
    assert code == 2
    assert_one_line(err)
    assert str(path) in err and says in err

    data_dir = tmp_path / "data"
    (data_dir / "frameworks").mkdir(parents=True)
    (data_dir / "frameworks" / "broken.toml").write_text(text)
    code, _, err = run_cli(capsys, "review", str(document), "--data-dir", str(data_dir))
    assert code == 2
    assert_one_line(err)
    assert says in err and "broken.toml" in err


def test_a_harmless_user_pack_still_reviews(tmp_path, capsys):
    document = tmp_path / "doc.docx"
    document.write_bytes(plain_docx("Owner: TBD"))
    path = tmp_path / "ok.toml"
    path.write_text(pack(r"\bTBD\b"))
    code, out, err = run_cli(
        capsys, "review", str(document), "--framework", str(path), "--format", "json"
    )
    assert code == 0, err
    assert [f["rule"] for f in json.loads(out)["files"][0]["findings"]] == ["words"]


# --- the server ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One real Waitress server for the corpus, its temporary files in a folder of their own."""
    data_dir = tmp_path_factory.mktemp("hostile-data")
    temp_dir = tmp_path_factory.mktemp("hostile-tmp")
    with running_server(data_dir, extra_env={"TMPDIR": str(temp_dir)}) as running:
        running.data_dir = data_dir
        running.temp_dir = temp_dir
        yield running


def assert_clean_error(response: requests.Response, status: int, code: str) -> dict:
    assert not TRACEBACK.search(response.text), response.text
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    return error


def blob_exists(server, data: bytes) -> bool:
    sha = hashlib.sha256(data).hexdigest()
    return (server.data_dir / "blobs" / sha[:2] / sha).exists()


@pytest.mark.parametrize("case", FORMAT_CASES, ids=lambda c: c.kind)
def test_api_refuses_with_4xx_json_or_reviews(case: Case, server):
    from server import errors

    data = case.build()
    response = server.upload(data, case.filename)
    if case.refused:
        by_code = {c.code: c for c in vars(errors).values() if isinstance(c, type)}
        status = case.http_status or by_code[case.code].http_status
        error = assert_clean_error(response, status, case.http_code or case.code)
        assert 400 <= status < 500
        if case.http_code is None:
            assert case.filename in error["message"]
        assert not blob_exists(server, data)
    else:
        assert response.status_code == 202, response.text
        review = server.wait_done(response.json()["id"])
        assert review["status"] == "done", review["error"]
        assert review["document"]["sections"] and review["findings"]


@pytest.mark.parametrize(
    ("kind", "kept"),
    [("docx_script_and_html", SCRIPT), ("markdown_script_and_html", "alert(1)")],
    ids=["docx-text", "markdown-markup"],
)
def test_script_in_a_document_comes_back_escaped(kind: str, kept: str, server):
    """In Word the markup is text a writer typed; in Markdown it is markup, read without tags."""
    case = CASES[kind]
    created = server.upload(case.build(), case.filename).json()
    review = server.wait_done(created["id"])
    texts = [p["text"] for s in review["document"]["sections"] for p in s["paragraphs"]]
    assert any(kept in t for t in texts)
    page = server.api.get(server.url(f"/reviews/{created['id']}"))
    report = server.api.get(server.url(f"/api/v1/reviews/{created['id']}/export/html"))
    for response in (page, report):
        assert response.status_code == 200
        assert "<script>alert" not in response.text
        assert IMG not in response.text and "<img src=x" not in response.text


def test_a_stray_comment_marker_survives_the_word_export(server):
    case = CASES["docx_unknown_comment_ids"]
    created = server.upload(case.build(), case.filename).json()
    review = server.wait_done(created["id"])
    finding = review["findings"][0]["id"]
    decided = server.api.post(
        server.url(f"/api/v1/reviews/{created['id']}/findings/{finding}/decision"),
        json={"action": "accept"},
    )
    assert decided.status_code == 200, decided.text
    exported = server.api.get(server.url(f"/api/v1/reviews/{created['id']}/export/docx"))
    assert exported.status_code == 200 and exported.content.startswith(b"PK")


@pytest.mark.parametrize(
    "name", HOSTILE_NAMES, ids=["dotdot", "absolute", "windows", "nul", "long", "rtl"]
)
def test_hostile_upload_names_are_cleaned(name: str, server):
    data = plain_docx(f"The refund check was skipped ({len(name)}).")
    body, boundary = multipart(name, data)
    response = server.api.post(
        server.url("/api/v1/reviews"),
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 202, response.text
    review = server.wait_done(response.json()["id"])
    assert review["status"] == "done"
    shown = review["filename"]
    assert shown.endswith(".docx") and len(shown) <= 160
    assert not set(shown) & {"/", "\\", "\x00", "\u202e"} and ".." not in shown


def multipart(filename: str, data: bytes) -> tuple[bytes, str]:
    """A form upload with the file name sent byte for byte (a browser would escape NUL)."""
    boundary = "hostile-boundary-7d9f"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def test_a_hostile_user_pack_is_named_in_the_error_and_can_be_removed(server):
    path = server.data_dir / "frameworks" / "hostile.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(pack(r"(.*a){12}"))
    try:
        response = server.upload(plain_docx("TBD"), "doc.docx", framework="hostile")
        error = assert_clean_error(response, 400, "framework_error")
        assert "hostile.toml:14: key 'rules[0].params.patterns[0]'" in error["message"]
        path.write_text(pack(syntax_error=True))
        response = server.upload(plain_docx("TBD"), "doc.docx", framework="hostile")
        assert (
            "TOML syntax error" in assert_clean_error(response, 400, "framework_error")["message"]
        )
        path.write_text(pack(r"\bTBD\b"))
        response = server.upload(plain_docx("Owner: TBD"), "doc.docx", framework="hostile")
        assert response.status_code == 202
        review = server.wait_done(response.json()["id"])
        assert [f["rule"] for f in review["findings"]] == ["words"]
    finally:
        path.unlink()


def test_after_the_corpus_the_server_is_healthy_small_and_clean(server):
    assert requests.get(server.url("/health")).status_code == 200
    created = server.upload(messy_investigation_docx(), "normal.docx")
    assert created.status_code == 202
    assert server.wait_done(created.json()["id"])["status"] == "done"

    peak = peak_rss_mb(server.process.pid)
    print(f"server peak RSS: {peak:.0f} MB")
    assert peak < PEAK_RSS_LIMIT_MB

    deadline = time.monotonic() + 10
    while any(server.temp_dir.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)  # Waitress closes a request's spooled body just after answering
    assert list(server.temp_dir.iterdir()) == []
    leftovers = [p for p in (server.data_dir / "blobs").rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
