"""The real groq SDK over `httpx.MockTransport` (the stand-in for GroqCloud, unreachable here), serving Groq's
documented Chat Completions bodies: OpenAI-shaped with Groq's timing fields in `usage`, and a stream whose last chunk
carries the usage in `x_groq.usage`."""

from __future__ import annotations

import gc
import json
from decimal import Decimal
from typing import Any

import genai_prices
import groq
import httpx
import pytest
from opentelemetry.trace import StatusCode

PROVIDERS = ("openai", "anthropic", "groq")
MODEL = "llama-3.3-70b-versatile"
KEY = "gsk_TESTKEYabcdefghijklmnop0123456789"
USAGE = {
    "queue_time": 0.037493756,
    "prompt_tokens": 18,
    "prompt_time": 0.000680594,
    "completion_tokens": 556,
    "completion_time": 0.463333333,
    "total_tokens": 574,
    "total_time": 0.464013927,
}
COMPLETION = {
    "id": "chatcmpl-f51b2cd2-bef7-417e-964e-a08f0b513c22",
    "object": "chat.completion",
    "created": 1730241104,
    "model": MODEL,
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Paris."}, "logprobs": None, "finish_reason": "stop"}
    ],
    "usage": USAGE,
    "system_fingerprint": "fp_179b0f92c9",
    "x_groq": {"id": "req_01jbd6g2qdfw2adyrt2az8hz4w"},
}
MANY = tuple(f" w{i}" for i in range(20))


def _chunks() -> bytes:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1730241104, "model": MODEL}
    events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    events += [{**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]} for w in MANY]
    events.append(
        {
            **base,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "x_groq": {"id": "req_01jbd6g2qdfw2adyrt2az8hz4w", "usage": USAGE},
        }
    )
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode() + b"data: [DONE]\n\n"


def _handler(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    if body.get("stream"):
        return httpx.Response(200, content=_chunks(), headers={"content-type": "text/event-stream"})
    if body.get("model") == "missing":
        return httpx.Response(
            404, json={"error": {"message": "The model `missing` does not exist", "type": "invalid_request_error"}}
        )
    return httpx.Response(200, json=COMPLETION)


def _client(is_async: bool = False) -> Any:
    transport = httpx.MockTransport(_handler)
    if is_async:
        return groq.AsyncGroq(api_key=KEY, http_client=httpx.AsyncClient(transport=transport), max_retries=0)
    return groq.Groq(api_key=KEY, http_client=httpx.Client(transport=transport), max_retries=0)


MESSAGES = [{"role": "user", "content": "Capital of France?"}]


def test_chat_completion(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS, cost=True)
    result = _client().chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0.5)
    assert result.choices[0].message.content == "Paris."
    a = telemetry.one_span().attributes
    assert a["gen_ai.provider.name"] == "groq"
    assert a["server.address"] == "api.groq.com"
    assert a["gen_ai.usage.input_tokens"] == 18 and a["gen_ai.usage.output_tokens"] == 556
    assert a["gen_ai.request.temperature"] == 0.5
    expected = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=18, output_tokens=556), model_ref=MODEL, provider_id="groq"
    ).total_price
    assert Decimal(str(a["gen_ai.usage.cost.amount"])).quantize(Decimal("1e-12")) == expected.quantize(Decimal("1e-12"))


async def test_async_chat_completion(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    await _client(is_async=True).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert telemetry.one_span().attributes["gen_ai.usage.output_tokens"] == 556


def test_error(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    with pytest.raises(groq.NotFoundError):
        _client().chat.completions.create(model="missing", messages=MESSAGES)
    span = telemetry.one_span()
    assert span.status.status_code is StatusCode.ERROR and span.attributes["error.type"] == "404"


def _ended(telemetry: Any, how: str) -> Any:
    span = telemetry.one_span()
    telemetry.assert_each_ended_once()
    assert span.attributes["otel_agent.stream.end"] == how
    return span


def test_stream_usage_from_x_groq(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    text = "".join(
        c.choices[0].delta.content or ""
        for c in _client().chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    )
    assert text == "".join(MANY)
    a = _ended(telemetry, "completed").attributes
    assert a["gen_ai.usage.input_tokens"] == 18 and a["gen_ai.usage.output_tokens"] == 556


def test_stream_break_close_with_and_gc(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    stream = _client().chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    for index, _ in enumerate(stream):
        if index == 2:
            break
    stream.close()
    _ended(telemetry, "closed_early")
    telemetry.clear()
    with _client().chat.completions.create(model=MODEL, messages=MESSAGES, stream=True) as stream:
        next(iter(stream))
    _ended(telemetry, "closed_early")
    telemetry.clear()
    stream = _client().chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    next(iter(stream))
    del stream
    gc.collect()
    _ended(telemetry, "garbage_collected")


async def test_async_stream(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    stream = await _client(is_async=True).chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    async for _ in stream:
        pass
    assert _ended(telemetry, "completed").attributes["gen_ai.usage.output_tokens"] == 556
