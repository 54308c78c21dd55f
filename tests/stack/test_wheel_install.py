"""`pip install 'otel-agent[stack]'` then `otel-agent stack up` works outside a checkout.

Builds the wheel from this checkout, installs it with the `stack` extra into a fresh virtual environment in a
temporary directory, and runs the installed `otel-agent` from there: it must find the collector configs, rules and
dashboards inside the installed package (not in this checkout), then bring the stack up with the binaries
collector/build.sh built (pointed at with OTEL_AGENT_BUILD_DIR, as a user would after `stack up --build`), report it
healthy and purge it. Stack marker: it needs the binaries and a package index (or pip's cache) for the dependencies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from otel_agent_tools.stack import StackError, build_dir, find_binaries

from ._support import missing

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_installed_wheel_finds_its_configs_and_dashboards_and_runs_the_stack(tmp_path: Path) -> None:
    try:
        find_binaries()
    except StackError as exc:
        missing(str(exc))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_AGENT_", "PYTHON", "VIRTUAL_ENV"))}
    wheels = tmp_path / "wheels"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)], tmp_path, env)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("otel_agent-*.whl")

    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env).returncode == 0
    installed = _run([str(venv / "bin" / "pip"), "install", "-q", f"{wheel}[stack]"], tmp_path, env)
    assert installed.returncode == 0, installed.stderr

    where = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import json, yaml; from otel_agent_tools.stack import collector_dir, dashboards_dir;"
            "print(json.dumps([str(collector_dir()), str(dashboards_dir())]))",
        ],
        tmp_path,
        env,
    )
    assert where.returncode == 0, where.stderr
    collector, dashboards = (Path(p) for p in json.loads(where.stdout))
    site = venv / "lib"
    assert site in collector.parents and site in dashboards.parents  # the installed copy, not this checkout
    assert (collector / "config" / "single-node.yaml").is_file() and (collector / "rules").is_dir()
    assert sorted(p.name for p in (dashboards / "json").glob("*.json")) == sorted(
        p.name for p in (ROOT / "dashboards" / "json").glob("*.json")
    )

    otel_agent = str(venv / "bin" / "otel-agent")
    state = tmp_path / "state"
    env = {**env, "OTEL_AGENT_BUILD_DIR": str(build_dir())}
    up = _run([otel_agent, "stack", "--state-dir", str(state), "up", "--random-ports", "--fast"], tmp_path, env, 240)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert str(dashboards / "json") in up.stdout
        status = _run([otel_agent, "stack", "--state-dir", str(state), "status"], tmp_path, env, 60)
        assert status.returncode == 0, status.stdout + status.stderr
        rendered = (state / "run" / "prometheus.yml").read_text()
        assert str(collector / "rules") in rendered  # the rules Prometheus loads are the installed ones
    finally:
        down = _run([otel_agent, "stack", "--state-dir", str(state), "down", "--purge"], tmp_path, env, 60)
    assert down.returncode == 0, down.stderr
    assert not state.exists()
