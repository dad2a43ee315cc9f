"""`aiprism store upgrade|recount`: the store upkeep an operator runs (server/upkeep.py).

`upgrade` fills a new DynamoDB table from an existing bucket, or gives summaries written by an older
version their statistics tallies; it is safe to run twice, resumable after a kill, and may run while
the service serves. `recount` rebuilds every summary and the totals from the logs.
"""

from __future__ import annotations

import argparse
import os
import sys


def add_store_command(commands) -> None:
    from server.cli_options import add_data_dir, add_store

    store = commands.add_parser("store", help="upkeep of the review store (upgrade, recount)")
    actions = store.add_subparsers(title="actions")
    for name, helptext in (
        ("upgrade", "give every review its history row and tallies (new table, older version)"),
        ("recount", "rebuild every summary and the statistics totals from the review logs"),
    ):
        action = actions.add_parser(name, help=helptext)
        add_store(action)
        add_data_dir(action)
        action.set_defaults(handler=run, action=name)


def run(args: argparse.Namespace) -> int:
    from server import upkeep
    from server.hosted import aws_region
    from server.paths import data_dir
    from server.settings import Settings
    from server.web import open_store

    settings = Settings(
        data_dir=data_dir(args.data_dir),
        store_url=args.store,
        store_region=aws_region(os.environ),
        index_table=os.environ.get("AIPRISM_DYNAMODB_TABLE", "").strip() if args.store else "",
        create_resources=os.environ.get("AIPRISM_CREATE_RESOURCES", "").strip() == "1",
    )
    store = open_store(settings)
    try:
        progress = lambda n: print(f"  {n} reviews so far", file=sys.stderr, flush=True)  # noqa: E731
        if args.action == "upgrade":
            count = upkeep.upgrade(store, report=progress)
            print(f"{store!r}: {count} review summaries rewritten; the store is up to date")
        else:
            totals = upkeep.recount(store, report=progress)
            print(
                f"{store!r}: recounted {totals.get('reviews', 0)} reviews and "
                f"{totals.get('findings', 0)} findings"
            )
    finally:
        store.close()
    return 0
