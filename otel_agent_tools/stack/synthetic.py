"""A synthetic agent-run emitter: the spans and metrics otel-agent emits, written with the OpenTelemetry SDK only.

It exists to drive the backend stack (end-to-end tests, throughput benchmark, `otel-agent stack up --demo`)
without an LLM. Every name comes from :mod:`otel_agent.telemetry.names` and the metric attribute sets follow
``otel_agent/telemetry/inference.py``, so Jaeger and Prometheus see what a real instrumented agent produces:

    invoke_agent {agent}            run totals (otel_agent.run.*), status ERROR on failure
      chat {model}                  one per turn: usage, cost, otel_agent.turn.* (wasted, waste_reason),
                                    an `otel_agent.escalation` event when the model changes
      execute_tool {tool}           tool calls of that turn

Command line (used as a separate process by the fault test and the benchmark):
    python -m otel_agent_tools.stack.synthetic --endpoint http://127.0.0.1:4318 --service demo --rate 5 --duration 30
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_agent.telemetry import names as n

SCOPE = "otel_agent_tools.stack.synthetic"


@dataclass
class TurnSpec:
    model: str = "small-model"
    input_tokens: int = 1200
    output_tokens: int = 300
    reasoning_tokens: int = 100
    cost_input: float = 0.0012
    cost_output: float = 0.0030
    cost_reasoning: float = 0.0010
    wasted: bool = False
    waste_reason: str | None = None
    escalated_from: str | None = None  # set when this turn escalated to `model` from another model
    tool: str | None = "search"
    tool_error: bool = False
    error: bool = False  # the inference call failed (span status ERROR, error.type)

    @property
    def cost(self) -> float:
        return self.cost_input + self.cost_output + self.cost_reasoning


@dataclass
class RunSpec:
    agent: str = "e2e-agent"
    turns: list[TurnSpec] = field(default_factory=lambda: [TurnSpec(), TurnSpec(tool=None)])
    outcome: str = "success"  # success | failure | unknown
    provider: str = "openai"
    duration_s: float = 2.0  # synthetic wall time: the run ends "now" and started this long ago


@dataclass
class EmittedRun:
    """What was emitted, in the units the backends report (so assertions never hard-code values)."""

    trace_id: str
    run_id: str
    service_name: str
    agent: str
    span_count: int
    turns: int
    wasted_turns: int
    escalations: int
    tokens: dict[str, int]  # by gen_ai.token.type
    cost: dict[str, float]  # by otel_agent.cost.component
    cost_total: float
    outcome: str
    failed: bool
    end_time_ns: int
    span_names: list[str]


def scenario(kind: str, agent: str = "e2e-agent", cost_scale: float = 1.0) -> RunSpec:
    """Named run shapes: clean, wasted, escalated, expensive, failed, failed_outcome, long."""

    def turn(**kw: Any) -> TurnSpec:
        t = TurnSpec(**kw)
        t.cost_input *= cost_scale
        t.cost_output *= cost_scale
        t.cost_reasoning *= cost_scale
        return t

    if kind == "clean":
        return RunSpec(agent=agent, turns=[turn(), turn(tool=None)])
    if kind == "wasted":
        return RunSpec(
            agent=agent, turns=[turn(), turn(wasted=True, waste_reason="repeated_tool_call"), turn(tool=None)]
        )
    if kind == "escalated":
        return RunSpec(
            agent=agent,
            turns=[turn(), turn(model="large-model", escalated_from="small-model", cost_output=0.03, tool=None)],
        )
    if kind == "expensive":
        return RunSpec(agent=agent, turns=[turn(cost_input=0.4, cost_output=0.5), turn(tool=None)])
    if kind == "failed":
        return RunSpec(agent=agent, outcome="failure", turns=[turn(), turn(error=True, tool=None)])
    if kind == "failed_outcome":
        return RunSpec(agent=agent, outcome="failure", turns=[turn(), turn(tool=None)])
    if kind == "long":
        return RunSpec(agent=agent, duration_s=300.0, turns=[turn(), turn(tool=None)])
    raise ValueError(f"unknown scenario {kind!r}")


def _views() -> list[View]:
    return [
        View(instrument_name=spec.name, aggregation=ExplicitBucketHistogramAggregation(list(spec.buckets)))
        for spec in n.ALL_METRICS
        if spec.kind == "histogram" and spec.buckets
    ]


class SyntheticAgentTelemetry:
    """Own tracer/meter providers (never the global ones) exporting OTLP/HTTP to ``endpoint``."""

    def __init__(
        self,
        endpoint: str,
        service_name: str,
        *,
        metric_interval_ms: int = 1000,
        span_schedule_delay_ms: int = 200,
        export_timeout_s: float = 5.0,
        resource_attributes: dict[str, Any] | None = None,
        max_queue_size: int = 2048,
    ) -> None:
        self.service_name = service_name
        endpoint = endpoint.rstrip("/")
        res = Resource.create({"service.name": service_name, **(resource_attributes or {})})
        self.tracer_provider = TracerProvider(resource=res)
        self.tracer_provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=export_timeout_s),
                schedule_delay_millis=span_schedule_delay_ms,
                max_queue_size=max_queue_size,
            )
        )
        self.reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics", timeout=export_timeout_s),
            export_interval_millis=metric_interval_ms,
            export_timeout_millis=export_timeout_s * 1000,
        )
        self.meter_provider = MeterProvider(metric_readers=[self.reader], resource=res, views=_views())
        self.tracer = self.tracer_provider.get_tracer(SCOPE)
        meter = self.meter_provider.get_meter(SCOPE)
        self.g = n.GenAINames.resolve(latest=False)

        def make(spec: n.MetricSpec) -> Any:
            factory = {
                "counter": meter.create_counter,
                "histogram": meter.create_histogram,
                "updown_counter": meter.create_up_down_counter,
            }[spec.kind]
            return factory(spec.name, unit=spec.unit, description=spec.description)

        self.m_tokens = make(n.M_TOKENS)
        self.m_cost = make(n.M_COST)
        self.m_turns = make(n.M_TURNS)
        self.m_escalations = make(n.M_ESCALATIONS)
        self.m_runs = make(n.M_RUNS)
        self.m_tool_calls = make(n.M_TOOL_CALLS)
        self.m_token_usage = make(n.M_TOKEN_USAGE)
        self.m_duration = make(n.M_OPERATION_DURATION)
        self.m_operation_cost = make(n.M_OPERATION_COST)
        self.m_run_cost = make(n.M_RUN_COST)
        self.m_run_turns = make(n.M_RUN_TURNS)
        self.m_run_duration = make(n.M_RUN_DURATION)

    # -- one run ------------------------------------------------------------------------------------------------------
    def emit(self, spec: RunSpec) -> EmittedRun:
        g = self.g
        run_id = uuid.uuid4().hex
        end_ns = time.time_ns()
        start_ns = end_ns - int(spec.duration_s * 1e9)
        slot = (end_ns - start_ns) // (len(spec.turns) + 1)
        tokens: Counter[str] = Counter()
        cost: Counter[str] = Counter()
        names = [n.span_name(n.OPERATION_INVOKE_AGENT, spec.agent)]
        wasted = sum(t.wasted for t in spec.turns)
        escalations = sum(t.escalated_from is not None for t in spec.turns)
        failed = spec.outcome == "failure" or any(t.error for t in spec.turns)
        run_cost = sum(t.cost for t in spec.turns)
        models = sorted({t.model for t in spec.turns})

        root = self.tracer.start_span(
            names[0],
            kind=SpanKind.INTERNAL,
            start_time=start_ns,
            attributes={
                g.operation: n.OPERATION_INVOKE_AGENT,
                g.agent_name: spec.agent,
                g.provider: spec.provider,
                n.RUN_ID: run_id,
            },
        )
        root_ctx = trace.set_span_in_context(root)
        for index, turn in enumerate(spec.turns):
            t0 = start_ns + index * slot + slot // 10
            t1 = t0 + slot // 2
            labels = {g.operation: n.OPERATION_CHAT, g.provider: spec.provider, g.request_model: turn.model}
            chat_name = n.span_name(n.OPERATION_CHAT, turn.model)
            names.append(chat_name)
            attributes: dict[str, Any] = {
                **labels,
                g.response_model: turn.model,
                g.agent_name: spec.agent,
                g.usage_input: turn.input_tokens,
                g.usage_output: turn.output_tokens,
                g.usage_reasoning: turn.reasoning_tokens,
                g.cost_amount: turn.cost,
                g.cost_currency: "USD",
                g.cost_source: "synthetic",
                n.COST_INPUT: turn.cost_input,
                n.COST_OUTPUT: turn.cost_output,
                n.COST_REASONING: turn.cost_reasoning,
                n.RUN_ID: run_id,
                n.TURN_INDEX: index,
                n.TURN_WASTED: turn.wasted,
                n.TURN_MODEL_TIER: "large" if turn.escalated_from else "small",
            }
            if turn.wasted:
                attributes[n.TURN_WASTE_REASON] = turn.waste_reason or "unspecified"
            if turn.error:
                attributes[n.ERROR_TYPE] = "APIStatusError"
            chat = self.tracer.start_span(
                chat_name, context=root_ctx, kind=SpanKind.CLIENT, start_time=t0, attributes=attributes
            )
            if turn.escalated_from:
                chat.add_event(
                    n.ESCALATION_EVENT,
                    {
                        n.ESCALATION_FROM_MODEL: turn.escalated_from,
                        n.ESCALATION_TO_MODEL: turn.model,
                        n.ESCALATION_REASON: "tool_failure",
                        n.ESCALATION_DIRECTION: "up",
                    },
                    timestamp=t0,
                )
            if turn.error:
                chat.set_status(Status(StatusCode.ERROR, "synthetic API error"))
            ctx = trace.set_span_in_context(chat)
            # metrics with the attribute sets of otel_agent/telemetry/inference.py; context -> exemplars
            common = {**labels, g.response_model: turn.model}
            agent_labels = {**labels, g.agent_name: spec.agent}
            self.m_duration.record((t1 - t0) / 1e9, common, context=ctx)
            self.m_token_usage.record(turn.input_tokens, {**common, g.token_type: "input"}, context=ctx)
            self.m_token_usage.record(turn.output_tokens, {**common, g.token_type: "output"}, context=ctx)
            for token_type, value in (
                ("input", turn.input_tokens),
                ("output", turn.output_tokens),
                ("reasoning", turn.reasoning_tokens),
            ):
                if value:
                    self.m_tokens.add(value, {**agent_labels, g.token_type: token_type}, context=ctx)
                    tokens[token_type] += value
            self.m_operation_cost.record(turn.cost, common, context=ctx)
            for component, value in (
                ("input", turn.cost_input),
                ("output", turn.cost_output),
                ("reasoning", turn.cost_reasoning),
            ):
                if value:
                    self.m_cost.add(value, {**agent_labels, n.COST_COMPONENT: component}, context=ctx)
                    cost[component] += value
            self.m_turns.add(
                1,
                {**agent_labels, n.TURN_WASTED: turn.wasted, n.TURN_WASTE_REASON: turn.waste_reason or "none"},
                context=ctx,
            )
            if turn.escalated_from:
                self.m_escalations.add(
                    1,
                    {
                        g.agent_name: spec.agent,
                        n.ESCALATION_FROM_MODEL: turn.escalated_from,
                        n.ESCALATION_TO_MODEL: turn.model,
                        n.ESCALATION_REASON: "tool_failure",
                        n.ESCALATION_DIRECTION: "up",
                    },
                    context=ctx,
                )
            chat.end(end_time=t1)
            if turn.tool:
                tool_name = n.span_name(n.OPERATION_EXECUTE_TOOL, turn.tool)
                names.append(tool_name)
                tool = self.tracer.start_span(
                    tool_name,
                    context=root_ctx,
                    kind=SpanKind.INTERNAL,
                    start_time=t1 + 1000,
                    attributes={
                        g.operation: n.OPERATION_EXECUTE_TOOL,
                        g.tool_name: turn.tool,
                        g.agent_name: spec.agent,
                        n.TOOL_TURN_INDEX: index,
                        n.TOOL_SOURCE: "decorator",
                        n.TOOL_IS_ERROR: turn.tool_error,
                    },
                )
                self.m_tool_calls.add(
                    1,
                    {
                        g.agent_name: spec.agent,
                        g.tool_name: turn.tool,
                        n.TOOL_SOURCE: "decorator",
                        n.TOOL_IS_ERROR: turn.tool_error,
                    },
                )
                tool.end(end_time=t1 + slot // 4)

        root.set_attributes(
            {
                n.RUN_TURNS: len(spec.turns),
                n.RUN_WASTED_TURNS: wasted,
                n.RUN_ESCALATIONS: escalations,
                n.RUN_DEESCALATIONS: 0,
                n.RUN_INPUT_TOKENS: tokens["input"],
                n.RUN_OUTPUT_TOKENS: tokens["output"],
                n.RUN_REASONING_TOKENS: tokens["reasoning"],
                n.RUN_COST: run_cost,
                n.RUN_COST_CURRENCY: "USD",
                n.RUN_OUTCOME: spec.outcome,
                n.RUN_MODELS: models,
                n.RUN_END_REASON: "exit",
            }
        )
        if failed:
            root.set_status(Status(StatusCode.ERROR, "run failed"))
        root_labels = {g.agent_name: spec.agent}
        self.m_runs.add(1, {**root_labels, n.RUN_OUTCOME: spec.outcome}, context=root_ctx)
        self.m_run_cost.record(run_cost, root_labels, context=root_ctx)
        self.m_run_turns.record(len(spec.turns), root_labels, context=root_ctx)
        self.m_run_duration.record(spec.duration_s, root_labels, context=root_ctx)
        trace_id = format(root.get_span_context().trace_id, "032x")
        root.end(end_time=end_ns)
        return EmittedRun(
            trace_id=trace_id,
            run_id=run_id,
            service_name=self.service_name,
            agent=spec.agent,
            span_count=len(names),
            turns=len(spec.turns),
            wasted_turns=wasted,
            escalations=escalations,
            tokens=dict(tokens),
            cost=dict(cost),
            cost_total=run_cost,
            outcome=spec.outcome,
            failed=failed,
            end_time_ns=end_ns,
            span_names=names,
        )

    def flush(self, timeout_s: float = 10.0) -> None:
        self.tracer_provider.force_flush(int(timeout_s * 1000))
        self.meter_provider.force_flush(int(timeout_s * 1000))

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()

    def __enter__(self) -> SyntheticAgentTelemetry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
        self.shutdown()


def totals(runs: Sequence[EmittedRun]) -> dict[str, Any]:
    tokens: Counter[str] = Counter()
    cost: Counter[str] = Counter()
    for run in runs:
        tokens.update(run.tokens)
        cost.update(run.cost)
    return {
        "runs": len(runs),
        "turns": sum(r.turns for r in runs),
        "wasted_turns": sum(r.wasted_turns for r in runs),
        "escalations": sum(r.escalations for r in runs),
        "tokens": dict(tokens),
        "cost": dict(cost),
        "cost_total": sum(r.cost_total for r in runs),
    }


def _rss_kib() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", required=True, help="OTLP/HTTP base URL, e.g. http://127.0.0.1:4318")
    parser.add_argument("--service", default="otel-agent-synthetic")
    parser.add_argument("--agent", default="synthetic-agent")
    parser.add_argument("--rate", type=float, default=5.0, help="runs per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds to emit for")
    parser.add_argument("--mix", default="clean", help="comma list of scenarios, cycled (clean,wasted,...)")
    parser.add_argument("--report", type=Path, help="write totals and RSS samples (JSON) here")
    parser.add_argument("--export-timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    kinds = [k.strip() for k in args.mix.split(",") if k.strip()]
    emitter = SyntheticAgentTelemetry(args.endpoint, args.service, export_timeout_s=args.export_timeout)
    runs: list[EmittedRun] = []
    errors: list[str] = []
    rss: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss.append((round(time.monotonic() - started, 2), _rss_kib()))
            stop.wait(0.5)

    started = time.monotonic()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    interval = 1.0 / args.rate if args.rate > 0 else 0.0
    next_at = started
    rng = random.Random(7)
    while time.monotonic() - started < args.duration:
        try:
            runs.append(emitter.emit(scenario(kinds[len(runs) % len(kinds)], agent=args.agent)))
        except Exception as exc:
            errors.append(repr(exc))
        next_at += interval * (0.9 + 0.2 * rng.random())
        time.sleep(max(0.0, next_at - time.monotonic()))
    emit_seconds = time.monotonic() - started
    try:
        emitter.flush(timeout_s=15)
        emitter.shutdown()
    except Exception as exc:
        errors.append(repr(exc))
    stop.set()
    sampler.join()
    report = {
        "service": args.service,
        "agent": args.agent,
        "emit_seconds": emit_seconds,
        "errors": errors,
        "rss_kib": rss,
        **totals(runs),
        "trace_ids": [r.trace_id for r in runs],
        "end_times_ns": [r.end_time_ns for r in runs],
    }
    if args.report:
        args.report.write_text(json.dumps(report))
    else:
        print(json.dumps({k: v for k, v in report.items() if k not in ("trace_ids", "end_times_ns")}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["EmittedRun", "RunSpec", "SyntheticAgentTelemetry", "TurnSpec", "scenario", "totals"]
