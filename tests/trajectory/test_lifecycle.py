"""Inferred runs: how they start, continue and end (idle timeout, shutdown, eviction), turn by turn."""

from __future__ import annotations

import time
from typing import Any

import pytest

import otel_agent

from ._providers import PROVIDERS, Agent, Script, call, text


def ok(agent: Agent, answer: Any) -> None:
    agent.results(*[(cid, "Lyon: 522,250", False) for cid, _n, _a in answer.calls])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_inferred_run_ends_on_idle_timeout(traj: Any, provider: str) -> None:
    harness = traj(run_idle_timeout_s=0.3)
    agent = Agent(provider, Script(call("search", {"q": "lyon"}), text("522,250")).client(provider))
    ok(agent, agent.ask("small"))
    agent.ask("small")
    assert harness.runs() == []  # still open
    (run,) = harness.wait_for_runs(1, timeout=10)
    a = run.attributes
    assert a["otel_agent.run.end_reason"] == "idle"
    assert a["otel_agent.run.inferred"] is True
    assert a["otel_agent.run.turns"] == 2
    assert run.name == "invoke_agent agent"  # no service name set: the default agent name
    # the run ends where its last turn ended, not when the reaper noticed
    last = harness.turns()[-1].span
    assert run.end_time == last.end_time
    assert otel_agent_runtime_open_runs() == 0


def test_inferred_run_span_encloses_its_first_turn(traj: Any) -> None:
    harness = traj()
    Agent("openai", Script(text("hi")).client("openai")).ask("small")
    harness.finish()
    assert harness.run().start_time <= harness.turns()[0].span.start_time


def otel_agent_runtime_open_runs() -> int:
    from otel_agent import runtime

    rt = runtime.current()
    return rt.trajectory.open_inferred_runs if rt is not None else 0


def test_inferred_run_ends_at_shutdown(traj: Any) -> None:
    harness = traj(run_idle_timeout_s=600)
    agent = Agent("openai", Script(call("search", {"q": "lyon"}), text("522,250")).client("openai"))
    ok(agent, agent.ask("small"))
    agent.ask("small")
    assert otel_agent_runtime_open_runs() == 1
    harness.finish()  # uninstrument()
    run = harness.run()
    assert run.attributes["otel_agent.run.end_reason"] == "shutdown"
    assert run.attributes["otel_agent.run.turns"] == 2
    assert harness.counter("otel_agent.runs", gen_ai__agent__name="agent") == 1


def test_agent_name_from_service_name(traj: Any) -> None:
    harness = traj(service_name="support-bot")
    Agent("openai", Script(text("hi")).client("openai")).ask("small")
    harness.finish()
    assert harness.run().name == "invoke_agent support-bot"
    assert harness.turns()[0].span.attributes["gen_ai.agent.name"] == "support-bot"


def test_a_turn_after_the_idle_end_starts_a_new_run(traj: Any) -> None:
    harness = traj(run_idle_timeout_s=0.2)
    agent = Agent("openai", Script(call("search", {"q": "lyon"}), text("522,250")).client("openai"))
    ok(agent, agent.ask("small"))
    harness.wait_for_runs(1)
    agent.ask("small")  # the conversation goes on after its run ended: a new run, never a turn of an ended run
    harness.finish()
    first, second = harness.runs()
    assert first.attributes["otel_agent.run.turns"] == 1
    assert second.attributes["otel_agent.run.turns"] == 1
    assert [(t.run_id, t.index) for t in harness.turns()] == [
        (first.attributes["otel_agent.run.id"], 1),
        (second.attributes["otel_agent.run.id"], 1),
    ]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_slow_turn_keeps_its_run_open(traj: Any, provider: str) -> None:
    """A call that takes longer than the idle timeout is activity, not idleness: the run stays open."""
    harness = traj(run_idle_timeout_s=0.3)
    calls = {"n": 0}

    def delay(body: dict[str, Any]) -> float:
        calls["n"] += 1
        return 1.2 if calls["n"] == 2 else 0.0

    script = Script(call("search", {"q": "lyon"}), call("search", {"q": "lyon area"}), text("522,250"), delay=delay)
    agent = Agent(provider, script.client(provider))
    ok(agent, agent.ask("small"))
    ok(agent, agent.ask("small"))  # 1.2 s in flight, four idle timeouts
    agent.ask("small")
    harness.finish()
    run = harness.run()
    assert run.attributes["otel_agent.run.turns"] == 3
    assert [t.index for t in harness.turns(run.attributes["otel_agent.run.id"])] == [1, 2, 3]


