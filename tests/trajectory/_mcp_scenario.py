"""MCP scenario, run in its own process by test_mcp.py: a real `mcp` ClientSession against a real in-process MCP
server over the SDK's in-memory transport, with a *global* tracer provider so that the mcp SDK's own spans are
recorded too (they come from `get_tracer("mcp-python-sdk")`, bound once per process to the global provider).

Prints one JSON document: every finished span (name, ids, parent, scope, attributes, status, events).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_agent


async def scenario(openai_client: Any) -> dict[str, Any]:
    from mcp import ClientSession
    from mcp.client._memory import InMemoryTransport
    from mcp.server.mcpserver import MCPServer

    logging.getLogger("mcp").setLevel(logging.CRITICAL)  # the failing tool's traceback is expected
    server = MCPServer("lyon-facts")

    @server.tool()
    def population(city: str) -> str:
        """Population of a city."""
        return f"{city}: 522,250 inhabitants (2021)"

    @server.tool()
    def area(city: str) -> str:
        """Area of a city."""
        raise ValueError(f"no area data for {city}")

    out: dict[str, Any] = {}
    async with InMemoryTransport(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        # 1. inside agent_run
        with otel_agent.agent_run("mcp-agent") as run:
            good = await session.call_tool("population", {"city": "Lyon"})
            bad = await session.call_tool("area", {"city": "Lyon"})
            out["explicit_run_id"] = run.id
        out["results"] = [good.is_error, bad.is_error]
        # 2. an inferred run: the model asks for the tool, the agent calls it over MCP, then asks again
        from tests.trajectory._providers import Agent

        agent = Agent("openai", openai_client, tools=("population", "area"))
        answer = await agent.aask("small")
        for call_id, _name, arguments in answer.calls:
            result = await session.call_tool("area", json.loads(arguments))
            agent.results((call_id, result.content[0].text, False))
        await agent.aask("small")
    return out


def main() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    otel_agent.instrument(
        tracer_provider=provider,
        meter_provider=meter_provider,
        cost=False,
        gpu="off",
        run_idle_timeout_s=600,
        providers=("openai", "mcp"),
    )

    from tests.trajectory._providers import Script, call, text

    script = Script(call("area", {"city": "Lyon"}), text("No area data for Lyon."))
    out = asyncio.run(scenario(script.client("openai", is_async=True)))
    otel_agent.uninstrument()
    spans = []
    for span in exporter.get_finished_spans():
        spans.append(
            {
                "name": span.name,
                "span_id": span.context.span_id,
                "trace_id": span.context.trace_id,
                "parent_id": span.parent.span_id if span.parent else None,
                "scope": span.instrumentation_scope.name,
                "kind": span.kind.name,
                "attributes": dict(span.attributes or {}),
                "status": span.status.status_code.name,
                "events": [event.name for event in span.events],
                "start": span.start_time,
                "end": span.end_time,
            }
        )
    json.dump({"out": out, "spans": spans}, sys.stdout, default=list)


if __name__ == "__main__":
    main()
