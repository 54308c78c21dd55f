"""One inference call from start to end: the record is built once, enriched, and handed to telemetry once."""

from __future__ import annotations

import time
import traceback
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from ..records import StreamStats, TurnRecord, TurnRequest, TurnResponse
from ..telemetry.content import redact
from .safety import guarded, report_internal_error

if TYPE_CHECKING:
    from ..pipeline import Pipeline


def error_type_of(error: BaseException) -> str:
    """`error.type`: the HTTP status for API errors, else the provider's error type (an error event inside a 200
    stream, e.g. `overloaded_error`), else the exception's class name."""
    status = getattr(error, "status_code", None)
    if isinstance(status, int) and status >= 400:
        return str(status)
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error")
        kind = inner.get("type") if isinstance(inner, dict) else body.get("type")
        if isinstance(kind, str) and kind and kind != "error":
            return kind
    return type(error).__qualname__


def _record_exception(span: Any, error: BaseException) -> None:
    """The exception event, with API keys masked: an error body may echo the key (a gateway's 401)."""
    stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    span.record_exception(
        error, attributes={"exception.message": redact(str(error)), "exception.stacktrace": redact(stack)}
    )


class InferenceCall:
    """Created when the SDK call starts; `finish` may be called from any ending path, and acts once."""

    __slots__ = (
        "_pipeline",
        "request",
        "_span",
        "_start_ns",
        "_mono_ns",
        "_turn",
        "_gpu_token",
        "_done",
        "_token",
        "header_cost",
    )

    def __init__(self, pipeline: Pipeline, request: TurnRequest) -> None:
        self._pipeline = pipeline
        self.request = request
        self._done = False
        self._token: Any = None
        self.header_cost: float | None = None  # a cost the HTTP response's headers reported (a LiteLLM proxy)
        self._start_ns = time.time_ns()
        self._mono_ns = time.monotonic_ns()
        self._turn = pipeline.begin_turn(request, self._start_ns)
        parent = self._turn.parent_context if self._turn is not None else None
        self._span = pipeline.telemetry.start(request, parent, self._start_ns)
        self._gpu_token = pipeline.begin_gpu(request)

    @property
    def monotonic_start_ns(self) -> int:
        return self._mono_ns

    def activate(self) -> None:
        """Make the span current while the SDK sends the request (HTTP-client spans nest under it)."""
        self._token = otel_context.attach(trace.set_span_in_context(self._span))

    def deactivate(self) -> None:
        if self._token is not None:
            try:
                otel_context.detach(self._token)
            except Exception:
                report_internal_error("InferenceCall.deactivate")
            self._token = None

    def finish(
        self,
        response: TurnResponse | None = None,
        error: BaseException | None = None,
        stream: StreamStats | None = None,
    ) -> None:
        if self._done:
            return
        self._done = True
        if response is not None and response.reported_cost is None and self.header_cost is not None:
            response.reported_cost = self.header_cost
        end_ns = self._start_ns + (time.monotonic_ns() - self._mono_ns)
        record = TurnRecord(
            request=self.request,
            response=response,
            start_ns=self._start_ns,
            end_ns=end_ns,
            error_type=error_type_of(error) if error is not None else None,
            stream=stream,
        )
        if error is not None:
            guarded(_record_exception, self._span, error)
        try:
            self._pipeline.complete(self._span, record, self._turn, self._gpu_token)
        except Exception:
            report_internal_error("Pipeline.complete")
            if self._span.is_recording():  # never leave a started span open
                guarded(self._span.end)
