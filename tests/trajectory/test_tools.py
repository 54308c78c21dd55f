"""Tool spans: inferred from the message flow, and from `@otel_agent.tool` (sync and async)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import otel_agent

from ._providers import PROVIDERS, Agent, Reply, Script, text

MODES = ("explicit", "inferred")


def maybe_run(mode: str) -> Any:
    import contextlib

    return otel_agent.agent_run("researcher") if mode == "explicit" else contextlib.nullcontext()


def arguments(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else json.loads(raw)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_inferred_tool_spans(traj: Any, provider: str, mode: str) -> None:
    """Tools the agent ran where we could not see them: one span per result, from the requesting turn's end to the
    request that carried the result, with the model's call id and the result's outcome."""
    harness = traj()
    script = Script(Reply(calls=(("search", {"q": "lyon"}), ("lookup", {"id": 7}))), text("522,250"))
    agent = Agent(provider, script.client(provider))
    with maybe_run(mode):
        answer = agent.ask("small")
        (search_id, _, _), (lookup_id, _, _) = answer.calls
        if provider == "anthropic":
            agent.results((search_id, "Lyon: 522,250", False), (lookup_id, "record 7 is locked", True))
        else:
            agent.results((search_id, "Lyon: 522,250", False), (lookup_id, "Error: record 7 is locked", False))
        agent.ask("small")
    harness.finish()
    run = harness.run()
    first, second = harness.turns()
    tools = {s.attributes["gen_ai.tool.name"]: s for s in harness.tools()}
    assert set(tools) == {"search", "lookup"}
    for name, call_id, failed in (("search", search_id, False), ("lookup", lookup_id, True)):
        span = tools[name]
        a = span.attributes
        assert span.name == f"execute_tool {name}"
        assert span.parent.span_id == run.context.span_id
        assert a["otel_agent.tool.source"] == "inferred"
        assert a["gen_ai.tool.call.id"] == call_id
        assert a["otel_agent.turn.index"] == 1  # the turn that requested it
        assert a["otel_agent.tool.is_error"] is failed
        assert span.status.is_ok is not failed
        assert span.start_time == first.span.end_time
        assert span.end_time <= second.span.start_time + 5_000_000  # ends as the next request begins
    assert tools["lookup"].attributes["error.type"] == "tool_error"
    assert second.reasons == ("tool_error",)
    assert harness.counter("otel_agent.tool.calls", otel_agent__tool__source="inferred") == 2
    assert harness.counter("otel_agent.tool.calls", otel_agent__tool__is_error=True) == 1


def test_results_for_calls_the_run_never_made_make_no_span(traj: Any) -> None:
    harness = traj()
    agent = Agent("openai", Script(text("ok")).client("openai"))
    agent.messages += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_from_elsewhere", "type": "function", "function": {"name": "search", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_from_elsewhere", "content": "result"},
    ]
    agent.ask("small")
    harness.finish()
    assert harness.tools() == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_decorated_sync_tool(traj: Any, provider: str, mode: str) -> None:
    harness = traj()

    @otel_agent.tool
    def search(q: str) -> str:
        return f"{q}: 522,250"

    @otel_agent.tool(name="lookup")  # the name the model knows the tool by
    def lookup_record(id: int) -> str:
        raise PermissionError(f"record {id} is locked")

    script = Script(Reply(calls=(("search", {"q": "lyon"}), ("lookup", {"id": 7}))), text("522,250"))
    agent = Agent(provider, script.client(provider))
    with maybe_run(mode):
        answer = agent.ask("small")
        (search_id, _, search_args), (lookup_id, _, lookup_args) = answer.calls
        found = search(arguments(search_args)["q"])  # positional: bound to its parameter name
        with pytest.raises(PermissionError):
            lookup_record(**arguments(lookup_args))
        agent.results((search_id, found, False), (lookup_id, "The lookup tool was refused.", False))
        agent.ask("small")
    harness.finish()
    run = harness.run()
    tools = {s.attributes["gen_ai.tool.name"]: s for s in harness.tools()}
    # exactly the decorated spans: the calls were seen, so no inferred span repeats them
    assert sorted(s.attributes["otel_agent.tool.source"] for s in harness.tools()) == ["decorator", "decorator"]
    assert set(tools) == {"search", "lookup"}
    for span in tools.values():
        assert span.parent.span_id == run.context.span_id
        assert span.attributes["otel_agent.turn.index"] == 1
        assert span.attributes["gen_ai.agent.name"] == run.attributes["gen_ai.agent.name"]
    assert tools["search"].attributes["otel_agent.tool.is_error"] is False
    failed = tools["lookup"]
    assert failed.attributes["otel_agent.tool.is_error"] is True
    assert failed.attributes["error.type"] == "PermissionError"
    assert not failed.status.is_ok
    assert [e.name for e in failed.events] == ["exception"]
    # the failed span makes the next turn a tool_error, though the agent's words do not say "error"
    assert harness.turns()[1].reasons == ("tool_error",)
    assert harness.counter("otel_agent.tool.calls", otel_agent__tool__source="decorator") == 2


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_decorated_async_tool(traj: Any, provider: str, mode: str) -> None:
    harness = traj()

    @otel_agent.tool
    async def search(q: str) -> str:
        await asyncio.sleep(0.01)
        return f"{q}: 522,250"

    @otel_agent.tool
    async def lookup(id: int) -> str:
        await asyncio.sleep(0.01)
        raise TimeoutError("lookup timed out")

    script = Script(Reply(calls=(("search", {"q": "lyon"}), ("lookup", {"id": 7}))), text("522,250"))

    async def main() -> None:
        agent = Agent(provider, script.client(provider, is_async=True))
        answer = await agent.aask("small")
        results = []
        for call_id, name, raw in answer.calls:
            try:
                tool = search if name == "search" else lookup
                results.append((call_id, await tool(**arguments(raw)), False))
            except TimeoutError:
                results.append((call_id, "the lookup tool gave no answer", False))
        agent.results(*results)
        await agent.aask("small")

    async def in_run() -> None:
        async with otel_agent.agent_run("researcher"):
            await main()

    asyncio.run(in_run() if mode == "explicit" else main())
    harness.finish()
    run = harness.run()
    tools = {s.attributes["gen_ai.tool.name"]: s for s in harness.tools()}
    assert sorted(s.attributes["otel_agent.tool.source"] for s in harness.tools()) == ["decorator", "decorator"]
    for span in tools.values():
        assert span.parent.span_id == run.context.span_id
        assert span.attributes["otel_agent.turn.index"] == 1
        assert span.end_time - span.start_time >= 5_000_000  # spans the awaited work
    assert tools["lookup"].attributes["otel_agent.tool.is_error"] is True
    assert tools["lookup"].attributes["error.type"] == "TimeoutError"
    # the failed lookup span makes the next turn a tool_error, though the agent's words do not say "error"
    assert harness.turns()[1].reasons == ("tool_error",)


def test_decorated_tool_outside_any_run(traj: Any) -> None:
    harness = traj()

    @otel_agent.tool
    def add(a: int, b: int) -> int:
        return a + b

    class Calculator:
        @otel_agent.tool
        def multiply(self, a: int, b: int) -> int:
            return a * b

    assert add(2, 3) == 5
    assert Calculator().multiply(2, b=4) == 8
    spans = harness.tools()
    assert [s.name for s in spans] == ["execute_tool add", "execute_tool multiply"]
    for span in spans:
        assert span.parent is None
        assert "otel_agent.turn.index" not in span.attributes
        assert "gen_ai.agent.name" not in span.attributes


def test_decorated_tool_arguments_with_content_capture(traj: Any) -> None:
    harness = traj(capture_content="SPAN_ONLY")

    class Calculator:
        @otel_agent.tool
        def multiply(self, a: int, b: int, **options: Any) -> int:
            return a * b

    Calculator().multiply(2, 4, rounding="none")
    (span,) = harness.tools()
    assert json.loads(span.attributes["gen_ai.tool.call.arguments"]) == {"a": 2, "b": 4, "rounding": "none"}
    assert json.loads(span.attributes["gen_ai.tool.call.result"]) == 8


def test_tool_without_instrument_just_runs() -> None:
    otel_agent.uninstrument()

    @otel_agent.tool
    def add(a: int, b: int) -> int:
        return a + b

    assert add(1, 2) == 3
