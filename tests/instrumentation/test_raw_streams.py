"""Raw-response surfaces whose body is read later (issue 10 item 8): the stream decides when the call ends, not the
raw wrapper; a body read with `.json()`, `.read()`, `.text()` or `.iter_lines()` records its usage.

Real openai / anthropic SDKs over `httpx2.MockTransport` (payloads in `payloads`).
"""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

from .payloads import (
    USER_MESSAGES,
    Drive,
    anthropic_client,
    anthropic_message,
    anthropic_server,
    chat_completion,
    lazy_json_response,
    openai_client,
    openai_server,
)

MSGS = USER_MESSAGES
MODEL = "gpt-5.4-mini"


def _lazy_openai_server() -> Any:
    """Non-streamed bodies arrive unread, so `with_streaming_response` really reads them later."""
    server = openai_server()
    stream_route = server.routes[("POST", "/v1/chat/completions")]
    server.on(
        "/v1/chat/completions",
        lambda r: stream_route(r) if server.wants_stream(r) else lazy_json_response(chat_completion()),
    )
    return server


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def d(request: Any) -> Drive:
    return Drive(request.param)


async def test_litellm_style_raw_stream_parse_then_drop_raw(instrument_with: Any, d: Drive) -> None:
    """LiteLLM: `with_raw_response.create(stream=True)`, `.parse()`, keep only the stream."""
    telemetry = instrument_with(trajectories=True)
    client = openai_client(openai_server(), is_async=d.is_async)
    raw = await d(
        client.chat.completions.with_raw_response.create(
            model=MODEL, messages=MSGS, stream=True, stream_options={"include_usage": True}
        )
    )
    stream = raw.parse()  # LegacyAPIResponse.parse() is sync for both clients
    del raw
    gc.collect()
    assert telemetry.inference_spans() == []  # dropping the raw object ended nothing
    chunks = await d.drain(stream)
    span = telemetry.one_span()
    attributes = span.attributes
    assert attributes["otel_agent.response.chunk_count"] == len(chunks) > 0
    assert attributes["otel_agent.stream.end"] == "completed"
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (19, 10)
    assert attributes["otel_agent.turn.wasted"] is False
    assert "otel_agent.turn.waste_reason" not in attributes


async def test_raw_stream_closed_explicitly_still_ends_early(telemetry: Any, d: Drive) -> None:
    client = openai_client(openai_server(), is_async=d.is_async)
    raw = await d(client.chat.completions.with_raw_response.create(model=MODEL, messages=MSGS, stream=True))
    stream = raw.parse()
    await d(stream.close())
    del raw, stream
    gc.collect()
    assert telemetry.one_span().attributes["otel_agent.stream.end"] == "closed_early"
    telemetry.assert_each_ended_once()


@pytest.mark.parametrize("read", ["json", "read", "text", "iter_lines", "iter_bytes"])
async def test_streaming_response_body_read_records_usage(telemetry: Any, d: Drive, read: str) -> None:
    client = openai_client(_lazy_openai_server(), is_async=d.is_async)
    async with d.enter(client.chat.completions.with_streaming_response.create(model=MODEL, messages=MSGS)) as raw:
        if read in ("iter_lines", "iter_bytes"):
            pieces = await d.drain(getattr(raw, read)())
            body = json.loads(b"".join(pieces) if read == "iter_bytes" else "".join(pieces))
        else:
            value = await d(getattr(raw, read)())
            body = value if read == "json" else json.loads(value)
    assert body["usage"]["prompt_tokens"] == 1117  # the application got the body unchanged
    attributes = telemetry.one_span().attributes
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (1117, 146)
    assert attributes["gen_ai.response.id"] == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    assert "otel_agent.usage.missing" not in attributes


async def test_streaming_response_stream_read_as_lines_records_events(telemetry: Any, d: Drive) -> None:
    client = openai_client(openai_server(), is_async=d.is_async)
    async with d.enter(
        client.chat.completions.with_streaming_response.create(
            model=MODEL, messages=MSGS, stream=True, stream_options={"include_usage": True}
        )
    ) as raw:
        lines = await d.drain(raw.iter_lines())
    assert any(line.startswith("data: ") for line in lines)
    attributes = telemetry.one_span().attributes
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (19, 10)
    assert attributes["otel_agent.response.chunk_count"] == 8
    assert attributes["otel_agent.stream.end"] == "completed"


async def test_anthropic_streaming_response_json_records_usage(telemetry: Any, d: Drive) -> None:
    server = anthropic_server()
    server.on("/v1/messages", lambda r: lazy_json_response(anthropic_message()))
    client = anthropic_client(server, is_async=d.is_async)
    async with d.enter(
        client.messages.with_streaming_response.create(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS)
    ) as raw:
        body = await d(raw.json())
    assert body["type"] == "message"
    attributes = telemetry.one_span().attributes
    assert attributes["gen_ai.usage.input_tokens"] == 2095 + 1500 + 3000


async def test_streaming_response_left_unread_ends_once(telemetry: Any, d: Drive) -> None:
    client = openai_client(_lazy_openai_server(), is_async=d.is_async)
    async with d.enter(client.chat.completions.with_streaming_response.create(model=MODEL, messages=MSGS)):
        pass
    gc.collect()
    assert len(telemetry.inference_spans()) == 1
    telemetry.assert_each_ended_once()
