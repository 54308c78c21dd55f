"""Follows agent runs turn by turn: assigns each inference call to a run, detects waste and escalation.

Run inference (no `agent_run` around the calls): which run a request continues is decided by `chaining` (server-side
state, the verbatim answer, tool-call ids, the answer's words, the stable prefix), at O(new messages) per turn; which
run a `@tool` call belongs to by `tool_owners`.

Deferred run span (docs/architecture.md): an inferred run whose first request offers no tools (a one-shot call: RAG,
classification, extraction) gets no `invoke_agent` span and no run roll-up unless a second turn joins it. Then its
span starts, dated from the first turn, parents the second turn and every later one, and links to the first turn's
span (which was exported without a run parent: a span cannot be re-parented, and no span may name a parent that is
never exported). A first request that offers tools starts an agent loop: its run span starts with it and parents
every turn from the first, as an `agent_run` does.
"""

from __future__ import annotations

import fnmatch
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..config import Options
from ..records import (
    Escalation,
    RunRecord,
    ToolRecord,
    ToolResult,
    ToolSource,
    TurnAnnotations,
    TurnRecord,
    TurnRequest,
)
from ..safety import guarded, report_internal_error
from ..values import canonical_json, ratio
from . import chaining, grouping
from .chaining import SCAN_LIMIT as _SCAN_LIMIT
from .chaining import history as _history
from .context import current_state, framework_state
from .run import Run, RunState
from .sink import RunSink
from .tool_owners import ToolOwners
from .waste import BUILTIN_DETECTORS, TurnView, WasteDetector, digest, reads_as_error, remember_turn


@dataclass(slots=True)
class TurnHandle:
    """A turn begun: its run, its index, and the run whose span parents it (inferred runs; None: the current
    context, which inside `agent_run` is the run's span)."""

    run: RunState
    index: int
    parent_run: RunRecord | None
    new_tool_results: tuple[ToolResult, ...]
    deferred_run: RunRecord | None = None  # the first turn of a deferred run: its span is linked when the run's starts


