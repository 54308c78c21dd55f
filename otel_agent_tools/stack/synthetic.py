"""A synthetic agent-run emitter: otel-agent's own telemetry, fed with made-up records instead of an LLM.

It exists to drive the backend stack (end-to-end tests, throughput benchmark, `otel-agent stack up --demo`)
without an LLM. It builds the same records the library does (`TurnRequest`/`TurnRecord`/`TurnAnnotations`,
`RunRecord`, `ToolRecord`; run figures folded by `RunStats.add_turn`) and hands them to the library's own
`TelemetryHandler`, so every span, attribute, metric and label set is the real one and cannot drift from it:

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

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from otel_agent.config import ContentMode
from otel_agent.records import (
    CostBreakdown,
    Escalation,
    RunRecord,
    ToolRecord,
    TurnAnnotations,
    TurnRecord,
    TurnRequest,
    TurnResponse,
    Usage,
)
from otel_agent.telemetry import names as n
from otel_agent.telemetry.handler import TelemetryHandler
from otel_agent.telemetry.instruments import Instruments

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
        span_processor: SpanProcessor | None = None,
        metric_reader: MetricReader | None = None,
    ) -> None:
        """`span_processor` / `metric_reader`, when given, replace the OTLP/HTTP ones (in-process tests)."""
        self.service_name = service_name
        endpoint = endpoint.rstrip("/")
        res = Resource.create({"service.name": service_name, **(resource_attributes or {})})
        self.tracer_provider = TracerProvider(resource=res)
        self.tracer_provider.add_span_processor(
            span_processor
            or BatchSpanProcessor(
                OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=export_timeout_s),
                schedule_delay_millis=span_schedule_delay_ms,
                max_queue_size=max_queue_size,
            )
        )
        self.reader = metric_reader or PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics", timeout=export_timeout_s),
            export_interval_millis=metric_interval_ms,
            export_timeout_millis=int(export_timeout_s * 1000),
        )
        self.meter_provider = MeterProvider(metric_readers=[self.reader], resource=res)
        self.g = n.GenAINames.resolve(latest=False)
        instruments = Instruments.create(self.meter_provider.get_meter(SCOPE), latest=False)
        self.telemetry = TelemetryHandler(
            self.tracer_provider.get_tracer(SCOPE), instruments, self.g, ContentMode.NO_CONTENT, 16_384
        )

    # -- one run ------------------------------------------------------------------------------------------------------
    def emit(self, spec: RunSpec) -> EmittedRun:
        telemetry = self.telemetry
        end_ns = time.time_ns()
        start_ns = end_ns - int(spec.duration_s * 1e9)
        slot = (end_ns - start_ns) // (len(spec.turns) + 1)
        tokens: Counter[str] = Counter()
        cost: Counter[str] = Counter()
        names = [n.span_name(n.OPERATION_INVOKE_AGENT, spec.agent)]
        run = RunRecord(id=uuid.uuid4().hex[:16], name=spec.agent, inferred=False, start_ns=start_ns)
        telemetry.start_run(run)
        trace_id = format(run.telemetry.get_span_context().trace_id, "032x")
        for index, turn in enumerate(spec.turns, start=1):
            t0 = start_ns + (index - 1) * slot + slot // 10
            t1 = t0 + slot // 2
            request = TurnRequest(
                provider=spec.provider,
                operation="chat",
                model=turn.model,
                server_address=None,
                server_port=None,
                stream=False,
                api="chat.completions",
            )
            names.append(n.span_name(n.OPERATION_CHAT, turn.model))
            span = telemetry.start_inference(request, t0, run)
            usage = Usage(turn.input_tokens, turn.output_tokens, reasoning_tokens=turn.reasoning_tokens)
            record = TurnRecord(
                request=request,
                response=TurnResponse(model=turn.model, finish_reasons=("stop",), usage=usage),
                start_ns=t0,
                end_ns=t1,
                error_type="500" if turn.error else None,
                cost=CostBreakdown(
                    total=turn.cost,
                    input=turn.cost_input,
                    output=turn.cost_output,
                    reasoning=turn.cost_reasoning,
                    price_source="user",  # the scenario's prices, declared like a user's price file
                ),
            )
            escalation = None
            if turn.escalated_from:
                escalation = Escalation(
                    from_model=turn.escalated_from, to_model=turn.model, reason="explicit", direction="up"
                )
            annotations = TurnAnnotations(
                run_id=run.id,
                agent_name=spec.agent,
                index=index,
                wasted=turn.wasted,
                waste_reasons=(turn.waste_reason or "unspecified",) if turn.wasted else (),
                model_tier=2.0 if turn.escalated_from else 1.0,
                escalation=escalation,
            )
            telemetry.finish_inference(span, record, annotations)
            run.stats.add_turn(record, annotations)
            for token_type, value in (
                ("input", turn.input_tokens),
                ("output", turn.output_tokens),
                ("reasoning", turn.reasoning_tokens),
            ):
                if value:
                    tokens[token_type] += value
            for component, value in (
                ("input", turn.cost_input),
                ("output", turn.cost_output),
                ("reasoning", turn.cost_reasoning),
            ):
                if value:
                    cost[component] += value
            if turn.tool:
                names.append(n.span_name(n.OPERATION_EXECUTE_TOOL, turn.tool))
                tool = ToolRecord(
                    turn.tool,
                    "decorator",
                    turn_index=run.stats.turns,
                    agent_name=spec.agent,
                    start_ns=t1 + 1000,
                    end_ns=t1 + slot // 4,
                    failed=turn.tool_error,
                )
                telemetry.start_tool(tool, run)
                telemetry.finish_tool(tool)
                run.stats.add_tool_call(turn.tool_error)
        run.end_ns = end_ns
        run.last_activity_ns = end_ns
        run.outcome = spec.outcome
        telemetry.finish_run(run)
        stats = run.stats
        return EmittedRun(
            trace_id=trace_id,
            run_id=run.id,
            service_name=self.service_name,
            agent=spec.agent,
            span_count=len(names),
            turns=stats.turns,
            wasted_turns=stats.wasted_turns,
            escalations=stats.escalations,
            tokens=dict(tokens),
            cost=dict(cost),
            cost_total=stats.cost,
            outcome=spec.outcome,
            failed=spec.outcome == "failure" or any(t.error for t in spec.turns),
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
