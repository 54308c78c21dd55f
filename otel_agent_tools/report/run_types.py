"""The report's view of an agent run: its turns, tool calls, escalations and totals."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class EscalationInfo:
    from_model: str
    to_model: str
    reason: str
    direction: str  # up | down
    detail: str | None = None  # the text given to run.escalate(reason=...)


@dataclass(frozen=True, slots=True)
class ToolCallInfo:
    name: str
    span_id: str
    start_ns: int
    end_ns: int
    is_error: bool
    turn_index: int | None

    @property
    def duration_s(self) -> float:
        return max(self.end_ns - self.start_ns, 0) / 1e9


@dataclass(slots=True)
class Turn:
    index: int
    span_id: str
    model: str
    provider: str | None
    server_address: str | None
    start_ns: int
    end_ns: int
    input_tokens: int = 0
    output_tokens: int = 0  # includes reasoning tokens, as the conventions count them
    reasoning_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float | None = None  # None: unpriced
    reasoning_cost: float = 0.0
    currency: str | None = None
    vram_time_gib_s: float = 0.0
    wasted: bool = False
    waste_reasons: tuple[str, ...] = ()
    escalation: EscalationInfo | None = None
    error_type: str | None = None
    tools: list[ToolCallInfo] = field(default_factory=list)
    stagnating: bool = False  # the run was stagnating after this turn (`should_escalate()` said yes)
    resent_input_tokens: int | None = None  # context tax: input tokens this turn sent again; None: not recorded
    # The per-token rates this turn was priced at, per million tokens, read back from its cost components
    # (None: not priced per token, or no tokens of that kind): the list price when no price data is at hand.
    input_rate_per_1m: float | None = None
    output_rate_per_1m: float | None = None

    @property
    def duration_s(self) -> float:
        return max(self.end_ns - self.start_ns, 0) / 1e9

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(slots=True)
class RunTotals:
    turns: int = 0
    wasted_turns: int = 0
    wasted_by_reason: dict[str, int] = field(default_factory=dict)
    escalations: int = 0
    deescalations: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float = 0.0
    reasoning_cost: float = 0.0
    unpriced_turns: int = 0
    vram_time_gib_s: float = 0.0


@dataclass(slots=True)
class Run:
    run_id: str
    agent: str
    service: str | None
    trace_id: str
    span_id: str | None  # None for an inferred run with no run span
    start_ns: int
    end_ns: int
    outcome: str  # success | failure | unknown
    score: float | None
    inferred: bool
    end_reason: str | None
    currency: str
    turns: list[Turn]
    tools: list[ToolCallInfo]
    totals: RunTotals
    stagnated: bool = False  # some turn of the run was stagnating
    missed_escalation: bool = False  # the run ended stagnating without escalating

    @property
    def wall_time_s(self) -> float:
        return max(self.end_ns - self.start_ns, 0) / 1e9

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(turn.model for turn in self.turns))

    @property
    def wasted_cost(self) -> float:
        return sum(turn.cost or 0.0 for turn in self.turns if turn.wasted)


@dataclass(frozen=True, slots=True)
class RunFilter:
    service: str | None = None
    agent: str | None = None
    start_ns: int | None = None  # runs that started at or after
    end_ns: int | None = None  # runs that started at or before

    def accepts(self, run: Run) -> bool:
        if self.service is not None and run.service != self.service:
            return False
        if self.agent is not None and run.agent != self.agent:
            return False
        if self.start_ns is not None and run.start_ns < self.start_ns:
            return False
        return not (self.end_ns is not None and run.start_ns > self.end_ns)
