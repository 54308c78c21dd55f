"""google-genai: the real client, sync and async, over `httpx.MockTransport` serving documented Gemini REST payloads
(see gemini_payloads: the mock transport stands in for the Gemini API, which cannot run here)."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from decimal import Decimal
from typing import Any

import genai_prices
import httpx
import pytest
from google.genai import errors, types
from opentelemetry.trace import StatusCode

from . import gemini_payloads as g

PROVIDERS = ("openai", "anthropic", "gemini")
CONFIG = types.GenerateContentConfig(
    system_instruction="Answer briefly.",
    temperature=0.2,
    max_output_tokens=2048,
    thinking_config=types.ThinkingConfig(thinking_budget=1024),
)


def _start(instrument_with: Any, **options: Any) -> Any:
    return instrument_with(providers=PROVIDERS, **options)


def test_generate_content_records_usage_params_and_provider(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    server = g.Server()
    result = g.client(server).models.generate_content(
        model=g.GEMINI_MODEL, contents="Capital of France?", config=CONFIG
    )
    assert result.text == "The capital of France is Paris."  # the SDK's result passes through
    a = telemetry.one_span().attributes
    assert a["gen_ai.provider.name"] == "gcp.gemini"
    assert a["gen_ai.request.model"] == g.GEMINI_MODEL
    assert a["server.address"] == "generativelanguage.googleapis.com" and a["server.port"] == 443
    assert a["gen_ai.response.model"] == g.GEMINI_MODEL
    assert a["gen_ai.response.id"] == "m8iHaPqCJrK5nvgPk8eLuQ8"
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["gen_ai.request.temperature"] == 0.2
    assert a["gen_ai.request.max_tokens"] == 2048
    assert a["otel_agent.request.thinking_budget_tokens"] == 1024
    # by the conventions: input includes cached tokens, output includes the thoughts
    assert a["gen_ai.usage.input_tokens"] == 1200
    assert a["gen_ai.usage.cache_read.input_tokens"] == 1024
    assert a["gen_ai.usage.output_tokens"] == 80 + 900
    assert a["gen_ai.usage.reasoning.output_tokens"] == 900
    assert "gen_ai.input.messages" not in a and "gen_ai.output.messages" not in a  # no content by default


def test_tool_use_prompt_tokens_count_as_input(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    reply = g.generate_response(usage=g.usage_metadata(prompt=100, cached=None, tool_use=30))
    g.client(g.Server([reply])).models.generate_content(model=g.GEMINI_MODEL, contents="hi")
    assert telemetry.one_span().attributes["gen_ai.usage.input_tokens"] == 130


def test_cost_matches_genai_prices_with_thinking_and_cache_rates(instrument_with: Any) -> None:
    telemetry = _start(instrument_with, cost=True)
    g.client(g.Server()).models.generate_content(model=g.GEMINI_MODEL, contents="hi")
    a = telemetry.one_span().attributes
    # genai-prices' own calculation: thinking billed as output, cached prompt tokens at the cache-read rate
    expected = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=1200, cache_read_tokens=1024, output_tokens=980),
        model_ref=g.GEMINI_MODEL,
        provider_id="google",
    ).total_price
    assert Decimal(str(a["gen_ai.usage.cost.amount"])).quantize(Decimal("1e-12")) == expected.quantize(Decimal("1e-12"))
    assert a["otel_agent.cost.cache_read"] > 0 and a["otel_agent.cost.reasoning"] > 0


async def test_async_generate_content(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    result = await g.client(g.Server()).aio.models.generate_content(model=g.GEMINI_MODEL, contents="hi")
    assert result.text == "The capital of France is Paris."
    assert telemetry.one_span().attributes["gen_ai.usage.reasoning.output_tokens"] == 900


def test_automatic_function_calling_is_one_turn_per_model_call(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    calls: list[str] = []

    def get_weather(city: str) -> str:
        """Weather in a city."""
        calls.append(city)
        return "sunny"

    server = g.Server([g.function_call_response(), g.generate_response([{"text": "It is sunny in Paris."}])])
    result = g.client(server).models.generate_content(
        model=g.GEMINI_MODEL, contents="Weather in Paris?", config=types.GenerateContentConfig(tools=[get_weather])
    )
    assert result.text == "It is sunny in Paris." and calls == ["Paris"]
    spans = sorted(telemetry.inference_spans(), key=lambda s: s.start_time or 0)
    assert len(spans) == 2 == len(server.requests)
    assert spans[0].attributes["gen_ai.usage.input_tokens"] == 60
    assert spans[1].attributes["gen_ai.usage.input_tokens"] == 1200
    telemetry.assert_each_ended_once()


def test_chat_helper(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    chat = g.client(g.Server()).chats.create(model=g.GEMINI_MODEL)
    chat.send_message("hi")
    chat.send_message("again")
    assert len(telemetry.inference_spans()) == 2


def test_vertex_mode_is_gcp_vertex_ai(instrument_with: Any) -> None:
    from google.oauth2.credentials import Credentials

    telemetry = _start(instrument_with)
    client = g.client(
        g.Server(),
        vertexai=True,
        project="proj",
        location="us-central1",
        credentials=Credentials(token="ya29.test-token"),
    )
    client.models.generate_content(model=g.GEMINI_MODEL, contents="hi")
    a = telemetry.one_span().attributes
    assert a["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert a["gen_ai.request.model"] == g.GEMINI_MODEL
    assert a["server.address"] == "us-central1-aiplatform.googleapis.com"


def test_api_error_passes_through_and_marks_the_span(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    with pytest.raises(errors.ClientError) as raised:
        g.client(g.Server(status=429, error=g.error_body())).models.generate_content(
            model=g.GEMINI_MODEL, contents="hi"
        )
    assert raised.value.code == 429
    span = telemetry.one_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"]


def test_malformed_usage_still_records_and_returns(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    reply = g.generate_response()
    reply["usageMetadata"] = {"promptTokenCount": -3, "cachedContentTokenCount": None}  # what the SDK lets through
    result = g.client(g.Server([reply])).models.generate_content(model=g.GEMINI_MODEL, contents="hi")
    assert result.text == "The capital of France is Paris."
    a = telemetry.one_span().attributes
    assert a["otel_agent.usage.missing"] is True  # the unreadable counts are not taken as the provider's


def test_content_capture_when_opted_in(instrument_with: Any) -> None:
    telemetry = _start(instrument_with, capture_content="SPAN_ONLY")
    g.client(g.Server()).models.generate_content(model=g.GEMINI_MODEL, contents="Capital of France?")
    a = telemetry.one_span().attributes
    assert "Capital of France?" in a["gen_ai.input.messages"]
    assert "Paris" in a["gen_ai.output.messages"]


# -- streams: the lifecycle matrix -------------------------------------------------------------------------------
MANY = tuple(f" w{i}" for i in range(30))


def _stream_server() -> g.Server:
    return g.Server(stream=g.sse(g.stream_events(MANY)))


def _ended(telemetry: Any, *how: str) -> Any:
    span = telemetry.one_span()
    telemetry.assert_each_ended_once()
    assert span.attributes["otel_agent.stream.end"] in how
    return span


def test_stream_exhaustion(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    chunks = list(g.client(_stream_server()).models.generate_content_stream(model=g.GEMINI_MODEL, contents="hi"))
    assert "".join(c.text for c in chunks) == "".join(MANY)
    a = _ended(telemetry, "completed").attributes
    assert a["gen_ai.request.stream"] is True
    assert a["otel_agent.response.chunk_count"] == len(MANY)
    assert a["gen_ai.usage.output_tokens"] == len(MANY) + 900
    assert a["gen_ai.usage.reasoning.output_tokens"] == 900
    assert a["gen_ai.response.finish_reasons"] == ("stop",)


def test_stream_break_then_close(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    stream = g.client(_stream_server()).models.generate_content_stream(model=g.GEMINI_MODEL, contents="hi")
    for index, _ in enumerate(stream):
        if index == 2:
            break
    stream.close()
    # The SDK's public generator iterates the seam's generator with a plain `for`: closing it drops the inner stream,
    # which ends the call from its finaliser at once (CPython frees it on the spot) rather than from a close().
    span = _ended(telemetry, "closed_early", "garbage_collected")
    assert span.attributes["otel_agent.response.chunk_count"] == 3
    assert span.status.status_code is StatusCode.UNSET


def test_stream_user_exception(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    with pytest.raises(LookupError):
        for _ in g.client(_stream_server()).models.generate_content_stream(model=g.GEMINI_MODEL, contents="hi"):
            raise LookupError("user bug")
    gc.collect()
    _ended(telemetry, "closed_early", "garbage_collected")


def test_stream_garbage_collected(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    stream = g.client(_stream_server()).models.generate_content_stream(model=g.GEMINI_MODEL, contents="hi")
    next(stream)
    del stream
    gc.collect()
    _ended(telemetry, "garbage_collected", "closed_early")


def test_stream_error_mid_stream(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    stream = g.sse(g.stream_events(MANY[:2])) + g.sse([g.error_body(500)])
    with pytest.raises(errors.APIError):
        for _ in g.client(g.Server(stream=stream)).models.generate_content_stream(model=g.GEMINI_MODEL, contents="hi"):
            pass
    span = _ended(telemetry, "error")
    assert span.status.status_code is StatusCode.ERROR


async def test_async_stream_exhaustion(instrument_with: Any) -> None:
    telemetry = _start(instrument_with)
    stream = await g.client(_stream_server()).aio.models.generate_content_stream(model=g.GEMINI_MODEL, contents="hi")
    texts = [chunk.text async for chunk in stream]
    assert "".join(texts) == "".join(MANY)
    assert _ended(telemetry, "completed").attributes["gen_ai.usage.reasoning.output_tokens"] == 900


async def test_async_stream_cancelled(instrument_with: Any) -> None:
    """The task is cancelled while it awaits the next chunk (the server has stalled)."""
    telemetry = _start(instrument_with)
    started = asyncio.Event()

    async def stalled() -> Any:
        yield g.sse(g.stream_events(MANY[:2]))
        started.set()
        await asyncio.Event().wait()
        yield b""  # pragma: no cover

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=stalled(), headers={"content-type": "text/event-stream"})

    async def consume() -> None:
        stream = await g.client(handler).aio.models.generate_content_stream(model=g.GEMINI_MODEL, contents="hi")
        async for _ in stream:
            pass

    task = asyncio.create_task(consume())
    await started.wait()
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = _ended(telemetry, "cancelled")
    assert span.attributes["otel_agent.response.chunk_count"] >= 1


# -- optional: importing otel-agent and instrumenting does not import the SDK ---------------------------------------
def test_instrument_does_not_import_google_genai_until_the_application_does() -> None:
    code = (
        "import sys, otel_agent\n"
        "otel_agent.instrument(exporter='none', trajectories=False, cost=False, gpu='off')\n"
        "assert 'google.genai' not in sys.modules, 'imported at instrument()'\n"
        "from google.genai import _api_client\n"
        "assert getattr(_api_client.BaseApiClient.request, '__wrapped__', None) is not None, 'not hooked on import'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
