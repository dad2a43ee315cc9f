"""The reviewer's settings file and the settings page: validated, persisted atomically, editable."""

from __future__ import annotations

import json
import re

import pytest

from server import user_settings
from server.settings import Settings
from server.user_settings import InvalidSettings, UserSettings
from server.web import create_app
from server.web.security import COOKIE, session_value

FRAMEWORKS = {"investigation", "general"}


def update(data_dir, changes, frameworks):
    """What the settings page does with a change: validate it over the saved settings, save."""
    settings = user_settings.parse(changes, frameworks, base=user_settings.load(data_dir))
    user_settings.save(data_dir, settings)
    return settings


def test_defaults_when_no_file_was_saved(tmp_path):
    assert user_settings.load(tmp_path) == UserSettings()


def test_saved_settings_are_read_back(tmp_path):
    wanted = UserSettings("general", "bedrock", "", "", "review-team", "eu-west-1")
    user_settings.save(tmp_path, wanted)
    assert user_settings.load(tmp_path) == wanted
    assert json.loads((tmp_path / "settings.json").read_text())["aws_region"] == "eu-west-1"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temporary file left


def test_a_partial_change_keeps_the_other_fields(tmp_path):
    user_settings.save(tmp_path, UserSettings("general", "bedrock", aws_profile="p"))
    updated = update(tmp_path, {"ai_provider": "off"}, FRAMEWORKS)
    assert updated == UserSettings("general", "off", aws_profile="p")
    assert user_settings.load(tmp_path) == updated


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"framework": "nope"}, "No framework called 'nope'"),
        ({"ai_provider": "yes"}, "'ai_provider' must be one of off, openai, anthropic, bedrock"),
        ({"ai_provider": "openai"}, "A local model needs the server's URL"),
        ({"ai_base_url": "ftp://x"}, "'ai_base_url' must be an http:// or https:// URL"),
        ({"mask_personal_data": "no"}, "'mask_personal_data' must be true or false"),
        ({"aws_region": "Mars"}, "'aws_region' must be an AWS region"),
        ({"aws_profile": "has space"}, "'aws_profile'"),
        ({"colour": "blue"}, "Unknown setting 'colour'"),
    ],
)
def test_invalid_settings_are_refused_with_the_field_named(tmp_path, change, message):
    with pytest.raises(InvalidSettings, match=re.escape(message)):
        update(tmp_path, change, FRAMEWORKS)
    assert not (tmp_path / "settings.json").exists()


def test_an_unreadable_file_is_set_aside_and_defaults_are_used(tmp_path):
    (tmp_path / "settings.json").write_text("{not json")
    assert user_settings.load(tmp_path) == UserSettings()
    assert (tmp_path / "settings.json.unreadable").read_text() == "{not json"
    assert not (tmp_path / "settings.json").exists()


def test_a_newer_versions_extra_keys_do_not_lose_the_known_ones(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"framework": "general", "theme": "dark"}))
    assert user_settings.load(tmp_path).framework == "general"


def test_muted_rule_lists_are_checked_and_deduplicated():
    assert user_settings.parse_rules(["hedging", "hedging", "a.b-c_d"]) == ["a.b-c_d", "hedging"]
    with pytest.raises(InvalidSettings):
        user_settings.parse_rules("hedging")
    with pytest.raises(InvalidSettings):
        user_settings.parse_rules(["<script>"])


# --- the page and its API, through the real app with cookie + CSRF like the browser ---


@pytest.fixture
def client(tmp_path):
    settings = Settings(data_dir=tmp_path, token="t" * 32)
    app = create_app(settings)
    client = app.test_client()
    client.set_cookie(COOKIE, session_value(settings), domain="localhost")
    return client


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def test_settings_page_shows_saved_values_and_every_rule(client, tmp_path):
    user_settings.save(
        tmp_path, UserSettings("general", "bedrock", aws_profile="team", aws_region="eu-west-2")
    )
    page = client.get("/settings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<option value="general" selected>' in html
    assert 'name="ai_provider" value="bedrock" checked' in html
    assert 'value="eu-west-2"' in html
    assert 'value="timeline_out_of_order"' in html  # rules of every pack can be muted here
    assert 'href="/settings" aria-current="page"' in html


def test_settings_page_shows_the_version_in_about(client):
    from server import __version__

    html = client.get("/settings").get_data(as_text=True)
    assert f'AI-Prism <strong id="app-version">{__version__}</strong>' in html


def test_settings_round_trip_through_the_api_with_csrf(client, tmp_path):
    token = csrf_of(client.get("/settings").get_data(as_text=True))
    body = {
        "framework": "general",
        "ai_provider": "bedrock",
        "aws_profile": "team",
        "aws_region": "eu-west-1",
        "muted_rules": ["hedging", "passive_voice"],
    }
    saved = client.post("/api/v1/settings", json=body, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200
    assert saved.get_json().items() >= body.items()
    assert client.get("/api/v1/settings").get_json().items() >= body.items()
    wanted = UserSettings("general", "bedrock", aws_profile="team", aws_region="eu-west-1")
    assert user_settings.load(tmp_path) == wanted
    html = client.get("/settings").get_data(as_text=True)
    assert 'value="hedging" checked' in html
    unmuted = client.post(
        "/api/v1/settings", json={"muted_rules": ["hedging"]}, headers={"X-CSRF-Token": token}
    )
    assert unmuted.get_json()["muted_rules"] == ["hedging"]
    assert client.get("/api/v1/stats").get_json()["muted_rules"] == ["hedging"]


def test_settings_api_refuses_a_post_without_the_csrf_token(client, tmp_path):
    response = client.post("/api/v1/settings", json={"ai_provider": "bedrock"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf"
    assert not (tmp_path / "settings.json").exists()


def test_settings_api_reports_an_invalid_value_and_changes_nothing(client, tmp_path):
    token = csrf_of(client.get("/settings").get_data(as_text=True))
    response = client.post(
        "/api/v1/settings",
        json={"aws_region": "nowhere", "muted_rules": ["hedging"]},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_settings"
    assert client.get("/api/v1/settings").get_json()["muted_rules"] == []


def test_pages_load_desktop_js_only_in_the_desktop_window(tmp_path):
    for desktop in (False, True):
        settings = Settings(data_dir=tmp_path / str(desktop), token=None, desktop=desktop)
        html = create_app(settings).test_client().get("/").get_data(as_text=True)
        assert ("desktop.js" in html) is desktop


def test_settings_written_by_a_version_that_knew_only_bedrock_keep_ai_on(tmp_path):
    (tmp_path / "settings.json").write_text(
        json.dumps({"ai_enabled": True, "aws_region": "eu-west-1"})
    )
    loaded = user_settings.load(tmp_path)
    assert loaded.ai_provider == "bedrock" and loaded.aws_region == "eu-west-1"
