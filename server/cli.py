"""`aiprism`: review documents from the command line (batch and CI use) and manage framework packs.

Exit codes: 0 nothing reached --fail-on, 1 something did, 2 a file or framework could not be read
(one line on stderr naming it).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path

from server import json_text
from server.cli_options import add_data_dir
from server.documents import load_path
from server.documents.limits import DEFAULT_LIMITS, Deadline, Limits
from server.documents.limits import SETTINGS as LIMIT_SETTINGS
from server.engines import forked, offline
from server.errors import AIPrismError
from server.frameworks import available, resolve
from server.frameworks import load_path as load_framework
from server.frameworks.model import Framework
from server.model import SEVERITY_ORDER, ReviewResult
from server.paths import frameworks_dir

FAIL_ON = ("critical", "important", "suggestion", "never")


def main(argv: Sequence[str] | None = None) -> int:
    # A short-lived process makes many objects and few cycles: the collector looks at the
    # youngest ones every 10,000 allocations instead of 700, which halves its time in a review.
    gc.set_threshold(10_000)
    logging.getLogger("pypdf").setLevel(
        logging.ERROR
    )  # its recoverable-damage warnings are noise here
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except AIPrismError as exc:
        _fail(exc.message)
        return 2
    except BrokenPipeError:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiprism", description="AI-Prism document review.")
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    commands = parser.add_subparsers(title="commands")

    review = commands.add_parser("review", help="review documents and print findings")
    review.add_argument("files", nargs="+", metavar="FILE")
    review.add_argument("--framework", help="framework id or path to a .toml pack")
    review.add_argument("--format", choices=("text", "json"), default="text")
    review.add_argument("--fail-on", choices=FAIL_ON, default="critical")
    review.add_argument("--export-docx", metavar="PATH", help="file (one input) or folder")
    review.add_argument(
        "--as-of", type=date.fromisoformat, help="today's date for date checks (YYYY-MM-DD)"
    )
    review.add_argument(
        "--ai",
        action="store_true",
        help="also review with the configured AI provider (AIPRISM_AI_PROVIDER, or the app's "
        "Settings in the data folder); progress and notices on stderr",
    )
    review.set_defaults(handler=_review)
    add_data_dir(review)
    limits = review.add_argument_group(
        "limits", "per document; default from AIPRISM_MAX_* variables (see docs/limits.md)"
    )
    for setting in LIMIT_SETTINGS:
        limits.add_argument(
            setting.flag,
            dest=setting.field,
            metavar="N",
            help=f"{setting.what} (default {setting.show(DEFAULT_LIMITS)})",
        )

    frameworks = commands.add_parser("frameworks", help="list, show or validate framework packs")
    fw_commands = frameworks.add_subparsers(title="actions")
    listing = fw_commands.add_parser("list", help="list available packs")
    listing.set_defaults(handler=_fw_list)
    add_data_dir(listing)
    show = fw_commands.add_parser("show", help="show a pack's sections, checkpoints and rules")
    show.add_argument("id")
    show.set_defaults(handler=_fw_show)
    add_data_dir(show)
    validate = fw_commands.add_parser("validate", help="check a pack file")
    validate.add_argument("path", type=Path)
    validate.set_defaults(handler=_fw_validate)

    from server.cli_store import add_store_command
    from server.serve import add_serve_command

    add_serve_command(commands)
    add_store_command(commands)
    return parser


class _Version(argparse.Action):
    """`--version`, the version read only when asked for (see `server.__getattr__`)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None):
        super().__init__(option_strings, dest, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from server import __version__

        print(f"aiprism {__version__}")
        parser.exit()


def _review(args: argparse.Namespace) -> int:
    limits = _limits(args)
    framework = resolve(args.framework, frameworks_dir(args.data_dir))
    paths = [Path(f) for f in args.files]
    export_to = _export_targets(paths, args.export_docx)
    add_ai = _ai_step(args.data_dir) if args.ai else None
    learn = _learning_step(args.data_dir) if args.data_dir else None
    results: list[tuple[Path, ReviewResult]] = []
    ai_reports: dict[Path, dict] = {}
    unreadable = False
    # Several cores for long documents and batches (forked: no threads run yet; --ai's may)
    processes = 1 if args.ai else forked.available_cores()
    reviewed = _offline_reviews(paths, framework, limits, args.as_of, processes)
    for path, outcome in zip(paths, reviewed, strict=True):
        try:
            if isinstance(outcome, AIPrismError):
                raise outcome
            result = outcome
            if add_ai is not None:
                result, ai_reports[path] = add_ai(path, result, framework)
            if learn is not None:
                result = learn(result)
            if path in export_to:
                _export(path, result, export_to[path])
        except AIPrismError as exc:
            message = exc.message if path.name in exc.message else f"{path}: {exc.message}"
            _fail(message)
            unreadable = True
            continue
        results.append((path, result))

    if args.format == "json":
        print(_json(results, framework, ai_reports))
    else:
        for path, result in results:
            for line in text_lines(path, result):
                print(line)
    if unreadable:
        return 2
    return 1 if any(_reaches(f.type, args.fail_on) for _, r in results for f in r.findings) else 0


def _offline_reviews(
    paths: list[Path], framework: Framework, limits: Limits, as_of: date | None, processes: int
) -> list[ReviewResult | AIPrismError]:
    """Each file read and reviewed offline, or the error that stopped it, in order. A batch is
    shared out over `processes` forked copies, a run of whole files each, about equal in bytes;
    a single file's sections are shared out instead (offline.review)."""

    def review_files(group: list[Path], per_file: int) -> list[ReviewResult | AIPrismError]:
        outcomes: list[ReviewResult | AIPrismError] = []
        for path in group:
            try:
                deadline = Deadline(limits, path.name)
                document = load_path(path, framework, limits, deadline)
                on_progress = deadline.watch()
                outcomes.append(
                    offline.review(document, framework, as_of, on_progress, processes=per_file)
                )
            except AIPrismError as exc:
                outcomes.append(exc)
        return outcomes

    groups = _runs_of_equal_size(paths, min(processes, len(paths)))
    if len(groups) == 1:
        return review_files(paths, processes)
    shares = [partial(review_files, group, 1) for group in groups]
    return [outcome for outcomes in forked.run_shares(shares) for outcome in outcomes]


def _runs_of_equal_size(paths: list[Path], count: int) -> list[list[Path]]:
    """`paths` cut into at most `count` runs, in order, of about equal total size in bytes."""
    if count < 2:
        return [paths]
    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except (OSError, ValueError):  # reported when the file is read
            sizes.append(0)
    starts = forked.even_shares(sizes, count)
    return [paths[a:b] for a, b in itertools.pairwise([*starts, len(paths)]) if a < b]


def _ai_step(data_folder: str | None):
    """What `--ai` adds to each file's review; the AI engine is imported only when asked for."""
    from server import cli_ai

    engine = cli_ai.engine(data_folder)
    return lambda path, result, framework: cli_ai.add_ai_findings(engine, path, result, framework)


def _learning_step(data_folder: str):
    """With a data folder, findings carry what its reviewers' decisions taught (server/learning.py);
    a folder without reviews teaches nothing, and none is created."""
    from server import learning
    from server.paths import data_dir, reviews_db
    from server.store.sqlite import SQLiteStore

    path = reviews_db(data_dir(data_folder))
    if not path.exists():
        return None
    store = SQLiteStore(path)
    try:
        counts = learning.rule_counts(store.totals())
    finally:
        store.close()
    return lambda result: replace(
        result, findings=tuple(learning.with_learning(result.findings, counts))
    )


def _limits(args: argparse.Namespace) -> Limits:
    """The environment's limits with this command's flags on top."""
    limits = Limits.from_env(os.environ)
    flags = {
        s.field: s.parse(getattr(args, s.field), s.flag)
        for s in LIMIT_SETTINGS
        if getattr(args, s.field) is not None
    }
    return replace(limits, **flags)


def _export_targets(paths: list[Path], target: str | None) -> dict[Path, Path]:
    if not target:
        return {}
    out = Path(target)
    if len(paths) == 1 and not out.is_dir():
        return {paths[0]: out}
    out.mkdir(parents=True, exist_ok=True)
    return {p: out / f"{p.stem}.reviewed.docx" for p in paths}


def _export(source: Path, result: ReviewResult, target: Path) -> None:
    from server.exports.docx_comments import annotate_docx

    if result.document.format != "docx":
        raise AIPrismError(
            f"{source}: only .docx documents can be annotated with comments; "
            "use --format json for a report instead."
        )
    target.write_bytes(annotate_docx(source.read_bytes(), result.document, result.findings))


def _reaches(finding_type: str, fail_on: str) -> bool:
    if fail_on == "never" or finding_type == "positive":
        return False
    return SEVERITY_ORDER[finding_type] <= SEVERITY_ORDER[fail_on]


def text_lines(path: Path, result: ReviewResult) -> list[str]:
    """One line per finding, like a linter: `file: section ¶n: TYPE risk rule — title`."""
    sections = {s.id: s.title for s in result.document.sections}
    lines = []
    for f in result.findings:
        where = sections.get(f.section_id or "", "document")
        para = f" ¶{f.span.paragraph + 1}" if f.span else ""
        lines.append(f"{path}: {where}{para}: {f.type.upper()} {f.risk} {f.rule} — {f.title}")
    return lines


def _json(
    results: list[tuple[Path, ReviewResult]], framework: Framework, ai: dict[Path, dict]
) -> str:
    files = [
        {
            "path": str(path),
            "framework": {"id": framework.id, "version": framework.version},
            "document": result.document.to_dict(),
            "findings": [f.to_dict() for f in result.findings],
            "summary": result.summary(),
            **({"ai": ai[path]} if path in ai else {}),
        }
        for path, result in results
    ]
    return json_text.dumps({"files": files})  # json.dumps(…, indent=2, ensure_ascii=False)


def _fw_list(args: argparse.Namespace) -> int:
    for fw in sorted(available(frameworks_dir(args.data_dir)).values(), key=lambda f: f.id):
        print(
            f"{fw.id}\t{fw.version}\t{len(fw.checkpoints)} checkpoints\t{len(fw.rules)} rules\t{fw.name}"
        )
    return 0


def _fw_show(args: argparse.Namespace) -> int:
    fw = resolve(args.id, frameworks_dir(args.data_dir))
    print(f"{fw.name} ({fw.id} {fw.version})\n{fw.description}\nsource: {fw.source}\n")
    print("Expected sections:")
    for s in fw.sections:
        required = " (required)" if s.required else ""
        print(f"  {s.id}: {s.title}{required} — also: {', '.join(s.aliases) or '-'}")
    print("Excluded sections:")
    for e in fw.exclude:
        print(f"  {e.id}: {e.title} — also: {', '.join(e.aliases) or '-'}")
    print("Checkpoints:")
    for c in fw.checkpoints:
        print(f"  {c.id}: {c.name}")
    print("Rules:")
    for r in fw.rules:
        state = "" if r.enabled else " [disabled]"
        print(f"  {r.id}: {r.check} → {r.type}/{r.risk} conf {r.confidence:.2f}{state}")
    return 0


def _fw_validate(args: argparse.Namespace) -> int:
    fw = load_framework(args.path)
    print(
        f"{args.path}: OK — {fw.id} {fw.version}, {len(fw.checkpoints)} checkpoints, {len(fw.rules)} rules"
    )
    return 0


def _fail(message: str) -> None:
    """One line on stderr; control characters (from a file name, say) are shown escaped, not
    sent to the terminal."""
    line = " ".join(message.split())
    line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
    print(f"aiprism: {line}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
