"""Documentation that tests keep true: every API route is in docs/api.md, and the README's commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from server.settings import Settings
from server.web import create_app

ROOT = Path(__file__).resolve().parent.parent


def documented_routes() -> set[tuple[str, str]]:
    text = (ROOT / "docs" / "api.md").read_text()
    return {
        (m.group(1), m.group(2))
        for m in re.finditer(r"`(GET|POST|DELETE|PUT|PATCH) (/[^`\s]*)`", text)
    }


def test_every_api_route_is_documented(tmp_path):
    app = create_app(Settings(data_dir=tmp_path))
    documented = documented_routes()
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule in ("/health", "/ready")):
            continue
        path = re.sub(
            r"<(?:\w+:)?(\w+)>",
            lambda m: (
                "{" + {"review_id": "id", "finding_id": "fid"}.get(m.group(1), m.group(1)) + "}"
            ),
            rule.rule,
        )
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if path.endswith("/{fmt}"):
                assert any(
                    p.startswith(path[: -len("{fmt}")]) for m, p in documented if m == method
                ), path
            else:
                assert (method, path) in documented, f"{method} {path} is not in docs/api.md"


def test_readme_quick_start_commands_exist_in_the_makefile():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"^make (\w+)", readme, re.MULTILINE):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), (
            f"make {target} is not a Makefile target"
        )
