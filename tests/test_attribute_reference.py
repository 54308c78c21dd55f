"""docs/attributes.md against names.py and against what a full scenario really emits.

The scenario runs the real openai SDK over `httpx2.MockTransport` (payloads shaped like OpenAI's documented
responses, including reasoning and cached tokens the local model server never produces): an inferred run with tool
calls, a tool error, stagnation, an escalation, a stream, and an explicit run with a decorated tool and an outcome.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import httpx2
import openai
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_agent
from otel_agent.telemetry import names

DOC = (Path(__file__).resolve().parents[1] / "docs" / "attributes.md").read_text()
DOCUMENTED = set(re.findall(r"`([a-z_][a-z0-9_.{}]*)`", DOC))
PATTERNS = [
    re.compile("^" + re.escape(d).replace(r"\{reason\}", "[a-z_]+").replace(r"\{key\}", "[a-z_]+") + "$")
    for d in DOCUMENTED
    if "{" in d
]


def documented(name: str) -> bool:
    return name in DOCUMENTED or any(p.match(name) for p in PATTERNS)


def _name_constants() -> set[str]:
    values = set()
    for key, value in vars(names).items():
        if key.isupper() and isinstance(value, str) and "." in value and not key.startswith("LATEST"):
            values.add(value)
    values |= names.all_genai_names()
    values |= {spec.name for spec in names.ALL_METRICS}
    return values


def test_every_name_in_the_names_module_is_documented() -> None:
    missing = sorted(v for v in _name_constants() if not documented(v.rstrip(".")) and not v.endswith("."))
    assert missing == []


def test_every_documented_otel_agent_name_exists_in_code() -> None:
    constants = _name_constants()
    ours = {
        d
        for d in DOCUMENTED
        if d.startswith("otel_agent.") and "{" not in d and "_total" not in d and "_bucket" not in d
    }
    unknown = sorted(d for d in ours if d not in constants)
    assert unknown == []


def _handler():
    ids = itertools.count()

    def handle(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        n = next(ids)
        usage = {
            "prompt_tokens": 100 + 10 * n,
            "completion_tokens": 20,
            "total_tokens": 120 + 10 * n,
            "prompt_tokens_details": {"cached_tokens": 64},
            "completion_tokens_details": {"reasoning_tokens": 8},
        }
        if body.get("stream"):
            chunks = [
                {
                    "id": f"c{n}",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "done"}, "finish_reason": None}],
                },
                {
                    "id": f"c{n}",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                },
                {
                    "id": f"c{n}",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": body["model"],
                    "choices": [],
                    "usage": usage,
                },
            ]
            text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            return httpx2.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})
        if body["model"] == "gpt-4o-mini" and n < 3:
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": f"call_{n}", "type": "function", "function": {"name": "search", "arguments": '{"q":"x"}'}}
                ],
            }
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": f"answer {n}"}
            finish = "stop"
        return httpx2.Response(
            200,
            json={
                "id": f"c{n}",
                "object": "chat.completion",
                "created": 1,
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": usage,
            },
        )

    return handle


@pytest.fixture
def emitted():
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    otel_agent.instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        gpu="off",
        model_tiers={"gpt-4o-mini": 1, "gpt-4o": 3},
        run_idle_timeout_s=30,
    )
    try:
        client = openai.OpenAI(
            api_key="sk-test-key-0123456789",
            base_url="https://api.openai.com/v1",
            http_client=httpx2.Client(transport=httpx2.MockTransport(_handler())),
        )
        tools = [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}]
        messages: list = [{"role": "user", "content": "find x"}]
        model = "gpt-4o-mini"
        for turn in range(5):
            reply = client.chat.completions.create(
                model=model, messages=messages, tools=tools, max_tokens=64, temperature=0.0
            )
            message = reply.choices[0].message
            messages.append(message.model_dump(exclude_none=True))
            if not message.tool_calls:
                break
            for call in message.tool_calls:
                messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": "Error: down" if turn == 1 else "ok"}
                )
            if turn == 2:
                model = "gpt-4o"

        @otel_agent.tool
        def lookup(order_id: str) -> str:
            return "shipped"

        with otel_agent.agent_run("planner", team="support") as run:
            lookup(order_id="A-1")
            stream = client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            for _ in stream:
                pass
            run.set_outcome(success=True, score=0.8)
    finally:
        otel_agent.uninstrument()
    return exporter.get_finished_spans(), reader.get_metrics_data()


def test_everything_emitted_is_documented(emitted) -> None:
    spans, metrics = emitted
    span_keys = {k for s in spans for k in s.attributes}
    event_keys = {k for s in spans for e in s.events for k in e.attributes} | {e.name for s in spans for e in s.events}
    metric_names = set()
    metric_keys = set()
    for resource_metrics in metrics.resource_metrics:
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                metric_names.add(metric.name)
                for point in metric.data.data_points:
                    metric_keys |= set(point.attributes)
    # the scenario must really cover the product: the main families are all there
    assert {
        "chat gpt-4o-mini",
        "chat gpt-4o",
        "invoke_agent planner",
        "execute_tool lookup",
        "execute_tool search",
    } <= {s.name for s in spans}
    assert {
        "otel_agent.turn.waste_reason",
        "otel_agent.escalation.reason",
        "gen_ai.usage.cost.amount",
        "gen_ai.usage.reasoning.output_tokens",
        "otel_agent.run.score_per_1k_tokens",
    } <= span_keys
    assert {
        "otel_agent.turns",
        "otel_agent.cost",
        "otel_agent.escalations",
        "otel_agent.runs",
        "gen_ai.client.token.usage",
    } <= metric_names
    undocumented = sorted(n for n in span_keys | event_keys | metric_names | metric_keys if not documented(n))
    assert undocumented == []
