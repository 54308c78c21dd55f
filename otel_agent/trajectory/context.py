"""The run of the calling thread or task (the innermost `agent_run`), shared by the tracker and the public API."""

from __future__ import annotations

import contextvars

from .run import RunState

current_state: contextvars.ContextVar[RunState | None] = contextvars.ContextVar("otel_agent_run", default=None)
