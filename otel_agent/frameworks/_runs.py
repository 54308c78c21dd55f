"""The runs a framework bridge opened, by the framework's own key (a trace id, a root run id)."""

from __future__ import annotations

import threading
from typing import Any

from ..telemetry import names as n
from ..trajectory import grouping
from ..trajectory.api import close_framework_run, open_framework_run
from ..trajectory.run import RunState

_LIMIT = 4096  # open framework runs remembered (a framework that never reports an end cannot grow us unbounded)


class FrameworkRuns:
    def __init__(self, framework: str) -> None:
        self._framework = framework
        self._lock = threading.Lock()
        self._runs: dict[str, RunState] = {}

    def get(self, key: str) -> RunState | None:
        run = self._runs.get(key)
        return run if run is not None and not run.ended else None

    def open(self, key: str, name: str, *, conversation_id: str | None = None) -> RunState | None:
        with self._lock:
            existing = self._runs.get(key)
            if existing is not None:
                return existing
            attributes: dict[str, Any] = {n.RUN_FRAMEWORK: self._framework, **grouping.current()}
            attributes.update(grouping.attributes(conversation_id=conversation_id))
            run = open_framework_run(name, attributes)
            if run is None:
                return None
            self._runs[key] = run
            oldest = list(self._runs)[: max(len(self._runs) - _LIMIT, 0)]
            stale = [self._runs.pop(k) for k in oldest]
        for old in stale:
            close_framework_run(old)
        return run

    def close(self, key: str, error: BaseException | None = None) -> None:
        with self._lock:
            run = self._runs.pop(key, None)
        if run is not None:
            close_framework_run(run, error)
