"""The reviewer's own settings, kept as `settings.json` in the data folder.

A small validated value, read at start and written atomically (a crash mid-write leaves the old file),
so a hand-edited or half-written file never stops the app: it is set aside and defaults are used.
Muted rules are not here: they live in the store (`muted_rules`) so every instance sees them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from server.engines.ai_settings import is_http_url
from server.errors import AIPrismError
from server.frameworks import DEFAULT_FRAMEWORK

log = logging.getLogger(__name__)

FILE_NAME = "settings.json"
AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
AWS_PROFILE = re.compile(r"^[A-Za-z0-9_+=,.@-]{0,64}$")
RULE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


class InvalidSettings(AIPrismError):
    code = "invalid_settings"
    http_status = 400


AI_PROVIDERS = ("off", "openai", "anthropic", "bedrock")


@dataclass(frozen=True)
class UserSettings:
    framework: str = DEFAULT_FRAMEWORK  # framework chosen for new reviews
    ai_provider: str = "off"  # the AI engine that runs beside the offline one: AI_PROVIDERS
    ai_base_url: str = ""  # openai: the local or company server's /v1 URL
    ai_model: str = ""  # "" = the provider's default models (Claude API, Bedrock)
    aws_profile: str = ""  # "" = the default credential chain
    aws_region: str = "us-east-1"
    mask_personal_data: bool = True  # before a document goes to a cloud provider
    reviewer_name: str = (
        ""  # who decides, in the audit trail and Word comments; "" = the OS account's
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FIELDS = tuple(f.name for f in fields(UserSettings))
MAX_NAME = 100
MODEL_NAME = re.compile(r"^[\w.:/@+-]{0,200}$")


def parse(
    data: Mapping[str, Any],
    frameworks: Collection[str] | None = None,
    base: UserSettings | None = None,
) -> UserSettings:
    """`data` laid over `base` (defaults if None); fields left out keep their value.

    Raises InvalidSettings naming every bad field; unknown fields are refused so a typo is not
    silently ignored.
    """
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise InvalidSettings(f"Unknown setting '{unknown[0]}'. Known: {', '.join(FIELDS)}.")
    values = (base or UserSettings()).to_dict()
    values.update(data)
    problems = []
    framework = values["framework"]
    if not isinstance(framework, str) or not framework:
        problems.append("'framework' must name a framework.")
    elif frameworks is not None and framework not in frameworks:
        known = ", ".join(sorted(frameworks))
        problems.append(f"No framework called '{framework}'. Available: {known}.")
    if values["ai_provider"] not in AI_PROVIDERS:
        problems.append(f"'ai_provider' must be one of {', '.join(AI_PROVIDERS)}.")
    for name in ("ai_base_url", "ai_model", "aws_profile", "aws_region", "reviewer_name"):
        if not isinstance(values[name], str):
            problems.append(f"'{name}' must be text.")
            values[name] = ""
        values[name] = values[name].strip()
    url = values["ai_base_url"]
    if url and not is_http_url(url):
        problems.append(
            "'ai_base_url' must be an http:// or https:// URL, such as http://127.0.0.1:11434/v1."
        )
    if values["ai_provider"] == "openai" and not url:
        problems.append("A local model needs the server's URL ('ai_base_url').")
    if values["ai_provider"] == "openai" and not values["ai_model"]:
        problems.append(
            "A local model needs a model name ('ai_model'); Test connection lists them."
        )
    if not MODEL_NAME.match(values["ai_model"]):
        problems.append("'ai_model' must be a model id (letters, digits and . : / @ + - _).")
    if not AWS_PROFILE.match(values["aws_profile"]):
        problems.append(
            "'aws_profile' must be a profile name from your AWS config (letters, digits, _ - . @)."
        )
    if not AWS_REGION.match(values["aws_region"]):
        problems.append("'aws_region' must be an AWS region such as us-east-1.")
    if len(values["reviewer_name"]) > MAX_NAME or any(ord(c) < 32 for c in values["reviewer_name"]):
        problems.append(f"'reviewer_name' must be one line of at most {MAX_NAME} characters.")
    if not isinstance(values["mask_personal_data"], bool):
        problems.append("'mask_personal_data' must be true or false.")
    if problems:
        raise InvalidSettings(" ".join(problems))
    return UserSettings(**values)


def parse_rules(value: Any) -> list[str]:
    """A list of rule ids (as sent by the settings page), sorted and de-duplicated."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidSettings("'muted_rules' must be a list of rule ids.")
    bad = next((v for v in value if not RULE_ID.match(v)), None)
    if bad is not None:
        raise InvalidSettings(f"'{bad[:80]}' is not a rule id.")
    return sorted(set(value))


def path_in(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def load(data_dir: Path) -> UserSettings:
    """The saved settings, or defaults when there are none or the file cannot be used."""
    path = path_in(data_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise InvalidSettings("the file does not hold a JSON object")
        if raw.get("ai_enabled") is True and "ai_provider" not in raw:
            raw["ai_provider"] = "bedrock"  # written by versions that knew only Bedrock
        known = {k: v for k, v in raw.items() if k in FIELDS}  # a newer version's extra keys
        return parse(known)
    except FileNotFoundError:
        return UserSettings()
    except (OSError, ValueError, InvalidSettings) as exc:
        aside = path.with_name(FILE_NAME + ".unreadable")
        log.warning("settings file %s cannot be used (%s); set aside as %s", path, exc, aside.name)
        try:
            os.replace(path, aside)
        except OSError as move_error:
            log.warning("could not set %s aside: %s", path, move_error)
        return UserSettings()


def save(data_dir: Path, settings: UserSettings) -> None:
    """Write atomically: a temporary file in the same folder, flushed, then renamed over the old one."""
    data_dir.mkdir(parents=True, exist_ok=True)
    target = path_in(data_dir)
    fd, temp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=data_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(settings.to_dict(), handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
