"""`otel-agent check` says when spans were dropped: by the SDK (its own otel.sdk.processor.span.processed counter
with error.type) and by the collector (receiver refused, queue full, send failed), read from Prometheus.

Prometheus here is a loopback stand-in answering /api/v1/query with fixed series (the stack tests cover the real
collector's counters through a real Prometheus).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from otel_agent_tools.cli.check import DROP_QUERIES, drop_checks


@pytest.fixture
def prometheus() -> Iterator[tuple[str, dict[str, float | None]]]:
    answers: dict[str, float | None] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)["query"][0]
            value = answers.get(query)
            result = [] if value is None else [{"metric": {}, "value": [0, str(value)]}]
            body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answers
    server.shutdown()


def check(tmp_path: Path, *args: str) -> tuple[int, dict[str, dict[str, object]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update({"OTEL_AGENT_STACK_DIR": str(tmp_path / "no-stack"), "OTEL_AGENT_EXPORTERS": "none"})
    result = subprocess.run(
        [sys.executable, "-m", "otel_agent_tools.cli.main", "check", "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.stdout, result.stderr
    return result.returncode, {c["item"]: c for c in json.loads(result.stdout)}


def test_check_reports_spans_dropped_by_the_sdk_and_the_collector(
    tmp_path: Path, prometheus: tuple[str, dict[str, float | None]]
) -> None:
    url, answers = prometheus
    sdk, receiver, queue, send = (expr for _, expr in DROP_QUERIES)
    answers.update({sdk: 312.0, receiver: 0.0, queue: 40.0, send: 0.0})
    code, checks = check(tmp_path, "--prometheus", url)
    assert code == 4
    assert checks["spans dropped by the SDK"]["ok"] is False and "312" in str(
        checks["spans dropped by the SDK"]["detail"]
    )
    assert checks["spans refused by a full collector queue"]["detail"] == "40 DROPPED"
    assert checks["spans refused by the collector's receiver"]["ok"] is True
    assert checks["spans the collector failed to send"]["ok"] is True


def test_check_with_nothing_dropped_passes_those_checks(prometheus: tuple[str, dict[str, float | None]]) -> None:
    url, answers = prometheus
    answers.update({expr: 0.0 for _, expr in DROP_QUERIES[1:]})  # the SDK's counter absent: nothing reported it
    checks = {c.item: c for c in drop_checks(url)}
    assert all(checks[what].ok for what, _ in DROP_QUERIES)
    assert "no such series" in checks["spans dropped by the SDK"].detail


def test_check_says_when_prometheus_cannot_be_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (unreachable,) = drop_checks("http://127.0.0.1:9/")
    assert unreachable.ok is False and "cannot query Prometheus" in unreachable.detail
    monkeypatch.setenv("OTEL_AGENT_STACK_DIR", str(tmp_path / "no-stack"))
    (skipped,) = drop_checks(None)
    assert skipped.ok is True and skipped.detail == "not checked (no Prometheus: pass --prometheus URL)"
