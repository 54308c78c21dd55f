"""Every anthropic 2.x Messages surface, sync and async: one span per call with thinking and cache usage.

Responses are served in-process by `httpx2.MockTransport`, which stands in for provider-only fields that the local
model server never produces (`thinking` blocks, `cache_creation_input_tokens`, `cache_read_input_tokens`,
`output_tokens_details.thinking_tokens`).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic.types import Message, RawMessageStartEvent
from anthropic.types.beta import BetaMessage
from opentelemetry.trace import SpanKind, StatusCode

from otel_agent.providers.anthropic.adapter import AnthropicAdapter

from . import payloads as p
from .payloads import Drive

MODEL = p.ANTHROPIC_MODEL
MSGS = p.USER_MESSAGES
THINKING = {"type": "enabled", "budget_tokens": 1024}
# input = uncached + cache read + cache creation (GenAI conventions)
INPUT_TOTAL = 2095 + 3000 + 1500
Scenario = Callable[[Any, Drive], Awaitable[None]]


def _text(message: Any) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


async def create(client: Any, d: Drive) -> None:
    message = await d(
        client.messages.create(
            model=MODEL, max_tokens=2048, messages=MSGS, thinking=THINKING, stop_sequences=["END"], system="Be terse."
        )
    )
    assert type(message) is Message
    assert message.content[0].type == "thinking" and message.content[0].signature
    assert message.usage.output_tokens_details.thinking_tokens == 312


async def create_stream(client: Any, d: Drive) -> None:
    stream = await d(
        client.messages.create(model=MODEL, max_tokens=2048, messages=MSGS, thinking=THINKING, stream=True)
    )
    assert isinstance(stream, anthropic.AsyncStream if d.is_async else anthropic.Stream)
    events = await d.drain(stream)
    assert type(events[0]) is RawMessageStartEvent
    assert [e.type for e in events][-2:] == ["message_delta", "message_stop"]


async def stream_text(client: Any, d: Drive) -> None:
    async with d.enter(
        client.messages.stream(model=MODEL, max_tokens=2048, messages=MSGS, thinking=THINKING)
    ) as stream:
        texts = await d.drain(stream.text_stream)
        assert stream.response.status_code == 200
    assert "".join(texts) == "The capital of France is Paris."


async def stream_final_message(client: Any, d: Drive) -> None:
    async with d.enter(
        client.messages.stream(model=MODEL, max_tokens=2048, messages=MSGS, thinking=THINKING)
    ) as stream:
        final = await d(stream.get_final_message())
    assert isinstance(final, Message)
    assert final.content[0].type == "thinking"
    assert _text(final) == "The capital of France is Paris."
    assert final.usage.cache_read_input_tokens == 3000


async def stream_until_done(client: Any, d: Drive) -> None:
    async with d.enter(
        client.messages.stream(model=MODEL, max_tokens=2048, messages=MSGS, thinking=THINKING)
    ) as stream:
        await d(stream.until_done())
        assert _text(stream.current_message_snapshot) == "The capital of France is Paris."


async def stream_events(client: Any, d: Drive) -> None:
    async with d.enter(
        client.messages.stream(model=MODEL, max_tokens=2048, messages=MSGS, thinking=THINKING)
    ) as stream:
        kinds = [event.type for event in await d.drain(stream)]
    assert "thinking" in kinds and "text" in kinds and kinds[-1] == "message_stop"


async def beta_create(client: Any, d: Drive) -> None:
    message = await d(
        client.beta.messages.create(
            model=MODEL, max_tokens=2048, messages=MSGS, thinking=THINKING, betas=["interleaved-thinking-2025-05-14"]
        )
    )
    assert type(message) is BetaMessage


async def beta_stream(client: Any, d: Drive) -> None:
    async with d.enter(
        client.beta.messages.stream(
            model=MODEL, max_tokens=2048, messages=MSGS, thinking=THINKING, betas=["interleaved-thinking-2025-05-14"]
        )
    ) as stream:
        texts = await d.drain(stream.text_stream)
        final = await d(stream.get_final_message())
    assert "".join(texts) == _text(final) == "The capital of France is Paris."
    assert isinstance(final, BetaMessage)


async def raw_response(client: Any, d: Drive) -> None:
    raw = await d(
        client.messages.with_raw_response.create(model=MODEL, max_tokens=2048, messages=MSGS, thinking=THINKING)
    )
    assert raw.http_response.status_code == 200
    message = raw.parse()  # the legacy raw response parses synchronously, also on the async client
    if inspect.isawaitable(message):
        message = await message
    assert type(message) is Message


async def streaming_response(client: Any, d: Drive) -> None:
    async with d.enter(
        client.messages.with_streaming_response.create(model=MODEL, max_tokens=2048, messages=MSGS, thinking=THINKING)
    ) as raw:
        message = await d(raw.parse())
    assert type(message) is Message


async def streaming_response_stream(client: Any, d: Drive) -> None:
    async with d.enter(
        client.messages.with_streaming_response.create(
            model=MODEL, max_tokens=2048, messages=MSGS, thinking=THINKING, stream=True
        )
    ) as raw:
        events = await d.drain(await d(raw.parse()))
    assert events[-1].type == "message_stop"


CASES: dict[str, tuple[Scenario, bool, str]] = {  # scenario, streamed, route api
    "messages.create": (create, False, "messages"),
    "messages.create(stream=True)": (create_stream, True, "messages"),
    "messages.stream text_stream": (stream_text, True, "messages"),
    "messages.stream get_final_message": (stream_final_message, True, "messages"),
    "messages.stream until_done": (stream_until_done, True, "messages"),
    "messages.stream events": (stream_events, True, "messages"),
    "beta.messages.create": (beta_create, False, "beta.messages"),
    "beta.messages.stream": (beta_stream, True, "beta.messages"),
    "messages.with_raw_response": (raw_response, False, "messages"),
    "messages.with_streaming_response": (streaming_response, False, "messages"),
    "messages.with_streaming_response(stream=True)": (streaming_response_stream, True, "messages"),
}


@pytest.fixture
def routes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The API each recorded call was routed to (`messages` or `beta.messages`)."""
    seen: list[str] = []
    original = AnthropicAdapter.route

    def route(self: AnthropicAdapter, options: Any) -> Any:
        result = original(self, options)
        if result is not None:
            seen.append(result.api)
        return result

    monkeypatch.setattr(AnthropicAdapter, "route", route)
    return seen


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("case", list(CASES))
async def test_one_span_per_call(telemetry: Any, routes: list[str], case: str, is_async: bool) -> None:
    scenario, streamed, api = CASES[case]
    server = p.anthropic_server()
    client = p.anthropic_client(
        server, is_async=is_async, open_telemetry={"tracer_provider": telemetry.tracer_provider}
    )
    await scenario(client, Drive(is_async))

    assert len(server.requests) == 1
    assert routes == [api]
    span = telemetry.one_span()
    assert len(telemetry.spans()) == 1, "the SDK's own span is suppressed by default"
    telemetry.assert_each_ended_once()
    attrs = dict(span.attributes or {})
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "anthropic"
    assert attrs["gen_ai.request.model"] == MODEL
    assert attrs["gen_ai.request.max_tokens"] == 2048
    assert attrs["otel_agent.request.thinking_budget_tokens"] == 1024
    assert attrs["server.address"] == "api.anthropic.com"
    assert attrs["server.port"] == 443
    assert attrs["gen_ai.response.model"] == p.ANTHROPIC_RESPONSE_MODEL
    assert tuple(attrs["gen_ai.response.finish_reasons"]) == ("end_turn",)
    assert attrs["gen_ai.usage.input_tokens"] == INPUT_TOTAL
    assert attrs["gen_ai.usage.output_tokens"] == 503
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 3000
    assert attrs["gen_ai.usage.cache_creation.input_tokens"] == 1500
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 312
    assert "otel_agent.usage.missing" not in attrs
    if streamed:
        assert attrs["gen_ai.response.id"] == "msg_01StreamAbCdEfGhIjKlMnOp"
        assert attrs["gen_ai.request.stream"] is True
        assert attrs["otel_agent.stream.end"] == "completed"
        assert attrs["otel_agent.response.chunk_count"] >= 5
        assert not span.events, "no span event per chunk"
    else:
        assert attrs["gen_ai.response.id"] == "msg_013Zva2CMHLNnXjNJJKqJ2EF"
        assert "otel_agent.stream.end" not in attrs


