"""One inference call from start to end: the record is built once, enriched, and handed to telemetry once."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..records import StreamStats, TurnRecord, TurnRequest, TurnResponse
from ..redaction import error_label, redact_bounded
from ..safety import guarded, report_internal_error
from ..telemetry.coexist import Joined, open_inference_span, uncurrent_inference_span

if TYPE_CHECKING:
    from ..pipeline import Pipeline
    from ..providers.base import StreamAccumulator


def error_type_of(error: BaseException) -> str:
    """`error.type`: the HTTP status for API errors, else the provider's error type (an error event inside a 200
    stream, e.g. `overloaded_error`), else the exception's class name. Always the sanitised label form: an error
    event's type is the server's text and may echo the key."""
    status = getattr(error, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599:
        return str(status)
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error")
        kind = inner.get("type") if isinstance(inner, dict) else body.get("type")
        if isinstance(kind, str) and kind and kind != "error":
            return error_label(kind)
    return error_label(type(error).__qualname__)


_ID_MAX = 256  # model names and ids become attributes, span names and metric labels: bounded


def _clean(value: str | None) -> str | None:
    """A model name or id as recorded: secrets masked, length bounded (it may be a label)."""
    if not value:
        return value
    return redact_bounded(value, _ID_MAX)


def scrub_request(request: TurnRequest) -> TurnRequest:
    """Mask secrets in the request's model name and ids before anything (span, metrics, logs, trajectory) sees them."""
    request.model = _clean(request.model)
    request.conversation_id = _clean(request.conversation_id)
    return request


def scrub_response(response: TurnResponse | None) -> TurnResponse | None:
    if response is not None:
        response.model = _clean(response.model)
        response.id = _clean(response.id)
    return response


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
        "_joined",
    )

    def __init__(self, pipeline: Pipeline, request: TurnRequest) -> None:
        self._pipeline = pipeline
        self.request = request
        self._done = False
        self._token: Any = None
        self.header_cost: float | None = None  # a cost the HTTP response's headers reported (a LiteLLM proxy)
        self._start_ns = time.time_ns()
        self._mono_ns = time.monotonic_ns()
        guarded(scrub_request, request)
        joined = None
        if pipeline.options.join_inference_spans:  # another instrumentation's span for this call (telemetry.coexist)
            joined = guarded(open_inference_span) or guarded(uncurrent_inference_span)
        self._joined: Joined | None = joined
        self._span, self._turn, self._gpu_token = pipeline.begin(
            request, self._start_ns, joined.span if joined is not None else None
        )

    @property
    def monotonic_start_ns(self) -> int:
        return self._mono_ns

    def activate(self) -> None:
        """Make the span current while the SDK sends the request (HTTP-client spans nest under it). A joined span
        is current already."""
        if self._joined is None:
            self._token = self._pipeline.telemetry.activate_inference(self._span)

    def deactivate(self) -> None:
        if self._token is not None:
            try:
                self._pipeline.telemetry.deactivate(self._token)
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
        guarded(scrub_response, response)
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
        joined = self._joined
        try:
            self._pipeline.complete(
                self._span,
                record,
                self._turn,
                self._gpu_token,
                error,
                joined=joined is not None,
                joined_records_metrics=joined.records_metrics if joined is not None else True,
            )
        except Exception:
            report_internal_error("Pipeline.complete")
            if self._span.is_recording() and joined is None:  # never leave a started span open
                guarded(self._span.end)


class StreamCallObserver:
    """Binds a stream's chunks to the provider's accumulator and its call: the call finishes once, with what the
    accumulator built (or no response when it fails), when the stream ends."""

    __slots__ = ("_accumulator", "_call")

    def __init__(self, accumulator: StreamAccumulator, call: InferenceCall) -> None:
        self._accumulator = accumulator
        self._call = call

    def on_chunk(self, chunk: Any) -> None:
        self._accumulator.add(chunk)

    def on_end(self, stats: StreamStats, error: BaseException | None) -> None:
        try:
            response = self._accumulator.result()
        except Exception:
            report_internal_error("stream accumulator")
            response = None
        self._call.finish(response, error, stats)
