"""The public trajectory API: `agent_run`, `tool`, `current_run`, `register_detector`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ..records import ToolRecord, ToolSource
from ..safety import guarded, report_internal_error
from . import grouping
from .context import current_state, framework_state
from .run import Run, RunState
from .tracker import TrajectoryTracker
from .waste import WasteDetector

_F = TypeVar("_F", bound=Callable[..., Any])
_tracker: TrajectoryTracker | None = None  # installed by the runtime (`install`), never looked up through it


def install(tracker: TrajectoryTracker | None) -> None:
    """The runtime's tracker for `agent_run`, `tool` and MCP calls (None: not instrumented)."""
    global _tracker
    _tracker = tracker


def current_run() -> Run | None:
    """The run of the calling thread or task: the innermost `agent_run`, else the run a framework bridge knows for
    this context (an Agents SDK trace, a LangChain/LangGraph invocation), else None."""
    state = current_state.get() or framework_state()
    return state.handle if state is not None else None


def open_framework_run(name: str, attributes: dict[str, Any]) -> RunState | None:
    """For framework bridges: a run the framework's hooks start (None when not instrumented)."""
    tracker = _tracker
    return tracker.open_run(name, attributes) if tracker is not None else None


def close_framework_run(state: RunState, error: BaseException | None = None) -> None:
    tracker = _tracker
    if tracker is not None:
        tracker.close_run(state, reason="error" if error is not None else "exit", error=error)


def register_detector(detector: WasteDetector) -> None:
    tracker = _tracker
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
        self._state: RunState | None = None
        self._tracker: TrajectoryTracker | None = None
        self._tokens: tuple[Any, Any] | None = None

    def __enter__(self) -> Run:
        tracker = _tracker
        attributes = {**self._attributes, **grouping.current(), **self._ids}
        state: RunState | None = guarded(tracker.open_run, self._name, attributes) if tracker else None
        if state is None:
            tracker = None
            state = RunState(self._name, inferred=False, memory_turns=8, stagnation_window=2)
        self._state, self._tracker = state, tracker
        activation = guarded(tracker.activate, state) if tracker is not None else None
        self._tokens = (current_state.set(state), activation)
        return state.handle

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        state, tracker = self._state, self._tracker
        if self._tokens is not None:
            run_token, activation = self._tokens
            try:
                if tracker is not None:
                    tracker.deactivate(activation)
                current_state.reset(run_token)
            except Exception:
                report_internal_error("agent_run.exit")
        if state is not None and tracker is not None:
            guarded(lambda: tracker.close_run(state, reason="error" if exc else "exit", error=exc))

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

    __slots__ = ("_tracker", "_tool", "_run", "_key", "_token")

    def __init__(self, name: str, source: ToolSource, arguments: Any) -> None:
        self._tracker = _tracker
        self._tool: ToolRecord | None = None
        self._run: RunState | None = None
        self._key = b""
        self._token: Any = None
        if self._tracker is None:
            return
        try:
            self._tool, self._run, self._key = self._tracker.begin_tool(name, source, arguments)
            self._token = self._tracker.telemetry.activate_tool(self._tool)
        except Exception:
            report_internal_error("tool.start")

    def close(self, *, failed: bool, error: BaseException | None = None, result: Any = None) -> None:
        tool, tracker = self._tool, self._tracker
        if tool is None or tracker is None:
            return
        self._tool = None
        try:
            tracker.telemetry.deactivate(self._token)
            tool.failed = failed
            tool.result = result
            tracker.end_tool(tool, self._run, self._key, error=error)
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
