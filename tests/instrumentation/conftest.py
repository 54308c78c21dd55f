"""Fixtures for the instrumentation tests: otel-agent instrumented with in-memory span and metric readers.

The runtime is a process singleton, so each test instruments and uninstruments around itself (function scope);
`module_telemetry` is the module-scoped variant for property tests whose examples share one instrumentation.
Provider payloads come from `httpx2.MockTransport` (see `payloads`), which stands in for provider-only fields that
the local model server never produces.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_agent

DEFAULT_OPTIONS: dict[str, Any] = {
    "trajectories": False,
    "cost": False,
    "gpu": "off",
    "providers": ("openai", "anthropic"),
}


class EndCounter(SpanProcessor):
    """Counts `on_start` and `on_end` per span id: a span that ends twice shows up with a count of 2, one that
    started and never ended (a leak) is in `started` but not in `ends`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ends: Counter[int] = Counter()
        self.started: set[int] = set()

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        with self._lock:
            self.started.add(span.context.span_id)

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.ends[span.context.span_id] += 1

    def clear(self) -> None:
        with self._lock:
            self.ends.clear()
            self.started.clear()


@dataclass
class Telemetry:
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    ends: EndCounter
    options: dict[str, Any] = field(default_factory=dict)

    # -- spans -------------------------------------------------------------------------------------------------------
    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def inference_spans(self) -> list[ReadableSpan]:
        """Our spans (scope `otel_agent`); the SDKs' own spans are left out."""
        return [
            s
            for s in self.spans()
            if s.instrumentation_scope is not None and s.instrumentation_scope.name == "otel_agent"
        ]

    def one_span(self) -> ReadableSpan:
        spans = self.inference_spans()
        assert len(spans) == 1, [s.name for s in self.spans()]
        return spans[0]

    def assert_each_ended_once(self) -> None:
        """Every span started since the last `clear()` ended, and ended once."""
        assert all(count == 1 for count in self.ends.ends.values()), dict(self.ends.ends)
        assert self.ends.started == set(self.ends.ends), "a span started and never ended"

    def clear(self) -> None:
        self.exporter.clear()
        self.ends.clear()

    # -- metrics -----------------------------------------------------------------------------------------------------
    def metrics(self) -> dict[str, Any]:
        """Metric name -> metric (its data points under `.data.data_points`), from our scope only."""
        data = self.reader.get_metrics_data()
        found: dict[str, Any] = {}
        if data is None:
            return found
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                if scope_metrics.scope.name != "otel_agent":
                    continue
                for metric in scope_metrics.metrics:
                    found[metric.name] = metric
        return found


def _start(**options: Any) -> Telemetry:
    otel_agent.uninstrument()
    exporter = InMemorySpanExporter()
    ends = EndCounter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer_provider.add_span_processor(ends)
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    merged = {**DEFAULT_OPTIONS, **options}
    otel_agent.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider, **merged)
    return Telemetry(exporter, reader, tracer_provider, meter_provider, ends, merged)


def _stop(telemetry: Telemetry) -> None:
    otel_agent.uninstrument()
    telemetry.tracer_provider.shutdown()
    telemetry.meter_provider.shutdown()


@pytest.fixture
def instrument_with() -> Iterator[Any]:
    """Instrument with given options (once per test); uninstrumented after the test."""
    started: list[Telemetry] = []

    def start(**options: Any) -> Telemetry:
        telemetry = _start(**options)
        started.append(telemetry)
        return telemetry

    yield start
    otel_agent.uninstrument()
    for telemetry in started:
        telemetry.tracer_provider.shutdown()
        telemetry.meter_provider.shutdown()


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    """otel-agent instrumented for one test, with in-memory span and metric readers."""
    telemetry = _start()
    yield telemetry
    _stop(telemetry)


@pytest.fixture(scope="module")
def module_telemetry() -> Iterator[Telemetry]:
    """One instrumentation for a whole module (property tests: call `.clear()` per example)."""
    telemetry = _start()
    yield telemetry
    _stop(telemetry)


@pytest.fixture(autouse=True)
def _no_env_leaks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Environment variables that change what is recorded start unset in every test."""
    for name in (
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "OTEL_SEMCONV_STABILITY_OPT_IN",
        "OTEL_AGENT_CAPTURE_CONTENT",
        "OTEL_AGENT_SUPPRESS_ANTHROPIC_NATIVE_SPANS",
        "OTEL_AGENT_JOIN_INFERENCE_SPANS",
        "ANTHROPIC_OPEN_TELEMETRY",
    ):
        monkeypatch.delenv(name, raising=False)
