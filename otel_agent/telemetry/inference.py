"""Inference spans and their metrics: the only place that turns a `TurnRecord` into telemetry."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from ..records import (
    CostBreakdown,
    GpuUsage,
    RequestParams,
    TurnAnnotations,
    TurnRecord,
    TurnRequest,
    TurnResponse,
    Usage,
)
from ..redaction import error_label
from . import names as n
from .content import ContentMode, content_failed, render_messages, render_parts
from .events import InferenceDetailsEvents
from .instruments import Instruments


class InferenceTelemetry:
    def __init__(
        self,
        tracer: Tracer,
        instruments: Instruments,
        genai: n.GenAINames,
        content: ContentMode,
        content_max_chars: int,
        events: InferenceDetailsEvents | None = None,
    ) -> None:
        self._tracer = tracer
        self._m = instruments
        self._g = genai
        self._content = content
        self._max_chars = content_max_chars
        self._events = events if content.on_event else None

    # -- span start ------------------------------------------------------------------------------------------------
    def start(self, request: TurnRequest, parent: Context | None, start_ns: int) -> Span:
        g = self._g
        attributes: dict[str, Any] = {g.operation: request.operation, g.provider: request.provider}
        if request.model:
            attributes[g.request_model] = request.model
        if request.server_address:
            attributes[n.SERVER_ADDRESS] = request.server_address
        if request.server_port:
            attributes[n.SERVER_PORT] = request.server_port
        if request.stream:
            attributes[g.request_stream] = True
        if request.conversation_id:
            attributes[g.conversation_id] = request.conversation_id
        _add_params(attributes, g, request.params)
        if self._content.on_span:
            self._add_input_content(attributes, request)
        return self._tracer.start_span(
            n.span_name(request.operation, request.model),
            context=parent,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_time=start_ns,
        )

    def _record_convention_metrics(self, record: TurnRecord, common: dict[str, Any], context: Context) -> None:
        m, g = self._m, self._g
        m.operation_duration.record(record.duration_s, common, context=context)
        if record.stream is not None and record.stream.time_to_first_chunk_s is not None:
            m.time_to_first_chunk.record(record.stream.time_to_first_chunk_s, common, context=context)
            # by the conventions, one point per chunk after the first: its time since the previous chunk. Recorded
            # when the stream has ended, not on the chunk path (a record costs the SDK ~10-25 us)
            for gap in record.stream.chunk_gaps_s:
                m.time_per_output_chunk.record(gap, common, context=context)
        usage = record.usage
        if usage is not None:
            if usage.input_tokens is not None:
                m.token_usage.record(usage.input_tokens, {**common, g.token_type: "input"}, context=context)
            if usage.output_tokens is not None:
                m.token_usage.record(usage.output_tokens, {**common, g.token_type: "output"}, context=context)
            per_operation = m.latest_operation_tokens
            if per_operation is not None:
                for token_type, value in (("input", usage.input_tokens), ("output", usage.output_tokens)):
                    if value is not None:
                        per_operation[token_type].record(value, common, context=context)

    def _add_input_content(self, attributes: dict[str, Any], request: TurnRequest) -> None:
        source = request.content
        if source is None:
            return
        try:
            messages = source.messages()
            system = source.system_instructions()
        except Exception:  # malformed messages lose the content, never the span
            content_failed("input content")
            return
        if messages:
            attributes[self._g.input_messages] = render_messages(messages, self._max_chars)
        if system:
            attributes[self._g.system_instructions] = render_parts(system, self._max_chars)

    # -- span end --------------------------------------------------------------------------------------------------
    def finish(self, span: Span, record: TurnRecord, turn: TurnAnnotations | None) -> None:
        attributes = self._end_attributes(span, record, turn)
        if record.error_type is not None:
            attributes[n.ERROR_TYPE] = error_label(record.error_type)
            span.set_status(Status(StatusCode.ERROR, attributes[n.ERROR_TYPE]))
        span.set_attributes(attributes)
        if self._events is not None:
            self._events.emit(span, record)
        span.end(end_time=record.end_ns)
        self._record_metrics(record, turn, span)

    def enrich(
        self, span: Span, record: TurnRecord, turn: TurnAnnotations | None, *, conventions_metrics: bool = False
    ) -> None:
        """Add our attributes to another instrumentation's inference span for this call (see `telemetry.coexist`):
        turn, waste, run, cost, GPU and stream details. The span, its status, its conventions' attributes and the
        `gen_ai.client.*` duration, token and chunk metrics stay theirs (`conventions_metrics=True`: they record none,
        so we do); the span is not ended here."""
        g = self._g
        ours = {g.cost_amount, g.cost_currency, g.cost_source, g.agent_name}
        attributes = {
            key: value
            for key, value in self._end_attributes(span, record, turn).items()
            if key.startswith("otel_agent.") or key in ours
        }
        if span.is_recording():
            span.set_attributes(attributes)
        self._record_metrics(record, turn, span, conventions=conventions_metrics)

    def _end_attributes(self, span: Span, record: TurnRecord, turn: TurnAnnotations | None) -> dict[str, Any]:
        g = self._g
        attributes: dict[str, Any] = {}
        response = record.response
        if response is not None:
            if response.id:
                attributes[g.response_id] = response.id
            if response.model:
                attributes[g.response_model] = response.model
            if response.finish_reasons:
                attributes[g.response_finish_reasons] = list(response.finish_reasons)
            _add_response_details(attributes, response)
            if self._content.on_span and response.content is not None:
                try:
                    attributes[g.output_messages] = render_messages(response.content.messages(), self._max_chars)
                except Exception:
                    content_failed("output content")
        usage = record.usage
        if usage is not None:
            _add_usage(attributes, g, usage)
        if record.usage_estimated:
            attributes[n.USAGE_MISSING] = True  # the provider sent none: the counts above are our estimate
            attributes[n.USAGE_ESTIMATED] = True
        elif record.error_type is None and record.request.operation != "embeddings" and not _has_token_counts(usage):
            # absent, or present but unreadable (strings, nulls, negative numbers): both count as missing
            attributes[n.USAGE_MISSING] = True
        stream = record.stream
        if stream is not None:
            attributes[n.RESPONSE_CHUNKS] = stream.chunks
            if stream.time_to_first_chunk_s is not None:
                attributes[g.time_to_first_chunk] = stream.time_to_first_chunk_s
            if stream.end:
                attributes[n.STREAM_END] = stream.end
        if record.cost is not None:
            _add_cost(attributes, g, record.cost)
        elif record.unpriced:
            attributes[n.COST_UNPRICED] = True
        if record.gpu is not None:
            _add_gpu(attributes, record.gpu)
        if turn is not None:
            _add_turn(attributes, g, turn)
            attributes.update(turn.group)
            if turn.escalation is not None:
                esc = turn.escalation
                event = {
                    n.ESCALATION_FROM_MODEL: esc.from_model,
                    n.ESCALATION_TO_MODEL: esc.to_model,
                    n.ESCALATION_REASON: esc.reason,
                    n.ESCALATION_DIRECTION: esc.direction,
                }
                if esc.detail:
                    event[n.ESCALATION_DETAIL] = esc.detail
                span.add_event(n.ESCALATION_EVENT, event)
        return attributes

    # -- metrics ---------------------------------------------------------------------------------------------------
    def _record_metrics(
        self, record: TurnRecord, turn: TurnAnnotations | None, span: Span, *, conventions: bool = True
    ) -> None:
        """`conventions=False`: another instrumentation records this call's `gen_ai.client.*` duration, token and
        chunk metrics; only ours (and the proposed cost histogram, which no other records) are recorded."""
        g = self._g
        m = self._m
        request = record.request
        base: dict[str, Any] = {g.operation: request.operation, g.provider: request.provider}
        if request.model:
            base[g.request_model] = request.model
        response_model = record.response.model if record.response else None
        common = dict(base)
        if response_model:
            common[g.response_model] = response_model
        if request.server_address:
            common[n.SERVER_ADDRESS] = request.server_address
        if request.server_port:
            common[n.SERVER_PORT] = request.server_port
        if record.error_type:
            common[n.ERROR_TYPE] = error_label(record.error_type)
        context = trace.set_span_in_context(span)
        if conventions:
            self._record_convention_metrics(record, common, context)
        labels = dict(base)
        if turn is not None:
            labels[g.agent_name] = turn.agent_name
        # estimated counts (and their cost) carry the mark, so that a dashboard shows the share estimated
        counted = {**labels, n.USAGE_ESTIMATED: True} if record.usage_estimated else labels
        usage = record.usage
        if usage is not None:
            for token_type, value in _token_counts(usage):
                if value:
                    m.tokens.add(value, {**counted, g.token_type: token_type}, context=context)
                    if conventions and m.latest_tokens is not None:
                        m.latest_tokens[token_type].add(value, common, context=context)
        cost = record.cost
        if cost is not None:
            m.operation_cost.record(cost.total, common, context=context)
            for component, amount in _cost_components(cost):
                if amount:
                    m.cost.add(amount, {**counted, n.COST_COMPONENT: component}, context=context)
        elif record.unpriced:
            m.unpriced.add(1, base)
        if record.gpu is not None and record.gpu.vram_time_gib_s:
            m.vram_time.add(record.gpu.vram_time_gib_s, labels, context=context)
        if turn is not None:
            turn_labels = {
                **labels,
                n.TURN_WASTED: turn.wasted,
                n.TURN_WASTE_REASON: turn.waste_reason or "none",
            }
            m.turns.add(1, turn_labels, context=context)
            if turn.resent_input_tokens:
                m.resent_tokens.add(turn.resent_input_tokens, labels, context=context)
            if turn.escalation is not None:
                esc = turn.escalation
                m.escalations.add(
                    1,
                    {
                        g.agent_name: turn.agent_name,
                        n.ESCALATION_FROM_MODEL: esc.from_model,
                        n.ESCALATION_TO_MODEL: esc.to_model,
                        n.ESCALATION_REASON: esc.reason,
                        n.ESCALATION_DIRECTION: esc.direction,
                    },
                    context=context,
                )


def _add_params(attributes: dict[str, Any], g: n.GenAINames, params: RequestParams) -> None:
    if params.max_tokens is not None:
        attributes[g.request_max_tokens] = params.max_tokens
    if params.temperature is not None:
        attributes[g.request_temperature] = params.temperature
    if params.top_p is not None:
        attributes[g.request_top_p] = params.top_p
    if params.top_k is not None:
        attributes[g.request_top_k] = params.top_k
    if params.stop_sequences:
        attributes[g.request_stop_sequences] = list(params.stop_sequences)
    if params.seed is not None:
        attributes[g.request_seed] = params.seed
    if params.frequency_penalty is not None:
        attributes[g.request_frequency_penalty] = params.frequency_penalty
    if params.presence_penalty is not None:
        attributes[g.request_presence_penalty] = params.presence_penalty
    if params.choice_count is not None and params.choice_count != 1:
        attributes[g.request_choice_count] = params.choice_count
    if params.encoding_formats:
        attributes[g.request_encoding_formats] = list(params.encoding_formats)
    if params.output_type:
        attributes[g.output_type] = params.output_type
    if params.reasoning_effort:
        attributes[n.REQUEST_REASONING_EFFORT] = params.reasoning_effort
    if params.thinking_budget_tokens is not None:
        attributes[n.REQUEST_THINKING_BUDGET] = params.thinking_budget_tokens


def _add_response_details(attributes: dict[str, Any], response: TurnResponse) -> None:
    if response.service_tier:
        attributes[n.OPENAI_RESPONSE_SERVICE_TIER] = response.service_tier
    if response.system_fingerprint:
        attributes[n.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = response.system_fingerprint
    if response.embedding_dimensions:
        attributes[n.EMBEDDINGS_DIMENSION_COUNT] = response.embedding_dimensions
    if response.client_cost is not None:
        attributes[n.COST_CLIENT_REPORTED] = response.client_cost


def _add_usage(attributes: dict[str, Any], g: n.GenAINames, usage: Usage) -> None:
    if usage.input_tokens is not None:
        attributes[g.usage_input] = usage.input_tokens
    if usage.output_tokens is not None:
        attributes[g.usage_output] = usage.output_tokens
    if usage.cache_read_tokens is not None:
        attributes[g.usage_cache_read] = usage.cache_read_tokens
    if usage.cache_write_tokens is not None:
        attributes[g.usage_cache_write] = usage.cache_write_tokens
    if usage.reasoning_tokens is not None:
        attributes[g.usage_reasoning] = usage.reasoning_tokens


def _has_token_counts(usage: Usage | None) -> bool:
    return usage is not None and usage.input_tokens is not None and usage.output_tokens is not None


def _token_counts(usage: Usage) -> tuple[tuple[str, int | None], ...]:
    return (
        ("input", usage.input_tokens),
        ("output", usage.output_tokens),
        ("reasoning", usage.reasoning_tokens),
        ("cache_read", usage.cache_read_tokens),
        ("cache_write", usage.cache_write_tokens),
    )


def _cost_components(cost: CostBreakdown) -> tuple[tuple[str, float], ...]:
    return (
        ("input", cost.input),
        ("output", cost.output),
        ("reasoning", cost.reasoning),
        ("cache_read", cost.cache_read),
        ("cache_write", cost.cache_write),
        ("gpu", cost.gpu),
        ("unattributed", cost.unattributed),  # a provider-reported total comes without a breakdown
    )


def _add_cost(attributes: dict[str, Any], g: n.GenAINames, cost: CostBreakdown) -> None:
    attributes[g.cost_amount] = cost.total
    attributes[g.cost_currency] = cost.currency
    attributes[g.cost_source] = cost.source
    attributes[n.COST_PRICE_SOURCE] = cost.price_source
    attributes[n.COST_INPUT] = cost.input
    attributes[n.COST_OUTPUT] = cost.output
    attributes[n.COST_REASONING] = cost.reasoning
    attributes[n.COST_CACHE_READ] = cost.cache_read
    attributes[n.COST_CACHE_WRITE] = cost.cache_write
    if cost.gpu:
        attributes[n.COST_GPU] = cost.gpu


def _add_gpu(attributes: dict[str, Any], gpu: GpuUsage) -> None:
    attributes[n.GPU_VRAM_TIME] = gpu.vram_time_gib_s
    attributes[n.GPU_VRAM_PEAK] = gpu.vram_peak_bytes
    if gpu.utilization_mean is not None:
        attributes[n.GPU_UTILIZATION_MEAN] = gpu.utilization_mean
    attributes[n.GPU_DEVICE_IDS] = list(gpu.device_ids)
    attributes[n.GPU_SAMPLES] = gpu.samples


def _add_turn(attributes: dict[str, Any], g: n.GenAINames, turn: TurnAnnotations) -> None:
    attributes[n.RUN_ID] = turn.run_id
    attributes[g.agent_name] = turn.agent_name
    attributes[n.TURN_INDEX] = turn.index
    attributes[n.TURN_WASTED] = turn.wasted
    if turn.waste_reasons:
        attributes[n.TURN_WASTE_REASON] = turn.waste_reasons[0]
        attributes[n.TURN_WASTE_REASONS] = list(turn.waste_reasons)
    if turn.resent_input_tokens is not None:
        attributes[n.TURN_RESENT_INPUT_TOKENS] = turn.resent_input_tokens
    if turn.context_growth_tokens is not None:
        attributes[n.TURN_CONTEXT_GROWTH_TOKENS] = turn.context_growth_tokens
    if turn.cache_hit_ratio is not None:
        attributes[n.TURN_CACHE_HIT_RATIO] = turn.cache_hit_ratio
    if turn.model_tier is not None:
        attributes[n.TURN_MODEL_TIER] = turn.model_tier
    if turn.stagnating:
        attributes[n.TURN_STAGNATING] = True
    if turn.escalation is not None:
        esc = turn.escalation
        attributes[n.ESCALATION_FROM_MODEL] = esc.from_model
        attributes[n.ESCALATION_TO_MODEL] = esc.to_model
        attributes[n.ESCALATION_REASON] = esc.reason
        attributes[n.ESCALATION_DIRECTION] = esc.direction
        if esc.detail:
            attributes[n.ESCALATION_DETAIL] = esc.detail
