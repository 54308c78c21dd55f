"""The guard on an application's tracer provider: its shutdown ends the open runs first (their spans are exported),
and only for the runtime that uses it. The real openai SDK over `httpx2.MockTransport` (a stand-in for the API)."""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_agent

from ..instrumentation import payloads as p

OPTIONS = {"cost": False, "gpu": "off", "providers": ("openai",), "run_idle_timeout_s": 600.0}


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _run_spans(exporter: InMemorySpanExporter) -> list[str]:
    return [s.name for s in exporter.get_finished_spans() if s.name.startswith("invoke_agent")]


def test_the_applications_shutdown_ends_open_runs_first_and_an_old_providers_does_not() -> None:
    old, old_spans = _provider()
    meter = MeterProvider(metric_readers=[InMemoryMetricReader()], shutdown_on_exit=False)
    otel_agent.uninstrument()
    try:
        otel_agent.instrument(tracer_provider=old, meter_provider=meter, **OPTIONS)
        otel_agent.uninstrument()
        new, new_spans = _provider()
        otel_agent.instrument(tracer_provider=new, meter_provider=meter, **OPTIONS)
        client = p.openai_client(p.openai_server())
        history = list(p.USER_MESSAGES)
        reply = client.chat.completions.create(model=p.OPENAI_MODEL, messages=history)
        history += [
            {"role": "assistant", "content": reply.choices[0].message.content},
            {"role": "user", "content": "And Italy?"},
        ]
        client.chat.completions.create(model=p.OPENAI_MODEL, messages=history)  # a second turn: an agent run
        assert _run_spans(new_spans) == []  # the inferred run is open
        old.shutdown()  # an earlier provider going away leaves the current runtime's runs alone
        assert _run_spans(new_spans) == [] and _run_spans(old_spans) == []
        new.shutdown()  # the application shuts its provider down itself: the run ends first, and is exported
        assert len(_run_spans(new_spans)) == 1
    finally:
        otel_agent.uninstrument()
        meter.shutdown()
