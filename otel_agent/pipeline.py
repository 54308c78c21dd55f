"""The one-way flow of a turn: adapter record -> GPU and cost enrichment -> trajectory -> telemetry.

Each stage is optional and guarded: a failing stage loses its own enrichment, never the span, and never reaches the
application.
"""

from __future__ import annotations

from typing import Any, Protocol

from opentelemetry.context import Context
from opentelemetry.trace import Span

from .capture.safety import guarded, report_internal_error
from .config import Options
from .records import CostBreakdown, GpuUsage, TurnAnnotations, TurnRecord, TurnRequest
from .telemetry.inference import InferenceTelemetry


class TurnHandle(Protocol):
    parent_context: Context | None


class Trajectory(Protocol):
    def begin_turn(self, request: TurnRequest, start_ns: int | None = None) -> TurnHandle | None: ...

    def end_turn(self, handle: TurnHandle, record: TurnRecord) -> TurnAnnotations | None: ...


class CostModel(Protocol):
    def price(self, record: TurnRecord) -> tuple[CostBreakdown | None, bool]: ...


class GpuMeter(Protocol):
    def begin(self, request: TurnRequest) -> Any: ...

    def end(self, token: Any) -> GpuUsage | None: ...


class Pipeline:
    def __init__(
        self,
        options: Options,
        telemetry: InferenceTelemetry,
        *,
        trajectory: Trajectory | None = None,
        cost: CostModel | None = None,
        gpu: GpuMeter | None = None,
    ) -> None:
        self.options = options
        self.telemetry = telemetry
        self.trajectory = trajectory
        self.cost = cost
        self.gpu = gpu

    def begin_turn(self, request: TurnRequest, start_ns: int) -> TurnHandle | None:
        if self.trajectory is None:
            return None
        return guarded(self.trajectory.begin_turn, request, start_ns)

    def begin_gpu(self, request: TurnRequest) -> Any:
        if self.gpu is None:
            return None
        return guarded(self.gpu.begin, request)

    def complete(self, span: Span, record: TurnRecord, turn: TurnHandle | None, gpu_token: Any) -> None:
        annotations: TurnAnnotations | None = None
        try:
            if gpu_token is not None and self.gpu is not None:
                record.gpu = guarded(self.gpu.end, gpu_token)
            if self.cost is not None:
                priced = guarded(self.cost.price, record)
                if priced is not None:
                    record.cost, record.unpriced = priced
            if turn is not None and self.trajectory is not None:
                annotations = guarded(self.trajectory.end_turn, turn, record)
        finally:
            try:
                self.telemetry.finish(span, record, annotations)
            except Exception:
                report_internal_error("InferenceTelemetry.finish")
                if span.is_recording():
                    guarded(span.end)
