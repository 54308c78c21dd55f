"""The OpenAI Agents SDK (real, installed), its model calls served by a scripted Responses API over
`httpx2.MockTransport` (payloads of the documented shape): the run is named after the agent, one per `Runner.run`."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from typing import Any

import httpx2
import openai
import pytest

agents = pytest.importorskip("agents")

from tests.instrumentation.payloads import response_object  # noqa: E402
from tests.trajectory._providers import OPENAI_KEY  # noqa: E402

_ids = itertools.count(1)
_lock = threading.Lock()


def _next() -> int:
    with _lock:
        return next(_ids)


def _function_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"fc_{_next():06d}67ccd2bf17f0819081ff3bb2cf",
        "type": "function_call",
        "status": "completed",
        "call_id": f"call_{_next():06d}MtYmCc8pU0U0JYD9",
        "name": name,
        "arguments": json.dumps(arguments),
    }


def respond(body: dict[str, Any]) -> dict[str, Any]:
    """By the function results the request carries: search, then lookup, then the answer."""
    items = body["input"] if isinstance(body["input"], list) else []
    done = sum(1 for item in items if item.get("type") == "function_call_output")
    city = next((str(i.get("content")) for i in items if i.get("role") == "user"), "")
    payload = response_object(
        f"{city}: 522,250 inhabitants.", rid=f"resp_{_next():06d}ccd2bed1ec8190b14f964abc", reasoning=False
    )
    if done == 0:
        payload["output"] = [_function_call("search", {"q": city})]
    elif done == 1:
        payload["output"] = [_function_call("lookup", {"id": 7})]
    payload["usage"] = {**payload["usage"], "input_tokens": 300 + done, "output_tokens": 20 + done}
    return payload


@pytest.fixture
def agents_client() -> Any:
    async def handle(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=respond(json.loads(request.content)))

    client = openai.AsyncOpenAI(
        api_key=OPENAI_KEY, max_retries=0, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handle))
    )
    agents.set_trace_processors([])  # no export of the SDK's own traces to its backend (no network here)
    agents.set_default_openai_client(client, use_for_tracing=False)
    agents.set_default_openai_api("responses")
    yield client
    agents.set_trace_processors([])


def make_agent() -> Any:
    @agents.function_tool
    def search(q: str) -> str:
        """Search the web."""
        return f"{q}: 522,250"

    @agents.function_tool
    def lookup(id: int) -> str:
        """Look a record up."""
        return f"record {id}"

    return agents.Agent(name="Weather agent", instructions="Answer with the tools.", tools=[search, lookup])


def check(harness: Any, count: int) -> None:
    runs = harness.runs()
    assert len(runs) == count
    assert len(harness.turns()) == 3 * count  # one inference span per model call
    for run in runs:
        a = run.attributes
        assert run.name == "invoke_agent Weather agent"
        assert a["gen_ai.agent.name"] == "Weather agent"
        assert a["otel_agent.run.inferred"] is False
        assert a["otel_agent.run.framework"] == "openai-agents"
        assert a["otel_agent.run.turns"] == 3
        turns = harness.turns(a["otel_agent.run.id"])
        assert [t.index for t in turns] == [1, 2, 3]
        assert [t.span.attributes["gen_ai.usage.input_tokens"] for t in turns] == [300, 301, 302]
        assert [t.span.attributes["gen_ai.usage.output_tokens"] for t in turns] == [20, 21, 22]
        assert all(t.span.parent.span_id == run.context.span_id for t in turns)
        tools = [s for s in harness.tools() if s.parent.span_id == run.context.span_id]
        assert sorted(s.attributes["gen_ai.tool.name"] for s in tools) == ["lookup", "search"]
    assert len(harness.tools()) == 2 * count


def test_runner_run_is_one_named_run(traj: Any, agents_client: Any) -> None:
    harness = traj()
    result = asyncio.run(agents.Runner.run(make_agent(), "Lyon"))
    assert "522,250" in result.final_output
    harness.finish()
    check(harness, 1)


def test_group_id_is_the_conversation_id(traj: Any, agents_client: Any) -> None:
    harness = traj()
    config = agents.RunConfig(group_id="thread-2291")
    asyncio.run(agents.Runner.run(make_agent(), "Lyon", run_config=config))
    harness.finish()
    (run,) = harness.runs()
    assert run.attributes["gen_ai.conversation.id"] == "thread-2291"
    assert all(t.span.attributes["gen_ai.conversation.id"] == "thread-2291" for t in harness.turns())


def test_concurrent_runs_stay_apart(traj: Any, agents_client: Any) -> None:
    harness = traj()

    async def main() -> None:
        await asyncio.gather(*(agents.Runner.run(make_agent(), f"city {i}") for i in range(8)))

    asyncio.run(main())
    harness.finish()
    check(harness, 8)


def test_tracing_disabled_falls_back_to_inference(traj: Any, agents_client: Any) -> None:
    harness = traj()
    asyncio.run(agents.Runner.run(make_agent(), "Lyon", run_config=agents.RunConfig(tracing_disabled=True)))
    harness.finish()
    (run,) = harness.runs()
    assert run.attributes["otel_agent.run.inferred"] is True
    assert [t.index for t in harness.turns()] == [1, 2, 3]
