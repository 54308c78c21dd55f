"""The report's three tables as typed rows: runs, models, and the turn-by-turn timeline of one run.

``report_to_json`` gives the stable ``--format json`` document (schema version 1). Every key is always present;
a value that is not known is ``null``. Token counts follow the GenAI conventions: ``input_tokens`` includes cached
tokens, ``output_tokens`` includes reasoning (thinking) tokens. Money is in each row's ``currency``; times in seconds.

    {
      "schema_version": 1,
      "runs": [{                        # one per agent run, oldest first
        "run_id", "agent", "service", "trace_id", "start_time" (ISO 8601 UTC), "models": [str],
        "turns", "wasted_turns",
        "wasted_by_reason": {reason: count},  # turns per reason: a turn with two reasons counts under both
        "wasted_cost", "escalations", "deescalations",
        "stagnated",                    # some turn left the run stagnating (should_escalate() said yes)
        "missed_escalation",            # the run ended stagnating without escalating
        "input_tokens", "output_tokens", "reasoning_tokens", "cache_read_tokens", "cache_write_tokens",
        "cost", "reasoning_cost", "currency", "unpriced_turns", "vram_time_gib_s", "wall_time_s",
        "outcome" (success | failure | unknown), "score", "inferred"
      }],
      "models": [{                      # one per (agent, model); a run counts for every model that served a turn
        "agent", "model", "provider", "runs", "successful_runs", "success_rate", "turns", "wasted_turns",
        "input_tokens", "output_tokens", "reasoning_tokens", "cache_read_tokens", "cache_write_tokens",
        "cost", "reasoning_cost", "currency",
        "cost_per_successful_run",      # the model's cost over all its runs / its successful runs
        "score_per_1k_tokens",          # summed run scores / (the model's tokens in scored runs / 1000)
        "thinking_cost_share",          # reasoning cost / cost
        "effective_price_per_1m",       # cost / (input + output tokens) * 1e6
        "list_price_per_1m",            # blended list price, 3 input : 1 output (null: unknown or not computed)
        "reversals": [{"pricier_listed", "listed_discount", "extra_cost"}]  # extra_cost null: never succeeded
      }],
      "timeline": {                     # null when there are no runs
        "run_id", "agent", "trace_id", "selected_by" (run_id | most_wasteful), "currency",
        "outcome", "wall_time_s", "stagnated", "missed_escalation",
        "turns": [{"index", "model", "start_offset_s", "duration_s", "input_tokens", "output_tokens",
                   "reasoning_tokens", "cache_read_tokens", "cache_write_tokens", "cost", "wasted",
                   "waste_reasons": [str],
                   "escalation": {"from_model", "to_model", "reason", "direction",
                                  "detail",            # the text given to run.escalate(reason=...), or null
                                  "after_stagnation"}  # the run was stagnating before it (should_escalate() said yes)
                                 | null,
                   "tools": [{"name", "start_offset_s", "duration_s", "is_error"}], "error_type",
                   "stagnating",        # the run was stagnating after this turn
                   "resent_input_tokens",  # context tax: input tokens sent again (null: not recorded)
                   "cache_share",       # cache_read_tokens / input_tokens (null: no input)
                   "cumulative_cost"}]  # the run's cost up to and including this turn
      },
      "notes": [str]                    # e.g. why the list-price columns are missing
    }
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from otel_agent.values import ratio

from .errors import ReportError
from .model import Run, Turn

SCHEMA_VERSION = 1


@dataclass(slots=True)
class RunRow:
    run_id: str
    agent: str
    service: str | None
    trace_id: str
    start_time: str
    models: list[str]
    turns: int
    wasted_turns: int
    wasted_by_reason: dict[str, int]
    wasted_cost: float
    escalations: int
    deescalations: int
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost: float
    reasoning_cost: float
    currency: str
    unpriced_turns: int
    vram_time_gib_s: float
    wall_time_s: float
    outcome: str
    score: float | None
    inferred: bool
    stagnated: bool = False
    missed_escalation: bool = False


@dataclass(slots=True)
class Reversal:
    pricier_listed: str
    listed_discount: float  # 0.78: listed 78% cheaper
    extra_cost: float | None  # 0.22: 22% more per successful run; None: this model never succeeded


@dataclass(slots=True)
class ModelRow:
    agent: str
    model: str
    provider: str | None
    runs: int
    successful_runs: int
    success_rate: float | None
    turns: int
    wasted_turns: int
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost: float
    reasoning_cost: float
    currency: str
    cost_per_successful_run: float | None
    score_per_1k_tokens: float | None
    thinking_cost_share: float | None
    effective_price_per_1m: float | None
    list_price_per_1m: float | None = None
    reversals: list[Reversal] = field(default_factory=list)
    server_address: str | None = None  # for the list-price lookup; not in the JSON
    # the input and output rates per 1M tokens the telemetry itself was priced at (None: not read); not in the JSON
    telemetry_rates: tuple[float, float] | None = None


@dataclass(slots=True)
class TimelineTool:
    name: str
    start_offset_s: float
    duration_s: float
    is_error: bool


@dataclass(slots=True)
class TimelineEscalation:
    from_model: str
    to_model: str
    reason: str
    direction: str
    detail: str | None = None  # the text given to run.escalate(reason=...)
    after_stagnation: bool = False  # the turn before was stagnating: should_escalate() said yes


@dataclass(slots=True)
class TimelineTurn:
    index: int
    model: str
    start_offset_s: float
    duration_s: float
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost: float | None
    wasted: bool
    waste_reasons: list[str]
    escalation: TimelineEscalation | None
    tools: list[TimelineTool]
    error_type: str | None
    stagnating: bool = False
    resent_input_tokens: int | None = None
    cache_share: float | None = None
    cumulative_cost: float = 0.0


@dataclass(slots=True)
class Timeline:
    run_id: str
    agent: str
    trace_id: str
    selected_by: Literal["run_id", "most_wasteful"]
    currency: str
    turns: list[TimelineTurn]
    outcome: str = "unknown"
    wall_time_s: float = 0.0
    stagnated: bool = False
    missed_escalation: bool = False


@dataclass(slots=True)
class Report:
    runs: list[RunRow]
    models: list[ModelRow]
    timeline: Timeline | None
    notes: list[str] = field(default_factory=list)
    list_price_columns: bool = False  # set once `reversal_adapter.apply_price_reversal` filled them


# --- runs -------------------------------------------------------------------------------------------------------------
def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_row(run: Run) -> RunRow:
    t = run.totals
    return RunRow(
        run_id=run.run_id,
        agent=run.agent,
        service=run.service,
        trace_id=run.trace_id,
        start_time=_iso(run.start_ns),
        models=run.models,
        turns=t.turns,
        wasted_turns=t.wasted_turns,
        wasted_by_reason=dict(t.wasted_by_reason),
        wasted_cost=run.wasted_cost,
        escalations=t.escalations,
        deescalations=t.deescalations,
        input_tokens=t.input_tokens,
        output_tokens=t.output_tokens,
        reasoning_tokens=t.reasoning_tokens,
        cache_read_tokens=t.cache_read_tokens,
        cache_write_tokens=t.cache_write_tokens,
        cost=t.cost,
        reasoning_cost=t.reasoning_cost,
        currency=run.currency,
        unpriced_turns=t.unpriced_turns,
        vram_time_gib_s=t.vram_time_gib_s,
        wall_time_s=run.wall_time_s,
        outcome=run.outcome,
        score=run.score,
        inferred=run.inferred,
        stagnated=run.stagnated,
        missed_escalation=run.missed_escalation,
    )


# --- models -----------------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _ModelSums:
    provider: str | None = None
    server_address: str | None = None
    currency: str = "USD"
    run_ids: set[str] = field(default_factory=set)
    successful_run_ids: set[str] = field(default_factory=set)
    scored: dict[str, float] = field(default_factory=dict)  # run id -> score
    scored_tokens: int = 0
    turns: list[Turn] = field(default_factory=list)


def _telemetry_rates(turns: Sequence[Turn]) -> tuple[float, float] | None:
    """The model's input and output rates as its priced turns carry them (the first turn that shows each)."""
    input_rate = next((t.input_rate_per_1m for t in turns if t.input_rate_per_1m is not None), None)
    output_rate = next((t.output_rate_per_1m for t in turns if t.output_rate_per_1m is not None), None)
    return (input_rate, output_rate) if input_rate is not None and output_rate is not None else None


