"""A streamed call's span ends exactly once however the stream ends: exhaustion, `break` + `close()`, `with` exit,
an exception in user code, task cancellation, garbage collection; sync and async, both SDKs, raw streams and the
SDKs' stream managers.

SSE streams are served in-process by `httpx2.MockTransport`, which stands in for provider-only fields that the
local model server never produces (reasoning/thinking tokens, cache usage).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from opentelemetry.trace import StatusCode

from . import payloads as p

# kind -> (sdk, is a stream manager)
KINDS = {
    "openai.create": ("openai", False),
    "openai.stream_manager": ("openai", True),
    "anthropic.create": ("anthropic", False),
    "anthropic.stream_manager": ("anthropic", True),
}
MANY = tuple(f" w{i}" for i in range(30))  # enough chunks that an early end really is early


def _server(sdk: str, stream_bytes: Any = None) -> p.Server:
    if sdk == "openai":
        return p.openai_server(chat_stream=stream_bytes or p.openai_sse(p.chat_chunks(MANY)))
    return p.anthropic_server(stream=stream_bytes or p.named_sse(p.anthropic_events(MANY)))


def _open(kind: str, client: Any) -> Any:
    """The SDK call: a stream (raw) or a stream manager."""
    sdk, manager = KINDS[kind]
    if sdk == "openai":
        args = {"model": p.OPENAI_MODEL, "messages": p.USER_MESSAGES, "stream_options": {"include_usage": True}}
        return (
            client.chat.completions.stream(**args) if manager else client.chat.completions.create(**args, stream=True)
        )
    args = {"model": p.ANTHROPIC_MODEL, "max_tokens": 256, "messages": p.USER_MESSAGES}
    return client.messages.stream(**args) if manager else client.messages.create(**args, stream=True)


def _ended(telemetry: Any, how: str) -> Any:
    spans = telemetry.inference_spans()
    assert len(spans) == 1, [s.name for s in telemetry.spans()]
    telemetry.assert_each_ended_once()
    assert sum(telemetry.ends.ends.values()) == len(telemetry.spans())
    span = spans[0]
    assert span.attributes["otel_agent.stream.end"] == how
    # no span event per chunk: at most the one exception event of an error or a cancellation
    assert [e.name for e in span.events] in ([], ["exception"])
    if how in ("completed", "closed_early", "garbage_collected"):
        assert not span.events
        assert span.status.status_code is StatusCode.UNSET
    return span


# -- sync ---------------------------------------------------------------------------------------------------------
def _sync_stream(kind: str, client: Any) -> tuple[Any, Any]:
    """(what to iterate, the manager or None)."""
    opened = _open(kind, client)
    if KINDS[kind][1]:
        return opened.__enter__(), opened
    return opened, None


@pytest.mark.parametrize("kind", list(KINDS))
class TestSync:
    def test_exhaustion(self, telemetry: Any, kind: str) -> None:
        stream, manager = _sync_stream(kind, _client(kind))
        items = list(stream)
        assert items
        span = _ended(telemetry, "completed")
        assert span.attributes["gen_ai.usage.output_tokens"] in (10, 503)
        if manager is not None:
            manager.__exit__(None, None, None)
        telemetry.assert_each_ended_once()

    def test_break_then_close(self, telemetry: Any, kind: str) -> None:
        client = _client(kind)
        stream, manager = _sync_stream(kind, client)
        for index, _ in enumerate(stream):
            if index == 2:
                break
        assert telemetry.inference_spans() == [], "not ended by the break alone"
        stream.close()
        span = _ended(telemetry, "closed_early")
        assert span.attributes["otel_agent.response.chunk_count"] == 3 or KINDS[kind][1]
        stream.close()  # a second close is harmless
        telemetry.assert_each_ended_once()

    def test_with_exit_early(self, telemetry: Any, kind: str) -> None:
        client = _client(kind)
        opened = _open(kind, client)
        with opened as stream:
            next(iter(stream))
        _ended(telemetry, "closed_early")

    def test_with_exit_after_exhaustion(self, telemetry: Any, kind: str) -> None:
        client = _client(kind)
        with _open(kind, client) as stream:
            for _ in stream:
                pass
        _ended(telemetry, "completed")

    def test_user_exception_in_loop(self, telemetry: Any, kind: str) -> None:
        client = _client(kind)
        with pytest.raises(LookupError, match="user bug"):
            with _open(kind, client) as stream:
                for _ in stream:
                    raise LookupError("user bug")
        # The application's exception is not the call's: whether a raw stream's `with` sees it or a manager closes
        # its stream without telling it why, the call closed early and carries no error (docs/semantics.md).
        span = _ended(telemetry, "closed_early")
        assert "error.type" not in span.attributes
        assert span.status.status_code is not StatusCode.ERROR

    def test_garbage_collected(self, telemetry: Any, kind: str) -> None:
        client = _client(kind)
        stream, manager = _sync_stream(kind, client)
        next(iter(stream))
        del stream, manager
        gc.collect()
        _ended(telemetry, "garbage_collected")

    def test_never_iterated_then_collected(self, telemetry: Any, kind: str) -> None:
        client = _client(kind)
        stream, manager = _sync_stream(kind, client)
        del stream, manager
        gc.collect()
        span = _ended(telemetry, "garbage_collected")
        assert span.attributes["otel_agent.response.chunk_count"] == 0


def _client(kind: str, *, is_async: bool = False, stream_bytes: Any = None) -> Any:
    sdk = KINDS[kind][0]
    server = _server(sdk, stream_bytes)
    if sdk == "openai":
        return p.openai_client(server, is_async=is_async)
    return p.anthropic_client(server, is_async=is_async)


# -- async --------------------------------------------------------------------------------------------------------
async def _async_stream(kind: str, client: Any) -> tuple[Any, Any]:
    opened = _open(kind, client)
    if KINDS[kind][1]:
        return await opened.__aenter__(), opened
    return await opened, None


async def _collect() -> None:
    """gc.collect, letting the loop run the async-generator finalisers it schedules (a manager's suspended
    `__stream__` generator is closed by a task, which then releases the stream)."""
    for _ in range(3):
        gc.collect()
        await asyncio.sleep(0)


async def _first(stream: Any) -> Any:
    return await stream.__aiter__().__anext__()


@pytest.mark.parametrize("kind", list(KINDS))
class TestAsync:
    async def test_exhaustion(self, telemetry: Any, kind: str) -> None:
        stream, manager = await _async_stream(kind, _client(kind, is_async=True))
        items = [item async for item in stream]
        assert items
        _ended(telemetry, "completed")
        if manager is not None:
            await manager.__aexit__(None, None, None)
        telemetry.assert_each_ended_once()

    async def test_break_then_close(self, telemetry: Any, kind: str) -> None:
        stream, _ = await _async_stream(kind, _client(kind, is_async=True))
        index = 0
        async for _ in stream:
            index += 1
            if index == 3:
                break
        assert telemetry.inference_spans() == []
        await stream.close()
        _ended(telemetry, "closed_early")
        await stream.close()
        telemetry.assert_each_ended_once()

    async def test_with_exit_early(self, telemetry: Any, kind: str) -> None:
        client = _client(kind, is_async=True)
        if KINDS[kind][1]:
            async with _open(kind, client) as stream:
                await _first(stream)
        else:
            async with await _open(kind, client) as stream:
                await _first(stream)
        _ended(telemetry, "closed_early")

    async def test_user_exception_in_loop(self, telemetry: Any, kind: str) -> None:
        client = _client(kind, is_async=True)
        with pytest.raises(LookupError):
            opened = _open(kind, client)
            async with opened if KINDS[kind][1] else await opened as stream:
                async for _ in stream:
                    raise LookupError("user bug")
        span = _ended(telemetry, "closed_early")
        assert "error.type" not in span.attributes

    async def test_task_cancelled_while_waiting(self, telemetry: Any, kind: str) -> None:
        """The task consuming the stream is cancelled while it awaits the next chunk."""
        sdk = KINDS[kind][0]
        data = p.openai_sse(p.chat_chunks(MANY)) if sdk == "openai" else p.named_sse(p.anthropic_events(MANY))
        stalled = _StallingStream(data, stall_after=_after_events(data, 4))
        server = p.Server()
        path = "/v1/chat/completions" if sdk == "openai" else "/v1/messages"
        server.on(
            path, lambda request: httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=stalled)
        )
        client = (
            p.openai_client(server, is_async=True) if sdk == "openai" else p.anthropic_client(server, is_async=True)
        )
        got_one = asyncio.Event()

        async def consume() -> None:
            stream, manager = await _async_stream(kind, client)
            try:
                async for _ in stream:
                    got_one.set()
            finally:
                if manager is not None:
                    await asyncio.shield(manager.__aexit__(None, None, None))

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got_one.wait(), 10)
        await asyncio.wait_for(stalled.waiting.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        span = _ended(telemetry, "cancelled")
        assert span.attributes["otel_agent.response.chunk_count"] >= 1
        assert span.attributes["error.type"] == "CancelledError"

    async def test_garbage_collected(self, telemetry: Any, kind: str) -> None:
        stream, manager = await _async_stream(kind, _client(kind, is_async=True))
        await _first(stream)
        del stream, manager
        await _collect()
        _ended(telemetry, "garbage_collected")


def _after_events(data: bytes, count: int) -> int:
    """The byte offset just past the first `count` SSE events."""
    offset = 0
    for _ in range(count):
        offset = data.index(b"\n\n", offset) + 2
    return offset


class _StallingStream(httpx2.AsyncByteStream):
    """Sends `stall_after` bytes, then waits forever (a model that stops sending)."""

    def __init__(self, data: bytes, stall_after: int) -> None:
        self._data = data
        self._stall_after = stall_after
        self.waiting = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, self._stall_after, 50):
            yield self._data[i : min(i + 50, self._stall_after)]
        self.waiting.set()
        await asyncio.Event().wait()
        yield b""  # pragma: no cover

    async def aclose(self) -> None:
        pass


# -- proxies are the SDK's streams to the caller ----------------------------------------------------------------------
def test_openai_stream_proxy_keeps_sdk_surface(telemetry: Any) -> None:
    stream = _open("openai.create", _client("openai.create"))
    assert isinstance(stream, openai.Stream)
    assert stream.response.status_code == 200
    assert stream.response.headers["content-type"] == "text/event-stream"
    assert callable(stream.close) and callable(stream.__enter__)
    assert "Stream" in repr(stream)
    chunk = next(stream)
    assert chunk.object == "chat.completion.chunk"
    stream.response.close()  # closing the HTTP response (as SDK helpers do) ends the call
    _ended(telemetry, "closed_early")


def test_anthropic_message_stream_helpers_read_through_proxy(telemetry: Any) -> None:
    client = _client("anthropic.stream_manager")
    with client.messages.stream(model=p.ANTHROPIC_MODEL, max_tokens=256, messages=p.USER_MESSAGES) as stream:
        assert stream.response.status_code == 200
        assert stream.request_id is None or isinstance(stream.request_id, str)
        first = next(stream.text_stream)
        assert first == " w0"
        snapshot = stream.current_message_snapshot
        assert snapshot.content[-1].text == " w0"
        final = stream.get_final_message()
        assert final.usage.output_tokens_details.thinking_tokens == 312
        assert stream.get_final_text() == "".join(MANY)
    _ended(telemetry, "completed")


async def test_openai_async_manager_helpers(telemetry: Any) -> None:
    client = _client("openai.stream_manager", is_async=True)
    async with client.chat.completions.stream(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES) as stream:
        final = await stream.get_final_completion()
        assert final.choices[0].message.content == "".join(MANY)
    _ended(telemetry, "completed")


def test_two_streams_interleaved(telemetry: Any) -> None:
    """Two open streams at once: each span ends once, with its own chunks."""
    client = _client("openai.create")
    first = _open("openai.create", client)
    second = _open("openai.create", client)
    next(first)
    for _ in second:
        pass
    first.close()
    spans = telemetry.inference_spans()
    assert sorted(s.attributes["otel_agent.stream.end"] for s in spans) == ["closed_early", "completed"]
    telemetry.assert_each_ended_once()


def test_sync_generator_consumer_closed(telemetry: Any) -> None:
    """A generator that wraps the stream and is closed by its caller (GeneratorExit at the yield)."""
    client = _client("anthropic.create")

    def texts() -> Iterator[str]:
        with _open("anthropic.create", client) as stream:
            for event in stream:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    yield event.delta.text

    gen = texts()
    assert next(gen) == " w0"
    gen.close()
    _ended(telemetry, "cancelled")


def test_anthropic_is_stream_type(telemetry: Any) -> None:
    stream = _open("anthropic.create", _client("anthropic.create"))
    assert isinstance(stream, anthropic.Stream)
    stream.close()
    _ended(telemetry, "closed_early")
