"""An agent run: `Run`, the application's handle, over `RunState`, the tracker's internal state of one run.

`Run` is what `agent_run(...)` and `current_run()` return: the live figures, the stagnation signal, explicit
escalation and the outcome. Everything the tracker keeps per run (turns in flight, the previous turn's
model and tokens, the tools seen, the run's record for telemetry) lives in `RunState`, which only `trajectory/`
touches. Thread-safe: turns of one run may finish on several threads or tasks.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from ..records import RunRecord, RunStats, TurnAnnotations, TurnRecord
from .waste import BoundedSet, RunMemory


class RunState:
    """The tracker's mutable state of one run (internal)."""

    def __init__(
        self,
        name: str,
        *,
        inferred: bool,
        memory_turns: int,
        stagnation_window: int,
        attributes: dict[str, Any] | None = None,
        start_ns: int | None = None,
    ) -> None:
        now = time.time_ns()
        self.record = RunRecord(
            id=uuid.uuid4().hex[:16],
            name=name,
            inferred=inferred,
            start_ns=start_ns if start_ns is not None else now,
            attributes=dict(attributes or {}),
        )
        self.last_activity_ns = now
        self.last_activity_mono = time.monotonic()
        self.memory = RunMemory(limit=memory_turns)
        self.ended = False
        self.deferred = False  # an inferred run whose span waits for a second turn (see tracker: deferred run span)
        self.success: bool | None = None
        self.score: float | None = None
        self.missed_escalation = False
        self.stagnation_window = stagnation_window
        self.wasted_streak = 0
        self.stats = RunStats()
        self.lock = threading.Lock()
        self._next_index = 0
        self.previous_model: str | None = None
        self.previous_provider: str | None = None  # the previous turn's provider: a run may change provider
        self.previous_input_tokens: int | None = None
        self.previous_output_tokens: int | None = None
        self.last_turn_end_ns: int | None = None
        self.pending_escalation: tuple[str, str | None] | None = None
        self.observed_tool_keys = BoundedSet(memory_turns)  # tools seen by @tool or MCP, by call key

        self.in_flight = 0  # turns begun and not yet ended: a run with one is busy, never idle (tracker's lock)
        self.handle = Run(self)  # the one façade the application sees for this run

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def inferred(self) -> bool:
        return self.record.inferred

    @property
    def stagnating(self) -> bool:
        return self.wasted_streak >= self.stagnation_window

    @property
    def outcome(self) -> str:
        return "unknown" if self.success is None else ("success" if self.success else "failure")

    def next_turn_index(self) -> int:
        with self.lock:
            self._next_index += 1
            return self._next_index

    def touch(self) -> None:
        self.last_activity_ns = time.time_ns()
        self.last_activity_mono = time.monotonic()

    def streak_after(self, wasted: bool) -> bool:
        """Count a finished turn's waste into the streak; returns whether the run is now stagnating."""
        with self.lock:
            self.wasted_streak = self.wasted_streak + 1 if wasted else 0
            return self.wasted_streak >= self.stagnation_window

    def add_turn(self, record: TurnRecord, turn: TurnAnnotations) -> None:
        with self.lock:
            self.stats.add_turn(record, turn)
            if turn.stagnating:
                self.missed_escalation = True
            if turn.escalation is not None and turn.escalation.direction == "up":
                self.missed_escalation = False
            self.last_turn_end_ns = record.end_ns

    def add_tool_call(self, failed: bool) -> None:
        with self.lock:
            self.stats.add_tool_call(failed)

    def final_record(self, reason: str, end_ns: int | None) -> RunRecord:
        """The run's record, completed with its figures and outcome, for the telemetry layer."""
        record = self.record
        with self.lock:
            record.stats = self.stats.copy()
        record.end_ns = end_ns
        record.last_activity_ns = self.last_activity_ns
        record.outcome = self.outcome
        record.score = self.score
        record.missed_escalation = self.missed_escalation
        record.end_reason = reason
        return record


class Run:
    """Returned by `agent_run(...)` and `current_run()`: a run's figures, stagnation signal, escalation, outcome."""

    __slots__ = ("_state",)

    def __init__(self, state: RunState) -> None:
        self._state = state

    @property
    def id(self) -> str:
        return self._state.id

    @property
    def name(self) -> str:
        return self._state.name

    @property
    def inferred(self) -> bool:
        return self._state.inferred

    @property
    def attributes(self) -> dict[str, Any]:
        return dict(self._state.record.attributes)

    @property
    def stats(self) -> RunStats:
        state = self._state
        with state.lock:
            return state.stats.copy()

    @property
    def stagnating(self) -> bool:
        """True after `stagnation_window` wasted turns in a row (default 2), until a turn is not wasted."""
        return self._state.stagnating

    @property
    def last_turn_wasted(self) -> bool:
        return self._state.wasted_streak > 0

    @property
    def turn_count(self) -> int:
        """Finished turns so far (cheap: no copy of the figures, unlike `stats`)."""
        return self._state.stats.turns

    def should_escalate(self) -> bool:
        """The documented rule: escalate when the run is stagnating."""
        return self._state.stagnating

    def escalate(self, to_model: str, reason: str | None = None) -> None:
        """Announce that the next turn moves to `to_model`: that turn's escalation gets reason `explicit`."""
        self._state.pending_escalation = (to_model, reason)

    def set_outcome(self, success: bool | None = None, score: float | None = None) -> None:
        if success is not None:
            self._state.success = bool(success)
        if score is not None:
            self._state.score = float(score)

    @property
    def success(self) -> bool | None:
        return self._state.success

    @property
    def score(self) -> float | None:
        return self._state.score

    @property
    def outcome(self) -> str:
        return self._state.outcome

    @property
    def ended(self) -> bool:
        return self._state.ended

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other._state is self._state

    def __hash__(self) -> int:
        return id(self._state)

    def __repr__(self) -> str:
        return f"Run(name={self.name!r}, id={self.id!r}, inferred={self.inferred})"
