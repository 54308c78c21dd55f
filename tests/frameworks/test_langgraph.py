"""LangGraph and LangChain (real, installed: langgraph's prebuilt ReAct agent over langchain-openai's ChatOpenAI), the
model served by a scripted Chat Completions API over `httpx2.MockTransport` (documented payload shapes): one run per
graph invocation, named after the graph, `thread_id` as the conversation id."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import httpx2
import pytest

pytest.importorskip("langgraph")
langchain_openai = pytest.importorskip("langchain_openai")

from langchain_core.tools import tool  # noqa: E402

from tests.trajectory._providers import OPENAI_KEY, Reply, Script  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from langgraph.prebuilt import create_react_agent


def respond(body: dict[str, Any]) -> Reply:
    done = sum(1 for m in body["messages"] if m["role"] == "tool")
    city = next(str(m["content"]) for m in body["messages"] if m["role"] == "user")
    tokens = {"input_tokens": 400 + done, "output_tokens": 30 + done}
    if done == 0:
        return Reply(calls=(("search", {"q": city}),), **tokens)
    if done == 1:
        return Reply(calls=(("lookup", {"id": 7}),), **tokens)
    return Reply(text=f"{city}: 522,250 inhabitants.", **tokens)


@tool
def search(q: str) -> str:
    """Search the web."""
    return f"{q}: 522,250"


@tool
def lookup(id: int) -> str:
    """Look a record up."""
    return f"record {id}"


def make_graph(script: Script) -> Any:
    model = langchain_openai.ChatOpenAI(
        model="gpt-4o-mini",
        api_key=OPENAI_KEY,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(script.handle)),
        http_async_client=httpx2.AsyncClient(transport=httpx2.MockTransport(script.ahandle)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_react_agent(model, [search, lookup], name="weather_graph")


def check(harness: Any, count: int) -> list[Any]:
    runs = harness.runs()
    assert len(runs) == count
    assert len(harness.turns()) == 3 * count  # one inference span per model call
    for run in runs:
        a = run.attributes
        assert run.name == "invoke_agent weather_graph"
        assert a["gen_ai.agent.name"] == "weather_graph"
        assert a["otel_agent.run.inferred"] is False
        assert a["otel_agent.run.framework"] == "langchain"
        assert a["otel_agent.run.turns"] == 3
        turns = harness.turns(a["otel_agent.run.id"])
        assert [t.index for t in turns] == [1, 2, 3]
        assert [t.span.attributes["gen_ai.usage.input_tokens"] for t in turns] == [400, 401, 402]
        assert [t.span.attributes["gen_ai.usage.output_tokens"] for t in turns] == [30, 31, 32]
        assert all(t.span.parent.span_id == run.context.span_id for t in turns)
        tools = [s for s in harness.tools() if s.parent.span_id == run.context.span_id]
        assert sorted(s.attributes["gen_ai.tool.name"] for s in tools) == ["lookup", "search"]
    assert len(harness.tools()) == 2 * count
    return runs


def test_graph_invocation_is_one_named_run(traj: Any) -> None:
    harness = traj()
    graph = make_graph(Script(respond=respond))
    result = graph.invoke({"messages": [("user", "Lyon")]}, config={"configurable": {"thread_id": "thread-77"}})
    assert "522,250" in result["messages"][-1].content
    harness.finish()
    (run,) = check(harness, 1)
    assert run.attributes["gen_ai.conversation.id"] == "thread-77"
    assert all(t.span.attributes["gen_ai.conversation.id"] == "thread-77" for t in harness.turns())


def test_concurrent_graph_invocations_stay_apart(traj: Any) -> None:
    harness = traj()
    graph = make_graph(Script(respond=respond))

    async def main() -> None:
        await asyncio.gather(*(graph.ainvoke({"messages": [("user", f"city {i}")]}) for i in range(8)))

    asyncio.run(main())
    harness.finish()
    check(harness, 8)


def test_model_outside_a_chain_is_inferred(traj: Any) -> None:
    harness = traj()
    script = Script(Reply(text="Paris."))
    model = langchain_openai.ChatOpenAI(
        model="gpt-4o-mini",
        api_key=OPENAI_KEY,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(script.handle)),
    )
    model.invoke("Capital of France?")
    harness.finish()
    (turn,) = harness.turns()  # one inference span, in no bridged run (a one-shot call: no run span at all)
    assert not [r for r in harness.runs() if "otel_agent.run.framework" in r.attributes]
    assert turn.span.parent is None
