"""The container image (cloud/Dockerfile): what it promises, and its steps run for real.

No container engine runs in CI, so the build's own steps are replayed outside one: only the files
the Dockerfile copies go into a fresh folder, which is built into a wheel and installed into a
fresh virtual environment as `pip install .` does in the first stage (the dependencies, which
`make test` already resolves from the same extras, are lent from the test environment instead of
downloaded again), and Gunicorn starts from that environment the way the image's CMD starts it,
in a folder holding only what the second stage copies, and answers the image's HEALTHCHECK. So a
template or static file missing from the package would fail here as it would in the image.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.test_cloud import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "cloud" / "Dockerfile").read_text()
BUILD_TOOLS = (
    "gcc",
    "g++",
    "make",
    "build-essential",
    "python3-dev",
    "python3-pip",
    "python3-venv",
)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions(DOCKERFILE):
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def final_stage() -> list[tuple[str, str]]:
    return stages()[-1]


def arguments(name: str, stage: list[tuple[str, str]]) -> list[str]:
    return [args for instruction, args in stage if instruction == name]


def test_the_image_runs_the_tested_gunicorn_command_as_a_user_without_privileges():
    (cmd,) = arguments("CMD", final_stage())
    apprunner = yaml.safe_load((ROOT / "cloud" / "apprunner.yaml").read_text())["run"]["command"]
    assert json.loads(cmd) == shlex.split(apprunner)
    (user,) = arguments("USER", final_stage())
    assert not user.startswith(("root", "0"))
    (port,) = arguments("EXPOSE", final_stage())
    assert port == "8080"


def test_the_final_stage_has_no_build_tools_and_takes_only_the_environment():
    assert len(stages()) == 2
    runs = " ".join(arguments("RUN", final_stage()))
    assert not [tool for tool in BUILD_TOOLS if re.search(rf"\b{re.escape(tool)}\b", runs)]
    copies = arguments("COPY", final_stage())
    assert copies == [
        "--from=build /opt/ai-prism /opt/ai-prism",
        "cloud/gunicorn.conf.py cloud/gunicorn.conf.py",
    ]
    first = " ".join(arguments("RUN", stages()[0]))
    assert "pip uninstall --yes pip" in first and "rm -rf /var/lib/apt/lists/*" in runs


def test_the_health_check_asks_health():
    (check,) = arguments("HEALTHCHECK", final_stage())
    assert "/health" in check and "CMD" in check


def _copied_sources() -> list[str]:
    """What the first stage copies from the build context."""
    sources = []
    for args in arguments("COPY", stages()[0]):
        parts = args.split()
        sources += [p.rstrip("/") for p in parts[:-1] if not p.startswith("--")]
    return sources


def test_the_build_context_holds_what_the_dockerfile_copies():
    ignore = (ROOT / ".dockerignore").read_text().split()
    admitted = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert set(_copied_sources()) <= admitted
    assert "*" in ignore  # everything else (.venv, tests, build output) stays out


@pytest.mark.cloud
def test_the_images_steps_install_and_serve_from_a_fresh_environment(tmp_path):
    context = tmp_path / "src"
    context.mkdir()
    for source in _copied_sources():
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, context / source)
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*build, "-w", str(wheels), "."], cwd=context, check=True, timeout=300)
    venv = tmp_path / "opt-ai-prism"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (wheel,) = wheels.glob("ai_prism-*.whl")
    # --ignore-installed: with --prefix alone, pip uninstalls the test environment's own
    # (editable) ai-prism first, and the rest of the suite loses it.
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-installed"]
    subprocess.run([*install, "--prefix", str(venv), str(wheel)], check=True, timeout=300)
    (site,) = venv.glob("lib/python3*/site-packages")
    # The dependencies: a path entry (not a site dir, so the test environment's own .pth files,
    # among them the editable install of this checkout, are not run), after the wheel's copy.
    lent = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "zz-dependencies.pth").write_text("\n".join(lent) + "\n")
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import server, cloud; print(server.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(site)), where.stdout  # the wheel's copy, not this checkout

    app_dir = tmp_path / "app"
    (app_dir / "cloud").mkdir(parents=True)
    shutil.copy2(ROOT / "cloud" / "gunicorn.conf.py", app_dir / "cloud" / "gunicorn.conf.py")
    port = str(free_port())
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PORT": port,
        "WEB_CONCURRENCY": "1",
        "AIPRISM_AUTH": "none",
        "AIPRISM_AI": "off",
        "AIPRISM_DATA_DIR": str(tmp_path / "data"),
    }
    (cmd,) = arguments("CMD", final_stage())
    command = json.loads(cmd)
    command[0] = str(venv / "bin" / "python")  # the image's python3 is the environment's
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        command, cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        (check,) = arguments("HEALTHCHECK", final_stage())
        probe = json.loads(check.split("CMD", 1)[1].strip())
        probe[0] = str(venv / "bin" / "python")
        assert subprocess.run(probe, env=env, timeout=10).returncode == 0
        page = requests.get(f"http://127.0.0.1:{port}/history", timeout=5)
        assert page.status_code == 200 and "Review history" in page.text  # templates installed
        assert requests.get(f"http://127.0.0.1:{port}/static/app.js", timeout=5).ok
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()
