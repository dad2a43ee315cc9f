"""Settings passed into `create_app`; nothing deeper in the app reads the environment."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.auth.config import OIDCSettings
from server.documents.limits import MB, Limits
from server.engines.ai_settings import AISettings


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    token: str | None = field(default_factory=lambda: secrets.token_urlsafe(24))  # None: no auth
    oidc: OIDCSettings | None = None  # hosted: sign-in through the company's provider (no token)
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")  # Host header names accepted
    hosted: bool = False  # behind HTTPS on App Runner: Secure cookies, proxy headers
    analysis_workers: int = 2  # background analyses at once
    cpu_processes: int = 0  # >0 (hosted): reading and offline rules in that many child processes
    max_queued: int = 50  # analyses waiting beyond that are refused with 503
    default_framework: str = "investigation"
    limits: Limits = field(default_factory=Limits)
    store_url: str = ""  # "" → SQLite in data_dir; "s3://bucket/prefix" when hosted
    store_region: str = "us-east-1"  # the bucket's region (endpoint: boto3's AWS_ENDPOINT_URL_S3)
    # The DynamoDB table for history rows and running totals beside the bucket ("": bucket only)
    index_table: str = ""
    create_resources: bool = False  # create the table when it is missing (tests, first deploy)
    desktop: bool = False  # inside the desktop window: pages load desktop.js (native dialogs)
    # The AI engine from the environment (hosted, `aiprism serve` with AIPRISM_AI_PROVIDER set).
    # None: hosted, AI is off; elsewhere the reviewer's choice on the settings page applies.
    ai: AISettings | None = None
    # AIPRISM_AI_* limits (tokens, timeouts, concurrency) laid over the Settings page's choice
    ai_limits: Mapping[str, Any] = field(default_factory=dict)

    @property
    def max_upload_mb(self) -> int:
        """The upload limit is the document size limit (AIPRISM_MAX_UPLOAD_MB): one knob."""
        return max(1, self.limits.max_bytes // MB)

    @property
    def frameworks_dir(self) -> Path:
        return self.data_dir / "frameworks"
