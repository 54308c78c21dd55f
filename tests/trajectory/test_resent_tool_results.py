"""A tool result an agent sends again (e.g. after resetting its context) is not a new tool error.

OpenAI payloads over httpx2.MockTransport (the real SDK client; the local server cannot be scripted this precisely).
"""

from __future__ import annotations

import httpx2
import openai
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_agent


def _reply(n: int, call: bool) -> dict:
    message = (
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "search", "arguments": "{}"}}],
        }
        if call
        else {"role": "assistant", "content": f"answer {n}"}
    )
    return {
        "id": f"c{n}",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if call else "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
    }


def test_a_re_sent_error_result_counts_once() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    calls = iter(range(10))
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, json=_reply(n := next(calls), n == 0)))
    otel_agent.instrument(tracer_provider=provider, cost=False, gpu="off")
    try:
        client = openai.OpenAI(
            api_key="sk-x", base_url="https://api.openai.com/v1", http_client=httpx2.Client(transport=transport)
        )
        tools = [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}]
        with otel_agent.agent_run("a"):
            first = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}], tools=tools)
            grounded = [
                {"role": "user", "content": "q"},
                first.choices[0].message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": "call_1", "content": "Error: backend down"},
            ]
            client.chat.completions.create(model="m", messages=grounded, tools=tools)
            retry = grounded + [{"role": "assistant", "content": "answer 1"}, {"role": "user", "content": "again"}]
            client.chat.completions.create(model="m", messages=retry, tools=tools)
            client.chat.completions.create(model="m", messages=grounded, tools=tools)  # context reset
    finally:
        otel_agent.uninstrument()
    turns = sorted(
        (s for s in exporter.get_finished_spans() if s.name == "chat m"),
        key=lambda s: s.attributes["otel_agent.turn.index"],
    )
    reasons = [s.attributes.get("otel_agent.turn.waste_reasons", ()) for s in turns]
    assert reasons[1] == ("tool_error",)
    assert "tool_error" not in reasons[2]
    assert "tool_error" not in reasons[3]
