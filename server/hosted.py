"""Settings for the hosted form, read from the environment once, at start.

App Runner passes configuration as environment variables. A mistake there must stop the service
before it answers a request, with one line per problem that names the variable, not turn into
a 500 on the first upload or a review that quietly skips the AI.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from server.auth.config import oidc_settings
from server.documents.limits import MB, Limits
from server.engines.ai_settings import AIConfigError, AISettings
from server.errors import InvalidSetting, SettingsProblems
from server.settings import Settings

MIN_TOKEN_LENGTH = 16
AUTH_MODES = ("token", "oidc", "none")
MAX_UPLOAD_MB = 500
MAX_ANALYSIS_WORKERS = 32
DEFAULT_REGION = "us-east-1"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")  # S3's bucket naming rules, in short
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+")
_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")  # DynamoDB's table naming rules
_HOST = re.compile(r"\*|[a-z0-9.-]+|\[[0-9a-f:]+\]")


class HostedSettingsError(SettingsProblems):
    """The environment does not describe a service that can start."""

    code = "hosted_settings"
    http_status = 500


def hosted_settings(env: Mapping[str, str]) -> Settings:
    """The Settings for `create_app`, or HostedSettingsError naming every bad variable."""
    problems: list[str] = []
    bucket = env.get("AIPRISM_S3_BUCKET", "").strip()
    prefix = env.get("AIPRISM_S3_PREFIX", "").strip().strip("/")
    region = aws_region(env)
    if bucket and not _BUCKET.fullmatch(bucket):
        problems.append(
            f"AIPRISM_S3_BUCKET must be a bucket name (3-63 lower-case letters, digits, '.' or '-'), "
            f"not {bucket!r}; put any folder in AIPRISM_S3_PREFIX."
        )
    if not bucket and prefix:
        problems.append(
            "AIPRISM_S3_PREFIX is set but AIPRISM_S3_BUCKET is not; set both or neither."
        )
    if ".." in prefix.split("/"):
        problems.append(f"AIPRISM_S3_PREFIX must not contain '..': {prefix!r}.")
    if not _REGION.fullmatch(region):
        problems.append(
            f"AWS_REGION (or AWS_DEFAULT_REGION) must be a region such as us-east-1, not {region!r}."
        )
    table = env.get("AIPRISM_DYNAMODB_TABLE", "").strip()
    if table and not _TABLE.fullmatch(table):
        problems.append(
            f"AIPRISM_DYNAMODB_TABLE must be a table name (3-255 letters, digits, '_', '-' or '.'), "
            f"not {table!r}."
        )
    if table and not bucket:
        problems.append("AIPRISM_DYNAMODB_TABLE is set but AIPRISM_S3_BUCKET is not; set both.")
    limits = _limits(env, problems)
    ai = _ai(env, region, problems)
    workers = _analysis_workers(env, ai is not None, problems)
    processes = _cpu_processes(env, problems)
    auth = _auth_mode(env, problems)
    oidc = oidc_settings(env, problems) if auth == "oidc" else None
    settings = Settings(
        data_dir=Path(env.get("AIPRISM_DATA_DIR") or Path(tempfile.gettempdir()) / "ai-prism"),
        token=_token(env, auth, problems),
        oidc=oidc,
        allowed_hosts=_allowed_hosts(env, problems),
        hosted=True,
        limits=limits,
        store_url=f"s3://{bucket}/{prefix}" if bucket else "",
        store_region=region,
        index_table=table,
        create_resources=env.get("AIPRISM_CREATE_RESOURCES", "").strip() == "1",
        ai=ai,
        analysis_workers=workers,
        cpu_processes=processes,
    )
    if problems:
        raise HostedSettingsError(problems)
    return settings


def aws_region(env: Mapping[str, str]) -> str:
    """The region boto3 would pick from the environment, or us-east-1."""
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def storage_kind(settings: Settings) -> str:
    """'ephemeral' when a hosted instance keeps reviews on its own disk: App Runner has no volumes,
    so they vanish at the next deployment, scale-in or restart, and instances do not share them."""
    return "ephemeral" if settings.hosted and not settings.store_url else "durable"


def _auth_mode(env: Mapping[str, str], problems: list[str]) -> str:
    """token (one shared secret), oidc (the company's sign-in) or none; oidc once an issuer is set."""
    default = "oidc" if env.get("AIPRISM_OIDC_ISSUER", "").strip() else "token"
    auth = env.get("AIPRISM_AUTH", "").strip().lower() or default
    if auth not in AUTH_MODES:
        problems.append(f"AIPRISM_AUTH must be one of {', '.join(AUTH_MODES)}, not {auth!r}.")
    return auth


def _token(env: Mapping[str, str], auth: str, problems: list[str]) -> str | None:
    token = env.get("AIPRISM_ACCESS_TOKEN", "").strip()
    if auth not in AUTH_MODES:
        return None  # already named as a problem
    if auth in ("none", "oidc"):
        if token:
            problems.append(
                f"AIPRISM_AUTH={auth} and AIPRISM_ACCESS_TOKEN are both set; choose one."
            )
        return None
    if not token:
        problems.append(
            "AIPRISM_ACCESS_TOKEN is not set: set a random secret of at least "
            f"{MIN_TOKEN_LENGTH} characters, AIPRISM_OIDC_ISSUER (and the other AIPRISM_OIDC_* "
            "settings) to sign in through your identity provider, or AIPRISM_AUTH=none to serve "
            "without sign-in."
        )
    elif len(token) < MIN_TOKEN_LENGTH:
        problems.append(
            f"AIPRISM_ACCESS_TOKEN is {len(token)} characters; use at least {MIN_TOKEN_LENGTH} "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )
    elif any(c.isspace() for c in token):
        problems.append("AIPRISM_ACCESS_TOKEN must not contain spaces.")
    return token or None


def _allowed_hosts(env: Mapping[str, str], problems: list[str]) -> tuple[str, ...]:
    # "*" by default: App Runner's own domain and any custom domain reach the container, and the
    # service is only reachable through App Runner's front end, which is where names are checked.
    raw = env.get("AIPRISM_ALLOWED_HOSTS", "*")
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    bad = [h for h in hosts if not _HOST.fullmatch(h)]
    if not hosts or bad:
        problems.append(
            "AIPRISM_ALLOWED_HOSTS must be '*' or comma-separated host names without ports, "
            f"not {raw!r}."
        )
    return hosts


def _limits(env: Mapping[str, str], problems: list[str]) -> Limits:
    """The document limits from AIPRISM_MAX_* (docs/limits.md), the upload size capped here."""
    try:
        limits = Limits.from_env(env)
    except InvalidSetting as exc:
        problems.append(exc.message)
        return Limits()
    if limits.max_bytes > MAX_UPLOAD_MB * MB:
        problems.append(
            f"AIPRISM_MAX_UPLOAD_MB must be at most {MAX_UPLOAD_MB}: larger uploads are held in "
            "memory by every worker."
        )
    return limits


def _analysis_workers(env: Mapping[str, str], ai_on: bool, problems: list[str]) -> int:
    """Analyses at once per Gunicorn worker. With the AI engine most of an analysis is waiting on
    Bedrock, so more can run side by side than offline, where each one keeps a CPU busy."""
    raw = env.get("AIPRISM_ANALYSIS_WORKERS", "").strip()
    if not raw:
        return 4 if ai_on else 2
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ANALYSIS_WORKERS:
        problems.append(
            f"AIPRISM_ANALYSIS_WORKERS must be a whole number from 1 to {MAX_ANALYSIS_WORKERS}, "
            f"not {raw!r}."
        )
        return 2
    return int(raw)


def _cpu_processes(env: Mapping[str, str], problems: list[str]) -> int:
    """Review processes per Gunicorn worker: by default the instance's CPUs shared among its
    workers, so that together they use every core once."""
    raw = env.get("AIPRISM_CPU_PROCESSES", "").strip()
    if raw:
        if raw.isdigit() and 1 <= int(raw) <= 64:
            return int(raw)
        problems.append(f"AIPRISM_CPU_PROCESSES must be a whole number from 1 to 64, not {raw!r}.")
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    raw_workers = env.get("WEB_CONCURRENCY", "").strip()
    workers = int(raw_workers) if raw_workers.isdigit() and int(raw_workers) else max(2, cpus)
    return max(1, cpus // workers)  # Gunicorn's workers, as cloud/gunicorn.conf.py counts them


def _ai(env: Mapping[str, str], region: str, problems: list[str]) -> AISettings | None:
    """The AI engine: Bedrock with the instance role unless AIPRISM_AI_PROVIDER names another."""
    # AIPRISM_BEDROCK_MODELS is the hosted name for AIPRISM_AI_MODELS; AISettings.from_env parses it.
    models = env.get("AIPRISM_BEDROCK_MODELS", "")
    if models and env.get("AIPRISM_AI_MODELS") and models != env["AIPRISM_AI_MODELS"]:
        problems.append("AIPRISM_BEDROCK_MODELS and AIPRISM_AI_MODELS differ; set only one.")
    if env.get("AIPRISM_AI_PROFILE"):
        problems.append(
            "AIPRISM_AI_PROFILE names an AWS profile; the hosted service has none and calls "
            "Bedrock with its instance role. Unset it."
        )
    merged = {**env, "AIPRISM_AI_MODELS": models} if models else env
    try:
        ai = AISettings.from_env(merged, default_provider="bedrock")
    except AIConfigError as exc:
        problems.extend(exc.problems)
        return None
    # Bedrock in the service's region unless AIPRISM_AI_REGION names another (the us.* inference
    # profiles need a US region even when the bucket is elsewhere).
    return ai.with_region(region) if ai else None
