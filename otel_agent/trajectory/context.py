"""The run of the calling thread or task (the innermost `agent_run`), shared by the tracker and the public API;
and the runs framework bridges know for the calling context (an Agents SDK trace, a LangChain invocation)."""

from __future__ import annotations

import contextvars
from collections.abc import Callable

from ..safety import guarded
from .run import RunState

current_state: contextvars.ContextVar[RunState | None] = contextvars.ContextVar("otel_agent_run", default=None)
_run_sources: list[Callable[[], RunState | None]] = []


def add_run_source(source: Callable[[], RunState | None]) -> None:
    """For framework bridges: `source()` returns the framework's run for the calling context, or None."""
    if source not in _run_sources:
        _run_sources.append(source)


def framework_state() -> RunState | None:
    """The run a framework bridge knows for the calling context (checked after `agent_run`'s)."""
    for source in tuple(_run_sources):
        found = guarded(source)
        if found is not None:
            return found
    return None
