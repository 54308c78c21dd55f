"""The one wrapper every SDK request goes through (sync and async share all logic but the call itself).

Both SDKs funnel every API method (``create``, ``parse``, ``stream`` managers, ``with_raw_response``,
``with_streaming_response``, ``beta``) through their client's ``request()``. Wrapping that one method records each call
once, whatever surface the application used, and sees the request after the SDK has validated it.
"""

from __future__ import annotations

import contextvars
import inspect
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..providers.base import ProviderAdapter, Route
from ..providers.reported_cost import cost_from_headers
from ..records import StreamStats
from ..safety import report_internal_error
from .call import InferenceCall, StreamCallObserver
from .raw import AsyncRawResponseProxy, SyncRawResponseProxy
from .streams import AsyncStreamProxy, SyncStreamProxy

# The call an instrumented request() is making, while it runs: a nested request() (another layer calling through) is
# not recorded again, and the SDK's `_process_response` inside it shows us the HTTP response's headers.
_IN_CALL: contextvars.ContextVar[InferenceCall | None] = contextvars.ContextVar("otel_agent_in_call", default=None)


@dataclass(slots=True)
class _Begun:
    call: InferenceCall
    route: Route
    args: tuple[Any, ...]
    stream: bool


class RequestHook:
    """`wrapt` wrappers for a client's ``request`` method, for one provider adapter."""

    def __init__(self, adapter: ProviderAdapter, pipeline: Callable[[], Any]) -> None:
        self._adapter = adapter
        self._pipeline = pipeline

    # -- the two entry points ----------------------------------------------------------------------------------------
    def sync(self, wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        begun = self._begin(instance, args, kwargs)
        if begun is None:
            return wrapped(*args, **kwargs)
        token = _IN_CALL.set(begun.call)
        try:
            result = wrapped(*begun.args, **kwargs)
        except BaseException as error:
            self._fail(begun, token, error)
            raise
        return self._succeed(begun, token, result, is_async=False)

    async def async_(
        self, wrapped: Callable[..., Awaitable[Any]], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        begun = self._begin(instance, args, kwargs)
        if begun is None:
            return await wrapped(*args, **kwargs)
        token = _IN_CALL.set(begun.call)
        try:
            result = await wrapped(*begun.args, **kwargs)
        except BaseException as error:
            self._fail(begun, token, error)
            raise
        return self._succeed(begun, token, result, is_async=True)

    # -- the SDK's response processing, inside request(): headers only ----------------------------------------------
    @staticmethod
    def process_sync(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        _note_headers(kwargs)
        return wrapped(*args, **kwargs)

    @staticmethod
    async def process_async(
        wrapped: Callable[..., Awaitable[Any]], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        _note_headers(kwargs)
        return await wrapped(*args, **kwargs)

    # -- shared logic ----------------------------------------------------------------------------------------------
    def _begin(self, client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Begun | None:
        if _IN_CALL.get() is not None:
            return None
        try:
            pipeline = self._pipeline()
            if pipeline is None or len(args) < 2:
                return None
            options = args[1]
            route = self._adapter.route(options)
            if route is None:
                return None
            stream = bool(kwargs.get("stream", False))
            request = self._adapter.request(route, client, options, stream)
            prepared = self._adapter.prepare_options(options, pipeline.options.suppress_anthropic_native_spans)
            call = InferenceCall(pipeline, request)
            try:
                call.activate()
            except Exception:  # the span has started: record the call even if it cannot be made current
                report_internal_error("InferenceCall.activate")
            return _Begun(call, route, (args[0], prepared, *args[2:]), stream)
        except Exception:
            report_internal_error("RequestHook.begin")
            return None

    @staticmethod
    def _fail(begun: _Begun, token: contextvars.Token[InferenceCall | None], error: BaseException) -> None:
        _IN_CALL.reset(token)
        begun.call.deactivate()
        begun.call.finish(None, error)

    def _succeed(
        self, begun: _Begun, token: contextvars.Token[InferenceCall | None], result: Any, *, is_async: bool
    ) -> Any:
        _IN_CALL.reset(token)
        begun.call.deactivate()
        try:
            return self._observe(begun, result, is_async)
        except Exception:
            report_internal_error("RequestHook.observe")
            begun.call.finish(None)
            return result

    def _observe(self, begun: _Begun, result: Any, is_async: bool) -> Any:
        call, route = begun.call, begun.route
        if _is_raw_response(result):
            if not begun.stream:
                body = _read_body(result)
                if body is not None:
                    call.finish(self._adapter.response(route, body))
                    return result
            on_parsed = _ParsedHandler(self, begun, is_async)
            if inspect.iscoroutinefunction(getattr(result, "parse", None)):
                return AsyncRawResponseProxy(result, on_parsed)
            return SyncRawResponseProxy(result, on_parsed)
        if begun.stream:
            return self.wrap_stream(begun, result, is_async)
        call.finish(self._adapter.response(route, result))
        return result

    def wrap_stream(self, begun: _Begun, stream: Any, is_async: bool) -> Any:
        observer = StreamCallObserver(self._adapter.accumulator(begun.route), begun.call)
        proxy = AsyncStreamProxy if is_async else SyncStreamProxy
        return proxy(stream, observer, begun.call.monotonic_start_ns)


class _ParsedHandler:
    """What a raw-response proxy does with what the application read: wrap a parsed stream, or finish the call with
    the body or the stream's events; end a call nothing was read from when the raw object is closed or collected."""

    __slots__ = ("_hook", "_begun", "_is_async", "_stream")

    def __init__(self, hook: RequestHook, begun: _Begun, is_async: bool) -> None:
        self._hook = hook
        self._begun = begun
        self._is_async = is_async
        self._stream: Any = None

    def parsed(self, value: Any) -> Any:
        try:
            if self._begun.stream:
                if self._stream is None or self._stream.__wrapped__ is not value:
                    self._stream = self._hook.wrap_stream(self._begun, value, self._is_async)
                return self._stream
            self._finish_with(value)
        except Exception:
            report_internal_error("raw response parse")
        return value

    def body_read(self, raw: Any) -> None:
        """The application read the whole body (`read()`, `text()`, `json()`)."""
        try:
            http = raw.http_response
            self.pieces_read([http.content])
        except Exception:
            report_internal_error("raw response read")

    def pieces_read(self, pieces: list[Any]) -> None:
        """The application read the body to its end in pieces (bytes or text)."""
        if self._stream is not None:
            return  # a parsed stream saw the same events
        try:
            text = "".join(p.decode("utf-8", "replace") if isinstance(p, bytes) else str(p) for p in pieces)
            if self._begun.stream:
                self._finish_with_events(text)
            else:
                self._finish_with(_json_or_none(text))
        except Exception:
            report_internal_error("raw response pieces")

    def _finish_with(self, body: Any) -> None:
        call, route = self._begun.call, self._begun.route
        call.finish(self._hook._adapter.response(route, body) if body is not None else None)

    def _finish_with_events(self, text: str) -> None:
        accumulator = self._hook._adapter.accumulator(self._begun.route)
        stats = StreamStats(end="completed")
        for event in _sse_data(text):
            stats.chunks += 1
            accumulator.add(event)
        self._begun.call.finish(accumulator.result(), None, stats)

    def abandoned(self) -> None:
        """The raw response was closed: a stream parsed from it ends with what it has; else the call ends unread."""
        if self._stream is not None:
            self._stream.end_early()
        else:
            self._begun.call.finish(None)

    def collected(self) -> None:
        """The raw object was garbage-collected: a parsed stream lives on and ends the call itself."""
        if self._stream is None:
            self._begun.call.finish(None)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _sse_data(text: str) -> Iterator[Any]:
    """The JSON objects of a server-sent-event stream's `data:` lines (`[DONE]` and non-JSON data skipped)."""
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if not data or data == "[DONE]":
            continue
        value = _json_or_none(data)
        if isinstance(value, dict):
            yield value


def _note_headers(kwargs: dict[str, Any]) -> None:
    """Keep a reported cost from the response headers of the call in progress (retries: the last response wins)."""
    call = _IN_CALL.get()
    if call is None:
        return
    try:
        call.header_cost = cost_from_headers(getattr(kwargs.get("response"), "headers", None))
    except Exception:
        report_internal_error("RequestHook.note_headers")


def _is_raw_response(result: Any) -> bool:
    return hasattr(result, "http_response") and hasattr(result, "parse")


def _read_body(raw: Any) -> Any:
    """The JSON body of a raw response the SDK has already read, else None (never forces a read)."""
    http = raw.http_response
    try:
        content = http.content  # raises when the body has not been read yet
    except Exception:
        return None
    try:
        return json.loads(content)
    except (ValueError, TypeError):
        return None