def model_rows(runs: Sequence[Run]) -> list[ModelRow]:
    sums: dict[tuple[str, str], _ModelSums] = {}
    for run in runs:
        for turn in run.turns:
            s = sums.setdefault((run.agent, turn.model), _ModelSums(currency=run.currency))
            s.provider = s.provider or turn.provider
            s.server_address = s.server_address or turn.server_address
            s.turns.append(turn)
            s.run_ids.add(run.run_id)
            if run.outcome == "success":
                s.successful_run_ids.add(run.run_id)
            if run.score is not None:
                s.scored[run.run_id] = run.score
                s.scored_tokens += turn.total_tokens
    rows = []
    for (agent, model), s in sorted(sums.items()):
        cost = sum(t.cost or 0.0 for t in s.turns)
        reasoning_cost = sum(t.reasoning_cost for t in s.turns)
        input_tokens = sum(t.input_tokens for t in s.turns)
        output_tokens = sum(t.output_tokens for t in s.turns)
        successes = len(s.successful_run_ids)
        rows.append(
            ModelRow(
                agent=agent,
                model=model,
                provider=s.provider,
                runs=len(s.run_ids),
                successful_runs=successes,
                success_rate=ratio(successes, len(s.run_ids)),
                turns=len(s.turns),
                wasted_turns=sum(1 for t in s.turns if t.wasted),
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                reasoning_tokens=sum(t.reasoning_tokens for t in s.turns),
                cache_read_tokens=sum(t.cache_read_tokens for t in s.turns),
                cache_write_tokens=sum(t.cache_write_tokens for t in s.turns),
                cost=cost,
                reasoning_cost=reasoning_cost,
                currency=s.currency,
                cost_per_successful_run=ratio(cost, successes) if cost > 0 else None,
                score_per_1k_tokens=ratio(sum(s.scored.values()), s.scored_tokens / 1000) if s.scored else None,
                thinking_cost_share=ratio(reasoning_cost, cost),
                effective_price_per_1m=ratio(cost * 1e6, input_tokens + output_tokens) if cost > 0 else None,
                server_address=s.server_address,
                telemetry_rates=_telemetry_rates(s.turns),
            )
        )
    return rows


