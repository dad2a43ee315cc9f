"""Personal access tokens: what scripts and CI send as `Authorization: Bearer`.

A signed-in person creates one on the tokens page; it is shown once and only its SHA-256 is kept
(the token is 256 random bits, so a fast hash is enough: nothing to guess). Each token is one
setting in the review store, found by its hash, so every worker and instance sees a creation or a
revocation at once; a second setting lists a person's tokens for the page. A token carries the
role its owner had when creating it, and expires.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from server.auth.identity import Actor, Identity
from server.errors import AIPrismError
from server.store.base import ReviewStore

PREFIX = "aiprism_pat_"
MAX_DAYS = 365
DEFAULT_DAYS = 30
MAX_LABEL = 80
MAX_TOKENS_PER_PERSON = 50


class InvalidToken(AIPrismError):
    code = "invalid_token"
    http_status = 400


@dataclass(frozen=True)
class TokenRecord:
    id: str  # the first characters of the hash: names a token on the page without revealing it
    hash: str
    label: str
    sub: str
    name: str
    email: str
    role: str
    created_at: str
    expires_at: str
    revoked_at: str | None = None

    def public(self) -> dict[str, Any]:
        """What the page and the API show: never the hash."""
        data = asdict(self)
        del data["hash"]
        data["active"] = self.active(datetime.now(UTC))
        return data

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < datetime.fromisoformat(self.expires_at)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key(token_hash: str) -> str:
    return f"access-token:{token_hash}"


def _owner_key(sub: str) -> str:
    return f"access-tokens-of:{hashlib.sha256(sub.encode()).hexdigest()[:40]}"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def create(store: ReviewStore, owner: Identity, label: str, days: int) -> tuple[str, TokenRecord]:
    """A new token for `owner`: (the token, shown once; its record)."""
    if owner.actor is None:
        raise InvalidToken("Personal access tokens need a signed-in person.")
    label = " ".join(str(label or "").split())[:MAX_LABEL]
    if not label:
        raise InvalidToken("Give the token a name that says what uses it (e.g. 'CI upload').")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise InvalidToken(f"A token lasts from 1 to {MAX_DAYS} days.")
    mine = store.get_setting(_owner_key(owner.actor.sub), []) or []
    if len(mine) >= MAX_TOKENS_PER_PERSON:
        raise InvalidToken(f"You have {len(mine)} tokens; revoke some before creating more.")
    token = PREFIX + secrets.token_urlsafe(32)
    token_hash = _hash(token)
    now = _now()
    record = TokenRecord(
        id=token_hash[:12],
        hash=token_hash,
        label=label,
        sub=owner.actor.sub,
        name=owner.actor.name,
        email=owner.actor.email,
        role=owner.role,
        created_at=now.isoformat(),
        expires_at=(now + timedelta(days=days)).isoformat(),
    )
    store.put_setting(_key(token_hash), asdict(record))
    store.put_setting(_owner_key(owner.actor.sub), [*mine, token_hash])
    return token, record


def verify(store: ReviewStore, token: str) -> Identity | None:
    """The identity a Bearer token stands for, or None (unknown, revoked or expired)."""
    if not token.startswith(PREFIX):
        return None
    record = _load(store, _hash(token))
    if record is None or not record.active(datetime.now(UTC)):
        return None
    return Identity(Actor(record.sub, record.name, record.email), record.role, "bearer-token")


def owned_by(store: ReviewStore, sub: str) -> list[TokenRecord]:
    hashes = store.get_setting(_owner_key(sub), []) or []
    records = [r for r in (_load(store, h) for h in hashes) if r is not None]
    return sorted(records, key=lambda r: r.created_at, reverse=True)


def revoke(store: ReviewStore, sub: str, token_id: str) -> TokenRecord:
    """Revoke one of `sub`'s own tokens by its id; LookupError when they have none such."""
    for record in owned_by(store, sub):
        if record.id == token_id:
            if record.revoked_at is None:
                record = TokenRecord(**{**asdict(record), "revoked_at": _now().isoformat()})
                store.put_setting(_key(record.hash), asdict(record))
            return record
    raise LookupError(token_id)


def _load(store: ReviewStore, token_hash: str) -> TokenRecord | None:
    data = store.get_setting(_key(token_hash))
    if not isinstance(data, dict):
        return None
    try:
        return TokenRecord(**data)
    except TypeError:
        return None
