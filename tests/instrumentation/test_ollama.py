"""The real ollama client over `httpx.MockTransport` (ollama's `Client(host=..., transport=...)` passes it to its httpx
client), serving Ollama's documented `/api/chat` and `/api/generate` bodies and NDJSON streams. The mock transport
stands in for an Ollama server: building one from its Go module and serving the packaged SmolLM2 GGUF was not tried
in this change (no time); llama.cpp, which the e2e tests run, speaks the OpenAI shape instead."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import httpx
import ollama
import pytest
from opentelemetry.trace import StatusCode

PROVIDERS = ("openai", "anthropic", "ollama")
MODEL = "llama3.2"
HOST = "http://127.0.0.1:11434"
FINAL = {
    "done_reason": "stop",
    "done": True,
    "total_duration": 4883583458,
    "load_duration": 1334875,
    "prompt_eval_count": 26,
    "prompt_eval_duration": 342546000,
    "eval_count": 282,
    "eval_duration": 4535599000,
}
MANY = tuple(f" w{i}" for i in range(20))


def _chat_body() -> dict[str, Any]:
    return {
        "model": MODEL,
        "created_at": "2023-12-12T14:13:43.416799Z",
        "message": {"role": "assistant", "content": "Paris is the capital of France."},
        **FINAL,
    }


def _lines(kind: str) -> bytes:
    rows: list[dict[str, Any]] = []
    for word in MANY:
        row: dict[str, Any] = {"model": MODEL, "created_at": "2023-08-04T08:52:19.385406455-07:00", "done": False}
        if kind == "chat":
            row["message"] = {"role": "assistant", "content": word}
        else:
            row["response"] = word
        rows.append(row)
    last: dict[str, Any] = {"model": MODEL, "created_at": "2023-08-04T19:22:45.499127Z", **FINAL}
    if kind == "chat":
        last["message"] = {"role": "assistant", "content": ""}
    else:
        last["response"] = ""
    rows.append(last)
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def _handler(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    if body.get("model") == "missing":
        return httpx.Response(404, json={"error": "model 'missing' not found"})
    kind = "chat" if request.url.path == "/api/chat" else "generate"
    if body.get("stream"):
        return httpx.Response(200, content=_lines(kind), headers={"content-type": "application/x-ndjson"})
    if kind == "chat":
        return httpx.Response(200, json=_chat_body())
    return httpx.Response(
        200, json={"model": MODEL, "created_at": "2023-08-04T19:22:45Z", "response": "Paris.", **FINAL}
    )


def _client(is_async: bool = False) -> Any:
    transport = httpx.MockTransport(_handler)
    return (ollama.AsyncClient if is_async else ollama.Client)(host=HOST, transport=transport)


MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]


def test_chat(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    result = _client().chat(model=MODEL, messages=MESSAGES, options={"temperature": 0.1, "num_predict": 64})
    assert result.message.content == "Paris is the capital of France."
    a = telemetry.one_span().attributes
    assert a["gen_ai.provider.name"] == "ollama"
    assert a["gen_ai.operation.name"] == "chat"
    assert (a["server.address"], a["server.port"]) == ("127.0.0.1", 11434)
    assert a["gen_ai.usage.input_tokens"] == 26 and a["gen_ai.usage.output_tokens"] == 282
    assert a["gen_ai.request.temperature"] == 0.1 and a["gen_ai.request.max_tokens"] == 64
    assert a["gen_ai.response.finish_reasons"] == ("stop",)


def test_local_endpoint_gets_no_list_price(instrument_with: Any) -> None:
    """Ollama serves on this machine: not priced at an API list price (GPU-hour pricing applies when configured)."""
    telemetry = instrument_with(providers=PROVIDERS, cost=True)
    _client().chat(model=MODEL, messages=MESSAGES)
    a = telemetry.one_span().attributes
    assert a["otel_agent.cost.unpriced"] is True and "gen_ai.usage.cost.amount" not in a


def test_local_endpoint_priced_by_gpu_hour(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS, cost=True, gpu_hourly_price=3.6)
    _client().chat(model=MODEL, messages=MESSAGES)
    a = telemetry.one_span().attributes
    assert a["otel_agent.cost.price_source"] == "gpu-hour"
    assert a["gen_ai.usage.cost.amount"] == pytest.approx(a["otel_agent.cost.gpu"])


def test_generate(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    assert _client().generate(model=MODEL, prompt="Capital of France?").response == "Paris."
    a = telemetry.one_span().attributes
    assert a["gen_ai.operation.name"] == "text_completion"
    assert a["gen_ai.usage.output_tokens"] == 282


def test_error(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    with pytest.raises(ollama.ResponseError) as raised:
        _client().chat(model="missing", messages=MESSAGES)
    assert raised.value.status_code == 404
    span = telemetry.one_span()
    assert span.status.status_code is StatusCode.ERROR and span.attributes["error.type"] == "404"


def test_other_endpoints_pass_through(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)

    def tags(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"models": []})

    assert ollama.Client(host=HOST, transport=httpx.MockTransport(tags)).list().models == []
    assert telemetry.inference_spans() == []


def _ended(telemetry: Any, how: str) -> Any:
    span = telemetry.one_span()
    telemetry.assert_each_ended_once()
    assert span.attributes["otel_agent.stream.end"] == how
    return span


@pytest.mark.parametrize("kind", ["chat", "generate"])
def test_stream_exhaustion(instrument_with: Any, kind: str) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    client = _client()
    stream = (
        client.chat(model=MODEL, messages=MESSAGES, stream=True)
        if kind == "chat"
        else client.generate(model=MODEL, prompt="hi", stream=True)
    )
    assert len(list(stream)) == len(MANY) + 1
    a = _ended(telemetry, "completed").attributes
    assert a["gen_ai.usage.input_tokens"] == 26 and a["gen_ai.usage.output_tokens"] == 282
    assert a["otel_agent.response.chunk_count"] == len(MANY) + 1


def test_stream_break_then_close(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    stream = _client().chat(model=MODEL, messages=MESSAGES, stream=True)
    for index, _ in enumerate(stream):
        if index == 2:
            break
    assert telemetry.inference_spans() == []
    stream.close()
    assert _ended(telemetry, "closed_early").attributes["otel_agent.response.chunk_count"] == 3


def test_stream_user_exception_and_gc(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    with pytest.raises(LookupError):
        for _ in _client().chat(model=MODEL, messages=MESSAGES, stream=True):
            raise LookupError("user bug")
    gc.collect()
    _ended(telemetry, "garbage_collected")


async def test_async_chat_and_stream(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    client = _client(is_async=True)
    await client.chat(model=MODEL, messages=MESSAGES)
    assert telemetry.one_span().attributes["gen_ai.usage.output_tokens"] == 282
    telemetry.clear()
    stream = await client.chat(model=MODEL, messages=MESSAGES, stream=True)
    async for _ in stream:
        pass
    assert _ended(telemetry, "completed").attributes["gen_ai.usage.input_tokens"] == 26


async def test_async_stream_cancelled(instrument_with: Any) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    started = asyncio.Event()

    async def stalled() -> Any:
        yield _lines("chat").split(b"\n", 1)[0] + b"\n"
        started.set()
        await asyncio.Event().wait()
        yield b""  # pragma: no cover

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=stalled())

    async def consume() -> None:
        stream = await ollama.AsyncClient(host=HOST, transport=httpx.MockTransport(handler)).chat(
            model=MODEL, messages=MESSAGES, stream=True
        )
        async for _ in stream:
            pass

    task = asyncio.create_task(consume())
    await started.wait()
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    _ended(telemetry, "cancelled")
