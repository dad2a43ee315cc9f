"""API keys: in the system keychain when there is one, else in a file only the user can read.

Real keyring API throughout: small backends installed with keyring.set_keyring stand in for the
keychains of the three systems, keyring's own fail backend for a headless Linux.
"""

from __future__ import annotations

import json
import logging
import os
import stat

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.errors
import pytest

from server.errors import AIPrismError
from server.secrets import SERVICE, InvalidAPIKey, KeyStore

KEY = "sk-ant-api03-abcDEF123_-xyz"
OTHER = "sk-proj-0123456789abcdef"


class MemoryKeychain(keyring.backend.KeyringBackend):
    """A working keychain that keeps its passwords in a dict."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.passwords.get((service, username))

    def set_password(self, service, username, password):
        self.passwords[(service, username)] = password

    def delete_password(self, service, username):
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("No such password!")


class RefusingKeychain(MemoryKeychain):
    """A keychain that is there but will not store (locked, the prompt dismissed)."""

    def set_password(self, service, username, password):
        raise keyring.errors.PasswordSetError("Can't store password on keychain")


class BrokenKeychain(MemoryKeychain):
    """A Secret Service whose D-Bus connection fails on every call."""

    def get_password(self, service, username):
        raise RuntimeError("org.freedesktop.DBus.Error.NoReply")

    set_password = delete_password = get_password


class EmptyChainer(keyring.backends.chainer.ChainerBackend):
    """keyring's chainer on a machine with no backend to chain."""

    backends = ()


