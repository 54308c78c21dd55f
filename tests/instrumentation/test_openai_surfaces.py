"""Every openai 3.x surface, sync and async, gives exactly one well-formed inference span and the SDK's own types.

Responses are served in-process by `httpx2.MockTransport`, which stands in for provider-only fields that the local
model server never produces (`reasoning_tokens`, `cached_tokens`, Responses `output_tokens_details`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai
import pytest
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ParsedChatCompletion
from openai.types.responses import ParsedResponse, Response
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from . import payloads as p
from .payloads import Drive

MODEL = p.OPENAI_MODEL
MSGS = p.USER_MESSAGES


class City(BaseModel):
    city: str
    country: str


CITY_JSON = '{"city":"Paris","country":"France"}'

# Usage as each payload carries it: (input, output, cache_read, reasoning)
CHAT_USAGE = (1117, 146, 1024, 64)
CHAT_STREAM_USAGE = (19, 10, 0, 0)
RESPONSES_USAGE = (328, 52, 256, 32)


@dataclass
class Expect:
    usage: tuple[int, int, int, int] | None
    response_id: str | None = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    finish_reasons: tuple[str, ...] | None = ("stop",)
    stream: bool = False
    operation: str = "chat"
    model: str = MODEL
    extra: dict[str, Any] = field(default_factory=dict)


Scenario = Callable[[Any, Drive], Awaitable[None]]


# -- chat completions ---------------------------------------------------------------------------------------------
async def chat_create(client: Any, d: Drive) -> None:
    result = await d(
        client.chat.completions.create(
            model=MODEL,
            messages=MSGS,
            temperature=0.2,
            top_p=0.9,
            max_completion_tokens=256,
            seed=7,
            reasoning_effort="low",
            stop=["\n\n"],
            frequency_penalty=0.1,
            presence_penalty=0.2,
        )
    )
    assert type(result) is ChatCompletion
    assert result.choices[0].message.content == "The capital of France is Paris."
    assert result.usage is not None and result.usage.completion_tokens_details.reasoning_tokens == 64


async def chat_parse(client: Any, d: Drive) -> None:
    result = await d(client.chat.completions.parse(model=MODEL, messages=MSGS, response_format=City))
    assert isinstance(result, ParsedChatCompletion)
    assert result.choices[0].message.parsed == City(city="Paris", country="France")


async def chat_stream_true(client: Any, d: Drive) -> None:
    stream = await d(
        client.chat.completions.create(model=MODEL, messages=MSGS, stream=True, stream_options={"include_usage": True})
    )
    assert isinstance(stream, openai.AsyncStream if d.is_async else openai.Stream)
    assert isinstance(stream.response, httpx2.Response)
    chunks = await d.drain(stream)
    assert all(type(chunk) is ChatCompletionChunk for chunk in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "The capital is Paris."


async def chat_stream_manager(client: Any, d: Drive) -> None:
    async with d.enter(
        client.chat.completions.stream(model=MODEL, messages=MSGS, stream_options={"include_usage": True})
    ) as stream:
        events = await d.drain(stream)
        final = await d(stream.get_final_completion())
    assert any(event.type == "content.done" for event in events)
    assert isinstance(final, ParsedChatCompletion)
    assert final.choices[0].message.content == "The capital is Paris."


async def chat_raw(client: Any, d: Drive) -> None:
    raw = await d(client.chat.completions.with_raw_response.create(model=MODEL, messages=MSGS))
    assert raw.headers["content-type"] == "application/json"
    assert raw.http_response.status_code == 200
    parsed = raw.parse()
    assert type(parsed) is ChatCompletion and parsed.id == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"


async def chat_streaming_response(client: Any, d: Drive) -> None:
    async with d.enter(client.chat.completions.with_streaming_response.create(model=MODEL, messages=MSGS)) as raw:
        assert raw.status_code == 200
        parsed = await d(raw.parse())
    assert type(parsed) is ChatCompletion and parsed.usage.prompt_tokens == 1117


async def chat_streaming_response_stream(client: Any, d: Drive) -> None:
    async with d.enter(
        client.chat.completions.with_streaming_response.create(
            model=MODEL, messages=MSGS, stream=True, stream_options={"include_usage": True}
        )
    ) as raw:
        stream = await d(raw.parse())
        assert isinstance(stream, openai.AsyncStream if d.is_async else openai.Stream)
        chunks = await d.drain(stream)
    assert chunks and all(type(chunk) is ChatCompletionChunk for chunk in chunks)


async def chat_raw_stream(client: Any, d: Drive) -> None:
    raw = await d(
        client.chat.completions.with_raw_response.create(
            model=MODEL, messages=MSGS, stream=True, stream_options={"include_usage": True}
        )
    )
    stream = raw.parse()
    chunks = await d.drain(stream)
    assert chunks[-1].usage.prompt_tokens == 19


# -- responses ----------------------------------------------------------------------------------------------------
async def responses_create(client: Any, d: Drive) -> None:
    result = await d(
        client.responses.create(
            model=MODEL,
            input="What is the capital of France?",
            reasoning={"effort": "high"},
            max_output_tokens=512,
            temperature=0.5,
        )
    )
    assert type(result) is Response
    assert result.output_text == "Paris is the capital of France."


async def responses_parse(client: Any, d: Drive) -> None:
    result = await d(client.responses.parse(model=MODEL, input="Capital of France as JSON", text_format=City))
    assert isinstance(result, ParsedResponse)
    assert result.output_parsed == City(city="Paris", country="France")


async def responses_stream_true(client: Any, d: Drive) -> None:
    stream = await d(client.responses.create(model=MODEL, input="capital?", stream=True))
    events = await d.drain(stream)
    assert events[0].type == "response.created" and events[-1].type == "response.completed"


async def responses_stream_manager(client: Any, d: Drive) -> None:
    async with d.enter(client.responses.stream(model=MODEL, input="capital?")) as stream:
        events = await d.drain(stream)
        final = await d(stream.get_final_response())
    assert any(event.type == "response.output_text.delta" for event in events)
    assert isinstance(final, Response) and final.output_text == "Paris is the capital."


async def responses_raw(client: Any, d: Drive) -> None:
    raw = await d(client.responses.with_raw_response.create(model=MODEL, input="capital?"))
    assert type(raw.parse()) is Response


# -- embeddings ---------------------------------------------------------------------------------------------------
async def embeddings_create(client: Any, d: Drive) -> None:
    result = await d(client.embeddings.create(model="text-embedding-3-small", input="hello", encoding_format="float"))
    assert type(result) is CreateEmbeddingResponse
    assert result.data[0].embedding == pytest.approx(p.EMBEDDING)


async def embeddings_default_base64(client: Any, d: Drive) -> None:
    result = await d(client.embeddings.create(model="text-embedding-3-small", input="hello"))
    assert result.data[0].embedding == pytest.approx(p.EMBEDDING)


RESP_ID = "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b"
CASES: dict[str, tuple[Scenario, Expect]] = {
    "chat.create": (
        chat_create,
        Expect(
            CHAT_USAGE,
            extra={
                "gen_ai.request.temperature": 0.2,
                "gen_ai.request.top_p": 0.9,
                "gen_ai.request.max_tokens": 256,
                "gen_ai.request.seed": 7,
                "otel_agent.request.reasoning_effort": "low",
                "gen_ai.request.stop_sequences": ("\n\n",),
                "gen_ai.request.frequency_penalty": 0.1,
                "gen_ai.request.presence_penalty": 0.2,
            },
        ),
    ),
    "chat.parse": (chat_parse, Expect(CHAT_USAGE, extra={"gen_ai.output.type": "json"})),
    "chat.create(stream=True)": (
        chat_stream_true,
        Expect(
            CHAT_STREAM_USAGE,
            response_id="chatcmpl-stream-123",
            stream=True,
            extra={"otel_agent.stream.end": "completed", "otel_agent.response.chunk_count": 8},
        ),
    ),
    "chat.completions.stream": (
        chat_stream_manager,
        Expect(
            CHAT_STREAM_USAGE,
            response_id="chatcmpl-stream-123",
            stream=True,
            extra={"otel_agent.stream.end": "completed"},
        ),
    ),
    "chat.with_raw_response": (chat_raw, Expect(CHAT_USAGE)),
    "chat.with_streaming_response": (chat_streaming_response, Expect(CHAT_USAGE)),
    "chat.with_streaming_response(stream=True)": (
        chat_streaming_response_stream,
        Expect(CHAT_STREAM_USAGE, response_id="chatcmpl-stream-123", stream=True),
    ),
    "chat.with_raw_response(stream=True)": (
        chat_raw_stream,
        Expect(
            CHAT_STREAM_USAGE,
            response_id="chatcmpl-stream-123",
            stream=True,
            extra={"otel_agent.stream.end": "completed"},
        ),
    ),
    "responses.create": (
        responses_create,
        Expect(
            RESPONSES_USAGE,
            response_id=RESP_ID,
            extra={
                "otel_agent.request.reasoning_effort": "high",
                "gen_ai.request.max_tokens": 512,
                "gen_ai.request.temperature": 0.5,
                "gen_ai.usage.cache_creation.input_tokens": 40,
            },
        ),
    ),
    "responses.parse": (
        responses_parse,
        Expect(RESPONSES_USAGE, response_id=RESP_ID, extra={"gen_ai.output.type": "json"}),
    ),
    "responses.create(stream=True)": (
        responses_stream_true,
        Expect(RESPONSES_USAGE, response_id=RESP_ID, stream=True, extra={"otel_agent.stream.end": "completed"}),
    ),
    "responses.stream": (
        responses_stream_manager,
        Expect(RESPONSES_USAGE, response_id=RESP_ID, stream=True, extra={"otel_agent.stream.end": "completed"}),
    ),
    "responses.with_raw_response": (responses_raw, Expect(RESPONSES_USAGE, response_id=RESP_ID)),
    "embeddings.create": (
        embeddings_create,
        Expect(
            None,
            response_id=None,
            finish_reasons=None,
            operation="embeddings",
            model="text-embedding-3-small",
            extra={"gen_ai.usage.input_tokens": 8, "gen_ai.request.encoding_formats": ("float",)},
        ),
    ),
    "embeddings.create(default base64)": (
        embeddings_default_base64,
        Expect(
            None,
            response_id=None,
            finish_reasons=None,
            operation="embeddings",
            model="text-embedding-3-small",
            extra={"gen_ai.usage.input_tokens": 8},
        ),
    ),
}


def _route_for_structured(server: p.Server) -> None:
    """`parse` asks for a JSON schema: answer it with JSON content (as the API does)."""
    plain_chat = server.routes[("POST", "/v1/chat/completions")]
    plain_responses = server.routes[("POST", "/v1/responses")]

    def chat(request: httpx2.Request) -> httpx2.Response:
        if get_format(server.body_of(request).get("response_format")) == "json_schema":
            return p.json_response(p.chat_completion(CITY_JSON))
        return plain_chat(request)

    def responses(request: httpx2.Request) -> httpx2.Response:
        text = server.body_of(request).get("text") or {}
        if get_format(text.get("format")) == "json_schema":
            return p.json_response(p.response_object(CITY_JSON))
        return plain_responses(request)

    server.on("/v1/chat/completions", chat)
    server.on("/v1/responses", responses)


def get_format(value: Any) -> Any:
    return value.get("type") if isinstance(value, dict) else None


def make_server() -> p.Server:
    server = p.openai_server()
    _route_for_structured(server)
    return server


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("case", list(CASES))
async def test_one_span_per_call(telemetry: Any, case: str, is_async: bool) -> None:
    scenario, expect = CASES[case]
    server = make_server()
    client = p.openai_client(server, is_async=is_async)
    await scenario(client, Drive(is_async))
    await _close(client, is_async)

    assert len(server.requests) == 1
    span = telemetry.one_span()
    telemetry.assert_each_ended_once()
    attrs = dict(span.attributes or {})
    assert span.name == f"{expect.operation} {expect.model}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert attrs["gen_ai.operation.name"] == expect.operation
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == expect.model
    assert attrs["server.address"] == "api.openai.com"
    assert attrs["server.port"] == 443
    assert "error.type" not in attrs
    assert "otel_agent.usage.missing" not in attrs
    if expect.operation == "chat":
        assert attrs["gen_ai.response.model"] == p.OPENAI_RESPONSE_MODEL
    if expect.response_id is not None:
        assert attrs["gen_ai.response.id"] == expect.response_id
    if expect.finish_reasons is not None:
        assert tuple(attrs["gen_ai.response.finish_reasons"]) == expect.finish_reasons
    if expect.usage is not None:
        inp, out, cache_read, reasoning = expect.usage
        assert attrs["gen_ai.usage.input_tokens"] == inp
        assert attrs["gen_ai.usage.output_tokens"] == out
        assert attrs["gen_ai.usage.cache_read.input_tokens"] == cache_read
        assert attrs["gen_ai.usage.reasoning.output_tokens"] == reasoning
    if expect.stream:
        assert attrs["gen_ai.request.stream"] is True
        assert attrs["otel_agent.response.chunk_count"] > 0
        assert not span.events, "no span event per chunk"
    else:
        assert "gen_ai.request.stream" not in attrs
        assert "otel_agent.stream.end" not in attrs
    for key, value in expect.extra.items():
        got = attrs.get(key)
        assert (tuple(got) if isinstance(got, (list, tuple)) else got) == value, key


async def _close(client: Any, is_async: bool) -> None:
    if is_async:
        await client.close()
    else:
        client.close()


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_span_is_current_while_sdk_sends(telemetry: Any, is_async: bool) -> None:
    """The HTTP request goes out under the inference span (HTTP-client spans and trace headers nest under it)."""
    from opentelemetry import trace

    seen: list[Any] = []
    server = make_server()
    plain = server.routes[("POST", "/v1/chat/completions")]

    def route(request: httpx2.Request) -> httpx2.Response:
        seen.append(trace.get_current_span().get_span_context())
        return plain(request)

    server.on("/v1/chat/completions", route)
    client = p.openai_client(server, is_async=is_async)
    await Drive(is_async)(client.chat.completions.create(model=MODEL, messages=MSGS))
    span = telemetry.one_span()
    assert seen and seen[0].span_id == span.context.span_id
    assert trace.get_current_span().get_span_context().is_valid is False, "context restored after the call"


def test_non_inference_requests_pass_through(telemetry: Any) -> None:
    server = make_server()
    server.on(
        "/v1/models",
        {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 1686935002, "owned_by": "openai"}]},
        method="GET",
    )
    client = p.openai_client(server)
    models = list(client.models.list())
    assert models[0].id == MODEL
    assert telemetry.inference_spans() == []


def test_proxy_keeps_stream_helpers(telemetry: Any) -> None:
    """The stream proxy is the SDK's stream to the caller: type, response, close(), context manager."""
    server = make_server()
    client = p.openai_client(server)
    stream = client.chat.completions.create(model=MODEL, messages=MSGS, stream=True)
    assert isinstance(stream, openai.Stream)
    assert stream.response.status_code == 200
    assert stream.response.headers["content-type"] == "text/event-stream"
    with stream as entered:
        first = next(iter(entered))
        assert type(first) is ChatCompletionChunk
    assert telemetry.one_span().attributes["otel_agent.stream.end"] == "closed_early"
