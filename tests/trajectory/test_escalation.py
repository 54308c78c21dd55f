"""Stagnation read live inside `agent_run`, escalation up and down with its reason, missed escalation."""

from __future__ import annotations

from typing import Any

import pytest

import otel_agent

from ._providers import PROVIDERS, Agent, Script, call, text


def ok(agent: Agent, answer: Any) -> None:
    agent.results(*[(call_id, "Lyon: 522,250 inhabitants", False) for call_id, _n, _a in answer.calls])


def escalations(harness: Any) -> list[tuple[int, tuple[str, str, str, str] | None]]:
    return [(t.index, t.escalation) for t in harness.turns()]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_stagnation_is_live_inside_the_run(traj: Any, provider: str) -> None:
    harness = traj()
    same = {"q": "lyon population"}
    script = Script(call("search", same), call("search", same), call("search", same), text("522,250"))
    agent = Agent(provider, script.client(provider))
    seen = []
    before = []  # should_escalate() before each turn: the agent moves to "big" exactly when it says so
    with otel_agent.agent_run("researcher") as run:
        for model in ("small", "small", "small", "big"):
            before.append((run.should_escalate(), model))
            ok(agent, agent.ask(model))
            seen.append((run.stagnating, run.should_escalate(), run.stats.wasted_turns))
    assert before == [(False, "small"), (False, "small"), (False, "small"), (True, "big")]
    # window 2: the second wasted turn in a row makes the run stagnate; a clean turn ends it
    assert seen == [(False, False, 0), (False, False, 1), (True, True, 2), (False, False, 2)]
    turns = harness.turns()
    assert [(t.index, t.reasons, t.stagnating) for t in turns] == [
        (1, (), False),
        (2, ("repeated_tool_call",), False),
        (3, ("repeated_tool_call",), True),
        (4, (), False),
    ]
    assert turns[3].escalation == ("small", "big", "stagnation", "up")
    attrs = harness.run().attributes
    assert attrs["otel_agent.run.stagnated"] is True
    assert attrs["otel_agent.run.missed_escalation"] is False
    assert attrs["otel_agent.run.escalations"] == 1


def test_stagnation_window_option(traj: Any) -> None:
    traj(stagnation_window=3)
    same = {"q": "x"}
    script = Script(call("search", same), call("search", same), call("search", same), call("search", same))
    agent = Agent("openai", script.client("openai"))
    with otel_agent.agent_run("researcher") as run:
        states = []
        for _ in range(4):
            ok(agent, agent.ask("small"))
            states.append(run.stagnating)
    assert states == [False, False, False, True]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_explicit_escalation(traj: Any, provider: str) -> None:
    harness = traj()
    script = Script(call("search", {"q": "a"}), call("search", {"q": "b"}), text("answer"))
    agent = Agent(provider, script.client(provider))
    with otel_agent.agent_run("researcher") as run:
        ok(agent, agent.ask("small"))
        run.escalate("big", reason="the question needs a larger model")
        ok(agent, agent.ask("small"))  # not moved yet: no escalation, the announcement waits
        agent.ask("big")
    assert escalations(harness) == [(1, None), (2, None), (3, ("small", "big", "explicit", "up"))]
    event = [e for e in harness.turns()[2].span.events if e.name == "otel_agent.escalation"]
    assert len(event) == 1 and event[0].attributes["otel_agent.escalation.reason"] == "explicit"


