"""`aiprism review --ai`: the configured AI provider beside the offline rules, from a terminal.

The provider comes from AIPRISM_AI_* variables, else from the app's Settings in the data folder
(the same choice the desktop window uses, key from the keychain). Progress and notices go to stderr
so that stdout stays the report; the JSON report carries the usage and the notices.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

from server import user_settings
from server.ai_choice import desktop_ai
from server.engines import guidance as team_guidance
from server.engines.ai import AIEngine
from server.engines.ai_settings import AISettings, ai_limits
from server.engines.merge import merge
from server.errors import AIPrismError
from server.frameworks.model import Framework
from server.model import ReviewResult
from server.paths import data_dir

HOW_TO = (
    "--ai needs an AI provider: set AIPRISM_AI_PROVIDER=openai with AIPRISM_AI_BASE_URL and "
    "AIPRISM_AI_MODELS for a local model server, AIPRISM_AI_PROVIDER=anthropic with "
    "ANTHROPIC_API_KEY, or AIPRISM_AI_PROVIDER=bedrock, or choose one on the app's Settings page"
)


def engine(data_folder: str | None) -> AIEngine:
    """The configured engine; raises AIPrismError (exit 2) saying how to configure one."""
    ai = AISettings.from_env(os.environ)
    if ai is None:
        folder = data_dir(data_folder)
        ai = desktop_ai(user_settings.load(folder), folder, ai_limits(os.environ))
    if ai is None:
        raise AIPrismError(HOW_TO)
    problems = ai.problems(env_names=True)
    if problems:
        raise AIPrismError(" ".join(problems))
    return AIEngine(ai)


def add_ai_findings(
    ai: AIEngine, path: Path, result: ReviewResult, framework: Framework
) -> tuple[ReviewResult, dict]:
    """The offline result with the AI findings merged in, and what to report about the AI run."""

    def progress(done: int, total: int, stage: str) -> None:
        print(f"aiprism: {path.name}: {stage} ({done}/{total})", file=sys.stderr, flush=True)

    guidance, trimmed = team_guidance.compose(framework, None, ai.settings.guidance_chars)
    review = ai.review(result.document, framework, on_progress=progress, guidance=guidance)
    notices = [trimmed, *review.notices] if trimmed else list(review.notices)
    for notice in notices:
        print(f"aiprism: {path.name}: {notice}", file=sys.stderr, flush=True)
    findings = merge(result.findings, review.findings) if review.ok else result.findings
    report = {"ok": review.ok, "usage": review.usage, "notices": notices}
    return replace(result, findings=tuple(findings)), report
