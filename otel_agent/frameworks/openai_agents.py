"""The OpenAI Agents SDK: a trace processor names the run after the agent and marks its start and end.

The SDK's tracing is its own (not OpenTelemetry): this processor only observes it, so no span is made twice. A trace
(`Runner.run`, or the application's `agents.trace(...)` around several) is one run, opened at its first agent span
with that agent's name (`invoke_agent Weather agent`) and closed when the trace ends; the trace's `group_id` (the
application's conversation or thread id) is `gen_ai.conversation.id`. Model calls find their run through the SDK's
current trace. With the SDK's tracing disabled, its processors are not called and runs are inferred.
"""

from __future__ import annotations

from typing import Any

from agents.tracing import TracingProcessor, get_current_trace, get_trace_provider
from agents.tracing.span_data import AgentSpanData
from wrapt import wrap_function_wrapper

from ..safety import guarded
from ..trajectory.context import add_run_source
from ..trajectory.run import RunState
from ._runs import FrameworkRuns

_runs = FrameworkRuns("openai-agents")
_installed = False


def _trace_key(trace: Any) -> str | None:
    key = getattr(trace, "trace_id", None)
    return key if isinstance(key, str) and key != "no-op" else None


class _Processor(TracingProcessor):
    def on_trace_start(self, trace: Any) -> None:
        pass  # the run opens at the first agent span, which carries the agent's name

    def on_trace_end(self, trace: Any) -> None:
        key = _trace_key(trace)
        if key is not None:
            guarded(_runs.close, key)

    def on_span_start(self, span: Any) -> None:
        data = getattr(span, "span_data", None)
        if not isinstance(data, AgentSpanData):
            return
        key = getattr(span, "trace_id", None)
        if isinstance(key, str) and _runs.get(key) is None:
            trace = get_current_trace()
            group = getattr(trace, "group_id", None) if trace is not None and _trace_key(trace) == key else None
            guarded(lambda: _runs.open(key, data.name or "agent", conversation_id=group))

    def on_span_end(self, span: Any) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass


def _current() -> RunState | None:
    trace = get_current_trace()
    key = _trace_key(trace) if trace is not None else None
    return _runs.get(key) if key is not None else None


_processor = _Processor()


def _keep_ours(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`set_trace_processors([...])` replaces every processor (applications do it to drop the SDK's exporter):
    ours is added back, so that replacing theirs does not silently turn the bridge off."""
    result = wrapped(*args, **kwargs)
    given = args[0] if args else kwargs.get("processors")
    if not isinstance(given, (list, tuple)) or _processor not in given:
        guarded(instance.register_processor, _processor)
    return result


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    provider = get_trace_provider()
    provider.register_processor(_processor)
    wrap_function_wrapper(type(provider), "set_processors", _keep_ours)
    add_run_source(_current)
