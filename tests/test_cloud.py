"""The hosted form as App Runner runs it: real Gunicorn processes, S3 on a moto server, fake Bedrock.

Every test talks HTTP to `gunicorn --config cloud/gunicorn.conf.py cloud.wsgi:app`; state is
checked in the bucket itself, and two Gunicorn processes on one bucket stand in for two instances.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
import requests
import yaml

from server import __version__, upkeep
from server.ai_choice import AIChoice
from server.engines.ai_settings import DEFAULT_MODELS as MODELS
from server.hosted import HostedSettingsError, hosted_settings, storage_kind
from server.review import fold
from server.samples import messy_investigation_docx
from server.stats import summary_of
from server.store.dynamo_index import DynamoIndex
from server.store.s3 import S3Store
from tests.fake_bedrock import FakeBedrock
from tests.moto_server import moto_endpoint  # noqa: F401 - the module-scoped fixture
from tests.server_process import wait_finished

pytestmark = pytest.mark.cloud
DEFAULT_MODELS = MODELS["bedrock"]

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
TOKEN = "cloud-test-token-0123456789abcdef"
BUCKET = "aiprism-cloud-tests"
MODEL_A = "test.model-a"
MODEL_B = "test.model-b"
DOCX = messy_investigation_docx()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def hosted_env(moto: str, tmp: Path, **overrides: str | None) -> dict[str, str]:
    """The environment App Runner would pass, pointed at moto; an override of None removes a name."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIPRISM_")}
    env.update(
        PYTHONUNBUFFERED="1",
        WEB_CONCURRENCY="2",
        AWS_ENDPOINT_URL_S3=moto,
        AIPRISM_S3_BUCKET=BUCKET,
        AIPRISM_S3_PREFIX="tenant",
        AIPRISM_ACCESS_TOKEN=TOKEN,
        AIPRISM_AI="off",
        AIPRISM_DATA_DIR=str(tmp / "data"),
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class Gunicorn:
    """One `gunicorn` master and its workers, in a process group of their own."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.log_path = log
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {TOKEN}"
        self._log = log.open("w")
        started = time.monotonic()
        self.process = subprocess.Popen(
            [str(GUNICORN), "--config", "cloud/gunicorn.conf.py", "cloud.wsgi:app"],
            cwd=ROOT,
            env={**env, "PORT": str(self.port)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.seconds_to_health = self._wait_healthy(started)

    def _wait_healthy(self, started: float, timeout: float = 30) -> float:
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.process.returncode}:\n{self.log()}")
            try:  # once the master listens, a request waits in the backlog for a worker
                if requests.get(self.url("/health"), timeout=5).status_code == 200:
                    return time.monotonic() - started
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.05)
        raise TimeoutError(f"gunicorn did not answer /health:\n{self.log()}")

    def url(self, path: str) -> str:
        return self.base_url + path

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_log(self, text: str, timeout: float = 5) -> str:
        """The log once it has `text`: the access line is written after the response is sent."""
        deadline = time.monotonic() + timeout
        while text not in self.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.log()

    def upload(self) -> str:
        response = self.api.post(
            self.url("/api/v1/reviews"),
            files={"file": ("investigation.docx", DOCX)},
        )
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def wait_done(self, review_id: str, timeout: float = 30) -> dict:
        return wait_finished(self.api, self.url(f"/api/v1/reviews/{review_id}"), timeout, self.log)

    def decide(self, review_id: str, finding_id: str, action: str) -> requests.Response:
        return self.api.post(
            self.url(f"/api/v1/reviews/{review_id}/findings/{finding_id}/decision"),
            json={"action": action},
        )

    def events(self, review_id: str) -> list[dict]:
        return self.api.get(self.url(f"/api/v1/reviews/{review_id}/events")).json()["events"]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.api.close()  # an idle keep-alive connection holds a worker's graceful exit
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._log.close()


def run_to_exit(env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command or [str(GUNICORN), "--config", "cloud/gunicorn.conf.py", "cloud.wsgi:app"],
        cwd=ROOT,
        env={**env, "PORT": str(free_port())},
        capture_output=True,
        text=True,
        timeout=30,
    )


def objects(moto: str, prefix: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.fixture(scope="module")
def moto(moto_endpoint):  # noqa: F811 - the imported fixture
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket=BUCKET
    )
    return moto_endpoint


@pytest.fixture(scope="module")
def service(moto, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("service")
    server = Gunicorn(hosted_env(moto, tmp), tmp / "gunicorn.log")
    yield server
    server.stop()


@pytest.fixture
def start(moto, tmp_path):
    """Start Gunicorn processes with environment overrides; stop them all after the test."""
    started: list[Gunicorn] = []

    def start(**overrides: str | None) -> Gunicorn:
        server = Gunicorn(
            hosted_env(moto, tmp_path, **overrides), tmp_path / f"gunicorn-{len(started)}.log"
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# --- settings -------------------------------------------------------------------------------------


def test_hosted_settings_from_a_minimal_environment():
    settings = hosted_settings({"AIPRISM_S3_BUCKET": "reviews", "AIPRISM_ACCESS_TOKEN": TOKEN})
    assert settings.hosted and settings.token == TOKEN and settings.allowed_hosts == ("*",)
    assert settings.store_url == "s3://reviews/" and settings.store_region == "us-east-1"
    assert settings.ai is not None and settings.ai.models == DEFAULT_MODELS
    assert settings.ai.region == "us-east-1" and settings.ai.sections_at_once == 4


def test_the_table_needs_a_bucket_and_a_valid_name():
    base = {"AIPRISM_ACCESS_TOKEN": TOKEN, "AIPRISM_DYNAMODB_TABLE": "ai prism!"}
    with pytest.raises(HostedSettingsError) as refused:
        hosted_settings(base)
    assert any("AIPRISM_DYNAMODB_TABLE must be a table name" in p for p in refused.value.problems)
    assert any("AIPRISM_S3_BUCKET is not" in p for p in refused.value.problems)
    settings = hosted_settings(
        {**base, "AIPRISM_S3_BUCKET": "reviews", "AIPRISM_DYNAMODB_TABLE": "ai-prism-index"}
    )
    assert settings.index_table == "ai-prism-index" and not settings.create_resources


def test_hosted_settings_layer_the_bedrock_variables_over_the_ai_ones():
    env = {
        "AIPRISM_ACCESS_TOKEN": TOKEN,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AIPRISM_AI_REGION": "us-west-2",
        "AIPRISM_BEDROCK_MODELS": f" {MODEL_B}, {MODEL_A} ",
        "AIPRISM_AI_CONCURRENCY": "2",
        "AIPRISM_AI_MAX_ATTEMPTS": "3",
    }
    settings = hosted_settings(env)
    assert settings.store_region == "eu-west-1" and storage_kind(settings) == "ephemeral"
    assert settings.ai.models == (MODEL_B, MODEL_A) and settings.ai.region == "us-west-2"
    assert settings.ai.concurrency == 2 and settings.ai.max_attempts == 3


def test_hosted_settings_without_sign_in_or_ai_only_when_asked():
    settings = hosted_settings({"AIPRISM_AUTH": "none", "AIPRISM_AI": "off"})
    assert settings.token is None and settings.ai is None
    with pytest.raises(HostedSettingsError) as error:
        hosted_settings({"AIPRISM_AUTH": "maybe", "AIPRISM_AI": "sometimes"})
    assert len(error.value.problems) == 2


def test_with_ai_off_a_settings_file_on_the_instance_cannot_turn_it_on(tmp_path):
    (tmp_path / "settings.json").write_text('{"ai_enabled": true, "aws_region": "us-east-1"}')
    env = {"AIPRISM_AUTH": "none", "AIPRISM_AI": "off", "AIPRISM_DATA_DIR": str(tmp_path)}
    assert AIChoice(hosted_settings(env)).engine() is None


def test_analyses_at_once_follow_the_engine_unless_set():
    base = {"AIPRISM_AUTH": "none"}
    assert hosted_settings(base).analysis_workers == 4  # mostly waiting on Bedrock
    assert hosted_settings(base | {"AIPRISM_AI": "off"}).analysis_workers == 2
    assert hosted_settings(base | {"AIPRISM_ANALYSIS_WORKERS": "7"}).analysis_workers == 7
    with pytest.raises(HostedSettingsError, match="AIPRISM_ANALYSIS_WORKERS must be a whole"):
        hosted_settings(base | {"AIPRISM_ANALYSIS_WORKERS": "0"})


def test_the_document_limits_come_from_the_same_variables_as_everywhere():
    env = {"AIPRISM_AUTH": "none", "AIPRISM_MAX_PAGES": "30", "AIPRISM_MAX_UPLOAD_MB": "5"}
    settings = hosted_settings(env)
    assert settings.limits.max_pages == 30 and settings.max_upload_mb == 5
    with pytest.raises(HostedSettingsError, match="AIPRISM_MAX_UPLOAD_MB must be at most 500"):
        hosted_settings(env | {"AIPRISM_MAX_UPLOAD_MB": "501"})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"AIPRISM_ACCESS_TOKEN": None}, "AIPRISM_ACCESS_TOKEN is not set"),
        ({"AIPRISM_ACCESS_TOKEN": "too-short"}, "use at least 16"),
        (
            {"AIPRISM_MAX_UPLOAD_MB": "lots"},
            "AIPRISM_MAX_UPLOAD_MB must be a positive whole number",
        ),
        ({"AIPRISM_AI": "on", "AIPRISM_AI_CONCURRENCY": "many"}, "AIPRISM_AI_CONCURRENCY must be"),
        ({"AIPRISM_S3_BUCKET": "s3://bucket/prefix"}, "AIPRISM_S3_BUCKET must be a bucket name"),
    ],
)
def test_bad_settings_stop_gunicorn_with_one_clear_line_and_a_non_zero_exit(
    moto, tmp_path, overrides, message
):
    result = run_to_exit(hosted_env(moto, tmp_path, **overrides))
    assert result.returncode != 0
    assert "AI-Prism cannot start" in result.stderr
    assert [line for line in result.stderr.splitlines() if message in line], result.stderr
    assert "Traceback" not in result.stderr
    assert "Booting worker" not in result.stderr  # stopped in the master, before any worker


def test_every_problem_is_listed_at_once(moto, tmp_path):
    env = hosted_env(moto, tmp_path, AIPRISM_ACCESS_TOKEN=None, AIPRISM_MAX_UPLOAD_MB="0")
    problems = [line for line in run_to_exit(env).stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) == 2


def test_the_wsgi_entry_alone_exits_clearly_on_bad_settings(moto, tmp_path):
    env = hosted_env(moto, tmp_path, AIPRISM_AUTH="none")  # and a token: contradictory
    result = run_to_exit(env, sys.executable, "-c", "import cloud.wsgi")
    assert result.returncode == 4
    assert "AIPRISM_AUTH=none and AIPRISM_ACCESS_TOKEN are both set" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_variable_read_at_start_is_documented_and_apprunner_runs_the_tested_command():
    doc = (ROOT / "docs" / "deploy.md").read_text()
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", doc))
    readers = [
        ROOT / "server" / "hosted.py",
        ROOT / "server" / "auth" / "config.py",
        ROOT / "cloud" / "gunicorn.conf.py",
    ]
    names = r'"((?:AIPRISM|AWS)_[A-Z_]+|PORT|WEB_CONCURRENCY|FORWARDED_ALLOW_IPS)"'
    read = {name for path in readers for name in re.findall(names, path.read_text())}
    assert read - documented == set()
    apprunner = yaml.safe_load((ROOT / "cloud" / "apprunner.yaml").read_text())
    run = apprunner["run"]
    configured = {v["name"] for v in run["env"] + run["secrets"]} | {run["network"]["env"]}
    assert configured - documented == set()
    assert run["command"].endswith("gunicorn --config cloud/gunicorn.conf.py cloud.wsgi:app")


# --- one service ----------------------------------------------------------------------------------


def test_one_startup_line_names_version_workers_port_and_storage(service):
    lines = [line for line in service.log().splitlines() if f"AI-Prism {__version__}" in line]
    assert len(lines) == 1, service.log()
    assert f"on port {service.port}: 2 workers x 16 threads" in lines[0]
    assert f"storage s3://{BUCKET}/tenant" in lines[0] and "AI off" in lines[0]
    assert service.seconds_to_health < 15


def test_health_and_ready_answer_without_the_token(service):
    assert requests.get(service.url("/health")).json()["status"] == "healthy"
    ready = requests.get(service.url("/ready")).json()
    assert ready == {"status": "ready", "store": "S3Store", "storage": "durable"}


def test_the_api_needs_the_token(service):
    assert requests.get(service.url("/api/v1/reviews")).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    assert requests.get(service.url("/api/v1/reviews"), headers=wrong).status_code == 401
    assert requests.post(service.url("/api/v1/reviews")).status_code in (401, 403)
    assert service.api.get(service.url("/api/v1/reviews")).status_code == 200


def test_the_token_link_sets_a_secure_httponly_strict_cookie(service):
    response = requests.get(service.url(f"/?token={TOKEN}"), allow_redirects=False)
    assert response.status_code == 303 and "token" not in response.headers["Location"]
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    log = service.wait_log('"GET / HTTP/1.1" 303')
    assert '"GET / HTTP/1.1" 303' in log and TOKEN not in log


def test_a_browser_behind_the_https_proxy_passes_the_origin_check(service):
    proxied = {"Host": "reviews.example.com", "X-Forwarded-Proto": "https"}
    link = requests.get(service.url(f"/?token={TOKEN}"), headers=proxied, allow_redirects=False)
    # Sent by hand: requests keeps a Secure cookie for https://reviews.example.com to itself.
    signed_in = {**proxied, "Cookie": link.headers["Set-Cookie"].split(";")[0]}
    page = requests.get(service.url("/"), headers=signed_in)
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)
    mute = {"rule": "hedging", "muted": False}
    same_site = {**signed_in, "Origin": "https://reviews.example.com", "X-CSRF-Token": csrf}
    url = service.url("/api/v1/settings/muted-rules")
    assert requests.post(url, json=mute, headers=same_site).status_code == 200
    plain_http = {**same_site, "Origin": "http://reviews.example.com"}
    assert requests.post(url, json=mute, headers=plain_http).status_code == 403
    other_site = {**same_site, "Origin": "https://evil.example"}
    assert requests.post(url, json=mute, headers=other_site).status_code == 403


def test_a_review_runs_with_its_state_in_the_bucket(service, moto):
    review_id = service.upload()
    review = service.wait_done(review_id)
    assert review["status"] == "done" and review["engines"] == ["offline"]
    assert len(review["findings"]) > 5
    keys = objects(moto, "tenant/")
    assert f"tenant/reviews/{review_id}/summary.json" in keys
    assert any(k.startswith(f"tenant/reviews/{review_id}/events/") for k in keys)
    assert any(k.startswith(f"tenant/reviews/{review_id}/uploads/") for k in keys)


# --- restarts and several instances ----------------------------------------------------------------


def test_reviews_and_decisions_survive_killing_and_restarting_gunicorn(start):
    first = start(AIPRISM_S3_PREFIX="restart")
    review_id = first.upload()
    findings = first.wait_done(review_id)["findings"]
    for finding, action in zip(findings[:3], ("accept", "reject", "accept"), strict=True):
        assert first.decide(review_id, finding["id"], action).status_code == 200
    first.stop(signal.SIGKILL)

    second = start(AIPRISM_S3_PREFIX="restart")
    review = second.api.get(second.url(f"/api/v1/reviews/{review_id}")).json()
    assert review["status"] == "done"
    decided = {f["id"]: f["decision"]["action"] for f in review["findings"] if f["decision"]}
    assert decided == {
        findings[0]["id"]: "accept",
        findings[1]["id"]: "reject",
        findings[2]["id"]: "accept",
    }


def test_two_instances_on_one_bucket_lose_no_concurrent_decision(service, start):
    one, two = service, start(AIPRISM_S3_PREFIX="tenant")
    review_id = one.upload()
    findings = [f["id"] for f in one.wait_done(review_id)["findings"]]
    sent = [
        (one if i % 2 else two, findings[i % len(findings)], ("accept", "reject")[i % 3 == 0])
        for i in range(40)
    ]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda s: s[0].decide(review_id, s[1], s[2]).status_code, sent))
    assert statuses == [200] * 40

    seen_by_one, seen_by_two = one.events(review_id), two.events(review_id)
    assert seen_by_one == seen_by_two
    assert [e["seq"] for e in seen_by_one] == list(range(1, len(seen_by_one) + 1))
    decisions = [e["payload"] for e in seen_by_one if e["type"] == "decision"]
    assert Counter((d["finding_id"], d["action"]) for d in decisions) == Counter(
        (finding, action) for _, finding, action in sent
    )
    states = [s.api.get(s.url(f"/api/v1/reviews/{review_id}")).json() for s in (one, two)]
    assert states[0]["findings"] == states[1]["findings"]


def table_env(prefix: str, moto: str) -> dict[str, str]:
    """History rows and totals in a DynamoDB table on the same moto server, created at start."""
    return {
        "AIPRISM_S3_PREFIX": prefix,
        "AIPRISM_DYNAMODB_TABLE": "aiprism-cloud-index",
        "AIPRISM_CREATE_RESOURCES": "1",
        "AWS_ENDPOINT_URL_DYNAMODB": moto,
    }


def indexed_store(prefix: str, moto: str) -> S3Store:
    index = DynamoIndex("aiprism-cloud-index", f"s3://{BUCKET}/{prefix}", endpoint_url=moto)
    return S3Store(BUCKET, prefix, endpoint_url=moto, index=index)


def test_two_instances_keep_the_statistics_exact_through_200_concurrent_decisions(start, moto):
    one = start(**table_env("counted", moto))
    two = start(**table_env("counted", moto))
    reviews = [one.upload(), two.upload()]
    findings = {r: [f["id"] for f in one.wait_done(r)["findings"]] for r in reviews}
    sent = []
    for i in range(200):
        review_id = reviews[i % 2]
        finding = findings[review_id][(i // 2) % len(findings[review_id])]
        sent.append(((one, two)[i % 3 % 2], review_id, finding, ("accept", "reject")[i % 5 == 0]))
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda s: s[0].decide(s[1], s[2], s[3]).status_code, sent))
    assert statuses == [200] * 200

    live = one.api.get(one.url("/api/v1/stats")).json()
    assert two.api.get(two.url("/api/v1/stats")).json() == live
    store = indexed_store("counted", moto)
    kept = store.totals()
    assert upkeep.recount(store) == kept  # the running totals equal a recount of every log
    states = [one.api.get(one.url(f"/api/v1/reviews/{r}")).json() for r in reviews]
    decided = Counter(
        (f["decision"] or {}).get("action") or "pending" for s in states for f in s["findings"]
    )
    assert live["by_decision"] == {"accept": 0, "reject": 0, "pending": 0, **decided}
    assert store.unfinished() == []  # nothing left marked once every writer is through


@pytest.fixture(scope="module")
def open_service(moto, tmp_path_factory):
    """No bucket and no sign-in: a trial on one instance."""
    tmp = tmp_path_factory.mktemp("open")
    env = hosted_env(
        moto,
        tmp,
        AIPRISM_S3_BUCKET=None,
        AIPRISM_S3_PREFIX=None,
        AIPRISM_ACCESS_TOKEN=None,
        AIPRISM_AUTH="none",
    )
    server = Gunicorn(env, tmp / "gunicorn.log")
    yield server
    server.stop()


def test_without_a_bucket_storage_is_reported_ephemeral(open_service):
    ready = requests.get(open_service.url("/ready")).json()
    assert ready == {"status": "ready", "store": "SQLiteStore", "storage": "ephemeral"}
    assert "storage EPHEMERAL" in open_service.log()
    assert "NO SIGN-IN" in open_service.log()


def test_without_sign_in_every_worker_accepts_the_pages_csrf_token(open_service):
    page = requests.get(open_service.url("/"))
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)
    headers = {"Cookie": page.headers["Set-Cookie"].split(";")[0], "X-CSRF-Token": csrf}
    url = open_service.url("/api/v1/settings/muted-rules")
    # A new connection each time, so the posts reach both workers.
    statuses = {
        requests.post(url, json={"rule": "hedging", "muted": False}, headers=headers).status_code
        for _ in range(12)
    }
    assert statuses == {200}
    assert requests.post(url, json={"rule": "hedging"}).status_code == 403


# --- the AI engine through a fake Bedrock ----------------------------------------------------------


@pytest.fixture(scope="module")
def bedrock():
    with FakeBedrock(slow_seconds=0.5) as fake:
        yield fake


@pytest.fixture(scope="module")
def ai_service(moto, bedrock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ai")
    env = hosted_env(
        moto,
        tmp,
        AIPRISM_AI="on",
        AIPRISM_S3_PREFIX="ai",
        AIPRISM_BEDROCK_MODELS=f"{MODEL_A},{MODEL_B}",
        AIPRISM_AI_MAX_ATTEMPTS="1",
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME=bedrock.url,
    )
    server = Gunicorn(env, tmp / "gunicorn.log")
    yield server
    server.stop()


def test_a_hosted_review_goes_through_bedrock(ai_service, bedrock):
    bedrock.default = "good"
    review = ai_service.wait_done(ai_service.upload())
    assert review["status"] == "done"
    assert review["engines"] == ["offline", MODEL_A]
    assert any(f["engine"] == MODEL_A for f in review["findings"])
    assert f"AI Amazon Bedrock {MODEL_A} > {MODEL_B}" in ai_service.log()


def test_when_bedrock_fails_the_review_falls_back_to_offline_with_a_notice(ai_service, bedrock):
    bedrock.default = "error500"
    try:
        review = ai_service.wait_done(ai_service.upload())
    finally:
        bedrock.default = "good"
    assert review["status"] == "done" and review["engines"] == ["offline"]
    assert {f["engine"] for f in review["findings"]} == {"offline"}
    assert review["notices"], "the reviewer is told the AI did not run"


@pytest.fixture
def slow_bedrock(bedrock):
    """Each Converse call answers after half a second, so an analysis is still running when we act."""
    bedrock.default = "slow"
    yield bedrock
    bedrock.default = "good"


def ai_overrides(bedrock: FakeBedrock, prefix: str) -> dict[str, str]:
    return {
        "AIPRISM_AI": "on",
        "AIPRISM_S3_PREFIX": prefix,
        "AIPRISM_BEDROCK_MODELS": MODEL_A,
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.url,
    }


def test_sigterm_lets_a_running_analysis_finish(start, slow_bedrock, moto):
    server = start(**ai_overrides(slow_bedrock, "graceful"))
    review_id = server.upload()
    server.stop(signal.SIGTERM)  # a deployment replacing the instance mid-analysis
    assert server.process.returncode == 0, server.log()
    store = S3Store(BUCKET, "graceful", endpoint_url=moto)
    events = [e.type for e in store.events(review_id)]
    assert events == ["created", "started", "analysed"], server.log()


def interrupted_review(store: S3Store) -> str:
    """A review as a killed instance leaves it: uploaded and queued, never analysed."""
    review_id = "interrupted0001"
    sha = store.put_blob(review_id, DOCX)
    created = {"filename": "investigation.docx", "sha256": sha, "size": len(DOCX)}
    created |= {"format": "docx", "framework": "investigation", "parent_id": None, "version": 1}
    store.append(review_id, "created", created)
    store.put_summary(review_id, summary_of(fold(review_id, store.events(review_id))))
    return review_id


def test_an_interrupted_analysis_resumes_once_however_many_workers_start(start, slow_bedrock, moto):
    store = S3Store(BUCKET, "resume", endpoint_url=moto)
    review_id = interrupted_review(store)
    server = start(**ai_overrides(slow_bedrock, "resume"))
    assert server.wait_done(review_id)["status"] == "done"
    server.stop(signal.SIGTERM)  # lets any second analysis finish, so it shows in the log
    assert [e.type for e in store.events(review_id)] == ["created", "started", "analysed"]
