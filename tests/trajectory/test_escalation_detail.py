"""The reason text given to `run.escalate()` reaches the escalated turn's span and event (never a metric label).

OpenAI payloads over httpx2.MockTransport with the real SDK client.
"""

from __future__ import annotations

import httpx2
import openai
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_agent


def _reply(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "id": "c",
            "object": "chat.completion",
            "created": 1,
            "model": "x",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        },
    )


def test_explicit_escalation_keeps_the_agents_reason_text() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel_agent.instrument(tracer_provider=provider, cost=False, gpu="off", model_tiers={"small": 1, "big": 2})
    try:
        client = openai.OpenAI(
            api_key="sk-x",
            base_url="https://api.openai.com/v1",
            http_client=httpx2.Client(transport=httpx2.MockTransport(_reply)),
        )
        with otel_agent.agent_run("a") as run:
            client.chat.completions.create(model="small", messages=[{"role": "user", "content": "q"}])
            run.escalate("big", reason="verifier rejected the plan")
            client.chat.completions.create(model="big", messages=[{"role": "user", "content": "q"}])
    finally:
        otel_agent.uninstrument()
    big = next(s for s in exporter.get_finished_spans() if s.name == "chat big")
    assert big.attributes["otel_agent.escalation.reason"] == "explicit"
    assert big.attributes["otel_agent.escalation.detail"] == "verifier rejected the plan"
    (event,) = [e for e in big.events if e.name == "otel_agent.escalation"]
    assert event.attributes["otel_agent.escalation.detail"] == "verifier rejected the plan"
