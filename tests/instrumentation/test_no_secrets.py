"""No secret reaches telemetry: keys planted in tool and run exceptions, in-stream error events (HTTP 200), a 401's
echoed key, ids and model names, then grepped across every span (names, attributes, status, events), every metric
data point and exemplar, every log line (with tracebacks) and the OTLP-JSON files, in every content mode.

The provider payloads are served over `httpx2.MockTransport` to the real SDKs (a stand-in for a hostile or careless
server: a real provider does not echo keys in error types).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

import otel_agent
from otel_agent.export.otlp_json_file import OtlpJsonFileMetricExporter, OtlpJsonFileSpanExporter

from . import conftest
from . import payloads as p

CORE = "Zx7Qw3Rt9Yu2Io5PLEAK"  # what must never appear; each planted secret contains it
OPENAI_SECRET = f"sk-proj-{CORE}"
ANTHROPIC_SECRET = f"sk-ant-api03-{CORE}"
MODES = ["NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"]


def _tool_failing() -> Any:
    @otel_agent.tool
    def lookup(city: str) -> str:
        raise PermissionError(f"lookup backend refused key {OPENAI_SECRET} for {city}")

    return lookup


def _scenarios() -> None:
    # 1. a run whose tool raises with the key, then the run itself raises with the key
    openai_client = p.openai_client(p.openai_server(), max_retries=0)
    lookup = _tool_failing()
    with pytest.raises(RuntimeError):
        with otel_agent.agent_run("support"):
            openai_client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
            with pytest.raises(PermissionError):
                lookup("Paris")
            raise RuntimeError(f"upstream rejected Authorization: Bearer {OPENAI_SECRET}")

    # 2. an Anthropic error event inside a 200 stream, its type and message echoing the key
    events = p.anthropic_events()[:5]
    events.append(
        (
            "error",
            {
                "type": "error",
                "error": {"type": ANTHROPIC_SECRET, "message": f"invalid x-api-key: {ANTHROPIC_SECRET}"},
            },
        )
    )
    client = p.anthropic_client(p.anthropic_server(stream=p.named_sse(events)), max_retries=0)
    with pytest.raises(anthropic.APIStatusError):
        with client.messages.stream(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES) as stream:
            for _ in stream:
                pass

    # 3. an OpenAI error chunk inside a 200 stream
    data = p.openai_sse(p.chat_chunks()[:3])[: -len(b"data: [DONE]\n\n")]
    error = {"error": {"message": f"bad key {OPENAI_SECRET}", "type": f"key {OPENAI_SECRET}", "code": None}}
    data += b"data: " + json.dumps(error).encode() + b"\n\n"
    client = p.openai_client(p.openai_server(chat_stream=data), max_retries=0)
    with pytest.raises(openai.APIError):
        for _ in client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True):
            pass

    # 4. a key in the model name, the response id, the response model and a tool call id
    body = p.chat_completion(
        cid=f"chatcmpl-{OPENAI_SECRET}",
        finish_reason="tool_calls",
        tool_calls=[
            {
                "id": f"call_{OPENAI_SECRET}",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"city": "Paris"}'},
            }
        ],
    )
    body["model"] = OPENAI_SECRET
    client = p.openai_client(p.openai_server(chat=body), max_retries=0)
    client.chat.completions.create(model=f"ft:gpt-4o:{OPENAI_SECRET}", messages=p.USER_MESSAGES)

    # 5. a gateway's 401 that echoes the key in its message and type
    server = p.Server().on(
        "/v1/chat/completions",
        lambda request: p.json_response(
            {"error": {"message": f"Incorrect API key provided: {OPENAI_SECRET}", "type": OPENAI_SECRET}}, 401
        ),
    )
    with pytest.raises(openai.AuthenticationError):
        p.openai_client(server, max_retries=0).chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    return [str(value)]


@pytest.fixture
def with_logs() -> Iterator[Any]:
    """Instrumented with in-memory spans, metrics AND log records (the inference-details event goes through the
    logs API)."""
    started: list[tuple[Any, Any]] = []

    def start(**options: Any) -> tuple[Any, Any]:
        records = InMemoryLogRecordExporter()
        logger_provider = LoggerProvider()
        logger_provider.add_log_record_processor(SimpleLogRecordProcessor(records))
        telemetry = conftest._start(**options)
        otel_agent.uninstrument()
        otel_agent.instrument(
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            logger_provider=logger_provider,
            **telemetry.options,
        )
        started.append((telemetry, logger_provider))
        return telemetry, records

    yield start
    otel_agent.uninstrument()
    for telemetry, logger_provider in started:
        telemetry.tracer_provider.shutdown()
        telemetry.meter_provider.shutdown()
        logger_provider.shutdown()


def _telemetry_text(telemetry: Any, folder: Path) -> dict[str, list[str]]:
    spans = telemetry.spans()
    found: dict[str, list[str]] = {"spans": [], "events": [], "metrics": [], "exemplars": [], "files": []}
    for span in spans:
        found["spans"] += [span.name, span.status.description or "", *_strings(dict(span.attributes or {}))]
        for event in span.events:
            found["events"] += [event.name, *_strings(dict(event.attributes or {}))]
    data = telemetry.reader.get_metrics_data()
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    found["metrics"] += _strings(dict(point.attributes or {}))
                    for exemplar in getattr(point, "exemplars", None) or ():
                        found["exemplars"] += _strings(dict(exemplar.filtered_attributes or {}))
    OtlpJsonFileSpanExporter(folder).export(spans)
    OtlpJsonFileMetricExporter(folder).export(data)
    found["files"] = [f.read_text(encoding="utf-8") for f in sorted(folder.rglob("*")) if f.is_file()]
    return found


@pytest.mark.parametrize("mode", MODES)
def test_no_secret_anywhere(mode: str, with_logs: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    telemetry, records = with_logs(capture_content=mode, trajectories=True, cost=True)
    _scenarios()
    found = _telemetry_text(telemetry, tmp_path)
    found["log records"] = [
        text
        for data in records.get_finished_logs()
        for text in (
            str(data.log_record.body),
            *_strings(dict(data.log_record.attributes or {})),
            str(getattr(data.log_record, "event_name", "")),
        )
    ]
    if mode in ("EVENT_ONLY", "SPAN_AND_EVENT"):
        assert found["log records"], "the inference-details events were exported"
    formatter = logging.Formatter("%(message)s")
    found["logs"] = [formatter.format(record) for record in caplog.records]  # messages with their tracebacks
    assert len(telemetry.inference_spans()) >= 6
    assert found["events"] and found["metrics"] and found["files"]
    leaks = {where: [text[:200] for text in texts if CORE in text] for where, texts in found.items()}
    assert not any(leaks.values()), leaks
    # what was redacted still says what happened
    spans = telemetry.spans()
    error_types = {s.attributes.get("error.type") for s in spans if s.attributes.get("error.type")}
    assert {"PermissionError", "RuntimeError", "401", "_OTHER"} <= error_types
    masked = [e for s in spans for e in s.events if e.name == "exception"]
    assert any("[REDACTED]" in str(e.attributes.get("exception.message")) for e in masked)
