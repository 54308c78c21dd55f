"""Grouping ids on every span of a run (issue 11, item 4): `agent_run(conversation_id=, user_id=, session_id=,
agent_id=)` and `otel_agent.session(...)`, explicit and inferred runs, inference and tool spans."""

from __future__ import annotations

import asyncio
from typing import Any

import otel_agent

from ._providers import Agent, Reply, Script, text

IDS = {"gen_ai.conversation.id": "thread-81", "user.id": "u-42", "session.id": "s-7"}


def tool_loop(agent: Agent, search: Any) -> None:
    answer = agent.ask("small")
    agent.results(*[(cid, search(q="lyon"), False) for cid, _n, _a in answer.calls])
    agent.ask("small")


def spans_of_run(harness: Any) -> list[Any]:
    run = harness.run()
    children = [s for s in harness.ours() if s.parent is not None and s.parent.span_id == run.context.span_id]
    return [run, *children]


def test_agent_run_ids_on_every_span(traj: Any) -> None:
    harness = traj()
    script = Script(Reply(calls=(("search", {"q": "lyon"}),)), text("522,250"))

    @otel_agent.tool
    def search(q: str) -> str:
        return "Lyon: 522,250"

    with otel_agent.agent_run(
        "support", conversation_id="thread-81", user_id="u-42", session_id="s-7", agent_id="support-v3"
    ) as run:
        tool_loop(Agent("openai", script.client("openai")), search)
    harness.finish()
    spans = spans_of_run(harness)
    assert sorted(s.name.split(" ")[0] for s in spans) == ["chat", "chat", "execute_tool", "invoke_agent"]
    for span in spans:
        for key, value in IDS.items():
            assert span.attributes[key] == value, (span.name, key)
    assert spans[0].attributes["gen_ai.agent.id"] == "support-v3"  # the agent's definition
    assert spans[0].attributes["otel_agent.run.id"] == run.id != "support-v3"  # the run, under our own name


def test_session_ids_on_inferred_runs(traj: Any) -> None:
    harness = traj()
    script = Script(Reply(calls=(("search", {"q": "lyon"}),)), text("522,250"), text("other user"))

    @otel_agent.tool
    def search(q: str) -> str:
        return "Lyon: 522,250"

    with otel_agent.session(conversation_id="thread-81", user_id="u-42", session_id="s-7"):
        tool_loop(Agent("openai", script.client("openai")), search)
    Agent("openai", script.client("openai"), task="outside any session").ask("small")
    harness.finish()
    inside, outside = harness.runs()
    assert inside.attributes["otel_agent.run.inferred"] is True
    run_spans = [s for s in harness.ours() if s.parent is not None and s.parent.span_id == inside.context.span_id]
    assert len(run_spans) == 3
    for span in [inside, *run_spans]:
        for key, value in IDS.items():
            assert span.attributes[key] == value, (span.name, key)
    assert "gen_ai.agent.id" not in inside.attributes
    for span in [outside, *harness.turns(outside.attributes["otel_agent.run.id"])]:
        attributes = span.attributes if hasattr(span, "attributes") else span.span.attributes
        assert not set(IDS) & set(attributes)


def test_session_is_per_task_and_inner_wins(traj: Any) -> None:
    harness = traj()
    script = Script(respond=lambda body: text("ok"))
    client = script.client("openai", is_async=True)

    async def user(number: int) -> None:
        async with otel_agent.session(user_id=f"u-{number}", session_id="shared"):
            async with otel_agent.agent_run("support", session_id=f"s-{number}"):
                await Agent("openai", client, task=f"task {number}").aask("small")

    async def main() -> None:
        await asyncio.gather(*(user(n) for n in range(6)))

    asyncio.run(main())
    harness.finish()
    runs = harness.runs()
    assert sorted(r.attributes["user.id"] for r in runs) == [f"u-{n}" for n in range(6)]
    for run in runs:
        number = run.attributes["user.id"].split("-")[1]
        assert run.attributes["session.id"] == f"s-{number}"  # agent_run's own id wins over the session's
        (turn,) = harness.turns(run.attributes["otel_agent.run.id"])
        assert turn.span.attributes["user.id"] == f"u-{number}"