def test_least_recently_used_run_is_evicted(traj: Any) -> None:
    harness = traj(max_inferred_runs=2)
    agents = [
        Agent("openai", Script(call("search", {"q": str(i)}), text(f"answer {i}")).client("openai"), task=f"task {i}")
        for i in range(3)
    ]
    for agent in agents:
        ok(agent, agent.ask("small"))
    evicted = harness.run()
    assert evicted.attributes["otel_agent.run.end_reason"] == "evicted"
    # the others continue their own runs; the evicted conversation continues in a new run (evicting the least
    # recently used again)
    for agent in (agents[1], agents[2], agents[0]):
        agent.ask("small")
    harness.finish()
    runs = harness.runs()
    assert sorted(r.attributes["otel_agent.run.turns"] for r in runs) == [1, 1, 2, 2]
    assert sorted(r.attributes["otel_agent.run.end_reason"] for r in runs) == [
        "evicted",
        "evicted",
        "shutdown",
        "shutdown",
    ]


def test_explicit_runs_are_not_reaped(traj: Any) -> None:
    harness = traj(run_idle_timeout_s=0.1)
    agent = Agent("openai", Script(call("search", {"q": "lyon"}), text("522,250")).client("openai"))
    with otel_agent.agent_run("researcher"):
        ok(agent, agent.ask("small"))
        time.sleep(0.5)
        assert harness.runs() == []
        agent.ask("small")
    run = harness.run()
    assert run.attributes["otel_agent.run.end_reason"] == "exit"
    assert run.attributes["otel_agent.run.turns"] == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_distinct_conversations_are_distinct_runs(traj: Any, provider: str) -> None:
    harness = traj()
    script = Script(call("search", {"q": "a"}), call("search", {"q": "a"}), text("A"), text("B"))
    a = Agent(provider, script.client(provider), task="task A")
    b = Agent(provider, script.client(provider), task="task B")
    ok(a, a.ask("small"))
    ok(b, b.ask("small"))  # same tool call, other conversation: not a repeat
    a.ask("small")
    b.ask("small")
    harness.finish()
    runs = harness.runs()
    assert len(runs) == 2
    for run in runs:
        turns = harness.turns(run.attributes["otel_agent.run.id"])
        assert [(t.index, t.reasons) for t in turns] == [(1, ()), (2, ())]


def test_retry_of_an_earlier_prefix_stays_in_the_run(traj: Any) -> None:
    # the agent drops the last exchange and re-sends an earlier prefix (a "regenerate")
    harness = traj()
    script = Script(call("search", {"q": "a"}), call("lookup", {"id": 1}), text("first try"), text("second try"))
    agent = Agent("openai", script.client("openai"))
    ok(agent, agent.ask("small"))
    ok(agent, agent.ask("small"))
    prefix = list(agent.messages)
    agent.ask("small")
    agent.messages = prefix
    agent.ask("small")
    harness.finish()
    assert [t.index for t in harness.turns(harness.run().attributes["otel_agent.run.id"])] == [1, 2, 3, 4]


def test_long_first_message(traj: Any) -> None:
    # a pasted document as the task: read by its ends on every turn, the run still chains, and two tasks that
    # differ only in the middle are still two runs (their answers' tool-call ids differ)
    harness = traj()
    document = "lorem ipsum dolor sit amet " * 4000
    agents = [
        Agent(
            "openai",
            Script(call("search", {"q": "a"}), text("done")).client("openai"),
            task=document + f" variant {i} " + document,
        )
        for i in range(2)
    ]
    for agent in agents:
        ok(agent, agent.ask("small"))
    for agent in agents:
        agent.ask("small")
    harness.finish()
    runs = harness.runs()
    assert len(runs) == 2
    assert [r.attributes["otel_agent.run.turns"] for r in runs] == [2, 2]
