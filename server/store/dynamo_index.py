"""The hosted store's history rows and running totals in one DynamoDB table, so that no page reads
every review.

S3 can list keys but not read what is in them, so a bucket alone makes the history page read every
summary. A DynamoDB table answers "the 50 newest" with one Query, and a transaction replaces a
summary and adds its change to the totals atomically, so writers on any number of instances never
lose a count. Items (one table may serve several buckets or prefixes: `ns` is the store's URL):

    pk = ns|review|<id>, sk = summary    the summary (data), seq, ver; and the keys of three indexes:
        history:       hpk = ns|history,             hsk = <created_at>|<id>
        by_status:     spk = ns|status|<status>,     hsk
        by_framework:  fpk = ns|framework|<fw>,      hsk
    pk = ns|totals, sk = <kind>          the totals of one kind (`rule`, `type`, …) as `t:<name>`
    pk = ns|totals, sk = month|<YYYY-MM> that month's `day:` totals (an item stays far below 400 KB)

A summary write reads the row, then writes it on condition that `ver` is still what it read; a lost
race (or a transaction conflict on the totals) reads again and recomputes the change, so a retried
request that had in fact landed adds nothing twice.
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
from server.store.base import HistoryPage, HistoryQuery, StoreConflict, difference, page_of

log = logging.getLogger(__name__)

WRITE_ATTEMPTS = 40  # each lost race costs one read and one transaction, after a jittered pause
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=32,
)
INDEXES = {"history": "hpk", "by_status": "spk", "by_framework": "fpk"}
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
        strings = ["pk", "sk", "hsk", *INDEXES.values()]
        try:
            self._client.create_table(
                TableName=self.table,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in strings],
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                GlobalSecondaryIndexes=[
                    {
                        "IndexName": name,
                        "KeySchema": [
                            {"AttributeName": partition, "KeyType": "HASH"},
                            {"AttributeName": "hsk", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                    for name, partition in INDEXES.items()
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
    def _row_key(self, review_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"{self.ns}|review|{review_id}"}, "sk": {"S": "summary"}}

    def _totals_key(self, part: str) -> dict[str, Any]:
        return {"pk": {"S": f"{self.ns}|totals"}, "sk": {"S": part}}

    # --- rows ---
    def _read(self, review_id: str) -> tuple[dict[str, Any] | None, int]:
        item = self._call("get_item", Key=self._row_key(review_id), ConsistentRead=True).get("Item")
        if not item:
            return None, 0
        return json.loads(item["data"]["S"]), int(item["ver"]["N"])

    def get(self, review_id: str) -> dict[str, Any] | None:
        return self._read(review_id)[0]

    def put(self, review_id: str, summary: dict[str, Any]) -> None:
        self._write(review_id, summary)

    def delete(self, review_id: str) -> None:
        self._write(review_id, None)

    def _write(self, review_id: str, summary: dict[str, Any] | None) -> None:
        for attempt in range(WRITE_ATTEMPTS):
            old, ver = self._read(review_id)
            if old is None and summary is None:
                return
            if old and summary and (old.get("seq") or 0) > (summary.get("seq") or 0):
                return  # a slower writer's older view
            delta = difference(old and old.get("tallies"), summary and summary.get("tallies"))
            if self._transact(review_id, summary, ver, delta):
                return
            time.sleep(random.uniform(0, min(1.0, 0.01 * 2**attempt)))  # noqa: S311  # nosec B311
        raise StoreConflict(
            f"could not update the summary of review {review_id}: "
            f"{WRITE_ATTEMPTS} attempts lost to other writers"
        )

    def _transact(
        self, review_id: str, summary: dict[str, Any] | None, ver: int, delta: dict[str, int]
    ) -> bool:
        """One atomic write of the row and the totals; False when another writer came first."""
        condition = {
            "ConditionExpression": "attribute_not_exists(pk) OR ver = :ver",
            "ExpressionAttributeValues": {":ver": {"N": str(ver)}},
        }
        if summary is None:
            row = {"Delete": {"TableName": self.table, "Key": self._row_key(review_id), **condition}}
        else:
            row = {"Put": {"TableName": self.table, "Item": self._item(review_id, summary, ver + 1)}}
            row["Put"].update(condition)
        items = [row, *self._total_updates(delta)]
        try:
            self._client.transact_write_items(TransactItems=items)
            return True
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException" and any(
                r.get("Code") in _LOST for r in reasons
            ):
                return False
            if exc.response.get("Error", {}).get("Code") in (
                "TransactionConflictException",
                "TransactionInProgressException",
            ):
                return False
            raise
        except BotoCoreError as exc:
            raise self._unavailable(exc) from exc

    def _item(self, review_id: str, summary: dict[str, Any], ver: int) -> dict[str, Any]:
        order = f"{summary.get('created_at') or ''}|{review_id}"
        return {
            **self._row_key(review_id),
            "data": {"S": json.dumps(summary, ensure_ascii=False, separators=(",", ":"))},
            "seq": {"N": str(int(summary.get("seq") or 0))},
            "ver": {"N": str(ver)},
            "hpk": {"S": f"{self.ns}|history"},
            "hsk": {"S": order},
            "spk": {"S": f"{self.ns}|status|{summary.get('status')}"},
            "fpk": {"S": f"{self.ns}|framework|{summary.get('framework')}"},
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

    def totals(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for item in self._query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"{self.ns}|totals"}},
            ConsistentRead=True,
        ):
            for attribute, value in item.items():
                if attribute.startswith(_TOTAL) and int(value["N"]):
                    found[attribute[len(_TOTAL) :]] = int(value["N"])
        return found

    def replace_totals(self, totals: dict[str, int]) -> None:
        """Overwrite every totals item (the recount; not atomic with concurrent writers)."""
        for item in self._query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"{self.ns}|totals"}},
            ProjectionExpression="pk, sk",
        ):
            self._call("delete_item", Key={"pk": item["pk"], "sk": item["sk"]})
        parts: dict[str, dict[str, int]] = {}
        for name, n in totals.items():
            if n:
                parts.setdefault(_part_of(name), {})[name] = n
        for part, values in parts.items():
            attributes = {_TOTAL + name: {"N": str(n)} for name, n in values.items()}
            self._call("put_item", Item={**self._totals_key(part), **attributes})

    # --- the history ---
    def history(self, query: HistoryQuery) -> HistoryPage:
        index, partition = self._index_for(query)
        condition = "#p = :p"
        values: dict[str, Any] = {":p": {"S": partition}}
        low = f"{query.since}" if query.since else None
        high = "|".join(query.after) if query.after else None
        if query.upper_bound and (high is None or query.upper_bound < high):
            high = query.upper_bound
        if low and high:
            condition += " AND hsk BETWEEN :low AND :high"
            values.update({":low": {"S": low}, ":high": {"S": high}})
        elif low:
            condition += " AND hsk >= :low"
            values[":low"] = {"S": low}
        elif high:
            condition += " AND hsk < :high"
            values[":high"] = {"S": high}
        rows: list[dict[str, Any]] = []
        for item in self._query(
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#p": INDEXES[index]},
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            Limit=query.limit + 1,
        ):
            row = json.loads(item["data"]["S"])
            if query.matches(row):  # the filters the index does not cover, and BETWEEN's ends
                rows.append(row)
                if len(rows) > query.limit:
                    break
        return page_of(rows, query.limit)

    def _index_for(self, query: HistoryQuery) -> tuple[str, str]:
        if query.status is not None:
            return "by_status", f"{self.ns}|status|{query.status}"
        if query.framework is not None:
            return "by_framework", f"{self.ns}|framework|{query.framework}"
        return "history", f"{self.ns}|history"

    def _query(self, **params: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self._call("query", **params)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _part_of(name: str) -> str:
    """The totals item a counter lives in: days by month, the rest by kind (`rule`, `type`, …),
    which keeps each item and each update expression far below DynamoDB's limits."""
    kind, colon, _ = name.partition(":")
    if kind == "day":
        return f"month|{name[4:11]}"
    return kind if colon else "all"