@pytest.fixture(autouse=True)
def _keychain_restored():
    """Every test starts with no keychain and leaves keyring as it found it (never the real one)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def memory():
    backend = MemoryKeychain()
    keyring.set_keyring(backend)
    return backend


def key_file(tmp_path):
    return tmp_path / "api-keys.json"


def test_with_a_keychain_keys_go_there_and_no_file_is_written(tmp_path, memory):
    store = KeyStore(tmp_path)
    assert store.where("anthropic") == "keychain"
    store.set("anthropic", f"  {KEY}\n")  # pasted with a line break: stripped
    store.set("openai", OTHER)
    assert memory.passwords == {(SERVICE, "anthropic"): KEY, (SERVICE, "openai"): OTHER}
    assert store.get("anthropic") == KEY
    assert store.get("openai") == OTHER
    assert store.where("anthropic") == "keychain"
    assert store.note() is None
    store.delete("anthropic")
    assert store.get("anthropic") is None
    store.delete("anthropic")  # already gone: no error
    assert store.get("openai") == OTHER
    assert list(tmp_path.iterdir()) == []


def test_without_a_keychain_keys_go_to_a_file_only_the_user_can_read(tmp_path):
    store = KeyStore(tmp_path / "data")  # the data folder does not exist yet
    assert store.where("anthropic") == "file"
    assert store.get("anthropic") is None
    store.set("anthropic", KEY)
    store.set("openai", OTHER)
    path = key_file(tmp_path / "data")
    if os.name == "posix":
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == {"anthropic": KEY, "openai": OTHER}
    assert [p.name for p in path.parent.iterdir()] == ["api-keys.json"]  # no temporary file left
    assert store.get("anthropic") == KEY
    assert store.where("anthropic") == "file"
    note = store.note()
    assert note is not None and str(path) in note and "No system keychain" in note
    assert KEY not in note

    store.delete("anthropic")
    assert store.get("anthropic") is None
    assert json.loads(path.read_text()) == {"openai": OTHER}
    store.delete("anthropic")  # already gone: no error
    store.delete("openai")
    assert not path.exists()
    assert store.note() is not None  # still no keychain: a new key would go to the file


def test_a_chainer_with_nothing_to_chain_counts_as_no_keychain(tmp_path):
    keyring.set_keyring(EmptyChainer())
    store = KeyStore(tmp_path)
    store.set("anthropic", KEY)
    assert store.where("anthropic") == "file"
    assert json.loads(key_file(tmp_path).read_text()) == {"anthropic": KEY}


def test_a_keychain_that_refuses_the_key_falls_back_to_the_file(tmp_path, caplog):
    keyring.set_keyring(RefusingKeychain())
    store = KeyStore(tmp_path)
    with caplog.at_level(logging.DEBUG):
        store.set("anthropic", KEY)
    assert json.loads(key_file(tmp_path).read_text()) == {"anthropic": KEY}
    assert store.get("anthropic") == KEY
    assert store.where("anthropic") == "file"
    assert str(key_file(tmp_path)) in store.note()
    assert "refused" in caplog.text and KEY not in caplog.text


def test_a_keychain_failing_on_d_bus_falls_back_to_the_file(tmp_path, caplog):
    keyring.set_keyring(BrokenKeychain())
    store = KeyStore(tmp_path)
    with caplog.at_level(logging.DEBUG):
        store.set("anthropic", KEY)
        assert store.get("anthropic") == KEY
        assert store.where("anthropic") == "file"
        store.delete("anthropic")
        assert store.get("anthropic") is None
    assert KEY not in caplog.text


def test_a_key_saved_in_the_file_is_found_once_a_keychain_appears_and_moves_there(tmp_path):
    store = KeyStore(tmp_path)
    store.set("anthropic", KEY)  # no keychain yet
    memory = MemoryKeychain()
    keyring.set_keyring(memory)
    assert store.get("anthropic") == KEY
    assert store.where("anthropic") == "file"
    assert str(key_file(tmp_path)) in store.note()  # keys still in the file
    assert "No system keychain" not in store.note()

    store.set("anthropic", KEY)  # saved again: into the keychain, out of the file
    assert memory.passwords == {(SERVICE, "anthropic"): KEY}
    assert not key_file(tmp_path).exists()
    assert store.where("anthropic") == "keychain"
    assert store.note() is None


def test_delete_removes_the_key_from_both_places(tmp_path):
    store = KeyStore(tmp_path)
    store.set("anthropic", "sk-old-key-in-file")
    memory = MemoryKeychain()
    memory.passwords[(SERVICE, "anthropic")] = KEY
    keyring.set_keyring(memory)
    store.delete("anthropic")
    assert store.get("anthropic") is None
    assert memory.passwords == {}
    assert not key_file(tmp_path).exists()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "empty"),
        (" \t\n ", "empty"),
        ("sk-ant-abc def123", "spaces"),
        ("sk-ant-abc\ndef123", "line breaks"),
        ("sk-ant-abc\x00def123", "control characters"),
        ("sk-ant-abc\u200bdef123", "control characters"),  # a zero-width space from a web page
        ("“sk-ant-abcdef123”", "curly quotes"),
        ("sk-" + "a" * 4094, "4097 characters"),
    ],
)
def test_a_key_that_cannot_be_right_is_refused_without_quoting_it(tmp_path, memory, key, message):
    store = KeyStore(tmp_path)
    with pytest.raises(InvalidAPIKey) as caught:
        store.set("anthropic", key)
    error = caught.value
    assert isinstance(error, AIPrismError)
    assert (error.code, error.http_status) == ("invalid_api_key", 400)
    assert message in error.message
    if key.strip():
        assert key.strip() not in str(error)
        assert "sk-ant-abc" not in str(error) and "aaaa" not in str(error)
    assert memory.passwords == {}
    assert list(tmp_path.iterdir()) == []


def test_a_key_of_exactly_the_longest_length_is_kept(tmp_path, memory):
    key = "k" * 4096
    KeyStore(tmp_path).set("anthropic", key)
    assert KeyStore(tmp_path).get("anthropic") == key


@pytest.mark.parametrize(
    "content",
    [
        '{"anthropic": "sk-ant-SECRET-in-corrupt-file',  # cut off mid-write
        '["sk-ant-SECRET-in-corrupt-file"]',  # not an object
        b'\xff\xfe{"anthropic": "sk-ant-SECRET-in-corrupt-file"}',  # not UTF-8
    ],
)
def test_a_corrupt_file_reads_as_empty_and_its_contents_are_not_logged(tmp_path, caplog, content):
    path = key_file(tmp_path)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    store = KeyStore(tmp_path)
    with caplog.at_level(logging.DEBUG):
        assert store.get("anthropic") is None
        assert store.where("anthropic") == "file"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and str(path) in warnings[0].getMessage()
    assert "SECRET" not in caplog.text

    store.set("openai", OTHER)  # saving a key replaces the unusable file
    assert json.loads(path.read_text()) == {"openai": OTHER}


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_file_readable_by_others_is_made_private_when_read(tmp_path):
    path = key_file(tmp_path)
    path.write_text(json.dumps({"anthropic": KEY}))
    path.chmod(0o644)
    assert KeyStore(tmp_path).get("anthropic") == KEY
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_repr_and_logs_never_show_a_key(tmp_path, caplog):
    store = KeyStore(tmp_path)
    with caplog.at_level(logging.DEBUG):
        store.set("anthropic", KEY)
        store.get("anthropic")
        store.note()
        store.delete("anthropic")
    assert KEY not in repr(store) and str(tmp_path) in repr(store)
    assert KEY not in caplog.text


def test_a_provider_id_that_is_not_one_is_a_bug(tmp_path):
    with pytest.raises(ValueError, match="not a provider id") as caught:
        KeyStore(tmp_path).set(KEY + " ", "anthropic")  # arguments swapped
    assert KEY not in str(caught.value)