def test_create_request_params(telemetry: Any) -> None:
    """anthropic 2.x has no temperature/top_p/top_k arguments; effort lives in `output_config`."""
    client = p.anthropic_client(p.anthropic_server())
    client.messages.create(
        model=MODEL, max_tokens=2048, messages=MSGS, stop_sequences=["END"], output_config={"effort": "high"}
    )
    attrs = telemetry.one_span().attributes
    assert tuple(attrs["gen_ai.request.stop_sequences"]) == ("END",)
    assert attrs["otel_agent.request.reasoning_effort"] == "high"
    assert "otel_agent.request.thinking_budget_tokens" not in attrs
    assert "gen_ai.request.temperature" not in attrs


def test_stream_until_exhausted_marks_completed(telemetry: Any) -> None:
    client = p.anthropic_client(p.anthropic_server())
    with client.messages.stream(model=MODEL, max_tokens=64, messages=MSGS) as stream:
        for _ in stream:
            pass
    assert telemetry.one_span().attributes["otel_agent.stream.end"] == "completed"


def test_stream_without_usage_details(telemetry: Any) -> None:
    """No `output_tokens_details` (older models): no reasoning attribute, the rest intact."""
    events = p.anthropic_events(thinking=False)
    for _, data in events:
        if data["type"] == "message_delta":
            del data["usage"]["output_tokens_details"]
    client = p.anthropic_client(p.anthropic_server(stream=p.named_sse(events)))
    with client.messages.stream(model=MODEL, max_tokens=64, messages=MSGS) as stream:
        assert stream.get_final_text() == "The capital of France is Paris."
    attrs = telemetry.one_span().attributes
    assert attrs["gen_ai.usage.output_tokens"] == 503
    assert "gen_ai.usage.reasoning.output_tokens" not in attrs


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
async def test_native_span_present_when_not_suppressed(instrument_with: Any, is_async: bool, stream: bool) -> None:
    telemetry = instrument_with(suppress_anthropic_native_spans=False)
    client = p.anthropic_client(
        p.anthropic_server(), is_async=is_async, open_telemetry={"tracer_provider": telemetry.tracer_provider}
    )
    d = Drive(is_async)
    if stream:
        async with d.enter(client.messages.stream(model=MODEL, max_tokens=64, messages=MSGS)) as s:
            await d(s.get_final_message())
    else:
        await d(client.messages.create(model=MODEL, max_tokens=64, messages=MSGS))
    ours = telemetry.one_span()
    native = [s for s in telemetry.spans() if s is not ours]
    assert [s.name for s in native] == ["anthropic.messages.create"]
    assert native[0].instrumentation_scope.name != "otel_agent"
    assert native[0].parent is not None and native[0].parent.span_id == ours.context.span_id, "theirs nests in ours"
    telemetry.assert_each_ended_once()


