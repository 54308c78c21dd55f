#!/usr/bin/env python3
"""Per-turn cost of trajectory tracking against context length. A benchmark, not a test.

    python benchmarks/trajectory_overhead.py --quick     # < 2 minutes on 2 cores
    python benchmarks/trajectory_overhead.py             # more lengths, more samples

What it shows: the tracker's work per turn grows with the turn's *new* content (the latest answer and the tool
results since), not with the history the request re-sends. Three tables:

1. Tracker per turn vs context length (10..2000 messages of ~40 words): `begin_turn` + `end_turn` of the trajectory
   tracker alone, in an inferred run (run found by message chaining) and in an explicit `agent_run`, each turn being
   the next turn of an existing run (its previous answer and a tool result are new). "msgs read" counts the request
   messages the tracker touched.
2. Tracker per turn vs content size at 50 messages: the old messages grow (new ones fixed), then the new ones grow
   (old ones fixed).
3. The real OpenAI SDK over `httpx2.MockTransport`, instrumented, per call vs context length: the whole call, and
   inside it the CPU time of otel-agent's parts: reading the request (the adapter converts every message of the
   request: O(history), like the SDK's own serialisation), spans and metrics, and trajectory tracking.

Every timed turn is one turn of its own fresh run (its previous turn untimed), so the history is exactly the stated
length. Times are thread CPU time (steady on a shared machine), except the SDK call's wall time; numbers are medians.
Spans go to a processor that drops them; metrics to an in-memory reader.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402
import openai  # noqa: E402
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider  # noqa: E402

import otel_agent  # noqa: E402
from otel_agent import runtime  # noqa: E402
from otel_agent.records import Message, ToolCall, ToolResult, TurnRecord, TurnRequest, TurnResponse, Usage  # noqa: E402

TOKENS_PER_WORD = 1.3


def words(n: int, seed: int = 0) -> str:
    vocabulary = ("city", "population", "census", "river", "district", "metro", "area", "north", "south", "data")
    return " ".join(vocabulary[(i * 7 + seed) % len(vocabulary)] for i in range(n))


class Counting(tuple):  # type: ignore[type-arg]
    """Request messages that count the elements otel-agent reads."""

    reads = 0

    def __getitem__(self, key: Any) -> Any:
        item = super().__getitem__(key)
        Counting.reads += len(item) if isinstance(key, slice) else 1
        return item

    def __iter__(self) -> Iterator[Any]:
        Counting.reads += len(self)
        return super().__iter__()


class Drop(SpanProcessor):
    pass


def instrument(**options: Any) -> None:
    otel_agent.uninstrument()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(Drop())
    otel_agent.instrument(
        tracer_provider=tracer_provider,
        meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]),
        cost=False,
        gpu="off",
        run_idle_timeout_s=3600,
        max_inferred_runs=100_000,
        providers=("openai",),
        **options,
    )


# -- 1 and 2: the tracker alone -------------------------------------------------------------------------------------
def middle(length: int, old_words: int) -> tuple[Message, ...]:
    """Shared history between the first message and the last two: (assistant call, tool result) pairs."""
    pairs: list[Message] = []
    for k in range(length // 2 + 1):
        pairs.append(
            Message(
                "assistant", text=words(old_words, k), tool_calls=(ToolCall(f"old_{k}", "search", f'{{"q": "{k}"}}'),)
            )
        )
        pairs.append(Message("tool", tool_results=(ToolResult(f"old_{k}", words(old_words, k + 1)),)))
    return tuple(pairs[len(pairs) - length :]) if length else ()


def tracker_turn_us(
    length: int, samples: int, explicit: bool, old_words: int = 40, new_words: int = 40
) -> tuple[float, float]:
    """Median µs per tracked turn at `length` messages, and the median number of messages read."""
    instrument()
    rt = runtime.current()
    assert rt is not None
    tracker = rt.pipeline.trajectory
    shared = middle(length - 3, old_words)
    times: list[float] = []
    reads: list[int] = []

    def request(messages: tuple[Message, ...]) -> TurnRequest:
        return TurnRequest(
            provider="openai",
            operation="chat",
            model="small",
            server_address="api.openai.com",
            server_port=443,
            stream=False,
            messages=Counting(messages),
            tool_names=("search",),
            api="chat.completions",
        )

    def response(tag: str, text: str) -> TurnResponse:
        return TurnResponse(
            id=tag,
            model="small",
            finish_reasons=("tool_calls",),
            usage=Usage(1000, 50),
            text=text,
            tool_calls=(ToolCall(tag, "search", f'{{"q": "{tag}"}}'),),
        )

    gc.collect()
    for i in range(samples):
        first = Message("user", text=f"task {i}: " + words(old_words))
        before = (first, *shared)
        previous = response(f"call_{i}_a", words(new_words, 3))
        answer = Message("assistant", text=previous.text, tool_calls=previous.tool_calls)
        result = Message("tool", tool_results=(ToolResult(f"call_{i}_a", words(new_words, 5)),))
        now_request = request((*before, answer, result))
        now_response = response(f"call_{i}_b", words(new_words, 7))
        context = otel_agent.agent_run("bench") if explicit else None
        if context is not None:
            context.__enter__()
        setup = tracker.begin_turn(request(before), time.time_ns())
        tracker.end_turn(setup, TurnRecord(request(before), previous, time.time_ns(), time.time_ns()))
        Counting.reads = 0
        started = time.thread_time_ns()
        handle = tracker.begin_turn(now_request, time.time_ns())
        tracker.end_turn(handle, TurnRecord(now_request, now_response, time.time_ns(), time.time_ns()))
        times.append((time.thread_time_ns() - started) / 1000)
        reads.append(Counting.reads)
        assert handle.index == 2, "the timed turn must continue its run"
        if context is not None:
            context.__exit__(None, None, None)
    otel_agent.uninstrument()
    return statistics.median(times), statistics.median(reads)


# -- 3: the real SDK ------------------------------------------------------------------------------------------------
def sdk_messages(length: int, tag: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a research agent."},
        {"role": "user", "content": f"task {tag}: " + words(40)},
    ]
    k = 0
    while len(out) < length - 1:  # the setup call's answer and its tool result follow
        out.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"old_{k}",
                        "type": "function",
                        "function": {"name": "search", "arguments": f'{{"q": "{k}"}}'},
                    }
                ],
            }
        )
        out.append({"role": "tool", "tool_call_id": f"old_{k}", "content": words(40, k)})
        k += 1
    if len(out) > length - 2:
        out.pop()  # a tool message whose call is gone is harmless here; keep the length exact
    return out


def handler(request: httpx2.Request) -> httpx2.Response:
    body = json.loads(request.content)
    n = len(body["messages"])
    tokens = int(len(request.content) / 4)
    return httpx2.Response(
        200,
        json={
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": 1741569952,
            "model": "gpt-5.4-mini-2026-03-17",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "logprobs": None,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "refusal": None,
                        "annotations": [],
                        "tool_calls": [
                            {
                                "id": f"call_{time.perf_counter_ns()}",
                                "type": "function",
                                "function": {"name": "search", "arguments": f'{{"q": "{n}"}}'},
                            }
                        ],
                    },
                }
            ],
            "usage": {"prompt_tokens": tokens, "completion_tokens": 20, "total_tokens": tokens + 20},
        },
    )


TOOLS = [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}]


PARTS: dict[str, int] = {}


def timed(part: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time_ns()
        try:
            return function(*args, **kwargs)
        finally:
            PARTS[part] = PARTS.get(part, 0) + time.thread_time_ns() - started

    return wrapper


def measure_parts() -> None:
    """Thread CPU time per otel-agent part, accumulated in PARTS (nested parts are not double counted below)."""
    from otel_agent.providers.openai.adapter import OpenAIAdapter
    from otel_agent.telemetry.inference import InferenceTelemetry
    from otel_agent.trajectory.tracker import TrajectoryTracker

    OpenAIAdapter.request = timed("read", OpenAIAdapter.request)  # type: ignore[method-assign]
    OpenAIAdapter.response = timed("read", OpenAIAdapter.response)  # type: ignore[method-assign]
    InferenceTelemetry.start = timed("telemetry", InferenceTelemetry.start)  # type: ignore[method-assign]
    InferenceTelemetry.finish = timed("telemetry", InferenceTelemetry.finish)  # type: ignore[method-assign]
    TrajectoryTracker.begin_turn = timed("tracking", TrajectoryTracker.begin_turn)  # type: ignore[method-assign]
    TrajectoryTracker.end_turn = timed("tracking", TrajectoryTracker.end_turn)  # type: ignore[method-assign]


def sdk_call(length: int, samples: int) -> dict[str, float]:
    """Median wall ms of an instrumented SDK call, and median CPU µs of each otel-agent part inside it."""
    instrument()
    client = openai.OpenAI(
        api_key="sk-bench", max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(handler))
    )
    found: dict[str, list[float]] = {"call": [], "read": [], "telemetry": [], "tracking": []}
    gc.collect()
    for i in range(samples):
        messages = sdk_messages(length, i)
        answer = client.chat.completions.create(model="small", messages=messages, tools=TOOLS)
        message = answer.choices[0].message
        messages.append(message.model_dump(exclude_none=True))
        messages.append({"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": words(40, i)})
        PARTS.clear()
        started = time.perf_counter_ns()
        client.chat.completions.create(model="small", messages=messages, tools=TOOLS)
        found["call"].append((time.perf_counter_ns() - started) / 1e6)
        for part in ("read", "telemetry", "tracking"):
            found[part].append(PARTS.get(part, 0) / 1000)
    otel_agent.uninstrument()
    return {part: statistics.median(values) for part, values in found.items()}


# -- tables ---------------------------------------------------------------------------------------------------------
def table(title: str, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    print(f"\n{title}")
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("  " + "  ".join(cell.rjust(width) for cell, width in zip(row, widths)))
        if n == 0:
            print("  " + "  ".join("-" * width for width in widths))
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer lengths and samples (< 2 minutes on 2 cores)")
    args = parser.parse_args()
    lengths = (10, 100, 500, 2000) if args.quick else (10, 50, 200, 500, 1000, 2000)
    samples = 60 if args.quick else 200
    sdk_lengths = (10, 100, 1000) if args.quick else lengths
    sdk_samples = 5 if args.quick else 15
    sizes = (10, 200, 2000) if args.quick else (10, 100, 500, 2000, 5000)
    started = time.monotonic()

    rows = []
    for length in lengths:
        inferred, read = tracker_turn_us(length, samples, explicit=False)
        explicit, _ = tracker_turn_us(length, samples, explicit=True)
        rows.append(
            (length, f"{int(length * 40 * TOKENS_PER_WORD):,}", f"{inferred:.0f}", f"{explicit:.0f}", f"{read:.0f}")
        )
    table(
        "1. Tracker per turn vs context length (2 new messages per turn, ~40 words per message)",
        ("messages", "~tokens/request", "inferred µs", "explicit µs", "msgs read"),
        rows,
    )

    rows = []
    for size in sizes:
        old, _ = tracker_turn_us(50, samples, explicit=False, old_words=size, new_words=40)
        new, _ = tracker_turn_us(50, samples, explicit=False, old_words=40, new_words=size)
        rows.append((size, f"{int(50 * size * TOKENS_PER_WORD):,}", f"{old:.0f}", f"{new:.0f}"))
    table(
        "2. Tracker per turn (inferred) vs words per message, 50 messages",
        ("words/msg", "~tokens/request (old)", "old grows µs", "new grows µs"),
        rows,
    )

    measure_parts()
    rows = []
    for length in sdk_lengths:
        parts = sdk_call(length, sdk_samples)
        rows.append(
            (
                length,
                f"{parts['call']:.1f}",
                f"{parts['read']:.0f}",
                f"{parts['telemetry']:.0f}",
                f"{parts['tracking']:.0f}",
            )
        )
    table(
        "3. Instrumented OpenAI SDK call over MockTransport vs context length (otel-agent parts: CPU µs per call)",
        ("messages", "SDK call ms", "read request µs", "spans+metrics µs", "tracking µs"),
        rows,
    )
    print(
        f"\n({time.monotonic() - started:.0f} s; medians of {samples} turns per cell in 1-2, "
        f"{sdk_samples} calls per cell in 3; noisy on a shared CPU)"
    )


if __name__ == "__main__":
    main()
