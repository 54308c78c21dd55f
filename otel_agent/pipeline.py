"""The one-way flow of a turn: adapter record -> GPU and cost enrichment -> trajectory -> telemetry.

Each stage is optional and guarded: a failing stage loses its own enrichment, never the span, and never reaches the
application. Built once, with all its stages, by `runtime.start`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Span

from .config import Options
from .cost.estimate import estimate, needs_estimate
from .records import TurnAnnotations, TurnRecord, TurnRequest
from .safety import guarded, report_internal_error

if TYPE_CHECKING:
    from .cost.model import CostModel
    from .gpu.meter import GpuMeter
    from .telemetry.handler import TelemetryHandler
    from .trajectory.tracker import TrajectoryTracker, TurnHandle


class Pipeline:
    def __init__(
        self,
        options: Options,
        telemetry: TelemetryHandler,
        *,
        trajectory: TrajectoryTracker | None = None,
        cost: CostModel | None = None,
        gpu: GpuMeter | None = None,
    ) -> None:
        self.options = options
        self.telemetry = telemetry
        self.trajectory = trajectory
        self.cost = cost
        self.gpu = gpu

    def begin(
        self, request: TurnRequest, start_ns: int, joined: Span | None = None
    ) -> tuple[Span, TurnHandle | None, Any]:
        """Start a call: its turn (trajectory), its span (telemetry), its GPU sampling. `joined`: another
        instrumentation's inference span for this call (`telemetry.coexist`), used instead of starting ours. An
        embedding call is no agent turn: it opens no run and counts in none."""
        turn = None
        if self.trajectory is not None and request.operation != "embeddings":
            turn = guarded(self.trajectory.begin_turn, request, start_ns)
        if joined is not None:
            span = joined
        elif turn is None:
            span = self.telemetry.start_inference(request, start_ns)
        else:
            span = self.telemetry.start_inference(request, start_ns, turn.parent_run, first_of=turn.deferred_run)
        gpu_token = guarded(self.gpu.begin, request) if self.gpu is not None else None
        return span, turn, gpu_token

    def complete(
        self,
        span: Span,
        record: TurnRecord,
        turn: TurnHandle | None,
        gpu_token: Any,
        error: BaseException | None = None,
        *,
        joined: bool = False,
        joined_records_metrics: bool = True,
    ) -> None:
        """`joined`: `span` is another instrumentation's span for this call: enriched with ours, never ended here
        (`joined_records_metrics`: whether that instrumentation records the conventions' metrics itself)."""
        annotations: TurnAnnotations | None = None
        try:
            if gpu_token is not None and self.gpu is not None:
                record.gpu = guarded(self.gpu.end, gpu_token)
            if guarded(needs_estimate, record):
                estimated = guarded(estimate, record)
                if estimated is not None and record.response is not None:
                    record.response.usage, record.usage_estimated = estimated, True
            if self.cost is not None:
                priced = guarded(self.cost.price, record)
                if priced is not None:
                    record.cost, record.unpriced = priced
            if turn is not None and self.trajectory is not None:
                annotations = guarded(self.trajectory.end_turn, turn, record)
        finally:
            try:
                if joined:
                    self.telemetry.enrich_inference(span, record, annotations, not joined_records_metrics)
                elif error is not None:
                    self.telemetry.fail_inference(span, record, annotations, error)
                else:
                    self.telemetry.finish_inference(span, record, annotations)
            except Exception:
                report_internal_error("TelemetryHandler.finish_inference")
                if span.is_recording() and not joined:
                    guarded(span.end)

    def shutdown(self) -> None:
        for part in (self.trajectory, self.gpu):
            if part is not None:
                guarded(part.shutdown)
