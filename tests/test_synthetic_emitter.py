"""The synthetic stack emitter goes through the library's own telemetry, so what it emits is what the library emits.

No backend here: in-memory span and metric readers replace the emitter's OTLP exporters; the stack tests
(OTEL_AGENT_STACK_TESTS=1) check the same runs in the real Jaeger/Prometheus.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_agent.telemetry import names as n
from otel_agent_tools.stack.synthetic import SyntheticAgentTelemetry, scenario

ESCALATION_REASONS = {"stagnation", "explicit", "unspecified"}


def _emit(kind: str) -> tuple[Any, list[Any], dict[str, list[dict[str, Any]]]]:
    """One run of `kind`: what the emitter says it emitted, its spans, and each metric's attribute sets."""
    memory = InMemorySpanExporter()
    reader = InMemoryMetricReader()
    emitter = SyntheticAgentTelemetry(
        "http://127.0.0.1:9", "synthetic-test", span_processor=SimpleSpanProcessor(memory), metric_reader=reader
    )
    try:
        run = emitter.emit(scenario(kind))
        labels: dict[str, list[dict[str, Any]]] = {}
        data = reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    labels[metric.name] = [dict(p.attributes or {}) for p in metric.data.data_points]
        return run, list(memory.get_finished_spans()), labels
    finally:
        emitter.shutdown()


def test_escalated_run_has_the_real_shapes() -> None:
    run, spans, metrics = _emit("escalated")
    by_op = {}
    for span in spans:
        by_op.setdefault(span.attributes["gen_ai.operation.name"], []).append(span)
    (root,) = by_op[n.OPERATION_INVOKE_AGENT]
    turns = by_op[n.OPERATION_CHAT]
    assert [s.name for s in spans if s.parent is None] == [root.name]
    assert all(s.parent.span_id == root.context.span_id for s in spans if s is not root)
    assert root.attributes[n.RUN_ESCALATIONS] == run.escalations == 1
    assert root.attributes[n.RUN_ID] == run.run_id and all(t.attributes[n.RUN_ID] == run.run_id for t in turns)
    assert all(isinstance(t.attributes[n.TURN_MODEL_TIER], float) for t in turns)
    (event,) = [e for t in turns for e in t.events if e.name == n.ESCALATION_EVENT]
    assert event.attributes[n.ESCALATION_REASON] in ESCALATION_REASONS
    assert {t.attributes[n.COST_PRICE_SOURCE] for t in turns} == {"user"}
    assert sum(t.attributes["gen_ai.usage.output_tokens"] for t in turns) == run.tokens["output"]
    # the run metrics carry the library's label sets
    (runs,) = metrics["otel_agent.runs"]
    assert runs == {
        "gen_ai.agent.name": "e2e-agent",
        n.RUN_OUTCOME: "success",
        n.RUN_STAGNATED: False,
        n.RUN_MISSED_ESCALATION: False,
    }
    (escalation,) = metrics["otel_agent.escalations"]
    assert escalation[n.ESCALATION_REASON] in ESCALATION_REASONS


def test_tool_spans_are_the_decorators() -> None:
    run, spans, metrics = _emit("wasted")
    tools = [s for s in spans if s.attributes["gen_ai.operation.name"] == n.OPERATION_EXECUTE_TOOL]
    assert tools and all(t.attributes[n.TOOL_SOURCE] == "decorator" for t in tools)
    assert all(t.attributes[n.TOOL_IS_ERROR] is False and n.TOOL_TURN_INDEX in t.attributes for t in tools)
    assert run.wasted_turns == 1 and len(spans) == run.span_count
    # tool calls counted with the library's labels (no agent name: the real counter has none)
    assert metrics["otel_agent.tool.calls"] == [
        {"gen_ai.tool.name": "search", n.TOOL_SOURCE: "decorator", n.TOOL_IS_ERROR: False}
    ]
