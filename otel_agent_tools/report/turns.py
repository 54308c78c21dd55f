"""Turns and tool calls read from inference and ``execute_tool`` spans."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from otel_agent.telemetry import names as n

from .attributes import as_float, as_int, genai_attr
from .run_types import EscalationInfo, ToolCallInfo, Turn
from .spans import SpanRow


def _escalation(span: SpanRow) -> EscalationInfo | None:
    sources = [span.attributes] + [e.attributes for e in span.events if e.name == n.ESCALATION_EVENT]
    for attributes in sources:
        from_model, to_model = attributes.get(n.ESCALATION_FROM_MODEL), attributes.get(n.ESCALATION_TO_MODEL)
        if from_model is not None and to_model is not None:
            detail = attributes.get(n.ESCALATION_DETAIL) or span.attributes.get(n.ESCALATION_DETAIL)
            return EscalationInfo(
                str(from_model),
                str(to_model),
                str(attributes.get(n.ESCALATION_REASON, "")),
                str(attributes.get(n.ESCALATION_DIRECTION, "up")),
                str(detail)[:200] if detail is not None else None,
            )
    return None


def _waste_reasons(attributes: dict[str, Any]) -> tuple[str, ...]:
    reasons = attributes.get(n.TURN_WASTE_REASONS)
    if isinstance(reasons, list) and reasons:
        return tuple(str(r) for r in reasons)
    reason = attributes.get(n.TURN_WASTE_REASON)
    return (str(reason),) if reason not in (None, "", "none") else ()


_TOKEN_PRICED = ("genai-prices", "user")


def _rate(cost: Any, tokens: int) -> float | None:
    amount = as_float(cost)
    return amount * 1e6 / tokens if amount is not None and amount >= 0 and tokens > 0 else None


def _rates(a: dict[str, Any], t: Turn) -> tuple[float | None, float | None]:
    """The input and output rates the turn was priced at, from its cost components (token prices only)."""
    if a.get(n.COST_PRICE_SOURCE) not in _TOKEN_PRICED:
        return None, None
    uncached = t.input_tokens - t.cache_read_tokens - t.cache_write_tokens
    visible = t.output_tokens - t.reasoning_tokens
    return _rate(a.get(n.COST_INPUT), uncached), _rate(a.get(n.COST_OUTPUT), visible)


def turn_from_span(span: SpanRow, position: int) -> Turn:
    turn = _turn_from_span(span, position)
    turn.input_rate_per_1m, turn.output_rate_per_1m = _rates(span.attributes, turn)
    return turn


def _turn_from_span(span: SpanRow, position: int) -> Turn:
    a = span.attributes
    # The model the agent asked for names the turn (a gateway or local server may answer with an alias).
    model = genai_attr(a, "request_model") or genai_attr(a, "response_model")
    if model is None:
        model = span.name.split(" ", 1)[1] if " " in span.name else "unknown"
    reasons = _waste_reasons(a)
    wasted = bool(a.get(n.TURN_WASTED)) or bool(reasons)
    currency = genai_attr(a, "cost_currency")
    error = a.get(n.ERROR_TYPE)
    index = as_int(a.get(n.TURN_INDEX))
    return Turn(
        index=position if index is None else index,
        span_id=span.span_id,
        model=str(model),
        provider=genai_attr(a, "provider"),
        server_address=a.get(n.SERVER_ADDRESS),
        start_ns=span.start_ns,
        end_ns=span.end_ns,
        input_tokens=as_int(genai_attr(a, "usage_input")) or 0,
        output_tokens=as_int(genai_attr(a, "usage_output")) or 0,
        reasoning_tokens=as_int(genai_attr(a, "usage_reasoning")) or 0,
        cache_read_tokens=as_int(genai_attr(a, "usage_cache_read")) or 0,
        cache_write_tokens=as_int(genai_attr(a, "usage_cache_write")) or 0,
        cost=as_float(genai_attr(a, "cost_amount")),
        reasoning_cost=as_float(a.get(n.COST_REASONING)) or 0.0,
        currency=str(currency) if currency is not None else None,
        vram_time_gib_s=as_float(a.get(n.GPU_VRAM_TIME)) or 0.0,
        wasted=wasted,
        waste_reasons=reasons if reasons or not wasted else ("unspecified",),
        escalation=_escalation(span),
        error_type=str(error) if error is not None else ("error" if span.status == "error" else None),
        stagnating=a.get(n.TURN_STAGNATING) is True,
        resent_input_tokens=as_int(a.get(n.TURN_RESENT_INPUT_TOKENS)),
    )


def tool_from_span(span: SpanRow) -> ToolCallInfo:
    a = span.attributes
    name = genai_attr(a, "tool_name") or (span.name.split(" ", 1)[1] if " " in span.name else span.name)
    is_error = bool(a.get(n.TOOL_IS_ERROR)) or span.status == "error"
    return ToolCallInfo(
        name=str(name),
        span_id=span.span_id,
        start_ns=span.start_ns,
        end_ns=span.end_ns,
        is_error=is_error,
        turn_index=as_int(a.get(n.TOOL_TURN_INDEX)),
    )


def turns_from_spans(chat_spans: Sequence[SpanRow]) -> list[Turn]:
    ordered = sorted(chat_spans, key=lambda s: (s.start_ns, s.span_id))
    turns = [turn_from_span(span, position) for position, span in enumerate(ordered, start=1)]
    turns.sort(key=lambda t: (t.index, t.start_ns))
    return turns


def attach_tools(turns: list[Turn], tools: list[ToolCallInfo]) -> None:
    """A tool belongs to the turn its span names, else to the last turn that ended before it started."""
    by_index = {turn.index: turn for turn in turns}
    by_end = sorted(turns, key=lambda t: t.end_ns)
    for tool in sorted(tools, key=lambda t: t.start_ns):
        owner = by_index.get(tool.turn_index) if tool.turn_index is not None else None
        if owner is None:
            earlier = [t for t in by_end if t.end_ns <= tool.start_ns]
            owner = earlier[-1] if earlier else None
        if owner is not None:
            owner.tools.append(tool)
