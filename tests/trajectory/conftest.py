"""Fixtures for the trajectory tests: otel-agent instrumented with in-memory span and metric readers.

The runtime is a process singleton: each test instruments through `traj(...)` and is uninstrumented after itself.
`Harness` reads back what a scenario produced: turns (inference spans with their run id, index, waste reasons and
escalation), runs (`invoke_agent` spans), tools (`execute_tool` spans) and metric points.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_agent
from tests._model_server_fixture import model_server  # noqa: F401 - the real local model server (e2e tests)

TIERS = {"small": 1, "medium": 2, "big": 3}
DEFAULTS: dict[str, Any] = {
    "cost": False,
    "gpu": "off",
    "model_tiers": TIERS,
    "run_idle_timeout_s": 60.0,
    "providers": ("openai", "anthropic", "mcp"),
}


@dataclass(frozen=True)
class Turn:
    """One inference span, as the trajectory layer annotated it."""

    run_id: str | None
    index: int | None
    reasons: tuple[str, ...]
    escalation: tuple[str, str, str, str] | None  # (from, to, reason, direction)
    model: str | None
    stagnating: bool
    span: ReadableSpan

    @property
    def reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None


def _turn(span: ReadableSpan) -> Turn:
    a = span.attributes or {}
    escalation = None
    if "otel_agent.escalation.reason" in a:
        escalation = (
            a["otel_agent.escalation.from_model"],
            a["otel_agent.escalation.to_model"],
            a["otel_agent.escalation.reason"],
            a["otel_agent.escalation.direction"],
        )
    reasons = tuple(a.get("otel_agent.turn.waste_reasons", ()))
    assert bool(reasons) == bool(a.get("otel_agent.turn.wasted", False)), dict(a)
    if reasons:
        assert a["otel_agent.turn.waste_reason"] == reasons[0]
    return Turn(
        a.get("otel_agent.run.id"),
        a.get("otel_agent.turn.index"),
        reasons,
        escalation,
        a.get("gen_ai.request.model"),
        bool(a.get("otel_agent.turn.stagnating", False)),
        span,
    )


class Harness:
    def __init__(
        self,
        exporter: InMemorySpanExporter,
        reader: InMemoryMetricReader,
        tracer_provider: TracerProvider,
        meter_provider: MeterProvider,
    ) -> None:
        self.exporter = exporter
        self.reader = reader
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider

    # -- spans -------------------------------------------------------------------------------------------------------
    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def ours(self) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.instrumentation_scope and s.instrumentation_scope.name == "otel_agent"]

    def turns(self, run_id: str | None = None) -> list[Turn]:
        """Inference spans in start order (only those of `run_id` when given)."""
        spans = sorted(
            (s for s in self.ours() if (s.attributes or {}).get("gen_ai.operation.name") == "chat"),
            key=lambda s: s.start_time or 0,
        )
        turns = [_turn(s) for s in spans]
        return [t for t in turns if run_id is None or t.run_id == run_id]

    def runs(self) -> list[ReadableSpan]:
        return sorted((s for s in self.ours() if s.name.startswith("invoke_agent")), key=lambda s: s.start_time or 0)

    def run(self) -> ReadableSpan:
        runs = self.runs()
        assert len(runs) == 1, [(r.name, dict(r.attributes or {})) for r in runs]
        return runs[0]

    def tools(self) -> list[ReadableSpan]:
        return sorted((s for s in self.ours() if s.name.startswith("execute_tool")), key=lambda s: s.start_time or 0)

    def wait_for_runs(self, count: int, timeout: float = 10.0) -> list[ReadableSpan]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.runs()) >= count:
                return self.runs()
            time.sleep(0.02)
        raise AssertionError(f"{len(self.runs())} runs ended within {timeout}s, expected {count}")

    def finish(self) -> None:
        """Uninstrument: inferred runs still open end with reason `shutdown`."""
        otel_agent.uninstrument()

    # -- metrics -----------------------------------------------------------------------------------------------------
    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        found: list[Any] = []
        if data is None:
            return found
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                if scope_metrics.scope.name != "otel_agent":
                    continue
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)
        return found

    def counter(self, name: str, **labels: Any) -> float:
        """Sum of a counter's points whose attributes include `labels` (dots written as `__`)."""
        wanted = {key.replace("__", "."): value for key, value in labels.items()}
        return sum(p.value for p in self.points(name) if all(dict(p.attributes).get(k) == v for k, v in wanted.items()))


@pytest.fixture
def traj() -> Iterator[Any]:
    """`traj(**options)` instruments otel-agent with in-memory readers and returns a Harness."""
    started: list[Harness] = []

    def start(**options: Any) -> Harness:
        otel_agent.uninstrument()
        exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        reader = InMemoryMetricReader()
        meter_provider = MeterProvider(metric_readers=[reader])
        otel_agent.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider, **{**DEFAULTS, **options})
        harness = Harness(exporter, reader, tracer_provider, meter_provider)
        started.append(harness)
        return harness

    yield start
    otel_agent.uninstrument()
    for harness in started:
        harness.tracer_provider.shutdown()
        harness.meter_provider.shutdown()


@pytest.fixture(autouse=True)
def _no_env_leaks(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "OTEL_SEMCONV_STABILITY_OPT_IN",
        "OTEL_AGENT_CAPTURE_CONTENT",
        "OTEL_AGENT_MODEL_TIERS",
        "OTEL_AGENT_RUN_IDLE_TIMEOUT",
        "OTEL_AGENT_STAGNATION_WINDOW",
        "OTEL_SERVICE_NAME",
        "OTEL_AGENT_SERVICE_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
