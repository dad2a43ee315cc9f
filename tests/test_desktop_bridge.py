"""The desktop pieces that need no window: the js_api bridge against a real local server, and the
single-instance lock. (The window itself is tested in test_desktop.py.)"""

from __future__ import annotations

import threading
import zipfile

import pytest

from desktop.bridge import Bridge, LocalApi, ScriptedDialogs
from desktop.instance import SingleInstance
from desktop.local_server import LocalServer
from server.documents.limits import MB, Limits
from server.samples import messy_investigation_docx
from server.settings import Settings


class CancelledDialogs:
    def choose_document(self):
        return None

    def choose_save_path(self, suggested_name):
        return None


@pytest.fixture
def local(tmp_path):
    server = LocalServer(Settings(data_dir=tmp_path / "data", limits=Limits(max_bytes=MB)))
    server.start()
    yield server
    server.stop()
    server.server.close()


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "Payment reversal review.docx"
    path.write_bytes(messy_investigation_docx())
    return path


def bridge_for(local, dialogs):
    return Bridge(LocalApi(local.base_url, local.settings.token), dialogs, max_upload_mb=1)


def test_open_document_uploads_the_chosen_file_and_returns_the_review_id(local, sample, tmp_path):
    sample = sample.rename(sample.with_name("Payment reversal – review.docx"))
    bridge = bridge_for(local, ScriptedDialogs(sample, tmp_path / "saved"))
    result = bridge.open_document("investigation")
    assert set(result) == {"id", "status", "filename"}
    local.app.extensions["aiprism_jobs"].wait_idle(30)
    state = local.app.config["SERVICE"].get(result["id"])
    assert state.filename == sample.name  # the non-ASCII name survives the multipart upload
    assert state.status == "done"


def test_open_document_can_upload_a_new_version(local, sample, tmp_path):
    bridge = bridge_for(local, ScriptedDialogs(sample, tmp_path / "saved"))
    first = bridge.open_document(None)["id"]
    local.app.extensions["aiprism_jobs"].wait_idle(30)
    second = bridge.open_document(None, first)
    assert local.app.config["SERVICE"].get(second["id"]).parent_id == first


def test_save_export_writes_the_file_under_the_suggested_name(local, sample, tmp_path):
    dialogs = ScriptedDialogs(sample, tmp_path / "saved")
    bridge = bridge_for(local, dialogs)
    review = bridge.open_document(None)["id"]
    local.app.extensions["aiprism_jobs"].wait_idle(30)
    saved = bridge.save_export(review, "docx")
    assert saved["name"] == "Payment reversal review.reviewed.docx"
    assert zipfile.ZipFile(saved["path"]).testzip() is None
    csv = bridge.save_export(review, "csv")
    assert (tmp_path / "saved" / csv["name"]).read_bytes().startswith(b"\xef\xbb\xbf")


def test_cancelled_dialogs_change_nothing(local, sample, tmp_path):
    bridge = bridge_for(local, ScriptedDialogs(sample, tmp_path / "saved"))
    review = bridge.open_document(None)["id"]
    local.app.extensions["aiprism_jobs"].wait_idle(30)
    cancelled = bridge_for(local, CancelledDialogs())
    assert cancelled.open_document(None) == {"cancelled": True}
    assert cancelled.save_export(review, "html") == {"cancelled": True}
    assert len(local.app.config["SERVICE"].history().rows) == 1


def test_bridge_errors_are_messages_for_the_page(local, tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    assert (
        "1 MB upload limit"
        in bridge_for(local, ScriptedDialogs(big, tmp_path)).open_document()["error"]
    )
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"not a zip")
    error = bridge_for(local, ScriptedDialogs(broken, tmp_path)).open_document()["error"]
    assert error and "Traceback" not in error
    bridge = bridge_for(local, ScriptedDialogs(broken, tmp_path))
    assert bridge.save_export("../etc", "docx") == {"error": "That export does not exist."}
    assert bridge.save_export("abc", "exe") == {"error": "That export does not exist."}
    assert "No review" in bridge.save_export("abc", "json")["error"]


