"""The public trajectory API: `agent_run`, `tool`, `current_run`, `register_detector`."""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
from collections.abc import Callable
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace

from .. import runtime
from ..capture.safety import guarded, report_internal_error
from . import grouping
from .run import Run
from .waste import WasteDetector, digest

_F = TypeVar("_F", bound=Callable[..., Any])
_current: contextvars.ContextVar[Run | None] = contextvars.ContextVar("otel_agent_run", default=None)


def _tracker() -> Any:
    rt = runtime.current()
    return rt.pipeline.trajectory if rt is not None else None


def current_run() -> Run | None:
    """The run of the calling thread or task: the innermost `agent_run`, else None."""
    return _current.get()


def register_detector(detector: WasteDetector) -> None:
    tracker = _tracker()
    if tracker is None:
        raise RuntimeError("call otel_agent.instrument() before registering a detector")
    tracker.register_detector(detector)


class agent_run:
    """``with agent_run("planner", team="support") as run:`` (also ``async with``, also ``@agent_run("planner")``).

    Makes an ``invoke_agent {name}`` span around the agent's work; every inference call inside is a turn of `run`.
    Without `otel_agent.instrument()` it yields a Run that records nothing, so agent code never depends on it.
    """

    def __init__(
        self,
        name: str,
        *,
        conversation_id: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        **attributes: Any,
    ) -> None:
        """`conversation_id`, `user_id`, `session_id` (else the enclosing `session`'s) and `agent_id` (the agent's
        definition) go on every span of the run: see `grouping`."""
        self._name = name
        self._ids = grouping.attributes(
            conversation_id=conversation_id, user_id=user_id, session_id=session_id, agent_id=agent_id
        )
        self._attributes = attributes
        self._run: Run | None = None
        self._tokens: tuple[Any, Any] | None = None

    def __enter__(self) -> Run:
        tracker = _tracker()
        attributes = {**self._attributes, **grouping.current(), **self._ids}
        run: Run | None = guarded(tracker.open_run, self._name, attributes) if tracker else None
        if run is None:
            run = Run(self._name, inferred=False, span=trace.INVALID_SPAN, memory_turns=8, stagnation_window=2)
        self._run = run
        self._tokens = (_current.set(run), otel_context.attach(trace.set_span_in_context(run.span)))
        return run

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        run = self._run
        if self._tokens is not None:
            run_token, ctx_token = self._tokens
            try:
                otel_context.detach(ctx_token)
                _current.reset(run_token)
            except Exception:
                report_internal_error("agent_run.exit")
        tracker = _tracker()
        if run is not None and tracker is not None and run.span is not trace.INVALID_SPAN:
            guarded(lambda: tracker.close_run(run, reason="error" if exc else "exit", error=exc))

    async def __aenter__(self) -> Run:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, func: _F) -> _F:
        name, attributes = self._name, {**self._attributes, **_ids_back(self._ids)}
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with agent_run(name, **attributes):
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with agent_run(name, **attributes):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _ids_back(ids: dict[str, str]) -> dict[str, str]:
    """Attribute names back to `agent_run`'s keyword names (for the decorator form)."""
    names = {value: key for key, value in grouping.NAMES.items()}
    return {names[key]: value for key, value in ids.items()}


class ToolCallScope:
    """One tool execution: a span, closed exactly once with the outcome. Shared by `@tool` and the MCP hook."""

    __slots__ = ("_name", "_source", "_span", "_run", "_tracker", "_key", "_token")

    def __init__(self, name: str, source: str, arguments: Any) -> None:
        self._name = name
        self._source = source
        self._tracker = _tracker()
        self._run = current_run()
        self._span = None
        self._key = None
        self._token = None
        if self._tracker is None:
            return
        try:
            self._key = digest(f"{name}\x00{json.dumps(arguments, sort_keys=True, separators=(',', ':'), default=str)}")
            parent = None
            if self._run is None:
                # no agent_run: the inferred run whose model requested this very call, if one did
                self._run = self._tracker.run_requesting(self._key, name)
                if self._run is not None:
                    parent = trace.set_span_in_context(self._run.span)
            run = self._run
            if run is not None:
                run.observed_tool_keys.add(self._key)
            self._span = self._tracker.telemetry.start_tool(
                name,
                source=source,
                parent=parent,
                turn_index=run.turn_count if run else None,
                arguments=arguments,
                agent_name=run.name if run else None,
                group=grouping.of(run.attributes) if run else None,
            )
            self._token = otel_context.attach(trace.set_span_in_context(self._span))
        except Exception:
            report_internal_error("tool.start")

    def close(self, *, failed: bool, error: BaseException | None = None, result: Any = None) -> None:
        if self._span is None:
            return
        span, self._span = self._span, None
        try:
            if self._token is not None:
                otel_context.detach(self._token)
            self._tracker.telemetry.finish_tool(
                span, self._name, source=self._source, failed=failed, error=error, result=result
            )
            if self._run is not None:
                self._run.add_tool_call(failed)
                if failed and self._key is not None:
                    self._run.memory.mark_failed(self._key, self._name)
        except Exception:
            report_internal_error("tool.finish")


def _signature(target: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):
        return None


def _arguments(signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The call's arguments by parameter name, as the model sent them (positional ones bound to their names)."""
    if not args or signature is None:
        return kwargs
    try:
        bound = signature.bind_partial(*args, **kwargs).arguments
    except TypeError:
        return kwargs
    named: dict[str, Any] = {}
    for position, (key, value) in enumerate(bound.items()):
        kind = signature.parameters[key].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            named.update(value)
        elif not (position == 0 and key in ("self", "cls")):
            named[key] = value
    return named


def tool(func: _F | None = None, *, name: str | None = None) -> Any:
    """``@otel_agent.tool`` (or ``@otel_agent.tool(name="search")``): an ``execute_tool {name}`` span per call."""

    def decorate(target: _F) -> _F:
        tool_name = name or target.__name__
        signature = _signature(target)
        if inspect.iscoroutinefunction(target):

            @functools.wraps(target)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                scope = ToolCallScope(tool_name, "decorator", _arguments(signature, args, kwargs))
                try:
                    result = await target(*args, **kwargs)
                except BaseException as error:
                    scope.close(failed=True, error=error)
                    raise
                scope.close(failed=False, result=result)
                return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(target)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            scope = ToolCallScope(tool_name, "decorator", _arguments(signature, args, kwargs))
            try:
                result = target(*args, **kwargs)
            except BaseException as error:
                scope.close(failed=True, error=error)
                raise
            scope.close(failed=False, result=result)
            return result

        return wrapper  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate
