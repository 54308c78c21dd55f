"""Which inferred run a `@tool` or MCP call outside `agent_run` belongs to.

The run whose turn the calling task or thread began last (a context variable set when the turn begins) owns the tool
when its model asked for that call, by name and canonical arguments, or failing that for a call of that name. Only
when the task's context names no such run (the tool runs on another thread or task than the model call) is the call
looked up across runs by name and arguments, and then only when exactly one open run is waiting for it; when no run
asked for it in a structured call (the ReAct text protocol, a tool the agent's code calls itself), the task's run
owns it. Concurrent runs asking for the same call from another thread or task than the model call leave the tool span
without a run rather than under another task's run.
"""

from __future__ import annotations

import contextvars
import threading
from collections import OrderedDict

from ..records import ToolCall
from .run import RunState
from .waste import call_key

_LIMIT = 4096  # requested tool calls remembered
_RUNS_PER_CALL = 16  # runs remembered as asking for one call

_asking: contextvars.ContextVar[RunState | None] = contextvars.ContextVar("otel_agent_inferred_run", default=None)


def _pending(run: RunState, key: bytes | None, name: str | None) -> bool:
    calls = list(run.memory.pending_calls.values())
    if key is not None and any(pending_key == key for pending_key, _ in calls):
        return True
    return name is not None and any(pending_name == name for _, pending_name in calls)


class ToolOwners:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._asked: OrderedDict[bytes, list[RunState]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._asked)

    @staticmethod
    def forget_current() -> None:
        """In a forked child: the run this thread last asked for is the parent's."""
        _asking.set(None)

    @staticmethod
    def turn_began(run: RunState) -> None:
        """Called in the task or thread making the model call: its tools that follow belong to this run."""
        _asking.set(run)

    def asked(self, run: RunState, calls: tuple[ToolCall, ...]) -> None:
        with self._lock:
            for call in calls:
                key = call_key(call)
                runs = self._asked.pop(key, [])
                runs = [r for r in runs if r is not run and not r.ended][-(_RUNS_PER_CALL - 1) :]
                runs.append(run)
                self._asked[key] = runs
            while len(self._asked) > _LIMIT:
                self._asked.popitem(last=False)

    def owner(self, key: bytes, name: str | None = None) -> RunState | None:
        mine = _asking.get()
        if mine is not None and not mine.ended and _pending(mine, key, name):
            return mine
        with self._lock:
            runs = [run for run in self._asked.get(key, ()) if not run.ended]
        waiting = [run for run in runs if _pending(run, key, None)]
        if len(waiting) == 1:
            return waiting[0]
        if not waiting and mine is not None and not mine.ended:
            return mine  # asked for in text (the ReAct protocol), or called by the agent's own code, after its turn
        return None