# --- timeline ---------------------------------------------------------------------------------------------------------
def most_wasteful_run(runs: Sequence[Run]) -> Run:
    """Most wasted turns; then the most money spent on wasted turns; then the most money; then the latest."""
    return max(reversed(runs), key=lambda r: (r.totals.wasted_turns, r.wasted_cost, r.totals.cost))


def find_run(runs: Sequence[Run], run_id: str) -> Run:
    """The run with this id; a unique prefix of a run id or run span id also finds it."""
    exact = [r for r in runs if run_id in (r.run_id, r.span_id)]
    if exact:
        return exact[0]
    prefixed = [r for r in runs if r.run_id.startswith(run_id) or (r.span_id or "").startswith(run_id)]
    if len(prefixed) == 1:
        return prefixed[0]
    if prefixed:
        raise ReportError(f"run id {run_id!r} is ambiguous: {len(prefixed)} runs start with it")
    raise ReportError(f"no run {run_id!r} among the {len(runs)} runs found")


def timeline(run: Run, selected_by: Literal["run_id", "most_wasteful"]) -> Timeline:
    cumulative = 0.0
    turns = []
    stagnating = False
    for t in run.turns:
        cumulative += t.cost or 0.0
        turns.append(_timeline_turn(run, t, cumulative, stagnating))
        stagnating = t.stagnating
    return Timeline(
        run_id=run.run_id,
        agent=run.agent,
        trace_id=run.trace_id,
        selected_by=selected_by,
        currency=run.currency,
        turns=turns,
        outcome=run.outcome,
        wall_time_s=run.wall_time_s,
        stagnated=run.stagnated,
        missed_escalation=run.missed_escalation,
    )


def _timeline_turn(run: Run, t: Turn, cumulative_cost: float, after_stagnation: bool) -> TimelineTurn:
    return TimelineTurn(
        index=t.index,
        model=t.model,
        start_offset_s=(t.start_ns - run.start_ns) / 1e9,
        duration_s=t.duration_s,
        input_tokens=t.input_tokens,
        output_tokens=t.output_tokens,
        reasoning_tokens=t.reasoning_tokens,
        cache_read_tokens=t.cache_read_tokens,
        cache_write_tokens=t.cache_write_tokens,
        cost=t.cost,
        wasted=t.wasted,
        waste_reasons=list(t.waste_reasons),
        escalation=TimelineEscalation(
            t.escalation.from_model,
            t.escalation.to_model,
            t.escalation.reason,
            t.escalation.direction,
            t.escalation.detail,
            after_stagnation,
        )
        if t.escalation
        else None,
        tools=[TimelineTool(x.name, (x.start_ns - run.start_ns) / 1e9, x.duration_s, x.is_error) for x in t.tools],
        error_type=t.error_type,
        stagnating=t.stagnating,
        resent_input_tokens=t.resent_input_tokens,
        cache_share=ratio(t.cache_read_tokens, t.input_tokens),
        cumulative_cost=cumulative_cost,
    )


# --- the report -------------------------------------------------------------------------------------------------------
def build_report(runs: Sequence[Run], run_id: str | None = None) -> Report:
    """Run and model rows for every run; the timeline of `run_id`, or of the most wasteful run."""
    if run_id is not None:
        chosen: Timeline | None = timeline(find_run(runs, run_id), "run_id")
    else:
        chosen = timeline(most_wasteful_run(runs), "most_wasteful") if runs else None
    return Report(runs=[run_row(r) for r in runs], models=model_rows(runs), timeline=chosen)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


def report_to_json(report: Report) -> dict[str, Any]:
    """The ``--format json`` document (see the module docstring for the schema)."""
    models = []
    for row in report.models:
        data = asdict(row)
        data.pop("server_address")
        data.pop("telemetry_rates")
        models.append(data)
    return _json_safe(
        {
            "schema_version": SCHEMA_VERSION,
            "runs": [asdict(row) for row in report.runs],
            "models": models,
            "timeline": asdict(report.timeline) if report.timeline is not None else None,
            "notes": list(report.notes),
        }
    )