def test_the_bridge_acts_only_for_the_apps_own_pages(local, sample, tmp_path):
    dialogs = ScriptedDialogs(sample, tmp_path / "saved")
    api = LocalApi(local.base_url, local.settings.token)
    own = Bridge(api, dialogs, 1, page_url=lambda: local.base_url + "/reviews/x")
    assert "id" in own.open_document()
    for foreign in ("https://attacker.example/", local.base_url + ".attacker.example/", None):
        bridge = Bridge(api, dialogs, 1, page_url=lambda url=foreign: url)
        assert bridge.open_document() == {"error": "This page may not open or save files."}
        assert bridge.save_export("abc", "docx")["error"].startswith("This page may not")
    assert dialogs.saved == []


def test_only_the_two_calls_are_exposed_to_the_page():
    public = [name for name in dir(Bridge) if not name.startswith("_")]
    assert public == ["open_document", "save_export"]


def test_a_second_instance_for_the_same_folder_is_refused_and_can_ask_the_first(tmp_path):
    first, second = SingleInstance(tmp_path), SingleInstance(tmp_path)
    shown = threading.Event()
    assert first.acquire()
    first.listen(lambda document: shown.set())
    assert not second.acquire()
    assert second.ask_to_show(timeout=2)
    assert shown.wait(timeout=2)  # the first answers "ok", then brings its window forward
    first.close()
    assert second.acquire()  # released on close (and by the OS when a process dies)
    second.close()


def test_a_second_launch_hands_its_document_to_the_first(tmp_path):
    first, second = SingleInstance(tmp_path / "data"), SingleInstance(tmp_path / "data")
    asked: list = []
    received = threading.Event()
    assert first.acquire()
    first.listen(lambda document: (asked.append(document), received.set()))
    document = tmp_path / ("Résumé of the outage – draft " + "x" * 300 + ".docx")
    assert second.ask_to_show(document, timeout=2)
    assert received.wait(timeout=2)
    assert asked == [document]  # spaces, non-ASCII and a long name arrive whole
    first.close()


def test_a_request_with_the_wrong_secret_is_ignored(tmp_path):
    import json
    import socket

    first = SingleInstance(tmp_path)
    shown = []
    assert first.acquire()
    first.listen(lambda document: shown.append(True))
    port = json.loads((tmp_path / "desktop.instance.json").read_text())["port"]
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(b"show guessed\n")
        assert conn.recv(16) == b"refused\n"
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(b"open guessed /etc/passwd\n")
        assert conn.recv(16) == b"refused\n"
    assert shown == []
    first.close()


def test_a_left_over_instance_file_is_not_trusted(tmp_path):
    (tmp_path / "desktop.instance.json").write_text('{"port": 9, "secret": "old"}')
    assert not SingleInstance(tmp_path).ask_to_show(timeout=0.5)
    fresh = SingleInstance(tmp_path)
    assert fresh.acquire()  # a crashed instance leaves its file, never its lock
    fresh.close()


def test_a_document_given_at_launch_becomes_the_first_page_as_a_new_review(local, sample):
    from desktop.open_file import first_url

    url, notice = first_url(local, sample)
    assert notice is None
    path, _, query = url.removeprefix(local.base_url).partition("?")
    assert path.startswith("/reviews/") and query == f"token={local.settings.token}"
    local.app.extensions["aiprism_jobs"].wait_idle(30)
    state = local.app.config["SERVICE"].get(path.rsplit("/", 1)[1])
    assert state.filename == sample.name and state.status == "done"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.docx", None, "Could not read “missing.docx”"),
        ("tool.exe", b"MZ\x90\x00", "tool.exe"),
        ("huge.txt", b"x" * (MB + 1), "larger than the 1 MB upload limit"),
    ],
)
def test_a_document_that_cannot_be_opened_leaves_the_home_page_with_the_reason(
    local, tmp_path, name, content, message
):
    from desktop.open_file import first_url

    document = tmp_path / name
    if content is not None:
        document.write_bytes(content)
    url, notice = first_url(local, document)
    assert url == f"{local.base_url}/?token={local.settings.token}"
    assert message in notice
