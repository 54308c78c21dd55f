"""What the trajectory layer hands its run and tool records to: the telemetry handler, seen from below.

A structural protocol, so that `trajectory/` never imports `telemetry/` (the handler satisfies it as it is).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..records import RunRecord, ToolRecord


class RunSink(Protocol):
    def start_run(self, run: RunRecord) -> None: ...

    def finish_run(self, run: RunRecord) -> None: ...

    def fail_run(self, run: RunRecord, error: BaseException) -> None: ...

    def activate_run(self, run: RunRecord) -> Any: ...

    def start_tool(self, tool: ToolRecord, run: RunRecord | None = None) -> None: ...

    def finish_tool(self, tool: ToolRecord) -> None: ...

    def fail_tool(self, tool: ToolRecord, error: BaseException) -> None: ...

    def activate_tool(self, tool: ToolRecord) -> Any: ...

    def deactivate(self, token: Any) -> None: ...
