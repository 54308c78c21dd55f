"""Run totals: the run span's roll-up attributes where present, the turns' sums where not."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from otel_agent.telemetry import names as n

from .attributes import as_float, as_int
from .run_types import RunTotals, Turn


def totals_from_turns(turns: Iterable[Turn]) -> RunTotals:
    totals = RunTotals()
    for turn in turns:
        totals.turns += 1
        if turn.wasted:
            totals.wasted_turns += 1
            for reason in dict.fromkeys(turn.waste_reasons):  # every reason: a turn with two counts under both
                totals.wasted_by_reason[reason] = totals.wasted_by_reason.get(reason, 0) + 1
        if turn.escalation is not None:
            if turn.escalation.direction == "down":
                totals.deescalations += 1
            else:
                totals.escalations += 1
        totals.input_tokens += turn.input_tokens
        totals.output_tokens += turn.output_tokens
        totals.reasoning_tokens += turn.reasoning_tokens
        totals.cache_read_tokens += turn.cache_read_tokens
        totals.cache_write_tokens += turn.cache_write_tokens
        if turn.cost is None:
            totals.unpriced_turns += 1
        else:
            totals.cost += turn.cost
        totals.reasoning_cost += turn.reasoning_cost
        totals.vram_time_gib_s += turn.vram_time_gib_s
    return totals


_INT_ROLLUPS = {
    "turns": n.RUN_TURNS,
    "wasted_turns": n.RUN_WASTED_TURNS,
    "escalations": n.RUN_ESCALATIONS,
    "deescalations": n.RUN_DEESCALATIONS,
    "input_tokens": n.RUN_INPUT_TOKENS,
    "output_tokens": n.RUN_OUTPUT_TOKENS,
    "reasoning_tokens": n.RUN_REASONING_TOKENS,
    "cache_read_tokens": n.RUN_CACHED_TOKENS,
    "cache_write_tokens": n.RUN_CACHE_WRITE_TOKENS,
    "unpriced_turns": n.RUN_UNPRICED_TURNS,
}
_FLOAT_ROLLUPS = {"cost": n.RUN_COST, "reasoning_cost": n.RUN_COST_REASONING, "vram_time_gib_s": n.RUN_VRAM_TIME}


def totals_for_run(run_attributes: dict[str, Any], turns: Sequence[Turn]) -> RunTotals:
    """The run span's roll-up attributes, each where present; the turns' sums for the rest."""
    totals = totals_from_turns(turns)
    for field_name, key in _INT_ROLLUPS.items():
        value = as_int(run_attributes.get(key))
        if value is not None:
            setattr(totals, field_name, value)
    for field_name, key in _FLOAT_ROLLUPS.items():
        value = as_float(run_attributes.get(key))
        if value is not None:
            setattr(totals, field_name, value)
    by_reason = {
        key[len(n.RUN_WASTED_TURNS_BY_REASON_PREFIX) :]: as_int(value) or 0
        for key, value in run_attributes.items()
        if key.startswith(n.RUN_WASTED_TURNS_BY_REASON_PREFIX) and as_int(value) is not None
    }
    # The run span counts each wasted turn under its first reason only; when every wasted turn was read, the turns
    # give every reason of each.
    if by_reason and sum(1 for t in turns if t.wasted) != totals.wasted_turns:
        totals.wasted_by_reason = by_reason
    return totals
