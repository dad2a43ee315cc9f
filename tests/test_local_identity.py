"""Who decides when there is no sign-in: on one's own machine, the person named in the settings
(by default the OS account's full name); hosted with the one shared token, nobody in particular."""

from __future__ import annotations

import io
import time

import docx
import pytest

from server import user_settings
from server.auth.local import local_actor, os_full_name
from server.samples import messy_investigation_docx
from server.settings import Settings
from server.user_settings import InvalidSettings, UserSettings
from server.web import create_app


def decided_review(app) -> tuple[list[dict], bytes]:
    """Upload the sample, accept its first quoted finding: (events, reviewed .docx)."""
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {app.config['SETTINGS'].token}"}
    upload = client.post(
        "/api/v1/reviews",
        data={"file": (io.BytesIO(messy_investigation_docx()), "w.docx")},
        headers=bearer,
    )
    rid = upload.get_json()["id"]
    deadline = time.monotonic() + 60
    while client.get(f"/api/v1/reviews/{rid}", headers=bearer).get_json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    review = client.get(f"/api/v1/reviews/{rid}", headers=bearer).get_json()
    first = next(f for f in review["findings"] if f.get("span"))
    client.post(
        f"/api/v1/reviews/{rid}/findings/{first['id']}/decision",
        json={"action": "accept"},
        headers=bearer,
    )
    events = client.get(f"/api/v1/reviews/{rid}/events", headers=bearer).get_json()["events"]
    word = client.get(f"/api/v1/reviews/{rid}/export/docx", headers=bearer).data
    app.extensions["aiprism_jobs"].shutdown()
    return events, word


def comment_authors(word: bytes) -> set[tuple[str, str]]:
    return {(c.author, c.initials) for c in docx.Document(io.BytesIO(word)).comments} - {
        ("Lee", "")
    }


def test_the_local_reviewer_is_the_name_in_the_settings(tmp_path):
    user_settings.save(tmp_path, UserSettings(reviewer_name="Kim O'Neil-Park"))
    events, word = decided_review(create_app(Settings(data_dir=tmp_path)))
    decision = next(e for e in events if e["type"] == "decision")
    assert decision["payload"]["actor"]["name"] == "Kim O'Neil-Park"
    assert comment_authors(word) == {("Kim O'Neil-Park", "KOP")}


def test_without_a_name_the_local_reviewer_is_the_accounts_full_name(tmp_path):
    assert local_actor(tmp_path).name == os_full_name() != ""
    events, _ = decided_review(create_app(Settings(data_dir=tmp_path)))
    assert next(e for e in events if e["type"] == "created")["payload"]["actor"]["name"] == (
        os_full_name()
    )


def test_hosted_with_the_shared_token_nobody_in_particular_decides(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, hosted=True, allowed_hosts=("*",)))
    events, word = decided_review(app)
    assert all("actor" not in e["payload"] for e in events)
    assert comment_authors(word) == {("AI-Prism", "AP")}


@pytest.mark.parametrize("name", ["x" * 101, "two\nlines"])
def test_a_reviewer_name_must_be_one_short_line(name):
    with pytest.raises(InvalidSettings):
        user_settings.parse({"reviewer_name": name})
