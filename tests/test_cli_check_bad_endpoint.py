"""`otel-agent check` with an OTLP endpoint that is not a usable URL: one line on stderr, exit code 2 (a user error,
as main.py and the README document), never a traceback; the reachability helper the demo shares never raises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from otel_agent_tools.cli.check import endpoint_reachable

BAD = [
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:99999"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:0"),
    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:-1/v1/traces"),
    ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "not a url"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://:4318"),
]


@pytest.mark.parametrize(("variable", "value"), BAD)
def test_check_with_a_bad_endpoint_is_one_line_and_exit_2(tmp_path: Path, variable: str, value: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env[variable] = value
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from otel_agent_tools.cli.main import main; sys.exit(main(['check']))"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and variable in lines[0] and value in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.mark.parametrize("value", [v for _, v in BAD])
def test_endpoint_reachable_never_raises(value: str) -> None:
    ok, detail = endpoint_reachable(value, timeout=0.1)
    assert ok is False and "\n" not in detail
