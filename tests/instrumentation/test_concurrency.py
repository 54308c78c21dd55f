"""Concurrent calls keep their parents: no orphan or cross-linked inference spans in async code or threads.

Responses are served in-process by `httpx2.MockTransport` (with small random delays so that calls interleave),
which stands in for provider-only fields that the local model server never produces.
"""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
from opentelemetry import trace

from . import payloads as p

CALLS = 50


def _delayed_async(server: p.Server, seed: int) -> Any:
    rng = random.Random(seed)

    async def handle(request: httpx2.Request) -> httpx2.Response:
        await asyncio.sleep(rng.random() * 0.01)
        return server.handle(request)

    return handle


def _async_clients() -> tuple[Any, Any]:
    import anthropic
    import openai

    oa_server, an_server = p.openai_server(), p.anthropic_server()
    oa = openai.AsyncOpenAI(
        api_key=p.OPENAI_KEY,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(_delayed_async(oa_server, 1))),
    )
    an = anthropic.AsyncAnthropic(
        api_key=p.ANTHROPIC_KEY,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(_delayed_async(an_server, 2))),
    )
    return oa, an


async def _one_call(index: int, oa: Any, an: Any) -> None:
    kind = index % 4
    if kind == 0:
        await oa.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    elif kind == 1:
        stream = await oa.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True)
        async for _ in stream:
            await asyncio.sleep(0)
    elif kind == 2:
        await an.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES)
    else:
        async with an.messages.stream(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES) as stream:
            async for _ in stream.text_stream:
                await asyncio.sleep(0)


async def test_fifty_concurrent_async_calls_keep_their_parents(telemetry: Any) -> None:
    tracer = telemetry.tracer_provider.get_tracer("test.app")
    oa, an = _async_clients()
    parents: dict[int, int] = {}  # task index -> parent span id

    async def task(index: int) -> None:
        await asyncio.sleep(random.random() * 0.005)
        with tracer.start_as_current_span(f"task {index}") as parent:
            parents[index] = parent.get_span_context().span_id
            await _one_call(index, oa, an)
            assert trace.get_current_span() is parent, "the caller's context is restored after the call"

    await asyncio.gather(*(task(i) for i in range(CALLS)))

    spans = telemetry.spans()
    app = {s.context.span_id: s for s in spans if s.instrumentation_scope.name == "test.app"}
    inference = telemetry.inference_spans()
    assert len(app) == CALLS and len(inference) == CALLS
    telemetry.assert_each_ended_once()
    by_parent: dict[int, list[Any]] = {}
    for span in inference:
        assert span.parent is not None, "orphan inference span"
        by_parent.setdefault(span.parent.span_id, []).append(span)
    assert set(by_parent) == set(parents.values())
    for index, parent_id in parents.items():
        children = by_parent[parent_id]
        assert len(children) == 1
        parent = app[parent_id]
        assert parent.name == f"task {index}"
        assert children[0].context.trace_id == parent.context.trace_id
        expected = "openai" if index % 4 < 2 else "anthropic"
        assert children[0].attributes["gen_ai.provider.name"] == expected
        assert parent.start_time <= children[0].start_time and children[0].end_time <= parent.end_time


def test_threads_keep_their_parents(telemetry: Any) -> None:
    tracer = telemetry.tracer_provider.get_tracer("test.app")
    client = p.openai_client(p.openai_server())

    def work(index: int) -> int:
        with tracer.start_as_current_span(f"thread {index}") as parent:
            if index % 2:
                client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
            else:
                for _ in client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True):
                    pass
            return parent.get_span_context().span_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        parent_ids = list(pool.map(work, range(40)))

    inference = telemetry.inference_spans()
    assert len(inference) == 40
    assert sorted(s.parent.span_id for s in inference) == sorted(parent_ids)
    telemetry.assert_each_ended_once()


async def test_stream_consumed_in_another_task_keeps_its_parent(telemetry: Any) -> None:
    """A stream created under one parent and read in another task still belongs to the creating call."""
    tracer = telemetry.tracer_provider.get_tracer("test.app")
    oa, _ = _async_clients()
    with tracer.start_as_current_span("creator") as creator:
        stream = await oa.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True)

    async def reader() -> None:
        with tracer.start_as_current_span("reader"):
            async for _ in stream:
                pass

    await asyncio.create_task(reader())
    span = telemetry.one_span()
    assert span.parent.span_id == creator.get_span_context().span_id
    assert span.attributes["otel_agent.stream.end"] == "completed"


async def test_no_parent_gives_a_root_span(telemetry: Any) -> None:
    oa, _ = _async_clients()
    await asyncio.gather(
        *(oa.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES) for _ in range(5))
    )
    spans = telemetry.inference_spans()
    assert len(spans) == 5
    assert all(s.parent is None for s in spans)
    assert len({s.context.trace_id for s in spans}) == 5