class TrajectoryTracker:
    def __init__(
        self,
        telemetry: RunSink,
        *,
        agent_name: str,
        idle_timeout_s: float,
        memory_turns: int,
        max_runs: int,
        stagnation_window: int,
        tiers: dict[str, float],
        list_price: Callable[[str, str], float | None] | None = None,
    ) -> None:
        self.telemetry = telemetry
        self._agent_name = agent_name
        self._idle_timeout_s = idle_timeout_s
        self._memory_turns = memory_turns
        self._max_runs = max_runs
        self._stagnation_window = stagnation_window
        self._tiers = tiers
        self._list_price = list_price
        self._detectors: list[WasteDetector] = list(BUILTIN_DETECTORS)
        self._lock = threading.Lock()
        self._chains = chaining.RunChainer()  # under self._lock
        self._inferred: OrderedDict[str, RunState] = OrderedDict()
        self._tool_owners = ToolOwners()
        self._reaper: threading.Thread | None = None
        self._stop = threading.Event()
        self._explicit: weakref.WeakSet[RunState] = weakref.WeakSet()  # open `agent_run` blocks, for fork

    @classmethod
    def from_options(
        cls,
        options: Options,
        telemetry: RunSink,
        *,
        agent_name: str,
        list_price: Callable[[str, str], float | None] | None = None,
    ) -> TrajectoryTracker:
        return cls(
            telemetry,
            agent_name=agent_name,
            idle_timeout_s=options.run_idle_timeout_s,
            memory_turns=options.run_memory_turns,
            max_runs=options.max_inferred_runs,
            stagnation_window=options.stagnation_window,
            tiers=options.model_tiers,
            list_price=list_price,
        )

    # -- detectors -------------------------------------------------------------------------------------------------
    def register_detector(self, detector: WasteDetector) -> None:
        self._detectors.append(detector)

    # -- explicit runs ---------------------------------------------------------------------------------------------
    def open_run(self, name: str, attributes: dict[str, Any]) -> RunState:
        run = RunState(
            name,
            inferred=False,
            memory_turns=self._memory_turns,
            stagnation_window=self._stagnation_window,
            attributes=attributes,
        )
        self.telemetry.start_run(run.record)
        self._explicit.add(run)
        return run

    def activate(self, run: RunState) -> Any:
        return self.telemetry.activate_run(run.record)

    def deactivate(self, token: Any) -> None:
        self.telemetry.deactivate(token)

    def close_run(
        self,
        run: RunState,
        *,
        reason: str,
        end_ns: int | None = None,
        error: BaseException | None = None,
        idle_since: float | None = None,
    ) -> None:
        """End a run once. With `idle_since` (monotonic), only if it is still idle: no turn in flight, none since."""
        with self._lock:
            if run.ended:
                return
            if idle_since is not None and (run.in_flight or run.last_activity_mono > idle_since):
                return
            run.ended = True
            self._chains.forget(run)
            self._inferred.pop(run.id, None)
        record = run.final_record(reason, end_ns)
        if error is not None:
            self.telemetry.fail_run(record, error)
        else:
            self.telemetry.finish_run(record)

    # -- turns -----------------------------------------------------------------------------------------------------
    def begin_turn(self, request: TurnRequest, start_ns: int | None = None) -> TurnHandle | None:
        explicit = current_state.get()
        parent: RunRecord | None = None  # inside `agent_run`: the current context, the run's span or below it
        if explicit is None:
            explicit = framework_state()
            parent = explicit.record if explicit is not None else None
        if explicit is not None and not explicit.inferred:
            run = explicit
        else:
            # counted in flight under the lock, before the reaper sees it
            run, joined = self._find_or_start(request, start_ns)
            if run.deferred and joined:
                self._start_deferred(run)
            parent = None if run.deferred else run.record
            self._tool_owners.turn_began(run)
        run.touch()
        new_results = self._new_tool_results(request)
        self._emit_inferred_tools(run, new_results, parent)
        deferred = run.record if run.deferred else None
        return TurnHandle(run, run.next_turn_index(), parent, new_results, deferred)

    def _start_deferred(self, run: RunState) -> None:
        """A second turn joined a deferred run: its span starts now (dated from its first turn), once."""
        with run.lock:
            if not run.deferred:
                return
            try:
                self.telemetry.start_run(run.record)
            finally:
                run.deferred = False

    def _new_tool_results(self, request: TurnRequest) -> tuple[ToolResult, ...]:
        """Tool results after the request's latest assistant message: what came back since the last turn."""
        results: list[ToolResult] = []
        for message in reversed(_history(request.messages)[-_SCAN_LIMIT:]):
            if message.role == "assistant":
                break
            results.extend(message.tool_results)
        return tuple(reversed(results))

    def _find_or_start(self, request: TurnRequest, start_ns: int | None = None) -> tuple[RunState, bool]:
        """The run this request continues (and True), else a new one (and False)."""
        probe = chaining.probe(request)
        for _ in range(2):  # the cheap keys first; those that survive rewriting only when they place nothing
            with self._lock:
                run = self._chains.find(probe)
                if run is not None:
                    self._inferred.move_to_end(run.id)
                    run.in_flight += 1
                    return run, True
            if probe.deep or not probe.continues:
                break
            chaining.deepen(probe)
        attributes = grouping.for_inferred(request.conversation_id)
        return self._start_inferred(start_ns, attributes, defer=not request.tool_names), False

    def _start_inferred(
        self, start_ns: int | None = None, attributes: dict[str, Any] | None = None, *, defer: bool = False
    ) -> RunState:
        """An inferred run starts with its first turn: its span and duration start at that turn's start time."""
        run = RunState(
            self._agent_name,
            inferred=True,
            memory_turns=self._memory_turns,
            stagnation_window=self._stagnation_window,
            attributes=attributes,
            start_ns=start_ns,
        )
        if defer:
            run.deferred = True
        else:
            self.telemetry.start_run(run.record)
        evicted: list[RunState] = []
        with self._lock:
            run.in_flight = 1
            self._inferred[run.id] = run
            while len(self._inferred) > self._max_runs:
                evicted.append(self._inferred.popitem(last=False)[1])
        for old in evicted:
            self.close_run(old, reason="evicted", end_ns=old.last_turn_end_ns)
        self._ensure_reaper()
        return run

    def end_turn(self, handle: TurnHandle, record: TurnRecord) -> TurnAnnotations:
        try:
            return self._end_turn(handle, record)
        finally:
            if handle.run.inferred:
                with self._lock:
                    handle.run.in_flight = max(handle.run.in_flight - 1, 0)

    def _end_turn(self, handle: TurnHandle, record: TurnRecord) -> TurnAnnotations:
        run = handle.run
        memory = run.memory
        executed_keys = set()
        fresh: list[ToolResult] = []  # results this run has not seen before (an agent may re-send old ones)
        for result in handle.new_tool_results:
            if result.call_id is not None:
                seen = digest(result.call_id)
                if seen in memory.seen_results:
                    continue
                memory.seen_results.add(seen)
            fresh.append(result)
            answered = memory.answer(result)
            if answered is not None:
                executed_keys.add(answered[0])
        view = TurnView(record, tuple(fresh))
        reasons = tuple(d.reason for d in self._detectors if guarded(d.detect, view, memory))
        remember_turn(view, memory)
        usage = record.usage
        resent = growth = None
        cache_ratio = None
        if usage is not None and usage.input_tokens is not None:
            if run.previous_input_tokens is not None:
                carried = run.previous_input_tokens + (run.previous_output_tokens or 0)
                resent = min(carried, usage.input_tokens)
                growth = usage.input_tokens - run.previous_input_tokens
            if usage.input_tokens:
                cache_ratio = ratio(usage.cache_read_tokens or 0, usage.input_tokens)
            run.previous_input_tokens = usage.input_tokens
            run.previous_output_tokens = usage.output_tokens
        escalation = self._escalation(run, record)
        model = record.request.model or record.model
        stagnating = run.streak_after(bool(reasons))
        annotations = TurnAnnotations(
            run_id=run.id,
            agent_name=run.name,
            index=handle.index,
            wasted=bool(reasons),
            waste_reasons=reasons,
            resent_input_tokens=resent,
            context_growth_tokens=growth,
            cache_hit_ratio=cache_ratio,
            model_tier=self._tier(record.request.provider, model) if model else None,
            escalation=escalation,
            stagnating=stagnating,
            group=grouping.of(run.record.attributes),
        )
        run.add_turn(record, annotations)
        run.previous_model = model or run.previous_model
        run.previous_provider = record.request.provider if model else run.previous_provider
        run.touch()
        self._register(run, record)
        return annotations

    def run_requesting(self, call_key: bytes, name: str | None = None) -> RunState | None:
        """The open inferred run that asked for this tool call: see `tool_owners`."""
        return self._tool_owners.owner(call_key, name)

    def _register(self, run: RunState, record: TurnRecord) -> None:
        if not run.inferred:
            return
        if record.response is not None and record.response.tool_calls:
            self._tool_owners.asked(run, record.response.tool_calls)
        with self._lock:
            if not run.ended:
                self._chains.register(run, record)

    # -- escalation --------------------------------------------------------------------------------------------------
    def _tier(self, provider: str, model: str) -> float | None:
        tier = self._tiers.get(model)
        if tier is None:
            for pattern, value in self._tiers.items():
                if fnmatch.fnmatchcase(model, pattern):
                    tier = value
                    break
        if tier is not None:
            return float(tier)
        if self._list_price is not None:
            return guarded(self._list_price, provider, model)
        return None

    def _escalation(self, run: RunState, record: TurnRecord) -> Escalation | None:
        model = record.request.model or record.model
        previous = run.previous_model
        pending = run.pending_escalation
        if not model or not previous or model == previous:
            return None
        provider = record.request.provider
        new_tier, old_tier = self._tier(provider, model), self._tier(run.previous_provider or provider, previous)
        if new_tier is None or old_tier is None or new_tier == old_tier:
            return None
        direction: Literal["up", "down"] = "up" if new_tier > old_tier else "down"
        detail = None
        if pending is not None and pending[0] == model:
            reason, detail = "explicit", pending[1]
            run.pending_escalation = None
        elif run.wasted_streak > 0:  # stagnating, or the last turn was wasted
            reason = "stagnation"
        else:
            reason = "unspecified"
        return Escalation(from_model=previous, to_model=model, reason=reason, direction=direction, detail=detail)

    # -- tools -------------------------------------------------------------------------------------------------------
    def begin_tool(self, name: str, source: ToolSource, arguments: Any) -> tuple[ToolRecord, RunState | None, bytes]:
        """A tool the application runs (`@tool`, MCP): its record, started, under the run it belongs to."""
        key = digest(f"{name}\x00{canonical_json(arguments) or arguments}")
        run = current_state.get()
        parent: RunRecord | None = None
        if run is None:
            run = framework_state()
            parent = run.record if run is not None else None
        if run is None:
            # no agent_run: the inferred run whose model requested this very call, if one did
            run = self.run_requesting(key, name)
            if run is not None:
                if run.deferred:
                    self._start_deferred(run)  # a tool of this run: it is an agent loop, not a one-shot call
                parent = run.record
        if run is not None:
            run.observed_tool_keys.add(key)
        tool = ToolRecord(
            name,
            source,
            turn_index=run.stats.turns if run else None,
            agent_name=run.name if run else None,
            arguments=arguments,
            group=grouping.of(run.record.attributes) if run else {},
        )
        self.telemetry.start_tool(tool, parent)
        return tool, run, key

    def end_tool(
        self, tool: ToolRecord, run: RunState | None, key: bytes, *, error: BaseException | None = None
    ) -> None:
        if error is not None:
            self.telemetry.fail_tool(tool, error)
        else:
            self.telemetry.finish_tool(tool)
        if run is not None:
            failed = tool.failed or error is not None
            run.add_tool_call(failed)
            if failed:
                run.memory.mark_failed(key, tool.name)

    def _emit_inferred_tools(self, run: RunState, results: tuple[ToolResult, ...], parent: RunRecord | None) -> None:
        """Tools that ran where we could not see them: a span from the previous turn's end to this request."""
        if not results or run.last_turn_end_ns is None:
            return
        observed = run.observed_tool_keys
        now = time.time_ns()
        for result in results:
            pending = run.memory.pending_calls.get(result.call_id or "")
            if pending is None or pending[0] in observed:
                continue
            tool = ToolRecord(
                pending[1],
                "inferred",
                turn_index=run.stats.turns,
                agent_name=run.name,
                call_id=result.call_id,
                start_ns=run.last_turn_end_ns,
                end_ns=now,
                failed=reads_as_error(result),
                group=grouping.of(run.record.attributes),
            )
            self.telemetry.start_tool(tool, parent)
            self.telemetry.finish_tool(tool)
            run.add_tool_call(tool.failed)

    # -- idle runs -------------------------------------------------------------------------------------------------
    def _ensure_reaper(self) -> None:
        if self._reaper is not None and self._reaper.is_alive():
            return
        self._stop.clear()
        self._reaper = threading.Thread(target=self._reap_loop, name="otel-agent-runs", daemon=True)
        self._reaper.start()

    def _reap_loop(self) -> None:
        interval = min(max(self._idle_timeout_s / 4, 0.05), 1.0)
        while not self._stop.wait(interval):
            try:
                self.reap_idle()
            except Exception:
                report_internal_error("TrajectoryTracker.reap")
            with self._lock:
                if not self._inferred:
                    self._reaper = None
                    return

    def reap_idle(self, now_mono: float | None = None) -> int:
        now = time.monotonic() if now_mono is None else now_mono
        since = now - self._idle_timeout_s
        with self._lock:
            idle = [run for run in self._inferred.values() if not run.in_flight and run.last_activity_mono <= since]
        for run in idle:
            self.close_run(run, reason="idle", end_ns=run.last_turn_end_ns, idle_since=since)
        return len(idle)

    def shutdown(self) -> None:
        self._stop.set()
        with self._lock:
            runs = list(self._inferred.values())
        for run in runs:
            self.close_run(run, reason="shutdown", end_ns=run.last_turn_end_ns)

    def forget_after_fork(self) -> None:
        """In a forked child: drop every inferred run without ending it (the parent owns them, and their spans); the
        child's calls start runs of their own. An `agent_run` block open across the fork stays the parent's too: the
        child does not end (export) its span again; calls the child makes inside it still belong to it. Called by
        `os.register_at_fork`, with only this thread alive."""
        for run in list(self._explicit):
            run.ended = True
        self._explicit = weakref.WeakSet()
        self._lock = threading.Lock()  # the parent may have held it while forking
        self._chains = chaining.RunChainer()
        self._inferred.clear()
        self._tool_owners = ToolOwners()
        ToolOwners.forget_current()
        self._reaper = None
        self._stop = threading.Event()

    @property
    def open_inferred_runs(self) -> int:
        with self._lock:
            return len(self._inferred)

    def inferred_runs(self) -> list[Run]:
        """The open inferred runs, least recently active first."""
        with self._lock:
            return [run.handle for run in self._inferred.values()]

    def footprint(self, run: Run | None = None) -> dict[str, int]:
        """Sizes of the bounded structures the tracker keeps, for `run` (default: the largest of the open inferred
        runs) and for the tracker itself. A diagnostic: each stays under its documented bound however long runs go."""
        with self._lock:
            states = [run._state] if run is not None else list(self._inferred.values())
            sizes = {"inferred_runs": len(self._inferred), "chaining_keys": len(self._chains)}
            sizes["tool_owners"] = len(self._tool_owners)
        for name in ("pending_calls", "answered_calls", "outputs", "failed_call_ids"):
            sizes[name] = max((len(getattr(state.memory, name)) for state in states), default=0)
        sizes["observed_tool_keys"] = max((len(state.observed_tool_keys) for state in states), default=0)
        sizes["models"] = max((len(state.stats.models) for state in states), default=0)
        return sizes
