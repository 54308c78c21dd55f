"""Transparent stream proxies (sync and async) that end their call exactly once.

A proxy behaves like the SDK's own stream: every attribute, helper and context manager passes through (wrapt
`ObjectProxy`). It adds three hooks (chunk, end, and the HTTP response's close) and no span event per chunk. The
call ends on exhaustion, ``close()``, ``with`` exit, an exception, task cancellation, or garbage collection
(`weakref.finalize`): whichever comes first, once.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any, Protocol

import wrapt

from ..records import MAX_CHUNK_GAPS, StreamEnd, StreamStats
from ..safety import guarded


class StreamObserver(Protocol):
    """The consumer of a stream's chunks: a provider accumulator bound to its call."""

    def on_chunk(self, chunk: Any) -> None: ...

    def on_end(self, stats: StreamStats, error: BaseException | None) -> None: ...


class _StreamState:
    """Timing and the exactly-once guard; kept apart from the proxy so the GC finaliser can hold it."""

    __slots__ = ("observer", "stats", "first_ns", "last_ns", "start_ns", "ended")

    def __init__(self, observer: StreamObserver, start_ns: int) -> None:
        self.observer = observer
        self.stats = StreamStats()
        self.start_ns = start_ns
        self.first_ns = start_ns
        self.last_ns = start_ns
        self.ended = False

    def chunk(self, chunk: Any) -> None:
        now = time.monotonic_ns()
        stats = self.stats
        if stats.chunks == 0:
            stats.time_to_first_chunk_s = (now - self.start_ns) / 1e9
            self.first_ns = now
        elif len(stats.chunk_gaps_s) < MAX_CHUNK_GAPS:
            stats.chunk_gaps_s.append((now - self.last_ns) / 1e9)
        stats.chunks += 1
        self.last_ns = now
        guarded(self.observer.on_chunk, chunk)

    def end(self, how: StreamEnd, error: BaseException | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        self.stats.end = how
        if self.stats.chunks > 1:
            self.stats.time_per_chunk_s = (self.last_ns - self.first_ns) / (self.stats.chunks - 1) / 1e9
        guarded(self.observer.on_end, self.stats, error)


def _end_on_gc(state: _StreamState) -> None:
    state.end("garbage_collected")


def _how_for(error: BaseException) -> StreamEnd:
    return "cancelled" if isinstance(error, (asyncio.CancelledError, GeneratorExit)) else "error"


def _end_at_exit(state: _StreamState, exc: BaseException | None) -> None:
    """`with stream:` left. An error of the stream itself already ended the call where it was raised; an exception
    still arriving here is the application's, not the call's: the call closed early (as it does when an SDK stream
    manager closes its stream), unless the consumer was cancelled (docs/semantics.md)."""
    if exc is not None and _how_for(exc) == "cancelled":
        state.end("cancelled", exc)
    else:
        state.end("closed_early")


class _ClosingResponse(wrapt.ObjectProxy):  # type: ignore[type-arg]
    """The HTTP response of a stream: closing it (as the SDKs' stream helpers do) ends the call."""

    def __init__(self, response: Any, state: _StreamState) -> None:
        super().__init__(response)
        self._self_state = state

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_state.end("closed_early")

    async def aclose(self) -> Any:
        try:
            return await self.__wrapped__.aclose()
        finally:
            self._self_state.end("closed_early")


class _StreamProxyBase(wrapt.ObjectProxy):  # type: ignore[type-arg]
    def __init__(self, stream: Any, observer: StreamObserver, start_ns: int) -> None:
        super().__init__(stream)
        state = _StreamState(observer, start_ns)
        self._self_state = state
        self._self_finalizer = weakref.finalize(self, _end_on_gc, state)

    @property
    def response(self) -> Any:
        return _ClosingResponse(self.__wrapped__.response, self._self_state)

    def __repr__(self) -> str:
        return repr(self.__wrapped__)

    def end_early(self) -> None:
        """End the call with what has arrived so far (its owner closed the stream's response)."""
        self._self_state.end("closed_early")


class SyncStreamProxy(_StreamProxyBase):
    def __iter__(self) -> SyncStreamProxy:
        return self

    def __next__(self) -> Any:
        state = self._self_state
        try:
            chunk = self.__wrapped__.__next__()
        except StopIteration:
            state.end("completed")
            raise
        except BaseException as error:
            state.end(_how_for(error), error)
            raise
        state.chunk(chunk)
        return chunk

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_state.end("closed_early")

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            _end_at_exit(self._self_state, exc)


class AsyncStreamProxy(_StreamProxyBase):
    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        state = self._self_state
        try:
            chunk = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            state.end("completed")
            raise
        except BaseException as error:
            state.end(_how_for(error), error)
            raise
        state.chunk(chunk)
        return chunk

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_state.end("closed_early")

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            _end_at_exit(self._self_state, exc)