def test_uninstrumented_sdk_makes_its_own_span(telemetry: Any) -> None:
    """Control: the SDK really does start its span when nothing suppresses it."""
    import otel_agent

    otel_agent.uninstrument()
    client = p.anthropic_client(p.anthropic_server(), open_telemetry={"tracer_provider": telemetry.tracer_provider})
    client.messages.create(model=MODEL, max_tokens=64, messages=MSGS)
    assert [s.name for s in telemetry.spans()] == ["anthropic.messages.create"]


def test_count_tokens_is_not_an_inference_call(telemetry: Any) -> None:
    server = p.anthropic_server()
    server.on("/v1/messages/count_tokens", {"input_tokens": 14})
    client = p.anthropic_client(server)
    assert client.messages.count_tokens(model=MODEL, messages=MSGS).input_tokens == 14
    assert telemetry.inference_spans() == []


def test_trace_headers_follow_our_span(telemetry: Any) -> None:
    """With the SDK's span suppressed the request still goes out inside our span."""
    from opentelemetry import trace

    seen: list[Any] = []
    server = p.anthropic_server()
    plain = server.routes[("POST", "/v1/messages")]

    def route(request: httpx2.Request) -> httpx2.Response:
        seen.append(trace.get_current_span().get_span_context().span_id)
        return plain(request)

    server.on("/v1/messages", route)
    client = p.anthropic_client(server)
    client.messages.create(model=MODEL, max_tokens=64, messages=MSGS)
    assert seen == [telemetry.one_span().context.span_id]
