"""One inference span per call, whatever else is instrumented.

Applications often run otel-agent beside another GenAI instrumentation: the official
`opentelemetry-instrumentation-genai-openai` / `-anthropic` (on `opentelemetry-util-genai`), OpenLLMetry, OpenInference,
or a framework's own model spans (pydantic-ai). Those wrap the SDK's resource methods (``Completions.create``) or the
client's ``request()``; otel-agent hooks ``request()`` innermost (see `instrumentors`), so when another
instrumentation records the call, its span is already open and current when our hook starts.

`open_inference_span` finds such a span, following semconv-genai PR #475: an instrumentation that finds the inference
span of this call in the context does not open a second one (nor record its metrics again) and may add attributes to
it. The context key is the one `opentelemetry-util-genai` 1.3 implements (`INFERENCE_CONTEXT_KEY`); instrumentations
that predate it are recognised by their span: a recording span of another instrumentation whose
``gen_ai.operation.name`` is an inference operation (official GenAI, OpenLLMetry, pydantic-ai), or whose
``openinference.span.kind`` is ``LLM`` / ``EMBEDDING`` (OpenInference). One known instrumentation opens its span
without making it current (OpenLLMetry's anthropic wrapper); `uncurrent_inference_span` finds that one in its
wrapper's stack frame, and only when that module is loaded.

While our own inference span is current, we set the same context key (`mark_inference`), so an instrumentation inside the call
that follows the proposal sees the call as recorded.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span

# semconv-genai PR #475 ("a language-defined context key"), as opentelemetry-util-genai 1.3 names it
INFERENCE_CONTEXT_KEY: Final = "opentelemetry.genai.client.inference.context"
_OUR_SCOPE: Final = "otel_agent"
_INFERENCE_OPERATIONS: Final = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
_OPENINFERENCE_KINDS: Final = frozenset({"LLM", "EMBEDDING"})


class _OurCall:
    """The value we put under `INFERENCE_CONTEXT_KEY` while our inference span is current."""

    __slots__ = ()


_OURS: Final = _OurCall()


@dataclass(frozen=True, slots=True)
class Joined:
    """Another instrumentation's inference span for this call; `records_metrics`: whether that instrumentation also
    records the conventions' `gen_ai.client.*` metrics (OpenInference records none, so we still do)."""

    span: Span
    records_metrics: bool


def open_inference_span(context: Context | None = None) -> Joined | None:
    """The still-open inference span another instrumentation started for this call, else None."""
    span = trace.get_current_span(context)
    if not span.is_recording():
        return None
    scope = getattr(span, "instrumentation_scope", None)
    if scope is not None and getattr(scope, "name", None) == _OUR_SCOPE:
        return None
    marked = otel_context.get_value(INFERENCE_CONTEXT_KEY, context)
    if marked is not None and marked is not _OURS:
        return Joined(span, records_metrics=True)
    attributes: Any = getattr(span, "attributes", None) or {}
    try:
        if attributes.get("openinference.span.kind") in _OPENINFERENCE_KINDS:
            return Joined(span, records_metrics=False)
        if attributes.get("gen_ai.operation.name") in _INFERENCE_OPERATIONS:
            return Joined(span, records_metrics=True)
    except Exception:  # an API implementation whose span attributes are not a mapping
        return None
    return None


# Instrumentations that open their inference span without making it current (OpenLLMetry's anthropic wrapper
# 0.62): module -> the wrapper's local variable holding the span. Looked for only when the module is loaded.
_UNCURRENT: Final = {"opentelemetry.instrumentation.anthropic": "span"}
_FRAMES: Final = 24  # how far up the stack the wrapper can be from our hook


def uncurrent_inference_span() -> Joined | None:
    """The open inference span of a known instrumentation that does not make its span current, found in its
    wrapper's frame above ours; None when none of those instrumentations is loaded (no cost then)."""
    modules = [name for name in _UNCURRENT if name in sys.modules]
    if not modules:
        return None
    frame = sys._getframe(1)
    for _ in range(_FRAMES):
        frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            return None
        module = frame.f_globals.get("__name__")
        if module in modules:
            span = frame.f_locals.get(_UNCURRENT[module])
            if isinstance(span, Span) and span.is_recording():
                return Joined(span, records_metrics=True)
    return None


def mark_inference(context: Context) -> Context:
    """`context` with our call under the PR #475 key."""
    return otel_context.set_value(INFERENCE_CONTEXT_KEY, _OURS, context)
