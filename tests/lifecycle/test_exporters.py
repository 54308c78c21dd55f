"""Exporters by the standard variables, in subprocesses against loopback OTLP sinks on 127.0.0.1 (HTTP and gRPC)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ._support import grpc_sink, http_sink, run_child, spans_in

RUN_SPAN = "invoke_agent agent"


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
@pytest.mark.parametrize("per_signal", [False, True])
def test_the_protocol_variable_chooses_grpc_or_http(tmp_path: Path, protocol: str, per_signal: bool) -> None:
    sink = grpc_sink if protocol == "grpc" else http_sink
    with sink() as (port, received):
        variable = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" if per_signal else "OTEL_EXPORTER_OTLP_PROTOCOL"
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}", variable: protocol}
        if per_signal:  # the general variable says the other protocol: the per-signal one wins for traces
            env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf" if protocol == "grpc" else "grpc"
            env["OTEL_METRICS_EXPORTER"] = "none"
        done = run_child("owned", tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert received.span_names.count("chat gpt-5.4-mini") == 2, (received, done.stderr)
    assert RUN_SPAN in received.span_names
    expected = "traces" if protocol == "grpc" else "/v1/traces"
    assert expected in received.calls
    assert "telemetry dropped" not in done.stderr


def test_every_listed_exporter_is_installed(tmp_path: Path) -> None:
    with http_sink() as (port, received):
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "OTEL_TRACES_EXPORTER": "otlp,console,otlp_json_file",
            "OTEL_METRICS_EXPORTER": "none",
        }
        done = run_child("owned", tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert RUN_SPAN in received.span_names  # otlp
    assert f'"name": "{RUN_SPAN}"' in done.stdout  # console
    assert RUN_SPAN in {s["name"] for s in spans_in(tmp_path)}  # the OTLP-JSON file
    assert "/v1/metrics" not in received.calls and not (tmp_path / "metrics.otlp.jsonl").exists()  # none


def test_a_bad_exporter_name_is_one_warning_and_the_default(tmp_path: Path) -> None:
    env = {"OTEL_TRACES_EXPORTER": "jaegerr", "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"}
    done = run_child("owned", tmp_path, env)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len([x for x in lines if "OTEL_TRACES_EXPORTER" in x]) == 1, done.stderr
    assert len([x for x in lines if "OTEL_EXPORTER_OTLP_PROTOCOL" in x]) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert RUN_SPAN in {s["name"] for s in spans_in(tmp_path)}  # the default: the OTLP-JSON file


def test_exporter_variables_parse(caplog: pytest.LogCaptureFixture) -> None:
    from otel_agent.config import otlp_protocol, signal_exporters

    assert signal_exporters("traces", {}) is None
    assert signal_exporters("traces", {"OTEL_TRACES_EXPORTER": " OTLP , console "}) == ("otlp", "console")
    assert signal_exporters("logs", {"OTEL_LOGS_EXPORTER": "none"}) == ("none",)
    assert signal_exporters("metrics", {"OTEL_METRICS_EXPORTER": "otlp_json_file"}) == ("file",)
    with caplog.at_level(logging.WARNING, logger="otel_agent"):
        assert signal_exporters("metrics", {"OTEL_METRICS_EXPORTER": "prometheus-ish"}) is None
        assert signal_exporters("metrics", {"OTEL_METRICS_EXPORTER": "prometheus-ish,otlp"}) == ("otlp",)
    assert otlp_protocol("traces", {}) == "http/protobuf"
    assert otlp_protocol("traces", {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}) == "grpc"
    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/protobuf"}
    assert otlp_protocol("logs", env) == "http/protobuf" and otlp_protocol("traces", env) == "grpc"
    with caplog.at_level(logging.WARNING, logger="otel_agent"):
        assert otlp_protocol("traces", {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}) == "http/protobuf"
    assert any("http/json" in r.getMessage() for r in caplog.records)


EVENT = "gen_ai.client.inference.operation.details"


def _file_events(folder: Path) -> list[str]:
    import json

    path = folder / "logs.otlp.jsonl"
    if not path.exists():
        return []
    return [
        record["eventName"]
        for line in path.read_text().splitlines()
        for resource in json.loads(line)["resourceLogs"]
        for scope in resource["scopeLogs"]
        for record in scope["logRecords"]
    ]


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_content_events_go_to_the_logs_exporter(tmp_path: Path, protocol: str) -> None:
    sink = grpc_sink if protocol == "grpc" else http_sink
    with sink() as (port, received):
        env = {
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "EVENT_ONLY",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_LOGS_EXPORTER": "otlp,otlp_json_file",
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_METRICS_EXPORTER": "none",
        }
        done = run_child("owned", tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert received.log_events.count(EVENT) == 2, (received, done.stderr)
    assert _file_events(tmp_path).count(EVENT) == 2
    assert received.span_names == [] and not (tmp_path / "traces.otlp.jsonl").exists()


def test_grpc_without_its_extra_is_one_warning_and_http(tmp_path: Path) -> None:
    """The `grpc` extra missing (a stand-in: a sitecustomize makes its import fail): one line, then HTTP."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nsys.modules['opentelemetry.exporter.otlp.proto.grpc'] = None\n"
    )
    with http_sink() as (port, received):
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_METRICS_EXPORTER": "none",
            "PYTHONPATH_EXTRA": str(blocker),
        }
        done = run_child("owned", tmp_path / "out", env)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "otel-agent[grpc]" in line]
    assert len(warnings) == 1, done.stderr
    assert RUN_SPAN in received.span_names and "/v1/traces" in received.calls
