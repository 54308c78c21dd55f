"""A 10,000-turn run: the trajectory state stays bounded, and each turn reads only what is new.

The turns go through the real pipeline (trajectory tracker, inference spans and metrics, inferred tool spans) as
the SDK hooks feed it, without an SDK: 10,000 SDK calls re-serialising an ever longer history would measure the SDK.
The request's message tuple counts how many messages otel-agent reads per turn: that count, not a timing, shows the
cost does not grow with history. Spans go to a processor that keeps nothing, so memory measures otel-agent alone.
"""

from __future__ import annotations

import array
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

import otel_agent
from otel_agent import runtime
from otel_agent.records import Message, ToolCall, ToolResult, TurnRecord, TurnRequest, TurnResponse, Usage

TURNS = 10_000
MEMORY_TURNS = 64


class CountingMessages(tuple):  # type: ignore[type-arg]
    """A request's messages that count how many elements are read (by index, slice or iteration)."""

    reads = 0

    def __getitem__(self, key: Any) -> Any:
        item = super().__getitem__(key)
        CountingMessages.reads += len(item) if isinstance(key, slice) else 1
        return item

    def __iter__(self) -> Iterator[Any]:
        CountingMessages.reads += len(self)
        return super().__iter__()

    def __reversed__(self) -> Iterator[Any]:
        CountingMessages.reads += len(self)
        return reversed(tuple(self))


class Counting(SpanProcessor):
    def __init__(self) -> None:
        self.ended: dict[str, int] = {}

    def on_end(self, span: ReadableSpan) -> None:
        kind = span.name.split(" ")[0]
        self.ended[kind] = self.ended.get(kind, 0) + 1


class Feeder:
    """Feeds turns to the pipeline exactly as capture/call.py does: begin (turn, span), complete.

    The whole conversation is built up front, so that during the run the test itself keeps no new objects: what
    memory grows by is otel-agent's.
    """

    def __init__(self, turns: int) -> None:
        rt = runtime.current()
        assert rt is not None
        self.pipeline = rt.pipeline
        history: list[Message] = [Message("user", text="Index every city of France, one by one.")]
        self.script: list[tuple[TurnResponse, int]] = []
        last_q = 0
        for i in range(turns):
            # every 5th turn is a text answer; every 7th repeats the latest call; the rest call the tool anew
            if i % 5 == 4:
                response = TurnResponse(
                    id=f"r{i}",
                    model="small",
                    finish_reasons=("stop",),
                    usage=Usage(100 + i, 20),
                    text=f"Progress report {i}: {i} cities indexed.",
                )
            else:
                q = last_q if i % 7 == 6 else i
                last_q = q
                response = TurnResponse(
                    id=f"r{i}",
                    model="small",
                    finish_reasons=("tool_calls",),
                    usage=Usage(100 + i, 20),
                    tool_calls=(ToolCall(f"call_{i}", "search", f'{{"q": "city {q}"}}'),),
                )
            self.script.append((response, len(history)))
            history.append(Message("assistant", text=response.text, tool_calls=response.tool_calls))
            for tool_call in response.tool_calls:
                content = "Error: timeout" if i % 11 == 0 else f"{i} results"
                history.append(Message("tool", tool_results=(ToolResult(tool_call.id, content),)))
            if not response.tool_calls:
                history.append(Message("user", text="Go on."))
        self.history = history

    def turn(self, i: int) -> None:
        response, upto = self.script[i]
        request = TurnRequest(
            provider="openai",
            operation="chat",
            model="small",
            server_address="api.openai.com",
            server_port=443,
            stream=False,
            messages=CountingMessages(self.history[:upto]),
            tool_names=("search",),
            api="chat.completions",
        )
        start = time.time_ns()
        span, handle, gpu_token = self.pipeline.begin(request, start)
        record = TurnRecord(request=request, response=response, start_ns=start, end_ns=time.time_ns())
        self.pipeline.complete(span, record, handle, gpu_token)


@pytest.mark.parametrize("explicit", [False, True], ids=["inferred", "explicit"])
def test_ten_thousand_turns(explicit: bool) -> None:
    otel_agent.uninstrument()
    counting = Counting()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(counting)
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    otel_agent.instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        cost=False,
        gpu="off",
        run_idle_timeout_s=600,
        run_memory_turns=MEMORY_TURNS,
        providers=(),
    )
    try:
        feeder = Feeder(TURNS)
        tracker = feeder.pipeline.trajectory
        reads = array.array("q", bytes(8 * TURNS))
        seconds = array.array("d", bytes(8 * TURNS))
        blocks: dict[int, int] = {}
        context = otel_agent.agent_run("indexer") if explicit else None
        run = context.__enter__() if context is not None else None
        for i in range(TURNS):
            if i in (6_000, TURNS - 1_000):
                gc.collect()
                blocks[i] = sys.getallocatedblocks()
            if i == TURNS - 1_000:
                tracemalloc.start(1)
            before = CountingMessages.reads
            started = time.perf_counter()
            feeder.turn(i)
            seconds[i] = time.perf_counter() - started
            reads[i] = CountingMessages.reads - before
        gc.collect()
        left_behind = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        blocks[TURNS] = sys.getallocatedblocks()
        if run is None:
            (run,) = tracker.inferred_runs()

        # every turn landed in the one run, in order
        stats = run.stats
        assert stats.turns == TURNS
        assert stats.wasted_by_reason["repeated_tool_call"] > 0 and stats.wasted_by_reason["tool_error"] > 0

        # bounded state: the run's memory, its chaining keys, the tracker's indexes
        sizes = tracker.footprint(run)
        for name in ("pending_calls", "answered_calls", "outputs", "failed_call_ids", "observed_tool_keys"):
            assert sizes[name] <= MEMORY_TURNS, (name, sizes)
        # first message, then per turn kept: answer, words, id, call ids
        assert sizes["chaining_keys"] <= 2 + 4 * 8, sizes
        assert sizes["tool_owners"] <= 4096, sizes
        assert sizes["models"] <= 16 and len(stats.models) <= 16

        # memory: once the bounded structures are full (the tracker's 4,096 remembered tool calls take ~5,000
        # turns), the run holds no more memory blocks as turns go on, and the last 1,000 turns leave well under
        # 1 MB behind (tracemalloc: what they allocated that is still alive, bounded structures' churn included)
        assert blocks[TURNS] - blocks[6_000] < 1_000, blocks
        assert left_behind < 1_000_000, left_behind

        # work per turn: messages read do not grow with history (up to 64 scanned back for the latest answer)
        history = len(feeder.history)
        assert history > 2 * TURNS
        assert max(reads) <= 2 * 64 + 8, max(reads)
        assert statistics.mean(reads[-1000:]) <= statistics.mean(reads[1000:2000]) + 1
        assert history > 100 * max(reads)
        # and, loosely, time per turn does not grow with history either
        early, late = statistics.median(seconds[1000:2000]), statistics.median(seconds[8000:9000])  # untraced
        assert late < 4 * early, (early, late)

        if context is not None:
            context.__exit__(None, None, None)
    finally:
        otel_agent.uninstrument()
        tracer_provider.shutdown()
        meter_provider.shutdown()
    assert counting.ended["invoke_agent"] == 1
    assert counting.ended["chat"] == TURNS
