"""An agent run: its live figures, stagnation signal, explicit escalation and outcome.

Thread-safe: turns of one run may finish on several threads or tasks.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.trace import Span

from ..records import TurnRecord
from .waste import BoundedSet, RunMemory


@dataclass
class RunStats:
    """Live figures of a run (a snapshot is returned by `Run.stats`)."""

    turns: int = 0
    wasted_turns: int = 0
    wasted_by_reason: Counter[str] = field(default_factory=Counter)
    escalations: int = 0
    deescalations: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    resent_input_tokens: int = 0
    cost: float = 0.0
    reasoning_cost: float = 0.0
    unpriced_turns: int = 0
    vram_time_gib_s: float = 0.0
    tool_calls: int = 0
    tool_errors: int = 0
    models: list[str] = field(default_factory=list)
    stagnated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def copy(self) -> RunStats:
        clone = RunStats(**{k: v for k, v in self.__dict__.items() if k not in ("wasted_by_reason", "models")})
        clone.wasted_by_reason = Counter(self.wasted_by_reason)
        clone.models = list(self.models)
        return clone


class Run:
    """Returned by `agent_run(...)` and `current_run()`."""

    def __init__(
        self,
        name: str,
        *,
        inferred: bool,
        span: Span,
        memory_turns: int,
        stagnation_window: int,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        self.id = uuid.uuid4().hex[:16]
        self.name = name
        self.inferred = inferred
        self.span = span
        self.attributes = dict(attributes or {})
        self.start_ns = time.time_ns()
        self.last_activity_ns = self.start_ns
        self.last_activity_mono = time.monotonic()
        self.memory = RunMemory(limit=memory_turns)
        self.ended = False
        self.success: bool | None = None
        self.score: float | None = None
        self.missed_escalation = False
        self.end_reason: str | None = None
        self._stagnation_window = stagnation_window
        self._wasted_streak = 0
        self._stats = RunStats()
        self._lock = threading.Lock()
        self._next_index = 0
        self.previous_model: str | None = None
        self.previous_input_tokens: int | None = None
        self.previous_output_tokens: int | None = None
        self.last_turn_end_ns: int | None = None
        self.pending_escalation: tuple[str, str | None] | None = None
        self.observed_tool_keys = BoundedSet(memory_turns)  # tools seen by @tool or MCP, by call key
        self.keys: list[Any] = []  # chaining keys that point at this run (bounded by the tracker)
        self.in_flight = 0  # turns begun and not yet ended: a run with one is busy, never idle (tracker's lock)

    # -- the agent's side ------------------------------------------------------------------------------------------
    @property
    def stats(self) -> RunStats:
        with self._lock:
            return self._stats.copy()

    @property
    def stagnating(self) -> bool:
        """True after `stagnation_window` wasted turns in a row (default 2), until a turn is not wasted."""
        return self._wasted_streak >= self._stagnation_window

    @property
    def last_turn_wasted(self) -> bool:
        return self._wasted_streak > 0

    @property
    def turn_count(self) -> int:
        """Finished turns so far (cheap: no copy of the figures, unlike `stats`)."""
        return self._stats.turns

    def should_escalate(self) -> bool:
        """The documented rule: escalate when the run is stagnating."""
        return self.stagnating

    def escalate(self, to_model: str, reason: str | None = None) -> None:
        """Announce that the next turn moves to `to_model`: that turn's escalation gets reason `explicit`."""
        self.pending_escalation = (to_model, reason)

    def set_outcome(self, success: bool | None = None, score: float | None = None) -> None:
        if success is not None:
            self.success = bool(success)
        if score is not None:
            self.score = float(score)

    @property
    def outcome(self) -> str:
        return "unknown" if self.success is None else ("success" if self.success else "failure")

    # -- the tracker's side ------------------------------------------------------------------------------------------
    def next_turn_index(self) -> int:
        with self._lock:
            self._next_index += 1
            return self._next_index

    def touch(self) -> None:
        self.last_activity_ns = time.time_ns()
        self.last_activity_mono = time.monotonic()

    def add_turn(
        self, record: TurnRecord, wasted_reasons: tuple[str, ...], resent: int | None, escalation_direction: str | None
    ) -> bool:
        """Fold a finished turn into the figures; returns whether the run is now stagnating."""
        with self._lock:
            stats = self._stats
            stats.turns += 1
            if wasted_reasons:
                stats.wasted_turns += 1
                stats.wasted_by_reason[wasted_reasons[0]] += 1
                self._wasted_streak += 1
            else:
                self._wasted_streak = 0
            if escalation_direction == "up":
                stats.escalations += 1
            elif escalation_direction == "down":
                stats.deescalations += 1
            usage = record.usage
            if usage is not None:
                stats.input_tokens += usage.input_tokens or 0
                stats.output_tokens += usage.output_tokens or 0
                stats.reasoning_tokens += usage.reasoning_tokens or 0
                stats.cache_read_tokens += usage.cache_read_tokens or 0
                stats.cache_write_tokens += usage.cache_write_tokens or 0
            stats.resent_input_tokens += resent or 0
            if record.cost is not None:
                stats.cost += record.cost.total
                stats.reasoning_cost += record.cost.reasoning
            elif record.unpriced:
                stats.unpriced_turns += 1
            if record.gpu is not None:
                stats.vram_time_gib_s += record.gpu.vram_time_gib_s
            model = record.request.model or record.model
            if model and model not in stats.models and len(stats.models) < 16:
                stats.models.append(model)
            stagnating = self._wasted_streak >= self._stagnation_window
            if stagnating:
                stats.stagnated = True
                self.missed_escalation = True
            if escalation_direction == "up":
                self.missed_escalation = False
            self.last_turn_end_ns = record.end_ns
            return stagnating

    def add_tool_call(self, failed: bool) -> None:
        with self._lock:
            self._stats.tool_calls += 1
            self._stats.tool_errors += int(failed)