def test_explicit_wins_over_stagnation(traj: Any) -> None:
    harness = traj()
    same = {"q": "a"}
    script = Script(call("search", same), call("search", same), call("search", same), text("answer"))
    agent = Agent("openai", script.client("openai"))
    with otel_agent.agent_run("researcher") as run:
        for _ in range(3):
            ok(agent, agent.ask("small"))
        assert run.should_escalate()
        run.escalate("big")
        agent.ask("big")
    assert harness.turns()[3].escalation == ("small", "big", "explicit", "up")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_stagnation_escalation_after_one_wasted_turn(traj: Any, provider: str) -> None:
    # moving up right after a wasted turn counts as stagnation-driven too
    harness = traj()
    script = Script(text("cut off", finish="length"), text("answer"))
    agent = Agent(provider, script.client(provider))
    with otel_agent.agent_run("researcher"):
        agent.ask("small", max_tokens=4)
        agent.say("Continue.")
        agent.ask("medium")
    assert escalations(harness) == [(1, None), (2, ("small", "medium", "stagnation", "up"))]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unspecified_escalation_and_deescalation(traj: Any, provider: str) -> None:
    harness = traj()
    script = Script(call("search", {"q": "a"}), call("search", {"q": "b"}), call("search", {"q": "c"}), text("answer"))
    agent = Agent(provider, script.client(provider))
    with otel_agent.agent_run("researcher"):
        for model in ("small", "big", "big", "small"):
            ok(agent, agent.ask(model))
    assert escalations(harness) == [
        (1, None),
        (2, ("small", "big", "unspecified", "up")),
        (3, None),
        (4, ("big", "small", "unspecified", "down")),
    ]
    assert [t.span.attributes["otel_agent.turn.model_tier"] for t in harness.turns()] == [1.0, 3.0, 3.0, 1.0]
    attrs = harness.run().attributes
    assert (attrs["otel_agent.run.escalations"], attrs["otel_agent.run.deescalations"]) == (1, 1)
    assert attrs["otel_agent.run.models"] == ("small", "big")
    assert (
        harness.counter(
            "otel_agent.escalations",
            otel_agent__escalation__direction="up",
            otel_agent__escalation__reason="unspecified",
            otel_agent__escalation__from_model="small",
            otel_agent__escalation__to_model="big",
            gen_ai__agent__name="researcher",
        )
        == 1
    )
    assert harness.counter("otel_agent.escalations", otel_agent__escalation__direction="down") == 1


def test_tier_patterns_and_unknown_models(traj: Any) -> None:
    harness = traj(model_tiers={"claude-haiku-*": 1, "claude-opus-*": 3})
    script = Script(text("a"), text("b"), text("c"), text("d"))
    agent = Agent("anthropic", script.client("anthropic"))
    with otel_agent.agent_run("researcher"):
        for model in ("claude-haiku-4-5", "claude-opus-4-1", "mystery-model", "claude-haiku-4-5"):
            agent.ask(model)
            agent.say("More.")
    turns = harness.turns()
    assert [t.escalation for t in turns] == [
        None,
        ("claude-haiku-4-5", "claude-opus-4-1", "unspecified", "up"),
        None,
        None,
    ]
    assert "otel_agent.turn.model_tier" not in turns[2].span.attributes


@pytest.mark.parametrize("provider", PROVIDERS)
def test_missed_escalation(traj: Any, provider: str) -> None:
    harness = traj()
    same = {"q": "a"}
    script = Script(call("search", same), call("search", same), call("search", same), text("I give up."))
    agent = Agent(provider, script.client(provider))
    with otel_agent.agent_run("researcher") as run:
        for _ in range(4):
            ok(agent, agent.ask("small"))
        run.set_outcome(success=False)
    attrs = harness.run().attributes
    assert attrs["otel_agent.run.stagnated"] is True
    assert attrs["otel_agent.run.missed_escalation"] is True
    assert attrs["otel_agent.run.escalations"] == 0
    assert (
        harness.counter(
            "otel_agent.runs",
            otel_agent__run__missed_escalation=True,
            otel_agent__run__stagnated=True,
            otel_agent__run__outcome="failure",
        )
        == 1
    )


def test_escalation_after_stagnation_is_not_missed(traj: Any) -> None:
    harness = traj()
    same = {"q": "a"}
    script = Script(call("search", same), call("search", same), text("answer"))
    agent = Agent("openai", script.client("openai"))
    with otel_agent.agent_run("researcher"):
        ok(agent, agent.ask("small"))
        ok(agent, agent.ask("small"))
        agent.ask("big")
    attrs = harness.run().attributes
    # one wasted turn: not stagnating, but the move up right after it counts as stagnation-driven
    assert attrs["otel_agent.run.stagnated"] is False
    assert attrs["otel_agent.run.missed_escalation"] is False
    assert harness.turns()[2].escalation == ("small", "big", "stagnation", "up")
