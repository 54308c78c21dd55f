"""Agent runs emitted with the real OpenTelemetry SDK through `OtlpJsonFileSpanExporter`, for the report tests.

`RUNS` is the single description of what is emitted; tests compute their expectations from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context

from otel_agent.export import OtlpJsonFileSpanExporter
from otel_agent.telemetry import names as n

G = n.GenAINames.resolve(latest=False)
T0_NS = 1_760_000_000 * 1_000_000_000  # 2025-10-09T08:53:20Z
S = 1_000_000_000


@dataclass(frozen=True)
class ToolSpec:
    name: str
    start_s: float
    duration_s: float
    turn_index: int | None  # None: no index attribute, the report must place it by time
    is_error: bool = False


@dataclass(frozen=True)
class TurnSpec:
    index: int
    model: str
    start_s: float
    duration_s: float
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float | None = None
    reasoning_cost: float = 0.0
    waste_reasons: tuple[str, ...] = ()
    escalation: tuple[str, str, str, str] | None = None  # from, to, reason, direction
    vram_time: float | None = None
    provider: str = "openai"
    stagnating: bool = False
    resent_input_tokens: int | None = None
    # (input, output) user prices per 1M tokens: the cost components are recorded as the library records them
    list_rates: tuple[float, float] | None = None
    extra_attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSpec:
    run_id: str
    agent: str
    service: str
    start_s: float
    end_s: float
    outcome: str
    score: float | None
    turns: tuple[TurnSpec, ...]
    tools: tuple[ToolSpec, ...] = ()
    extra_attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def wall_time_s(self) -> float:
        return self.end_s - self.start_s


CLEAN = RunSpec(
    run_id="run-clean",
    agent="coder",
    service="agents",
    start_s=0.0,
    end_s=4.5,
    outcome="success",
    score=1.0,
    turns=(
        TurnSpec(
            1,
            "small-model",
            0.1,
            1.2,
            1200,
            300,
            reasoning_tokens=120,
            cache_read_tokens=0,
            cache_write_tokens=1000,
            cost=0.0021,
            reasoning_cost=0.0004,
            vram_time=3.5,
        ),
        TurnSpec(
            2,
            "small-model",
            2.0,
            2.25,
            1900,
            150,
            reasoning_tokens=50,
            cache_read_tokens=1000,
            cost=0.00155,
            reasoning_cost=0.0001,
            vram_time=4.25,
        ),
    ),
    tools=(ToolSpec("read_file", 1.4, 0.5, turn_index=1),),
)

WASTEFUL = RunSpec(
    run_id="run-waste",
    agent="coder",
    service="agents",
    start_s=10.0,
    end_s=31.0,
    outcome="failure",
    score=0.25,
    turns=(
        TurnSpec(1, "small-model", 10.2, 1.0, 1500, 400, reasoning_tokens=300, cost=0.003, reasoning_cost=0.0015),
        TurnSpec(
            2,
            "small-model",
            12.0,
            1.5,
            2100,
            500,
            reasoning_tokens=350,
            cache_read_tokens=1400,
            cost=0.0032,
            reasoning_cost=0.0018,
            waste_reasons=("repeated_tool_call",),
        ),
        TurnSpec(
            3,
            "small-model",
            14.0,
            2.0,
            2800,
            650,
            reasoning_tokens=500,
            cache_read_tokens=2000,
            cost=0.0041,
            reasoning_cost=0.0025,
            waste_reasons=("no_progress", "repeated_tool_call"),
        ),
        TurnSpec(
            4,
            "large-model",
            17.0,
            4.0,
            3500,
            900,
            reasoning_tokens=600,
            cache_read_tokens=0,
            cache_write_tokens=3000,
            cost=0.0525,
            reasoning_cost=0.021,
            escalation=("small-model", "large-model", "stagnation", "up"),
            provider="anthropic",
        ),
        TurnSpec(
            5,
            "large-model",
            22.0,
            3.0,
            4200,
            700,
            reasoning_tokens=200,
            cache_read_tokens=3400,
            cost=0.0301,
            reasoning_cost=0.006,
            waste_reasons=("tool_error",),
            provider="anthropic",
        ),
    ),
    tools=(
        ToolSpec("search", 11.3, 0.4, turn_index=1),
        ToolSpec("search", 13.6, 0.3, turn_index=2),
        ToolSpec("search", 16.1, 0.2, turn_index=None),  # after turn 3 ended: belongs to turn 3
        ToolSpec("run_tests", 25.5, 5.0, turn_index=5, is_error=True),
    ),
)

OTHER = RunSpec(
    run_id="run-other",
    agent="reviewer",
    service="other-service",
    start_s=40.0,
    end_s=42.0,
    outcome="success",
    score=None,
    turns=(TurnSpec(1, "local-model", 40.5, 1.0, 800, 100, cost=None, vram_time=2.0),),
)

RUNS = (CLEAN, WASTEFUL, OTHER)

# A run that stagnates and never escalates (the demo's run 3): not in RUNS, tests that need it add it.
STALLED = RunSpec(
    run_id="run-stalled",
    agent="coder",
    service="agents",
    start_s=50.0,
    end_s=56.0,
    outcome="failure",
    score=0.0,
    turns=(
        TurnSpec(1, "small-model", 50.1, 1.0, 900, 200, cost=0.001, resent_input_tokens=0),
        TurnSpec(
            2, "small-model", 51.5, 1.5, 1300, 200, cost=0.0014, waste_reasons=("truncated",), resent_input_tokens=900
        ),
        TurnSpec(
            3,
            "small-model",
            53.5,
            2.0,
            1700,
            200,
            cost=0.0018,
            waste_reasons=("truncated", "repeated_tool_call"),
            stagnating=True,
            resent_input_tokens=1300,
        ),
    ),
    extra_attributes={n.RUN_STAGNATED: True, n.RUN_MISSED_ESCALATION: True},
)


def _ns(seconds: float) -> int:
    return T0_NS + round(seconds * S)


def _turn_attributes(run: RunSpec, turn: TurnSpec) -> dict[str, Any]:
    a: dict[str, Any] = {
        G.operation: n.OPERATION_CHAT,
        G.provider: turn.provider,
        G.request_model: turn.model,
        G.response_model: turn.model,
        G.usage_input: turn.input_tokens,
        G.usage_output: turn.output_tokens,
        G.usage_reasoning: turn.reasoning_tokens,
        G.usage_cache_read: turn.cache_read_tokens,
        G.usage_cache_write: turn.cache_write_tokens,
        G.agent_name: run.agent,
        n.RUN_ID: run.run_id,
        n.TURN_INDEX: turn.index,
        n.TURN_WASTED: bool(turn.waste_reasons),
    }
    if turn.cost is not None:
        a[G.cost_amount] = turn.cost
        a[G.cost_currency] = "USD"
        a[n.COST_REASONING] = turn.reasoning_cost
    else:
        a[n.COST_UNPRICED] = True
    if turn.waste_reasons:
        a[n.TURN_WASTE_REASON] = turn.waste_reasons[0]
        a[n.TURN_WASTE_REASONS] = list(turn.waste_reasons)
    if turn.escalation is not None:
        a[n.ESCALATION_FROM_MODEL], a[n.ESCALATION_TO_MODEL], a[n.ESCALATION_REASON], a[n.ESCALATION_DIRECTION] = (
            turn.escalation
        )
    if turn.vram_time is not None:
        a[n.GPU_VRAM_TIME] = turn.vram_time
    if turn.list_rates is not None:
        uncached = turn.input_tokens - turn.cache_read_tokens - turn.cache_write_tokens
        a[n.COST_PRICE_SOURCE] = "user"
        a[n.COST_INPUT] = uncached * turn.list_rates[0] / 1e6
        a[n.COST_OUTPUT] = (turn.output_tokens - turn.reasoning_tokens) * turn.list_rates[1] / 1e6
    a.update(turn.extra_attributes)
    if turn.stagnating:
        a[n.TURN_STAGNATING] = True
    if turn.resent_input_tokens is not None:
        a[n.TURN_RESENT_INPUT_TOKENS] = turn.resent_input_tokens
    return a


def emit_run(provider: TracerProvider, run: RunSpec) -> None:
    tracer = provider.get_tracer("otel_agent.tests")
    root = tracer.start_span(
        n.span_name(n.OPERATION_INVOKE_AGENT, run.agent),
        kind=SpanKind.INTERNAL,
        start_time=_ns(run.start_s),
        attributes={
            G.operation: n.OPERATION_INVOKE_AGENT,
            G.agent_name: run.agent,
            n.RUN_ID: run.run_id,
            n.RUN_OUTCOME: run.outcome,
            **({n.RUN_SCORE: run.score} if run.score is not None else {}),
            **run.extra_attributes,
        },
    )
    context = set_span_in_context(root)
    for turn in run.turns:
        span = tracer.start_span(
            n.span_name(n.OPERATION_CHAT, turn.model),
            context=context,
            kind=SpanKind.CLIENT,
            start_time=_ns(turn.start_s),
            attributes=_turn_attributes(run, turn),
        )
        if turn.escalation is not None:
            from_model, to_model, reason, direction = turn.escalation
            span.add_event(
                n.ESCALATION_EVENT,
                {
                    n.ESCALATION_FROM_MODEL: from_model,
                    n.ESCALATION_TO_MODEL: to_model,
                    n.ESCALATION_REASON: reason,
                    n.ESCALATION_DIRECTION: direction,
                },
                timestamp=_ns(turn.start_s),
            )
        span.end(end_time=_ns(turn.start_s + turn.duration_s))
    for tool in run.tools:
        attributes: dict[str, Any] = {
            G.operation: n.OPERATION_EXECUTE_TOOL,
            G.tool_name: tool.name,
            n.TOOL_IS_ERROR: tool.is_error,
        }
        if tool.turn_index is not None:
            attributes[n.TOOL_TURN_INDEX] = tool.turn_index
        span = tracer.start_span(
            n.span_name(n.OPERATION_EXECUTE_TOOL, tool.name),
            context=context,
            kind=SpanKind.INTERNAL,
            start_time=_ns(tool.start_s),
            attributes=attributes,
        )
        if tool.is_error:
            span.set_status(Status(StatusCode.ERROR, "tool failed"))
        span.end(end_time=_ns(tool.start_s + tool.duration_s))
    root.end(end_time=_ns(run.end_s))


def write_runs(folder: Path, runs: tuple[RunSpec, ...] = RUNS) -> Path:
    """Emit `runs` into ``folder/traces.otlp.jsonl``, one TracerProvider (one resource) per service."""
    for service in dict.fromkeys(r.service for r in runs):
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(SimpleSpanProcessor(OtlpJsonFileSpanExporter(folder)))
        for run in runs:
            if run.service == service:
                emit_run(provider, run)
        provider.shutdown()
    return folder / "traces.otlp.jsonl"
