"""Loading spans from Jaeger's query API (api/v3 OTLP/JSON, and the older api/traces), served locally."""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from otel_agent.telemetry import names as n
from otel_agent_tools.cli.report import add_parser, run
from otel_agent_tools.report.jaeger import fetch_jaeger_spans, parse_jaeger_json
from otel_agent_tools.report.load import read_otlp_json_file
from otel_agent_tools.report.model import build_runs
from otel_agent_tools.report.otlp_json import parse_otlp_json
from tests._report_spans import RUNS, WASTEFUL, write_runs


class FakeJaeger:
    """Answers like Jaeger's query service; `routes` maps a path to (status, body)."""

    def __init__(self, routes: dict[str, tuple[int, Any]]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                fake.requests.append((url.path, parse_qs(url.query)))
                status, body = fake.routes.get(url.path, (404, "404 page not found"))
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeJaeger:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_runs(tmp_path_factory.mktemp("telemetry"))


def v3_answer(trace_file: Path, service: str | None = None) -> dict[str, Any]:
    """The file's export requests merged into one api/v3 answer, as Jaeger returns them."""
    resource_spans = []
    for line in trace_file.read_text().splitlines():
        for rs in json.loads(line)["resourceSpans"]:
            names = {a["value"]["stringValue"] for a in rs["resource"]["attributes"] if a["key"] == "service.name"}
            if service is None or service in names:
                resource_spans.append(rs)
    return {"result": {"resourceSpans": resource_spans}}


def report(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="otel-agent")
    add_parser(parser.add_subparsers(dest="command"))
    code = run(parser.parse_args(["report", *argv]))
    out, err = capsys.readouterr()
    return code, out, err


def test_v3_answer_parses_like_the_file(trace_file: Path) -> None:
    from_file = sorted(read_otlp_json_file(trace_file), key=lambda s: s.span_id)
    from_v3 = sorted(parse_otlp_json(v3_answer(trace_file)), key=lambda s: s.span_id)
    assert from_v3 == from_file
    waste = next(s for s in from_v3 if s.attributes.get(n.TURN_WASTE_REASON) == "tool_error")
    assert waste.attributes[n.TURN_INDEX] == 5 and isinstance(waste.attributes[n.TURN_INDEX], int)
    assert waste.service_name == "agents"


def test_report_from_jaeger_v3(trace_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    routes = {"/api/v3/traces": (200, v3_answer(trace_file, "agents"))}
    with FakeJaeger(routes) as jaeger:
        code, out, err = report(
            [
                "--jaeger",
                jaeger.url,
                "--service",
                "agents",
                "--since",
                "100000d",
                "--format",
                "json",
                "--no-list-prices",
            ],
            capsys,
        )
    assert code == 0, err
    document = json.loads(out)
    assert [r["run_id"] for r in document["runs"]] == ["run-clean", "run-waste"]
    row = document["runs"][1]
    assert row["wasted_by_reason"] == {"repeated_tool_call": 2, "no_progress": 1, "tool_error": 1}
    assert row["cost"] == pytest.approx(sum(t.cost or 0.0 for t in WASTEFUL.turns))
    assert document["timeline"]["turns"][3]["escalation"]["to_model"] == "large-model"
    ((path, query),) = jaeger.requests
    assert path == "/api/v3/traces"
    assert query["query.service_name"] == ["agents"]
    assert query["query.start_time_min"][0].endswith("Z") and "T" in query["query.start_time_min"][0]
    assert query["query.start_time_max"][0] > query["query.start_time_min"][0]


def test_without_a_service_every_service_but_jaeger_is_searched(trace_file: Path) -> None:
    routes = {
        "/api/v3/services": (200, {"services": ["agents", "jaeger", "other-service"]}),
        "/api/v3/traces": (200, v3_answer(trace_file)),
    }
    with FakeJaeger(routes) as jaeger:
        spans = fetch_jaeger_spans(jaeger.url, None, 0, 10**19)
    searched = [q["query.service_name"][0] for p, q in jaeger.requests if p == "/api/v3/traces"]
    assert searched == ["agents", "other-service"]
    assert len(build_runs(spans)) == len(RUNS)


def test_no_traces_found_is_an_empty_answer(capsys: pytest.CaptureFixture[str]) -> None:
    body = {"error": {"httpCode": 404, "message": "trace not found"}}
    with FakeJaeger({"/api/v3/traces": (404, body)}) as jaeger:
        assert fetch_jaeger_spans(jaeger.url, "agents", 0, 1) == []
        code, _, err = report(["--jaeger", jaeger.url, "--service", "agents"], capsys)
    assert code == 3 and "no agent runs" in err


def test_server_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    body = {"error": {"httpCode": 500, "message": "storage unavailable"}}
    with FakeJaeger({"/api/v3/traces": (500, body)}) as jaeger:
        code, _, err = report(["--jaeger", jaeger.url, "--service", "agents"], capsys)
    assert code == 2
    assert err == "otel-agent report: Jaeger trace query failed (500): storage unavailable\n"


JAEGER_JSON = {
    "data": [
        {
            "traceID": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "processes": {"p1": {"serviceName": "agents", "tags": []}},
            "spans": [
                {
                    "traceID": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
                    "spanID": "1111111111111111",
                    "operationName": "invoke_agent coder",
                    "references": [],
                    "startTime": 1_760_000_000_000_000,
                    "duration": 9_000_000,
                    "processID": "p1",
                    "logs": [],
                    "tags": [
                        {"key": "gen_ai.operation.name", "type": "string", "value": "invoke_agent"},
                        {"key": "otel_agent.run.id", "type": "string", "value": "legacy-run"},
                        {"key": "otel_agent.run.outcome", "type": "string", "value": "success"},
                    ],
                },
                {
                    "traceID": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
                    "spanID": "2222222222222222",
                    "operationName": "chat m1",
                    "references": [
                        {
                            "refType": "CHILD_OF",
                            "traceID": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
                            "spanID": "1111111111111111",
                        }
                    ],
                    "startTime": 1_760_000_001_000_000,
                    "duration": 2_000_000,
                    "processID": "p1",
                    "logs": [
                        {
                            "timestamp": 1_760_000_001_000_000,
                            "fields": [
                                {"key": "event", "type": "string", "value": "otel_agent.escalation"},
                                {"key": "otel_agent.escalation.from_model", "type": "string", "value": "m0"},
                                {"key": "otel_agent.escalation.to_model", "type": "string", "value": "m1"},
                                {"key": "otel_agent.escalation.reason", "type": "string", "value": "stagnation"},
                            ],
                        }
                    ],
                    "tags": [
                        {"key": "gen_ai.operation.name", "type": "string", "value": "chat"},
                        {"key": "gen_ai.response.model", "type": "string", "value": "m1"},
                        {"key": "gen_ai.usage.input_tokens", "type": "int64", "value": 100},
                        {"key": "gen_ai.usage.cost.amount", "type": "float64", "value": 0.25},
                        {"key": "otel_agent.turn.wasted", "type": "bool", "value": True},
                        {"key": "otel_agent.turn.waste_reason", "type": "string", "value": "loop"},
                        {"key": "otel.status_code", "type": "string", "value": "ERROR"},
                    ],
                },
            ],
        }
    ]
}


def test_legacy_api_traces_fallback() -> None:
    routes = {"/api/services": (200, {"data": ["agents", "jaeger"]}), "/api/traces": (200, JAEGER_JSON)}
    with FakeJaeger(routes) as jaeger:
        spans = fetch_jaeger_spans(jaeger.url, None, 0, 10**19)
    assert [p for p, _ in jaeger.requests] == ["/api/v3/services", "/api/services", "/api/traces"]
    (run_,) = build_runs(spans)
    assert run_.run_id == "legacy-run" and run_.service == "agents" and run_.outcome == "success"
    assert run_.wall_time_s == pytest.approx(9.0)
    (turn,) = run_.turns
    assert (turn.model, turn.input_tokens, turn.cost, turn.waste_reasons) == ("m1", 100, 0.25, ("loop",))
    assert turn.escalation is not None and (turn.escalation.from_model, turn.escalation.to_model) == ("m0", "m1")
    assert turn.error_type == "error"
    assert parse_jaeger_json(JAEGER_JSON)[1].parent_id == "1111111111111111"
