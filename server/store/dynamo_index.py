"""The hosted store's history rows and running totals in one DynamoDB table, so that no page reads
every review.

S3 can list keys but not read what is in them, so a bucket alone makes the history page read every
summary. Here a transaction replaces a summary, files its row in the history, and adds its change
to the totals, atomically, so writers on any number of instances never lose a count. Every read is
by key (GetItem, BatchGetItem), never a Query or Scan, so what a page costs does not depend on how
many reviews the table holds. Items (one table may serve several buckets: `ns` is the store's URL):

    ns|review|<id>                  summary   the summary (data), its version (ver)
    ns|hour|<status or *>|<hour>    rows      that hour's history rows, `r|<created_at>|<id>`
    ns|hours|<status or *>|<month>  set       the month's hours that have rows
    ns|months|<status or *>         set       the months that have rows
    ns|totals                       <kind> or month|<YYYY-MM>   the totals, as `t:<name>`

A history page reads the months, their hours, then the newest hours' rows: three or four requests.
An hour's rows are history rows (about 0.7 KB: no tallies, no examples), so an hour holds some 500
reviews (DynamoDB's 400 KB item limit). A summary write reads the
review's item, then writes everything on condition that `ver` is still what it read; a lost race
(or a conflict on the totals) reads again and recomputes the change, so a retried request that had
in fact landed adds nothing twice.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from server.errors import AIPrismError
from server.store.base import (
    HistoryPage,
    HistoryQuery,
    StoreConflict,
    difference,
    encode_cursor,
    history_row,
    page_of,
)

log = logging.getLogger(__name__)

WRITE_ATTEMPTS = 40  # each lost race costs one read and one transaction, after a jittered pause
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=32,
)
ALL = "*"  # the bucket of every status
KINDS = ("all", "type", "risk", "decision", "rule", "checkpoint")  # totals items besides months
FIRST_BUCKETS = 10  # hour buckets a history page reads first; 100 at a time after that
MAX_BUCKETS = 200  # hour buckets one history page reads at most
_ROW = "r|"
_LOST = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_TOTAL = "t:"


class IndexUnavailable(AIPrismError):
    """The DynamoDB table cannot be used: missing, access denied, or unreachable."""

    code = "store_unavailable"
    http_status = 503


class DynamoIndex:
    def __init__(
        self,
        table: str,
        namespace: str,
        client: Any = None,
        *,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
    ):
        self.table = table
        self.ns = namespace
        self._client = client or boto3.session.Session().client(
            "dynamodb", region_name=region, endpoint_url=endpoint_url, config=CLIENT_CONFIG
        )

    def __repr__(self) -> str:
        return f"DynamoIndex({self.table!r}, {self.ns!r})"

    # --- requests ---
    def _call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self._client, operation)(TableName=self.table, **params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("ResourceNotFoundException", "AccessDeniedException"):
                raise self._unavailable(exc) from exc
            raise
        except BotoCoreError as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: Exception) -> IndexUnavailable:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            reason = f"{error.get('Code')}: {error.get('Message', '')}"
        else:
            reason = str(exc)
        return IndexUnavailable(f"The DynamoDB table '{self.table}' cannot be used: {reason}.")

    # --- the table ---
    def ensure_table(self, create: bool) -> None:
        """Check the table exists; create it (on-demand billing) when `create` and it does not."""
        try:
            self._client.describe_table(TableName=self.table)
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise self._unavailable(exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable(exc) from exc
        if not create:
            raise IndexUnavailable(
                f"The DynamoDB table '{self.table}' does not exist. Create it (docs/deploy.md), "
                "or set AIPRISM_CREATE_RESOURCES=1 to let the service create it."
            )
        try:
            self._client.create_table(
                TableName=self.table,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise self._unavailable(exc) from exc  # in use: another instance created it
        self._client.get_waiter("table_exists").wait(
            TableName=self.table, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        log.info("created DynamoDB table %s", self.table)

    def check(self) -> None:
        self._call("get_item", Key=self._totals_key("all"), ProjectionExpression="pk")

    # --- keys ---
    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": f"{self.ns}|{pk}"}, "sk": {"S": sk}}

    def _row_key(self, review_id: str) -> dict[str, Any]:
        return self._key(f"review|{review_id}", "summary")

    def _bucket_key(self, hour: str, status: str | None) -> dict[str, Any]:
        return self._key(f"hour|{status or ALL}|{hour}", "rows")

    def _hours_key(self, month: str, status: str | None) -> dict[str, Any]:
        return self._key(f"hours|{status or ALL}|{month}", "set")

    def _months_key(self, status: str | None) -> dict[str, Any]:
        return self._key(f"months|{status or ALL}", "set")

    def _totals_key(self, part: str) -> dict[str, Any]:
        return self._key("totals", part)

    # --- rows ---
    def _read(self, review_id: str) -> tuple[dict[str, Any] | None, int]:
        item = self._call("get_item", Key=self._row_key(review_id), ConsistentRead=True).get("Item")
        if not item:
            return None, 0
        return json.loads(item["data"]["S"]), int(item["ver"]["N"])

    def get(self, review_id: str) -> dict[str, Any] | None:
        return self._read(review_id)[0]

    def get_many(self, review_ids: list[str]) -> list[dict[str, Any]]:
        """The summaries of those reviews that have one, in order: one BatchGetItem per 100."""
        items = self._get_many([self._row_key(review_id) for review_id in review_ids])
        return [json.loads(item["data"]["S"]) for item in items]

    def put(self, review_id: str, summary: dict[str, Any]) -> None:
        self._write(review_id, {**summary, "id": review_id})

    def delete(self, review_id: str) -> None:
        self._write(review_id, None)

    def _write(self, review_id: str, summary: dict[str, Any] | None) -> None:
        for attempt in range(WRITE_ATTEMPTS):
            old, ver = self._read(review_id)
            if old is None and summary is None:
                return
            if old and summary and (old.get("seq") or 0) > (summary.get("seq") or 0):
                return  # a slower writer's older view
            if self._transact(review_id, old, summary, ver):
                return
            time.sleep(random.uniform(0, min(1.0, 0.01 * 2**attempt)))  # noqa: S311  # nosec B311
        raise StoreConflict(
            f"could not update the summary of review {review_id}: "
            f"{WRITE_ATTEMPTS} attempts lost to other writers"
        )

    def _transact(
        self, review_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None, ver: int
    ) -> bool:
        """One atomic write of the row, its places in the history buckets and the totals;
        False when another writer came first."""
        condition = {
            "ConditionExpression": "attribute_not_exists(pk) OR ver = :ver",
            "ExpressionAttributeValues": {":ver": {"N": str(ver)}},
        }
        items: list[dict[str, Any]] = []
        if new is None:
            items.append(
                {"Delete": {"TableName": self.table, "Key": self._row_key(review_id), **condition}}
            )
        else:
            data = json.dumps(new, ensure_ascii=False, separators=(",", ":"))
            row = {**self._row_key(review_id), "data": {"S": data}, "ver": {"N": str(ver + 1)}}
            items.append({"Put": {"TableName": self.table, "Item": row, **condition}})
        old_places, new_places = _places(old), _places(new)
        for status in old_places - new_places:
            items.append(self._bucket_update(old, status, None))
        if new_places:  # the hour's row: what the history shows, not the tallies and examples
            shown = json.dumps(history_row(new), ensure_ascii=False, separators=(",", ":"))
        for status in new_places:
            items.append(self._bucket_update(new, status, shown))
        for status in new_places - old_places:  # an hour and a month join their sets once
            created = str(new.get("created_at"))
            items.append(
                self._add_to_set(self._hours_key(created[:7], status), "hours", created[:13])
            )
            items.append(self._add_to_set(self._months_key(status), "months", created[:7]))
        delta = difference(old and old.get("tallies"), new and new.get("tallies"))
        items.extend(self._total_updates(delta))
        try:
            self._client.transact_write_items(TransactItems=items)
            return True
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            reasons = exc.response.get("CancellationReasons") or []
            if code == "TransactionCanceledException" and any(
                r.get("Code") in _LOST for r in reasons
            ):
                return False
            if code in ("TransactionConflictException", "TransactionInProgressException"):
                return False
            raise
        except BotoCoreError as exc:
            raise self._unavailable(exc) from exc

    def _bucket_update(self, summary: dict[str, Any], status: str | None, data: str | None):
        """Set (or, with no data, remove) the summary's row in its hour's bucket."""
        created = str(summary.get("created_at"))
        names = {"#row": f"{_ROW}{created}|{summary.get('id')}"}
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": self._bucket_key(created[:13], status),
            "ExpressionAttributeNames": names,
        }
        if data is None:
            update["UpdateExpression"] = "REMOVE #row"
        else:
            update["UpdateExpression"] = "SET #row = :row"
            update["ExpressionAttributeValues"] = {":row": {"S": data}}
        return {"Update": update}

    def _add_to_set(self, key: dict[str, Any], attribute: str, value: str) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table,
                "Key": key,
                "UpdateExpression": "ADD #set :value",
                "ExpressionAttributeNames": {"#set": attribute},
                "ExpressionAttributeValues": {":value": {"SS": [value]}},
            }
        }

    # --- totals ---
    def _total_updates(self, delta: dict[str, int]) -> list[dict[str, Any]]:
        parts: dict[str, dict[str, int]] = {}
        for name, n in delta.items():
            parts.setdefault(_part_of(name), {})[name] = n
        return [self._add(self._totals_key(part), adds) for part, adds in sorted(parts.items())]

    def _add(self, key: dict[str, Any], adds: dict[str, int]) -> dict[str, Any]:
        names = {f"#n{i}": _TOTAL + name for i, name in enumerate(adds)}
        values = {f":v{i}": {"N": str(n)} for i, n in enumerate(adds.values())}
        clauses = ", ".join(f"#n{i} :v{i}" for i in range(len(adds)))
        return {
            "Update": {
                "TableName": self.table,
                "Key": key,
                "UpdateExpression": f"ADD {clauses}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _totals_keys(self, since: str = "") -> list[dict[str, Any]]:
        months = [m for m in self._set(self._months_key(None), "months") if m >= since[:7]]
        return [self._totals_key(part) for part in (*KINDS, *(f"month|{m}" for m in months))]

    def totals(self, since: str | None = None) -> dict[str, int]:
        found: dict[str, int] = {}
        for item in self._get_many(self._totals_keys(since or "")):
            for attribute, value in item.items():
                if attribute.startswith(_TOTAL) and int(value["N"]):
                    found[attribute[len(_TOTAL) :]] = int(value["N"])
        return found

    def replace_totals(self, totals: dict[str, int]) -> None:
        """Overwrite every totals item (the recount; not atomic with concurrent writers)."""
        parts: dict[str, dict[str, int]] = {key["sk"]["S"]: {} for key in self._totals_keys()}
        for name, n in totals.items():
            if n:
                parts.setdefault(_part_of(name), {})[name] = n
        for part, values in parts.items():
            attributes = {_TOTAL + name: {"N": str(n)} for name, n in values.items()}
            self._call("put_item", Item={**self._totals_key(part), **attributes})

    # --- reading by key only (a query would cost in proportion to what a partition holds) ---
    def _set(self, key: dict[str, Any], attribute: str) -> list[str]:
        item = self._call("get_item", Key=key, ConsistentRead=True).get("Item") or {}
        return sorted(item.get(attribute, {}).get("SS", []), reverse=True)

    def _get_many(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The items at `keys` that exist, in the order of `keys` (BatchGetItem, 100 at a time)."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for start in range(0, len(keys), 100):
            wanted: dict[str, Any] = {
                self.table: {"Keys": keys[start : start + 100], "ConsistentRead": True}
            }
            for attempt in range(WRITE_ATTEMPTS):
                try:
                    answer = self._client.batch_get_item(RequestItems=wanted)
                except ClientError as exc:
                    raise self._unavailable(exc) from exc
                except BotoCoreError as exc:
                    raise self._unavailable(exc) from exc
                for item in answer.get("Responses", {}).get(self.table, []):
                    found[(item["pk"]["S"], item["sk"]["S"])] = item
                wanted = answer.get("UnprocessedKeys") or {}
                if not wanted:
                    break
                time.sleep(random.uniform(0, min(1.0, 0.01 * 2**attempt)))  # noqa: S311  # nosec B311
        return [found[k] for k in ((key["pk"]["S"], key["sk"]["S"]) for key in keys) if k in found]

    # --- the history ---
    def history(self, query: HistoryQuery) -> HistoryPage:
        """Newest first: the months that have rows, the hours of the newest of them that have
        rows, then those hours' buckets, each read a few at first and more as needed, all by key:
        a page costs three or four requests however many reviews the table holds. A rare filter
        may need more than MAX_BUCKETS buckets: the page then holds fewer rows than asked, and its
        cursor goes on from the last hour read."""
        after = query.after  # a row's (created_at, id); or (an hour, "") once that hour is read
        low, high = query.since or "", query.upper_bound or "9999"
        months = [
            m
            for m in self._set(self._months_key(query.status), "months")
            if low[:7] <= m <= high[:7] and (after is None or m <= after[0][:7])
        ]
        rows: list[dict[str, Any]] = []
        buckets_read, last_hour = 0, ""
        for month_chunk in _growing(months, first=2):
            hours = sorted(
                (
                    h
                    for item in self._get_many(
                        [self._hours_key(m, query.status) for m in month_chunk]
                    )
                    for h in item.get("hours", {}).get("SS", [])
                    if low[:13] <= h <= high and (after is None or f"{h}:" <= after[0])
                ),
                reverse=True,
            )
            start = 0
            while start < len(hours):
                if buckets_read >= MAX_BUCKETS:  # go on from the last hour read, next time
                    cursor = encode_cursor({"created_at": last_hour, "id": ""})
                    return HistoryPage([history_row(r) for r in rows], cursor)
                size = min(FIRST_BUCKETS if buckets_read == 0 else 100, MAX_BUCKETS - buckets_read)
                chunk = hours[start : start + size]
                for item in self._get_many([self._bucket_key(h, query.status) for h in chunk]):
                    names = sorted((a for a in item if a.startswith(_ROW)), reverse=True)
                    rows.extend(
                        r for r in (json.loads(item[n]["S"]) for n in names) if query.matches(r)
                    )
                start, buckets_read, last_hour = start + size, buckets_read + len(chunk), chunk[-1]
                if len(rows) > query.limit:
                    return page_of(rows[: query.limit + 1], query.limit)
        return page_of(rows, query.limit)


def _growing(items: list[str], first: int) -> Iterator[list[str]]:
    """`items` in chunks of `first`, then of 100 (what one BatchGetItem takes)."""
    start, size = 0, first
    while start < len(items):
        yield items[start : start + size]
        start, size = start + size, 100


def _places(summary: dict[str, Any] | None) -> set[str | None]:
    """The buckets a summary's row lives in: its hour's (None), and its hour's for its status."""
    if summary is None:
        return set()
    return {None, str(summary.get("status"))}


def _part_of(name: str) -> str:
    """The totals item a counter lives in: days by month, the rest by kind (`rule`, `type`, …),
    which keeps each item and each update expression far below DynamoDB's limits."""
    kind, colon, _ = name.partition(":")
    if kind == "day":
        return f"month|{name[4:11]}"
    return kind if colon and kind in KINDS else "all"
