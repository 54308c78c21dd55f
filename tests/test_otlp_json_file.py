"""The OTLP/JSON lines file exporters, with the real SDK: the collector's ``file`` exporter line format."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExportResult, MetricsData, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult

from otel_agent.export import METRICS_FILE, TRACES_FILE, OtlpJsonFileMetricExporter, OtlpJsonFileSpanExporter
from otel_agent.telemetry import names as n

G = n.GenAINames.resolve(latest=False)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_span_lines_are_otlp_json(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "folder"  # created on first export
    provider = TracerProvider(resource=Resource.create({"service.name": "svc"}))
    provider.add_span_processor(SimpleSpanProcessor(OtlpJsonFileSpanExporter(folder)))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("invoke_agent coder") as root:
        with tracer.start_as_current_span(
            "chat m",
            attributes={G.usage_input: 12, n.TURN_WASTED: True, G.cost_amount: 0.5, n.TURN_WASTE_REASONS: ["a", "b"]},
        ) as child:
            child.add_event(n.ESCALATION_EVENT, {n.ESCALATION_FROM_MODEL: "s"})
    provider.shutdown()
    lines = _lines(folder / TRACES_FILE)
    assert len(lines) == 2  # one export request per export call (SimpleSpanProcessor: per span)
    child_json = lines[0]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    root_json = lines[1]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert child_json["traceId"] == format(child.get_span_context().trace_id, "032x")
    assert child_json["spanId"] == format(child.get_span_context().span_id, "016x")
    assert child_json["parentSpanId"] == format(root.get_span_context().span_id, "016x") == root_json["spanId"]
    assert child_json["kind"] == 1  # enums as integers
    assert int(child_json["startTimeUnixNano"]) > 0
    attributes = {a["key"]: a["value"] for a in child_json["attributes"]}
    assert attributes[G.usage_input] == {"intValue": "12"}
    assert attributes[n.TURN_WASTED] == {"boolValue": True}
    assert attributes[G.cost_amount] == {"doubleValue": 0.5}
    assert attributes[n.TURN_WASTE_REASONS] == {"arrayValue": {"values": [{"stringValue": "a"}, {"stringValue": "b"}]}}
    assert child_json["events"][0]["name"] == n.ESCALATION_EVENT
    resource = {a["key"]: a["value"] for a in lines[0]["resourceSpans"][0]["resource"]["attributes"]}
    assert resource["service.name"] == {"stringValue": "svc"}


def test_metric_lines_carry_the_recorded_counter(tmp_path: Path) -> None:
    exporter = OtlpJsonFileMetricExporter(tmp_path)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(metric_readers=[reader], resource=Resource.create({"service.name": "svc"}))
    counter = provider.get_meter("t").create_counter(n.M_TURNS.name, unit=n.M_TURNS.unit)
    counter.add(3, {n.TURN_WASTED: True, n.TURN_WASTE_REASON: "loop"})
    counter.add(4, {n.TURN_WASTED: True, n.TURN_WASTE_REASON: "loop"})
    provider.force_flush()
    counter.add(1, {n.TURN_WASTED: True, n.TURN_WASTE_REASON: "loop"})
    provider.shutdown()
    lines = _lines(tmp_path / METRICS_FILE)
    values = []
    for line in lines:
        for scope in line["resourceMetrics"][0]["scopeMetrics"]:
            for metric in scope["metrics"]:
                assert metric["name"] == n.M_TURNS.name
                assert metric["unit"] == n.M_TURNS.unit
                assert metric["sum"]["aggregationTemporality"] == 2  # cumulative
                assert metric["sum"]["isMonotonic"] is True
                (point,) = metric["sum"]["dataPoints"]
                attributes = {a["key"]: a["value"] for a in point["attributes"]}
                assert attributes[n.TURN_WASTE_REASON] == {"stringValue": "loop"}
                values.append(int(point["asInt"]))
    assert values == [7, 8]  # cumulative across the two exports


def test_exporters_never_raise_and_log_once(tmp_path: Path, caplog: Any) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a file where the folder should be
    spans = OtlpJsonFileSpanExporter(blocker)
    provider = TracerProvider()
    with provider.get_tracer("t").start_as_current_span("x") as span:
        pass
    caplog.set_level(logging.DEBUG, logger="otel_agent.export")
    assert spans.export([span]) is SpanExportResult.FAILURE  # type: ignore[list-item]
    assert spans.export([span]) is SpanExportResult.FAILURE  # type: ignore[list-item]
    assert len([r for r in caplog.records if r.name == "otel_agent.export"]) == 1
    metrics = OtlpJsonFileMetricExporter(blocker)
    assert metrics.export(MetricsData(resource_metrics=[])) is MetricExportResult.FAILURE
    assert metrics.force_flush() is True
    spans.shutdown()
    metrics.shutdown()


def test_after_shutdown_exports_fail_quietly(tmp_path: Path) -> None:
    exporter = OtlpJsonFileSpanExporter(tmp_path)
    exporter.shutdown()
    with TracerProvider().get_tracer("t").start_as_current_span("x") as span:
        pass
    assert exporter.export([span]) is SpanExportResult.FAILURE  # type: ignore[list-item]
    assert not (tmp_path / TRACES_FILE).exists()


def test_concurrent_exports_write_whole_lines(tmp_path: Path) -> None:
    provider = TracerProvider()
    tracer = provider.get_tracer("t")
    exporters = [OtlpJsonFileSpanExporter(tmp_path) for _ in range(4)]
    big = "x" * 20_000

    def work(exporter: OtlpJsonFileSpanExporter) -> None:
        for _ in range(25):
            with tracer.start_as_current_span("s", attributes={"payload": big}) as span:
                pass
            assert exporter.export([span]) is SpanExportResult.SUCCESS  # type: ignore[list-item]

    threads = [threading.Thread(target=work, args=(e,)) for e in exporters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = _lines(tmp_path / TRACES_FILE)
    assert len(lines) == 100
    assert all(line["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"] == "s" for line in lines)
