"""Content by the GenAI conventions' message schema (role + typed parts) for both providers, the size cap keeping
valid JSON, and the `gen_ai.client.inference.operation.details` event through the logs API (EVENT_ONLY,
SPAN_AND_EVENT). The real SDKs over `httpx2.MockTransport` (a stand-in for the providers)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from otel_agent.records import ChatMessage, TextPart, ToolCallPart
from otel_agent.telemetry.content import render_messages

from . import payloads as p

IMAGE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="
EVENT = "gen_ai.client.inference.operation.details"


def _content(span: Any, key: str) -> Any:
    return json.loads(span.attributes[key])


def test_openai_chat_messages_are_typed_parts(instrument_with: Any) -> None:
    telemetry = instrument_with(capture_content="SPAN_ONLY")
    call = {"id": "call_1", "type": "function", "function": {"name": "search", "arguments": '{"q": "Paris"}'}}
    tool_reply = p.chat_completion(None, finish_reason="tool_calls", tool_calls=[call])
    client = p.openai_client(p.openai_server(chat=tool_reply))
    client.chat.completions.create(
        model=p.OPENAI_MODEL,
        messages=[
            {"role": "developer", "content": "Use tools."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": IMAGE}},
                ],
            },
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "Paris is a city."},
        ],
    )
    span = telemetry.one_span()
    assert _content(span, "gen_ai.input.messages") == [
        {"role": "developer", "parts": [{"type": "text", "content": "Use tools."}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "What is this?"},
                {"type": "blob", "modality": "image", "content": "iVBORw0KGgoAAAANSUhEUg==", "mime_type": "image/png"},
            ],
        },
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "name": "search", "id": "call_1", "arguments": {"q": "Paris"}}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "Paris is a city."}]},
    ]
    assert _content(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "name": "search", "id": "call_1", "arguments": {"q": "Paris"}}],
            "finish_reason": "tool_call",
        }
    ]


def test_openai_streams_and_responses_are_typed_parts(instrument_with: Any) -> None:
    telemetry = instrument_with(capture_content="SPAN_ONLY")
    client = p.openai_client(p.openai_server())
    for _ in client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True):
        pass
    client.responses.create(model=p.OPENAI_MODEL, input="What is the capital?", instructions="Be terse.")
    stream_span, responses_span = telemetry.inference_spans()
    (streamed,) = _content(stream_span, "gen_ai.output.messages")
    assert streamed["role"] == "assistant" and streamed["finish_reason"] == "stop"
    assert [part["type"] for part in streamed["parts"]] == ["text"]
    assert _content(responses_span, "gen_ai.system_instructions") == [{"type": "text", "content": "Be terse."}]
    assert _content(responses_span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "What is the capital?"}]}
    ]
    assert _content(responses_span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Paris is the capital of France."}],
            "finish_reason": "stop",
        }
    ]


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_thinking_is_a_reasoning_part_without_its_signature(instrument_with: Any, stream: bool) -> None:
    telemetry = instrument_with(capture_content="SPAN_ONLY")
    client = p.anthropic_client(p.anthropic_server())
    request: dict[str, Any] = {
        "model": p.ANTHROPIC_MODEL,
        "max_tokens": 64,
        "system": [{"type": "text", "text": "Answer briefly."}, {"type": "text", "text": "Cite nothing."}],
        "messages": [
            {"role": "user", "content": "Capital of France?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Look it up.", "signature": "SIGNATURE-abc123"},
                    {"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": "France"}},
                ],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "Paris"}]},
        ],
    }
    if stream:
        with client.messages.stream(**request) as events:
            events.until_done()
    else:
        client.messages.create(**request)
    span = telemetry.one_span()
    assert _content(span, "gen_ai.system_instructions") == [
        {"type": "text", "content": "Answer briefly."},
        {"type": "text", "content": "Cite nothing."},
    ]
    inputs = _content(span, "gen_ai.input.messages")
    assert inputs[1] == {
        "role": "assistant",
        "parts": [
            {"type": "reasoning", "content": "Look it up."},
            {"type": "tool_call", "name": "search", "id": "toolu_1", "arguments": {"q": "France"}},
        ],
    }
    assert inputs[2]["parts"] == [{"type": "tool_call_response", "id": "toolu_1", "response": "Paris"}]
    (output,) = _content(span, "gen_ai.output.messages")
    assert output["finish_reason"] == "stop"
    types = [part["type"] for part in output["parts"]]
    assert types == ["reasoning", "text"], output
    assert output["parts"][0]["content"]  # the thinking text itself
    for key in ("gen_ai.input.messages", "gen_ai.output.messages"):
        assert "signature" not in span.attributes[key].lower() and "SIGNATURE-abc123" not in span.attributes[key]


@pytest.mark.parametrize("cap", [80, 200, 700, 3000])
def test_the_size_cap_truncates_parts_and_keeps_valid_json(cap: int) -> None:
    messages = (
        ChatMessage("user", (TextPart("a" * 5000),)),
        ChatMessage("assistant", (TextPart("short"), ToolCallPart("search", "c1", {"q": "b" * 4000}))),
        ChatMessage("user", (TextPart("the latest question " * 50),)),
    )
    text = render_messages(messages, cap)
    assert len(text) <= cap
    value = json.loads(text)
    for message in value:
        assert set(message) >= {"role", "parts"}
        assert all("type" in part for part in message["parts"])
    if cap >= 700:
        assert len(value) == 3 and value[1]["parts"][0] == {"type": "text", "content": "short"}  # short parts stay
        assert value[0]["parts"][0]["content"].endswith("...[truncated]")
    if value:
        assert value[-1]["parts"][0]["content"].startswith("the")  # the newest message is the one kept


def _events(exporter: InMemoryLogRecordExporter) -> list[Any]:
    return [r for r in exporter.get_finished_logs() if r.log_record.event_name == EVENT]


@pytest.mark.parametrize("mode", ["EVENT_ONLY", "SPAN_AND_EVENT"])
def test_the_inference_details_event_goes_through_the_logs_api(instrument_with: Any, mode: str) -> None:
    exporter = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    telemetry = instrument_with(capture_content=mode, logger_provider=logger_provider)
    client = p.anthropic_client(p.anthropic_server())
    client.messages.create(
        model=p.ANTHROPIC_MODEL, max_tokens=64, system="Be terse.", messages=[{"role": "user", "content": "Capital?"}]
    )
    span = telemetry.one_span()
    on_span = "gen_ai.input.messages" in span.attributes
    assert on_span is (mode == "SPAN_AND_EVENT")
    (event,) = _events(exporter)
    record = event.log_record
    assert record.trace_id == span.context.trace_id and record.span_id == span.context.span_id
    attributes = dict(record.attributes)
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "anthropic"
    assert attributes["gen_ai.request.model"] == p.ANTHROPIC_MODEL
    assert attributes["gen_ai.usage.output_tokens"] == 503
    assert list(attributes["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be terse."}]
    (user,) = attributes["gen_ai.input.messages"]
    assert user["role"] == "user" and list(user["parts"]) == [{"type": "text", "content": "Capital?"}]
    (output,) = attributes["gen_ai.output.messages"]
    assert [part["type"] for part in output["parts"]] == ["reasoning", "text"]
    logger_provider.shutdown()


def test_no_event_without_event_mode(instrument_with: Any) -> None:
    exporter = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    instrument_with(capture_content="SPAN_ONLY", logger_provider=logger_provider)
    p.openai_client(p.openai_server()).chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    assert _events(exporter) == []
    logger_provider.shutdown()


@pytest.mark.parametrize("cap", [16, 60, 120, 400])
def test_tool_arguments_and_results_stay_valid_json_when_cut(cap: int) -> None:
    from otel_agent.telemetry.content import to_json

    value = {"query": "x" * 1000, "limit": 3, "filters": ["y" * 500, "z"]}
    text = to_json(value, cap)
    assert len(text) <= max(cap, 16)
    parsed = json.loads(text)
    if cap >= 120:
        assert parsed["limit"] == 3 and parsed["filters"][1] == "z"
        assert parsed["query"].endswith("...[truncated]")
    assert to_json({"a": 1}, cap) == '{"a":1}'  # small values untouched
