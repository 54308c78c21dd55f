"""`invoke_agent` and `execute_tool` spans, and the run roll-up metrics, from `RunRecord`s and `ToolRecord`s."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer

from ..records import RunRecord, RunStats, ToolRecord
from ..redaction import error_label, record_exception, redact_bounded
from . import names as n
from .content import ContentMode, to_json
from .instruments import Instruments


def run_context(run: RunRecord | None) -> Context | None:
    """The context whose current span is the run's span (None when the run has none)."""
    span = run.telemetry if run is not None else None
    return trace.set_span_in_context(span) if span is not None else None


_FIRST_TURN = {n.LINK_RELATION: "first_turn"}  # a deferred run span's link to the first turn it does not parent


class RunTelemetry:
    def __init__(
        self,
        tracer: Tracer,
        instruments: Instruments,
        genai: n.GenAINames,
        content: ContentMode,
        content_max_chars: int,
    ) -> None:
        self._tracer = tracer
        self._m = instruments
        self._g = genai
        self._content = content
        self._max_chars = content_max_chars

    # -- runs --------------------------------------------------------------------------------------------------------
    def start_run(self, run: RunRecord, parent: Context | None = None) -> None:
        g = self._g
        attrs: dict[str, Any] = {
            g.operation: n.OPERATION_INVOKE_AGENT,
            g.agent_name: run.name,
            n.RUN_INFERRED: run.inferred,
        }
        for key, value in run.attributes.items():
            if isinstance(value, (str, bool, int, float)):
                attrs[key if "." in key else f"otel_agent.run.attribute.{key}"] = value
        run.telemetry = self._tracer.start_span(
            n.span_name(n.OPERATION_INVOKE_AGENT, run.name),
            context=parent,
            kind=SpanKind.INTERNAL,
            attributes=attrs,
            start_time=run.start_ns,
            links=[Link(context, _FIRST_TURN) for context in run.links] or None,
        )

    def finish_run(self, run: RunRecord, error: BaseException | None = None) -> None:
        span: Span | None = run.telemetry
        if span is None:
            return
        g = self._g
        stats = run.stats
        attrs: dict[str, Any] = {
            n.RUN_ID: run.id,
            g.agent_turn_count: stats.turns,
            n.RUN_TURNS: stats.turns,
            n.RUN_WASTED_TURNS: stats.wasted_turns,
            n.RUN_ESCALATIONS: stats.escalations,
            n.RUN_DEESCALATIONS: stats.deescalations,
            n.RUN_STAGNATED: stats.stagnated,
            n.RUN_MISSED_ESCALATION: run.missed_escalation,
            n.RUN_INPUT_TOKENS: stats.input_tokens,
            n.RUN_OUTPUT_TOKENS: stats.output_tokens,
            n.RUN_REASONING_TOKENS: stats.reasoning_tokens,
            n.RUN_CACHED_TOKENS: stats.cache_read_tokens,
            n.RUN_CACHE_WRITE_TOKENS: stats.cache_write_tokens,
            n.RUN_RESENT_INPUT_TOKENS: stats.resent_input_tokens,
            n.RUN_COST: stats.cost,
            n.RUN_COST_REASONING: stats.reasoning_cost,
            n.RUN_COST_CURRENCY: "USD",
            n.RUN_UNPRICED_TURNS: stats.unpriced_turns,
            n.RUN_OUTCOME: run.outcome,
            n.RUN_END_REASON: run.end_reason,
            n.RUN_MODELS: list(stats.models),
        }
        for reason, count in stats.wasted_by_reason.items():
            attrs[n.RUN_WASTED_TURNS_BY_REASON_PREFIX + reason] = count
        if stats.vram_time_gib_s:
            attrs[n.RUN_VRAM_TIME] = stats.vram_time_gib_s
        if run.score is not None:
            attrs[n.RUN_SCORE] = run.score
            if stats.total_tokens:
                attrs[n.RUN_SCORE_PER_1K_TOKENS] = run.score / (stats.total_tokens / 1000)
            if stats.cost > 0:
                attrs[n.RUN_SCORE_PER_USD] = run.score / stats.cost
        if error is not None:
            attrs[n.ERROR_TYPE] = error_label(type(error).__qualname__)
            record_exception(span, error)
            span.set_status(Status(StatusCode.ERROR, attrs[n.ERROR_TYPE]))
        elif run.outcome == "failure":
            span.set_status(Status(StatusCode.ERROR, "run failed"))
        span.set_attributes(attrs)
        span.end(end_time=run.end_ns)
        self._record_run_metrics(run, stats, span)

    def _record_run_metrics(self, run: RunRecord, stats: RunStats, span: Span) -> None:
        g = self._g
        m = self._m
        context = trace.set_span_in_context(span)
        labels = {g.agent_name: run.name, n.RUN_OUTCOME: run.outcome}
        m.runs.add(
            1,
            {**labels, n.RUN_STAGNATED: stats.stagnated, n.RUN_MISSED_ESCALATION: run.missed_escalation},
            context=context,
        )
        end_ns = run.end_ns or run.last_activity_ns or run.start_ns
        duration = max((end_ns - run.start_ns) / 1e9, 0.0)
        m.run_duration.record(duration, labels, context=context)
        m.run_turns.record(stats.turns, labels, context=context)
        if stats.cost or not stats.unpriced_turns:
            m.run_cost.record(stats.cost, labels, context=context)
        for token_type, value in (
            ("input", stats.input_tokens),
            ("output", stats.output_tokens),
            ("reasoning", stats.reasoning_tokens),
            ("cache_read", stats.cache_read_tokens),
        ):
            m.run_tokens.record(value, {**labels, g.token_type: token_type}, context=context)
        if run.score is not None:
            m.run_score.record(run.score, labels, context=context)

    # -- tools -------------------------------------------------------------------------------------------------------
    def start_tool(self, tool: ToolRecord, parent: Context | None) -> None:
        g = self._g
        attrs: dict[str, Any] = {
            g.operation: n.OPERATION_EXECUTE_TOOL,
            g.tool_name: tool.name,
            g.tool_type: "function",
            n.TOOL_SOURCE: tool.source,
        }
        if tool.turn_index is not None:
            attrs[n.TOOL_TURN_INDEX] = tool.turn_index
        if tool.call_id:
            attrs[g.tool_call_id] = redact_bounded(tool.call_id, 256)  # the model's (or server's) text: may echo a key
        if tool.agent_name:
            attrs[g.agent_name] = tool.agent_name
        if tool.group:
            attrs.update(tool.group)
        if tool.arguments is not None and self._content.on_span:
            attrs[g.tool_arguments] = to_json(tool.arguments, self._max_chars)
        tool.telemetry = self._tracer.start_span(
            n.span_name(n.OPERATION_EXECUTE_TOOL, tool.name),
            context=parent,
            kind=SpanKind.INTERNAL,
            attributes=attrs,
            start_time=tool.start_ns,
        )

    def finish_tool(self, tool: ToolRecord, error: BaseException | None = None) -> None:
        span: Span | None = tool.telemetry
        if span is None:
            return
        tool.telemetry = None  # ends once
        failed = tool.failed or error is not None
        attrs: dict[str, Any] = {n.TOOL_IS_ERROR: failed}
        if tool.result is not None and self._content.on_span:
            attrs[self._g.tool_result] = to_json(tool.result, self._max_chars)
        if error is not None:
            attrs[n.ERROR_TYPE] = error_label(type(error).__qualname__)
            record_exception(span, error)
        if failed:
            attrs.setdefault(n.ERROR_TYPE, "tool_error")
            span.set_status(Status(StatusCode.ERROR, attrs[n.ERROR_TYPE]))
        span.set_attributes(attrs)
        span.end(end_time=tool.end_ns)
        self._m.tool_calls.add(1, {self._g.tool_name: tool.name, n.TOOL_SOURCE: tool.source, n.TOOL_IS_ERROR: failed})
