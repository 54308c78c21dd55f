"""The one telemetry handler: every span, metric point and event otel-agent emits goes through it.

Typed lifecycles per span kind, in the style of the official `opentelemetry-util-genai` `TelemetryHandler`:

- inference (`chat {model}`, ...): `start_inference` -> `finish_inference` | `fail_inference`
- run (`invoke_agent {agent}`): `start_run` -> `finish_run` | `fail_run`
- tool (`execute_tool {tool}`): `start_tool` -> `finish_tool` | `fail_tool`
- gauges: `record_list_price`, `record_gpu_readings`

The other layers hand it plain records (`TurnRequest`/`TurnRecord`/`TurnAnnotations`, `RunRecord`, `ToolRecord`);
a run's or tool's span travels in its record's `telemetry` slot, which only this package reads. `activate_*` make a
span current (the OpenTelemetry context) and return the token `deactivate` takes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Tracer

from ..gpu.nvml import DeviceReading
from ..records import RunRecord, ToolRecord, TurnAnnotations, TurnRecord, TurnRequest
from ..redaction import record_exception
from . import names as n
from .coexist import mark_inference
from .content import ContentMode
from .events import InferenceDetailsEvents
from .gauges import GaugeTelemetry
from .inference import InferenceTelemetry
from .instruments import Instruments
from .runs import RunTelemetry, run_context


class TelemetryHandler:
    def __init__(
        self,
        tracer: Tracer,
        instruments: Instruments,
        genai: n.GenAINames,
        content: ContentMode,
        content_max_chars: int,
        events: InferenceDetailsEvents | None = None,
    ) -> None:
        self.genai = genai
        self.content = content
        self.inference = InferenceTelemetry(tracer, instruments, genai, content, content_max_chars, events)
        self.runs = RunTelemetry(tracer, instruments, genai, content, content_max_chars)
        self.gauges = GaugeTelemetry(instruments, genai)

    # -- inference ---------------------------------------------------------------------------------------------------
    def start_inference(
        self, request: TurnRequest, start_ns: int, run: RunRecord | None = None, *, first_of: RunRecord | None = None
    ) -> Span:
        """The call's span, under `run`'s span when given (an inferred run), else under the current context.

        `first_of`: the call is the first turn of a run whose span is deferred; that span, if it ever starts, links
        to this one."""
        span = self.inference.start(request, run_context(run), start_ns)
        if first_of is not None:
            first_of.links.append(span.get_span_context())
        return span

    def finish_inference(self, span: Span, record: TurnRecord, turn: TurnAnnotations | None) -> None:
        self.inference.finish(span, record, turn)

    def fail_inference(
        self, span: Span, record: TurnRecord, turn: TurnAnnotations | None, error: BaseException
    ) -> None:
        """As `finish_inference`, with the exception event (API keys masked: an error body may echo the key)."""
        try:
            record_exception(span, error)
        finally:
            self.inference.finish(span, record, turn)

    def enrich_inference(
        self, span: Span, record: TurnRecord, turn: TurnAnnotations | None, conventions_metrics: bool
    ) -> None:
        """Another instrumentation's span for this call (`telemetry.coexist`): our attributes onto it, not ended."""
        self.inference.enrich(span, record, turn, conventions_metrics=conventions_metrics)

    def activate_inference(self, span: Span) -> Any:
        """Current while the SDK sends the request, marked as this call's inference span (semconv-genai PR #475)."""
        return otel_context.attach(mark_inference(trace.set_span_in_context(span)))

    # -- runs --------------------------------------------------------------------------------------------------------
    def start_run(self, run: RunRecord, parent: Context | None = None) -> None:
        self.runs.start_run(run, parent)

    def finish_run(self, run: RunRecord) -> None:
        self.runs.finish_run(run)

    def fail_run(self, run: RunRecord, error: BaseException) -> None:
        self.runs.finish_run(run, error)

    def activate_run(self, run: RunRecord) -> Any:
        """Make the run's span current (`agent_run`): the calls and tools inside nest under it."""
        context = run_context(run)
        return otel_context.attach(context) if context is not None else None

    # -- tools -------------------------------------------------------------------------------------------------------
    def start_tool(self, tool: ToolRecord, run: RunRecord | None = None) -> None:
        """The tool's span, under `run`'s span when given (a tool of an inferred run), else the current context."""
        self.runs.start_tool(tool, run_context(run))

    def finish_tool(self, tool: ToolRecord) -> None:
        self.runs.finish_tool(tool)

    def fail_tool(self, tool: ToolRecord, error: BaseException) -> None:
        self.runs.finish_tool(tool, error)

    def activate_tool(self, tool: ToolRecord) -> Any:
        span = tool.telemetry
        return otel_context.attach(trace.set_span_in_context(span)) if span is not None else None

    # -- all kinds ---------------------------------------------------------------------------------------------------
    @staticmethod
    def deactivate(token: Any) -> None:
        if token is not None:
            otel_context.detach(token)

    # -- gauges ------------------------------------------------------------------------------------------------------
    def record_list_price(self, provider: str, model: str, prices: Iterable[tuple[str, float]]) -> None:
        self.gauges.list_price(provider, model, prices)

    def record_gpu_readings(self, readings: Iterable[DeviceReading]) -> None:
        self.gauges.gpu_readings(readings)
