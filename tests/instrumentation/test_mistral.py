"""The real mistralai SDK over `httpx.MockTransport` (`Mistral(client=httpx.Client(...))`), the stand-in for Mistral's
API (unreachable here), serving its documented chat completion body and SSE stream (OpenAI-shaped chunks)."""

from __future__ import annotations

import gc
import json
from typing import Any

import httpx
from mistralai.client import Mistral

PROVIDERS = ("openai", "anthropic", "mistral")
MODEL = "mistral-small-latest"
MESSAGES = [{"role": "user", "content": "Capital of France?"}]
USAGE = {"prompt_tokens": 10, "completion_tokens": 8, "total_tokens": 18}
COMPLETION = {
    "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
    "object": "chat.completion",
    "model": MODEL,
    "created": 1702256327,
    "usage": USAGE,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
}
MANY = tuple(f" w{i}" for i in range(10))


def _sse() -> bytes:
    base = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": 1702256327, "model": MODEL}
    events = [{**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]} for w in MANY]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": USAGE})
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode() + b"data: [DONE]\n\n"


def _handler(request: httpx.Request) -> httpx.Response:
    if json.loads(request.content).get("stream"):
        return httpx.Response(200, content=_sse(), headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json=COMPLETION)


def _client() -> Mistral:
    transport = httpx.MockTransport(_handler)
    return Mistral(
        api_key="test-key",
        client=httpx.Client(transport=transport),
        async_client=httpx.AsyncClient(transport=transport),
    )


def test_complete(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    result = _client().chat.complete(model=MODEL, messages=MESSAGES, temperature=0.3)
    assert result.choices[0].message.content == "Paris."
    a = telemetry.one_span().attributes
    assert a["gen_ai.provider.name"] == "mistral_ai"
    assert a["server.address"] == "api.mistral.ai"
    assert a["gen_ai.request.temperature"] == 0.3
    assert a["gen_ai.usage.input_tokens"] == 10 and a["gen_ai.usage.output_tokens"] == 8


async def test_complete_async(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    await _client().chat.complete_async(model=MODEL, messages=MESSAGES)
    assert telemetry.one_span().attributes["gen_ai.usage.output_tokens"] == 8


def test_stream_exhaustion_and_gc(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    assert len(list(_client().chat.stream(model=MODEL, messages=MESSAGES))) == len(MANY) + 1
    span = telemetry.one_span()
    assert span.attributes["otel_agent.stream.end"] == "completed"
    assert span.attributes["gen_ai.usage.output_tokens"] == 8
    telemetry.clear()
    stream = _client().chat.stream(model=MODEL, messages=MESSAGES)
    next(stream)
    del stream
    gc.collect()
    assert telemetry.one_span().attributes["otel_agent.stream.end"] == "garbage_collected"
    telemetry.assert_each_ended_once()


async def test_stream_async(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    stream = await _client().chat.stream_async(model=MODEL, messages=MESSAGES)
    async for _ in stream:
        pass
    assert telemetry.one_span().attributes["otel_agent.stream.end"] == "completed"
