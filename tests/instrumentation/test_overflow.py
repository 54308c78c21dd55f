"""One response with an absurd token count never poisons later OTLP metric exports (issue 10 item 7).

The real openai / anthropic SDKs over `httpx2.MockTransport` return token counts above int64 (`2**70`, and `1e308`,
which JSON reads as an integral float); metrics go through the real OTLP/HTTP exporter to a local sink on 127.0.0.1
(a tiny `http.server` thread standing in for a Collector), which decodes each export.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider

import otel_agent

from .payloads import (
    USER_MESSAGES,
    anthropic_client,
    anthropic_message,
    anthropic_server,
    chat_completion,
    chat_usage,
    openai_client,
    openai_server,
)


class _Sink:
    def __init__(self) -> None:
        self.exports: list[ExportMetricsServiceRequest] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                request = ExportMetricsServiceRequest()
                request.ParseFromString(body)
                sink.exports.append(request)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/metrics"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def points(self, name: str) -> list[Any]:
        """The data points of metric `name` in the latest export."""
        found: list[Any] = []
        for resource in self.exports[-1].resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        kind = metric.WhichOneof("data")
                        found.extend(getattr(metric, kind).data_points)
        return found


@pytest.fixture
def sink() -> Iterator[_Sink]:
    sink = _Sink()
    yield sink
    sink.close()


def _openai_body(value: Any) -> dict[str, Any]:
    body = chat_completion()
    body["usage"] = chat_usage()
    body["usage"]["prompt_tokens"] = value
    body["usage"]["completion_tokens_details"]["reasoning_tokens"] = value
    return body


def _anthropic_body(value: Any) -> dict[str, Any]:
    body = anthropic_message()
    body["usage"]["output_tokens"] = value
    body["usage"]["cache_read_input_tokens"] = value
    return body


@pytest.mark.parametrize("value", [2**70, 1e308], ids=["2**70", "1e308"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_an_overflowing_count_does_not_poison_later_exports(sink: _Sink, provider: str, value: Any) -> None:
    otel_agent.uninstrument()
    reader = PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=sink.endpoint), export_interval_millis=10**9)
    meter_provider = MeterProvider(metric_readers=[reader])
    tracer_provider = TracerProvider()
    otel_agent.instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        trajectories=True,
        cost=False,
        gpu="off",
        providers=("openai", "anthropic"),
    )
    try:
        if provider == "openai":
            bad = openai_client(openai_server(chat=_openai_body(value)))
            good = openai_client(openai_server())
            bad.chat.completions.create(model="gpt-5.4-mini", messages=USER_MESSAGES)
            good.chat.completions.create(model="gpt-5.4-mini", messages=USER_MESSAGES)
            expected_input = 1117
        else:
            bad = anthropic_client(anthropic_server(message=_anthropic_body(value)))
            good = anthropic_client(anthropic_server())
            kwargs: dict[str, Any] = {"model": "claude-sonnet-4-6", "max_tokens": 64, "messages": USER_MESSAGES}
            bad.messages.create(**kwargs)
            good.messages.create(**kwargs)
            expected_input = 2095 + 1500 + 3000
        assert meter_provider.force_flush(10_000)
        assert sink.exports, "the export never reached the sink"
        if provider == "openai":
            good.chat.completions.create(model="gpt-5.4-mini", messages=USER_MESSAGES)
        else:
            good.messages.create(**kwargs)
        assert meter_provider.force_flush(10_000)
        assert len(sink.exports) >= 2  # later exports still succeed
        durations = sink.points("gen_ai.client.operation.duration")
        assert sum(p.count for p in durations) == 3
        inputs = [p for p in sink.points("gen_ai.client.token.usage") if _attr(p, "gen_ai.token.type") == "input"]
        assert max(p.max for p in inputs) <= expected_input
        tokens = sink.points("otel_agent.tokens")
        assert all(p.as_int < 2**63 if p.HasField("as_int") else p.as_double < 2**63 for p in tokens)
    finally:
        otel_agent.uninstrument()
        meter_provider.shutdown()
        tracer_provider.shutdown()


def _attr(point: Any, key: str) -> Any:
    for kv in point.attributes:
        if kv.key == key:
            return kv.value.string_value
    return None
