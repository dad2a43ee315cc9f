"""The hosted store: objects in one S3 bucket, shared by any number of instances with no lost update.

Layout under the prefix:

    layout.json                                 {"layout": 2}; a newer layout is refused
    reviews/<id>/uploads/<sha256>               the review's documents as uploaded, written once
    reviews/<id>/events/<seq:010d>.json         one object per event
    reviews/<id>/summary.json, progress.json    last writer wins (summary.json: bucket-only setups)
    settings/<key>.json
    marks/unfinished/<id>                       while an analysis is queued or running
    marks/pending/<id>/<writer>                 while a writer appends and rewrites the summary

S3 has no transactions, but it has conditional writes: `PutObject` with `If-None-Match: *` fails
with 412 when the key exists. Appending is "find the latest seq, create seq + 1 only if absent": of
several writers racing for one number exactly one wins and the others look again, so numbers stay
dense and nothing is lost. Everything of a review lives under its own prefix, so deleting the review
deletes its document too (layout 1, before this, kept documents apart under `blobs/<sha256>`; they
are still read there). Each process caches the latest seq it saw per review, so finding the
latest is one small listing that starts at that seq instead of at the beginning of the log.

History rows and statistics: with a DynamoDB table (server/store/dynamo_index.py), pages and totals
cost a fixed number of requests however many reviews exist. A bucket alone still works, reading
every summary.json for each page, as small teams can afford. Either way the background scan lists
only the marks (one request when there are none), so an idle service makes no per-review requests.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from server.errors import AIPrismError
from server.store.base import (
    UNFINISHED,
    Event,
    HistoryPage,
    HistoryQuery,
    ReviewStore,
    StoreConflict,
    page_of,
)
from server.store.dynamo_index import DynamoIndex
from server.store.sqlite import StoreDamaged, StoreTooNew, utc_now

LAYOUT = 2  # bump, and teach this module to read the old one, when the layout changes
APPEND_ATTEMPTS = 25  # each lost race costs one listing and one put, after a jittered pause
READERS = 8  # parallel GETs within one call
PENDING_GRACE = timedelta(seconds=60)  # a live writer rewrites the summary long before this
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=32,  # several request threads, each reading with READERS at once
)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_EVENT_NAME = re.compile(r"(\d{10})\.json")
_LOST_RACE = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})
_MISSING = frozenset({"NoSuchKey", "404"})
_UNUSABLE = frozenset(
    {"NoSuchBucket", "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "ExpiredToken"}
    | {"InvalidToken", "SignatureDoesNotMatch", "PermanentRedirect", "AuthorizationHeaderMalformed"}
)
_JSON = "application/json"
T = TypeVar("T")
R = TypeVar("R")


class StoreUnavailable(AIPrismError):
    """The bucket cannot be used: it is missing, access is denied, or S3 cannot be reached."""

    code = "store_unavailable"
    http_status = 503


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _segment(name: str) -> str:
    """A review id or setting key as one key segment: no '/', and no '.' or '..' segments."""
    if not name:
        raise ValueError("an empty name cannot be stored")
    return quote(name, safe="").replace(".", "%2E")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _retried(exc: ClientError) -> bool:
    return exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) > 0


def _seq_of(key: str) -> int:
    return int(key.rsplit("/", 1)[-1][:10])


class S3Store(ReviewStore):
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        client: Any = None,
        *,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        index: DynamoIndex | None = None,
    ):
        self.bucket = bucket
        self.index = index  # None: history and totals are read from the summaries in the bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        # A session of its own: boto3's default session is not safe to share between threads.
        self._client = client or boto3.session.Session().client(
            "s3", region_name=region, endpoint_url=endpoint_url, config=CLIENT_CONFIG
        )
        self._last_seq: dict[str, int] = {}  # review id → latest seq seen by this process
        self._layout_checked = False
        self._layout = LAYOUT
        self._layout_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> S3Store:
        """`s3://bucket/optional/prefix` as a store."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"{url!r} is not an s3://bucket/prefix URL")
        return cls(parts.netloc, parts.path, **options)

    def __repr__(self) -> str:
        return f"S3Store('s3://{self.bucket}/{self.prefix}')"

    # --- keys ---
    def _review(self, review_id: str) -> str:
        return f"{self.prefix}reviews/{_segment(review_id)}/"

    def _event_key(self, review_id: str, seq: int) -> str:
        return f"{self._review(review_id)}events/{seq:010d}.json"

    # --- requests: every S3 call goes through _call, so every failure reads the same ---
    def _call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self._client, operation)(Bucket=self.bucket, **params)
        except ClientError as exc:
            if _code(exc) in _UNUSABLE:
                raise self._unavailable(exc) from exc
            raise
        except ParamValidationError:
            raise  # a bug here, not an outage
        except BotoCoreError as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        if isinstance(exc, ClientError):
            code = _code(exc)
            if code in ("404", "NoSuchBucket"):
                reason = "the bucket does not exist"
            elif code in ("403", "AccessDenied", "AllAccessDisabled"):
                reason = "access is denied; check the credentials and the bucket policy"
            else:
                reason = f"S3 answered {code}: {exc.response.get('Error', {}).get('Message', '')}"
        else:
            reason = str(exc)
        return StoreUnavailable(f"The S3 bucket '{self.bucket}' cannot be used: {reason}.")

    def _get(self, key: str) -> bytes | None:
        try:
            return self._call("get_object", Key=key)["Body"].read()
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise

    def _parse(self, key: str, data: bytes) -> Any:
        try:
            return json.loads(data)
        except ValueError as exc:
            raise StoreDamaged(f"s3://{self.bucket}/{key} is not valid JSON: {exc}") from exc

    def _get_json(self, key: str) -> Any:
        data = self._get(key)
        return None if data is None else self._parse(key, data)

    def _put_json(self, key: str, value: Any) -> None:
        self._call("put_object", Key=key, Body=_dumps(value), ContentType=_JSON)

    def _create(self, key: str, body: bytes, content_type: str = _JSON) -> bool:
        """Write `key` only if it does not exist yet; False when another writer got there first."""
        try:
            self._call("put_object", Key=key, Body=body, IfNoneMatch="*", ContentType=content_type)
            return True
        except ClientError as exc:
            if _code(exc) not in _LOST_RACE:
                raise
            # botocore resends a put whose answer was lost; if the first one landed, it is ours.
            return _retried(exc) and self._get(key) == body

    def _pages(self, prefix: str, **params: Any) -> Iterator[dict[str, Any]]:
        params = {"Prefix": prefix, **{k: v for k, v in params.items() if v}}
        while True:
            page = self._call("list_objects_v2", **params)
            yield page
            if not page.get("IsTruncated"):
                return
            params["ContinuationToken"] = page["NextContinuationToken"]

    def _keys(self, prefix: str, start_after: str = "") -> list[str]:
        return [
            o["Key"]
            for page in self._pages(prefix, StartAfter=start_after)
            for o in page.get("Contents", [])
        ]

    def _event_keys(self, review_id: str, after: int = 0) -> list[str]:
        start = self._event_key(review_id, after) if after > 0 else ""
        keys = self._keys(self._review(review_id) + "events/", start)
        return [k for k in keys if _EVENT_NAME.fullmatch(k.rsplit("/", 1)[-1])]

    @staticmethod
    def _map(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if len(items) < 2:
            return [work(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(READERS, len(items))) as pool:
            return list(pool.map(work, items))

    def _ready(self) -> None:
        """Refuse a bucket laid out by a newer AI-Prism; mark a new one with this layout. Once."""
        if self._layout_checked:
            return
        with self._layout_lock:
            if self._layout_checked:
                return
            key = self.prefix + "layout.json"
            marker = self._get_json(key)
            if marker is None:
                created = self._create(key, _dumps({"layout": LAYOUT}))
                # Not created: another instance marked the bucket a moment ago.
                marker = {"layout": LAYOUT} if created else self._get_json(key)
            found = marker.get("layout") if isinstance(marker, dict) else None
            if not isinstance(found, int):
                raise StoreDamaged(f"s3://{self.bucket}/{key} does not name a layout: {marker!r}")
            if found > LAYOUT:
                raise StoreTooNew(
                    f"s3://{self.bucket}/{self.prefix} was written by a newer version of AI-Prism "
                    f"(layout {found}; this version knows up to {LAYOUT}). Upgrade AI-Prism, or "
                    "choose another bucket or prefix."
                )
            self._layout = found
            self._layout_checked = True

    # --- blobs ---
    def put_blob(self, review_id: str, data: bytes) -> str:
        self._ready()
        sha = hashlib.sha256(data).hexdigest()
        key = f"{self._review(review_id)}uploads/{sha}"
        self._create(key, data, "application/octet-stream")
        return sha  # already there: the same bytes, by their hash

    def get_blob(self, review_id: str, sha256: str) -> bytes:
        sha = str(sha256).lower()
        if not _SHA256.fullmatch(sha):  # also keeps "../" out of the key
            raise KeyError(sha256)
        self._ready()
        data = self._get(f"{self._review(review_id)}uploads/{sha}")
        if data is None and self._layout == 1:
            data = self._get(f"{self.prefix}blobs/{sha}")
        if data is None:
            raise KeyError(sha256)
        return data

    # --- the event log ---
    def _latest_seq(self, review_id: str) -> int:
        known = self._last_seq.get(review_id, 0)
        keys = self._event_keys(review_id, after=known - 1)
        if known and (not keys or _seq_of(keys[0]) != known):
            keys = self._event_keys(review_id)  # the log was deleted since we saw it: look again
        latest = _seq_of(keys[-1]) if keys else 0
        self._last_seq[review_id] = latest
        return latest

    def append(
        self, review_id: str, type: str, payload: dict[str, Any], expect_seq: int | None = None
    ) -> Event:
        self._ready()
        stored = json.loads(_dumps(payload))
        append_id = uuid.uuid4().hex  # makes the body unique, so _create can tell our own write
        for attempt in range(APPEND_ATTEMPTS):
            seq = self._latest_seq(review_id) if expect_seq is None else expect_seq
            event = Event(review_id, seq + 1, type, utc_now(), stored)
            body = _dumps({**event.to_dict(), "append_id": append_id})
            if self._create(self._event_key(review_id, event.seq), body):
                self._last_seq[review_id] = event.seq
                return event
            if expect_seq is not None:  # the one conditional put decides the claim
                raise StoreConflict(f"review {review_id} has moved on past event {expect_seq}")
            time.sleep(random.uniform(0, min(1.0, 0.01 * 2**attempt)))  # noqa: S311 - jitter  # nosec B311
        raise StoreConflict(
            f"could not append to review {review_id}: {APPEND_ATTEMPTS} attempts lost to other writers"
        )

    def events(self, review_id: str, after: int = 0) -> list[Event]:
        self._ready()
        keys = self._event_keys(review_id, after)
        events = []
        for key, data in zip(keys, self._map(self._get_json, keys), strict=True):
            if data is None:  # deleted while we read
                continue
            try:
                events.append(
                    Event(review_id, _seq_of(key), data["type"], data["at"], data["payload"])
                )
            except (KeyError, TypeError) as exc:
                raise StoreDamaged(f"s3://{self.bucket}/{key} is not an event: {exc!r}") from exc
        if keys:
            self._last_seq[review_id] = _seq_of(keys[-1])
        return events

    def delete_review(self, review_id: str) -> bool:
        self._ready()
        keys = self._keys(self._review(review_id))
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            result = self._call("delete_objects", Delete={"Objects": batch, "Quiet": True})
            if result.get("Errors"):
                first = result["Errors"][0]
                raise StoreUnavailable(
                    f"The S3 bucket '{self.bucket}' refused to delete {first.get('Key')}: "
                    f"{first.get('Code')} {first.get('Message', '')}"
                )
        if self.index:
            self.index.delete(review_id)
        self._call("delete_object", Key=f"{self.prefix}marks/unfinished/{_segment(review_id)}")
        self._last_seq.pop(review_id, None)
        return bool(keys)

    # --- the history list and the running totals ---
    def put_summary(self, review_id: str, summary: dict[str, Any]) -> None:
        if "created_at" not in summary:
            raise ValueError(f"the summary of review {review_id} has no 'created_at'")
        self._ready()
        if self.index:
            self.index.put(review_id, summary)
        else:  # last writer wins, unless what it would replace is plainly newer
            key = self._review(review_id) + "summary.json"
            stored = self._get_json(key) or {}
            if (stored.get("seq") or 0) > (summary.get("seq") or 0):
                return
            self._put_json(key, summary)
        marker = f"{self.prefix}marks/unfinished/{_segment(review_id)}"
        if summary.get("status") in UNFINISHED:
            self._call("put_object", Key=marker, Body=b"")
        else:
            self._call("delete_object", Key=marker)  # free, and fine when there is none

    def summary(self, review_id: str) -> dict[str, Any] | None:
        self._ready()
        if self.index and (row := self.index.get(review_id)) is not None:
            return row
        found = self._get_json(self._review(review_id) + "summary.json")
        if self.index and found:  # from before the table: not counted in its totals yet
            found.pop("tallies", None)
        return found

    def summaries(self, review_ids: list[str]) -> list[dict[str, Any]]:
        self._ready()
        if self.index:
            return self.index.get_many(review_ids)
        found = self._map(lambda review_id: self.summary(review_id), review_ids)
        return [s for s in found if s is not None]

    def _bucket_summaries(self) -> list[dict[str, Any]]:
        """Every summary.json, newest first: a bucket-only setup's history and totals."""
        reviews = [self._review(review_id) for review_id in self.review_ids()]
        found = self._map(lambda review: self._get_json(review + "summary.json"), reviews)
        ordered = sorted(
            ((summary, review) for summary, review in zip(found, reviews, strict=True) if summary),
            key=lambda pair: (str(pair[0].get("created_at", "")), str(pair[0].get("id", ""))),
            reverse=True,
        )
        return [summary for summary, _ in ordered]

    def history(self, query: HistoryQuery) -> HistoryPage:
        self._ready()
        if self.index:
            return self.index.history(query)
        rows = [s for s in self._bucket_summaries() if query.matches(s)]
        return page_of(rows[: query.limit + 1], query.limit)

    def totals(self, since: str | None = None) -> dict[str, int]:
        self._ready()
        if self.index:
            return self.index.totals(since)
        sums: dict[str, int] = {}
        for summary in self._bucket_summaries():
            for name, n in (summary.get("tallies") or {}).items():
                if not name.startswith("day:") or name >= f"day:{since or ''}":
                    sums[name] = sums.get(name, 0) + n
        return {name: n for name, n in sums.items() if n}

    @property
    def keeps_totals(self) -> bool:
        return self.index is not None

    def replace_totals(self, totals: dict[str, int]) -> None:
        self._ready()
        if self.index:  # a bucket alone sums its summaries on every read: nothing can drift
            self.index.replace_totals(totals)

    def unfinished(self) -> list[str]:
        self._ready()
        found = []
        stale = datetime.now(UTC) - PENDING_GRACE
        for page in self._pages(self.prefix + "marks/"):
            for entry in page.get("Contents", []):
                kind, review, *_ = entry["Key"][len(self.prefix) + len("marks/") :].split("/")
                # A pending mark counts once its writer has plainly died between log and summary.
                if kind == "unfinished" or entry["LastModified"] < stale:
                    found.append(unquote(review))
        return list(dict.fromkeys(found))

    @contextmanager
    def changing(self, review_id: str) -> Iterator[None]:
        self._ready()
        key = f"{self.prefix}marks/pending/{_segment(review_id)}/{uuid.uuid4().hex}"
        self._call("put_object", Key=key, Body=b"")
        yield  # not in a finally: a failed write leaves the marker for the scan to clear
        self._call("delete_object", Key=key)

    def settled(self, review_id: str) -> None:
        stale = datetime.now(UTC) - PENDING_GRACE
        for page in self._pages(f"{self.prefix}marks/pending/{_segment(review_id)}/"):
            for entry in page.get("Contents", []):
                if entry["LastModified"] < stale:
                    self._call("delete_object", Key=entry["Key"])

    def review_ids(self) -> Iterator[str]:
        self._ready()
        for page in self._pages(self.prefix + "reviews/", Delimiter="/"):
            for entry in page.get("CommonPrefixes", []):
                yield unquote(entry["Prefix"].rstrip("/").rsplit("/", 1)[-1])

    # --- live progress ---
    def set_progress(self, review_id: str, progress: dict[str, Any]) -> None:
        self._ready()
        self._put_json(self._review(review_id) + "progress.json", progress)

    def progress(self, review_id: str) -> dict[str, Any] | None:
        self._ready()
        return self._get_json(self._review(review_id) + "progress.json")

    # --- settings ---
    def _setting_key(self, key: str) -> str:
        return f"{self.prefix}settings/{_segment(key)}.json"

    def get_setting(self, key: str, default: Any = None) -> Any:
        self._ready()
        found = self._get(self._setting_key(key))
        return default if found is None else self._parse(self._setting_key(key), found)

    def put_setting(self, key: str, value: Any) -> None:
        self._ready()
        self._put_json(self._setting_key(key), value)

    # --- health ---
    def check(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(exc) from exc
        self._ready()
        if self.index:
            self.index.check()
