"""`make audit`: pip-audit over the installed environment, failing on any known vulnerability.

pip-audit asks a vulnerability database about each installed package. Where that database cannot
be reached (a machine that sees PyPI only through a mirror of its package index gets 404 from the
JSON API), pip-audit skips every package as "not found on PyPI" and still prints "No known
vulnerabilities found". So this script first asks each database about pip-audit itself: if
neither answers, it says so plainly and exits 0, since nothing could be checked. Otherwise a
package it could not check fails the audit like a vulnerability does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import requests

PROBE_TIMEOUT = 15  # seconds; pip-audit's own default for each request
EDITABLE = "distribution marked as editable"  # the project itself, not a published package


def probe_pypi() -> str | None:
    """None when PyPI's JSON API answers with vulnerability data, else why not."""
    url = f"https://pypi.org/pypi/pip-audit/{version('pip-audit')}/json"
    return _probe(lambda: requests.get(url, timeout=PROBE_TIMEOUT), url, "vulnerabilities")


def probe_osv() -> str | None:
    url = "https://api.osv.dev/v1/query"
    query = {"package": {"name": "pip-audit", "ecosystem": "PyPI"}, "version": version("pip-audit")}
    return _probe(lambda: requests.post(url, json=query, timeout=PROBE_TIMEOUT), url, None)


def _probe(send, url: str, key: str | None) -> str | None:
    try:
        response = send()
    except requests.RequestException as exc:
        return f"{url}: {type(exc).__name__}"
    if response.status_code != 200:
        return f"{url}: HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return f"{url}: the answer is not JSON"
    if not isinstance(body, dict) or (key and key not in body):
        return f"{url}: the answer holds no vulnerability data"
    return None


def audit(service: str) -> int:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "audit.json"
        command = [sys.executable, "-m", "pip_audit", "--skip-editable", "-s", service]
        command += ["--progress-spinner", "off", "-f", "json", "-o", str(report)]
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
        if not report.is_file():
            print(finished.stdout + finished.stderr, file=sys.stderr)
            return finished.returncode or 1
        dependencies = json.loads(report.read_text())["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    unchecked = [d for d in dependencies if d.get("skip_reason", EDITABLE) != EDITABLE]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
            print(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    for dep in unchecked:
        print(f"{dep['name']}: not checked: {dep['skip_reason']}")
    checked = sum("skip_reason" not in d for d in dependencies)
    print(f"pip-audit ({service}): {checked} packages checked, {len(vulnerable)} vulnerable.")
    return 1 if vulnerable or unchecked else 0


def main() -> int:
    reasons = []
    for service, probe in (("pypi", probe_pypi), ("osv", probe_osv)):
        reason = probe()
        if reason is None:
            return audit(service)
        reasons.append(reason)
    print(
        "pip-audit skipped: no vulnerability database can be reached from this machine "
        f"({'; '.join(reasons)}). No package was checked.",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
