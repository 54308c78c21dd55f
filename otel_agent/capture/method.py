"""The wrapper for SDKs without a Stainless ``request()``: one patched method per SDK call (sync and async alike).

`RequestHook` (hook.py) serves the Stainless SDKs. google-genai, botocore, LiteLLM and ollama each have their own
single seam (their API client's request methods, `_make_api_call`, `completion`, `_request`); a `CallAdapter` reads
that seam's arguments and result into the neutral records, and this hook does the rest exactly as `RequestHook` does:
the call's span is current while the SDK sends, a nested instrumented call is not recorded again (`_IN_CALL`), a
stream comes back as a transparent proxy that ends the call once, and nothing of ours reaches the application.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

from ..providers.base import CallAdapter, Started
from ..safety import report_internal_error
from .call import InferenceCall, StreamCallObserver
from .hook import _IN_CALL
from .streams import AsyncStreamProxy, SyncStreamProxy


class IterableStreamProxy(SyncStreamProxy):
    """For streams that are iterable but not iterators (botocore's `EventStream`): iterate the object's own
    `__iter__`, once, and keep everything else (`close()`, attributes) on the object itself."""

    def __next__(self) -> Any:
        iterator = getattr(self, "_self_iterator", None)
        if iterator is None:
            iterator = self._self_iterator = iter(self.__wrapped__)
        state = self._self_state
        try:
            chunk = next(iterator)
        except StopIteration:
            state.end("completed")
            raise
        except BaseException as error:
            state.end("cancelled" if isinstance(error, GeneratorExit) else "error", error)
            raise
        state.chunk(chunk)
        return chunk


class MethodHook:
    """`wrapt` wrappers (sync and async) for one SDK method, for one `CallAdapter`."""

    def __init__(self, adapter: CallAdapter, pipeline: Callable[[], Any]) -> None:
        self._adapter = adapter
        self._pipeline = pipeline

    def sync(self, wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        begun = self._begin(instance, args, kwargs)
        if begun is None:
            return wrapped(*args, **kwargs)
        call, started = begun
        token = _IN_CALL.set(call)
        try:
            result = wrapped(*_args(started, args), **_kwargs(started, kwargs))
        except BaseException as error:
            self._fail(call, token, error)
            raise
        return self._succeed(call, started, token, result, is_async=False)

    async def async_(
        self, wrapped: Callable[..., Awaitable[Any]], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        begun = self._begin(instance, args, kwargs)
        if begun is None:
            return await wrapped(*args, **kwargs)
        call, started = begun
        token = _IN_CALL.set(call)
        try:
            result = await wrapped(*_args(started, args), **_kwargs(started, kwargs))
        except BaseException as error:
            self._fail(call, token, error)
            raise
        return self._succeed(call, started, token, result, is_async=True)

    def _begin(
        self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[InferenceCall, Started] | None:
        if _IN_CALL.get() is not None:
            return None
        try:
            pipeline = self._pipeline()
            if pipeline is None:
                return None
            started = self._adapter.start(instance, args, kwargs)
            if started is None:
                return None
            call = InferenceCall(pipeline, started.request)
            try:
                call.activate()
            except Exception:
                report_internal_error("InferenceCall.activate")
            return call, started
        except Exception:
            report_internal_error(f"{type(self._adapter).__name__}.start")
            return None

    @staticmethod
    def _fail(call: InferenceCall, token: contextvars.Token[InferenceCall | None], error: BaseException) -> None:
        _IN_CALL.reset(token)
        call.deactivate()
        call.finish(None, error)

    def _succeed(
        self,
        call: InferenceCall,
        started: Started,
        token: contextvars.Token[InferenceCall | None],
        result: Any,
        *,
        is_async: bool,
    ) -> Any:
        _IN_CALL.reset(token)
        call.deactivate()
        if not started.stream:
            try:
                response = self._adapter.response(started, result)
            except Exception:
                report_internal_error(f"{type(self._adapter).__name__}.response")
                response = None
            call.finish(response)
            return result
        try:
            stream, put_back = self._adapter.stream_of(started, result)
            observer = StreamCallObserver(self._adapter.accumulator(started), call)
            # an async call's stream is iterated with `async for`; a sync call's with `for` (LiteLLM's stream has both)
            if is_async or (hasattr(stream, "__anext__") and not hasattr(stream, "__next__")):
                proxy: Any = AsyncStreamProxy(stream, observer, call.monotonic_start_ns)
            elif hasattr(stream, "__next__"):
                proxy = SyncStreamProxy(stream, observer, call.monotonic_start_ns)
            else:
                proxy = IterableStreamProxy(stream, observer, call.monotonic_start_ns)
            return put_back(proxy)
        except Exception:
            report_internal_error(f"{type(self._adapter).__name__}.stream")
            call.finish(None)
            return result


def _args(started: Started, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return started.args if started.args is not None else args


def _kwargs(started: Started, kwargs: dict[str, Any]) -> dict[str, Any]:
    return started.kwargs if started.kwargs is not None else kwargs
