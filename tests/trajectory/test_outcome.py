"""`run.set_outcome`, the roll-up on the `invoke_agent` span, and the run metrics."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import otel_agent

from ._providers import PROVIDERS, Agent, Script, call, text


def three_turns(provider: str) -> Script:
    return Script(
        call("search", {"q": "lyon"}, input_tokens=100, output_tokens=20),
        text("Lyon is a city", finish="length", input_tokens=150, output_tokens=30),
        text("Lyon has 522,250 inhabitants.", input_tokens=200, output_tokens=40),
    )


def play_three(agent: Agent) -> None:
    answer = agent.ask("small")
    agent.results(*[(cid, "Lyon: 522,250", False) for cid, _n, _a in answer.calls])
    agent.ask("small", max_tokens=5)
    agent.say("Continue.")
    agent.ask("small")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_roll_up_on_the_run_span(traj: Any, provider: str) -> None:
    harness = traj()
    agent = Agent(provider, three_turns(provider).client(provider))
    with otel_agent.agent_run("support", team="billing", **{"deployment.environment.name": "test"}) as run:
        play_three(agent)
        stats = run.stats
        assert (stats.turns, stats.wasted_turns, stats.input_tokens, stats.output_tokens) == (3, 1, 450, 90)
        run.set_outcome(success=True, score=0.9)
    span = harness.run()
    a = span.attributes
    assert span.name == "invoke_agent support"
    assert a["gen_ai.operation.name"] == "invoke_agent"
    assert a["gen_ai.agent.name"] == "support"
    assert a["otel_agent.run.id"] == run.id
    assert "gen_ai.agent.id" not in a  # the agent's definition, given by `agent_run(agent_id=)`: not the run id
    assert a["gen_ai.agent.turn.count"] == a["otel_agent.run.turns"] == 3
    assert a["otel_agent.run.wasted_turns"] == 1
    assert a["otel_agent.run.wasted_turns.truncated"] == 1
    assert a["otel_agent.run.input_tokens"] == 450
    assert a["otel_agent.run.output_tokens"] == 90
    # re-sent context: each turn carries the previous turn's input and output
    assert a["otel_agent.run.resent_input_tokens"] == (100 + 20) + (150 + 30)
    assert a["otel_agent.run.outcome"] == "success"
    assert a["otel_agent.run.score"] == 0.9
    assert a["otel_agent.run.score_per_1k_tokens"] == pytest.approx(0.9 / (540 / 1000))
    assert "otel_agent.run.score_per_usd" not in a  # no cost: pricing is off
    assert a["otel_agent.run.end_reason"] == "exit"
    assert a["otel_agent.run.models"] == ("small",)
    assert a["otel_agent.run.inferred"] is False
    assert a["otel_agent.run.attribute.team"] == "billing"
    assert a["deployment.environment.name"] == "test"
    assert span.status.is_ok
    turns = harness.turns()
    assert [t.span.attributes.get("otel_agent.turn.resent_input_tokens") for t in turns] == [None, 120, 180]
    assert [t.span.attributes.get("otel_agent.turn.context_growth_tokens") for t in turns] == [None, 50, 50]


def test_run_metrics(traj: Any) -> None:
    harness = traj()
    agent = Agent("openai", three_turns("openai").client("openai"))
    with otel_agent.agent_run("support") as run:
        play_three(agent)
        run.set_outcome(success=True, score=0.9)
    labels = {"gen_ai.agent.name": "support", "otel_agent.run.outcome": "success"}
    (runs,) = harness.points("otel_agent.runs")
    assert dict(runs.attributes) == {
        **labels,
        "otel_agent.run.stagnated": False,
        "otel_agent.run.missed_escalation": False,
    }
    assert runs.value == 1
    turns = {
        (p.attributes["otel_agent.turn.wasted"], p.attributes["otel_agent.turn.waste_reason"]): p.value
        for p in harness.points("otel_agent.turns")
    }
    assert turns == {(False, "none"): 2, (True, "truncated"): 1}
    assert all(p.attributes["gen_ai.agent.name"] == "support" for p in harness.points("otel_agent.turns"))
    (turn_hist,) = harness.points("otel_agent.run.turns")
    assert (turn_hist.count, turn_hist.sum, dict(turn_hist.attributes)) == (1, 3, labels)
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in harness.points("otel_agent.run.tokens")}
    assert tokens == {"input": 450, "output": 90, "reasoning": 0, "cache_read": 0}
    (score,) = harness.points("otel_agent.run.score")
    assert (score.count, score.sum) == (1, 0.9)
    (duration,) = harness.points("otel_agent.run.duration")
    assert duration.count == 1 and duration.sum >= 0
    assert harness.counter("otel_agent.context.resent_tokens") == 300
    assert harness.points("otel_agent.escalations") == []


def test_failed_outcome_and_error_exit(traj: Any) -> None:
    harness = traj()
    agent = Agent("openai", Script(text("no"), text("no again")).client("openai"))
    with otel_agent.agent_run("support") as run:
        agent.ask("small")
        run.set_outcome(success=False, score=0.0)
    with pytest.raises(ValueError), otel_agent.agent_run("support"):
        agent.say("Again.")
        agent.ask("small")
        raise ValueError("the agent gave up")
    failed, errored = harness.runs()
    assert failed.attributes["otel_agent.run.outcome"] == "failure"
    assert not failed.status.is_ok and failed.status.description == "run failed"
    assert failed.attributes["otel_agent.run.score_per_1k_tokens"] == 0.0
    assert errored.attributes["otel_agent.run.end_reason"] == "error"
    assert errored.attributes["error.type"] == "ValueError"
    assert errored.attributes["otel_agent.run.outcome"] == "unknown"
    assert any(e.name == "exception" for e in errored.events)
    assert harness.counter("otel_agent.runs", otel_agent__run__outcome="failure") == 1
    assert harness.counter("otel_agent.runs", otel_agent__run__outcome="unknown") == 1


def test_agent_run_as_decorator_sync_and_async(traj: Any) -> None:
    harness = traj()
    script = Script(text("one"), text("two"))

    @otel_agent.agent_run("sync-agent", team="a")
    def sync_agent() -> str:
        Agent("openai", script.client("openai")).ask("small")
        return otel_agent.current_run().id

    @otel_agent.agent_run("async-agent")
    async def async_agent() -> str:
        await Agent("openai", script.client("openai", is_async=True)).aask("small")
        return otel_agent.current_run().id

    sync_id = sync_agent()
    async_id = asyncio.run(async_agent())
    assert otel_agent.current_run() is None
    by_name = {r.attributes["gen_ai.agent.name"]: r for r in harness.runs()}
    assert by_name["sync-agent"].attributes["otel_agent.run.id"] == sync_id
    assert by_name["async-agent"].attributes["otel_agent.run.id"] == async_id
    assert {t.run_id for t in harness.turns()} == {sync_id, async_id}


def test_nested_runs(traj: Any) -> None:
    harness = traj()
    script = Script(text("plan"), text("sub answer"), text("final"))
    planner = Agent("openai", script.client("openai"))
    with otel_agent.agent_run("planner") as outer:
        planner.ask("big")
        with otel_agent.agent_run("worker") as inner:
            Agent("openai", script.client("openai"), task="sub task").ask("small")
        planner.say("Go on.")
        planner.ask("big")
    turns = harness.turns()
    assert [(t.run_id, t.index) for t in turns] == [(outer.id, 1), (inner.id, 1), (outer.id, 2)]
    runs = {r.attributes["gen_ai.agent.name"]: r for r in harness.runs()}
    assert runs["worker"].parent.span_id == runs["planner"].context.span_id
    assert turns[1].span.parent.span_id == runs["worker"].context.span_id
    # the outer run does not see a model change in the inner run
    assert turns[2].escalation is None


def test_agent_run_without_instrument() -> None:
    otel_agent.uninstrument()
    with otel_agent.agent_run("offline") as run:
        assert run.stagnating is False
        assert run.should_escalate() is False
        run.escalate("big")
        run.set_outcome(success=True, score=1.0)
        assert otel_agent.current_run() is run
    assert run.outcome == "success"
