"""The deferred run span: a one-shot call pays for a run only when it becomes one (issue 13, docs/architecture.md).

A first request that offers no tools is a one-shot call: no `invoke_agent` span and no run roll-up, unless a second
turn joins it; then the run span starts, dated from the first turn, parents the later turns and links to the first.
A first request that offers tools starts an agent loop whose run span parents every turn from the first; an explicit
`agent_run` is unchanged. Every exported span's parent is exported too.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

import otel_agent

from ._providers import PROVIDERS, Agent, Script, call, text


def _valid(harness: Any) -> None:
    """No exported span names a parent that is not exported (within the in-memory exporter: all of ours)."""
    spans = harness.exporter.get_finished_spans()
    ids = {s.context.span_id for s in spans}
    assert all(s.parent is None or s.parent.span_id in ids for s in spans), [(s.name, s.parent) for s in spans]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_one_turn_call_has_no_run_span(traj: Any, provider: str) -> None:
    harness = traj()
    Agent(provider, Script(text("positive")).client(provider), tools=()).ask("small")
    harness.finish()  # the inferred run ends (shutdown): still no run span, no run metrics
    (turn,) = harness.turns()
    assert harness.runs() == []
    assert turn.span.parent is None and turn.run_id is not None and turn.index == 1
    assert harness.points("otel_agent.runs") == [] and harness.points("otel_agent.run.turns") == []
    assert [p.value for p in harness.points("otel_agent.turns")] == [1]  # the turn itself is still counted
    _valid(harness)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_second_turn_makes_the_run_span(traj: Any, provider: str) -> None:
    harness = traj()
    agent = Agent(provider, Script(text("Lyon."), text("522,250.")).client(provider), tools=())
    agent.ask("small")
    agent.messages.append({"role": "user", "content": "And its population?"})
    agent.ask("small")
    harness.finish()
    first, second = harness.turns()
    (run,) = harness.runs()
    assert first.run_id == second.run_id == run.attributes["otel_agent.run.id"]
    assert [first.index, second.index] == [1, 2]
    assert second.span.parent is not None and second.span.parent.span_id == run.context.span_id
    # the first turn was exported before anyone knew: it links from the run span, it is not parented by it
    assert first.span.parent is None
    assert [link.context.span_id for link in run.links] == [first.span.context.span_id]
    assert run.links[0].attributes["otel_agent.link.relation"] == "first_turn"
    assert run.start_time == first.span.start_time  # the run is dated from its first turn
    assert run.attributes["otel_agent.run.turns"] == 2  # and its roll-up counts both
    assert [p.value for p in harness.points("otel_agent.runs")] == [1]
    _valid(harness)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_loop_that_offers_tools_gets_its_run_span_from_the_first_turn(traj: Any, provider: str) -> None:
    harness = traj()
    agent = Agent(provider, Script(call("search", {"q": "lyon"}), text("522,250")).client(provider))
    answer = agent.ask("small")
    agent.results(*[(cid, "Lyon: 522,250", False) for cid, _n, _a in answer.calls])
    agent.ask("small")
    harness.finish()
    (run,) = harness.runs()
    turns = harness.turns()
    assert len(turns) == 2 and all(t.span.parent.span_id == run.context.span_id for t in turns)
    assert not run.links
    _valid(harness)


def test_explicit_agent_run_is_unchanged(traj: Any) -> None:
    harness = traj()
    with otel_agent.agent_run("classifier"):
        Agent("openai", Script(text("positive")).client("openai"), tools=()).ask("small")
    (run,) = harness.runs()
    (turn,) = harness.turns()
    assert run.name == "invoke_agent classifier" and turn.span.parent.span_id == run.context.span_id
    assert run.attributes["otel_agent.run.turns"] == 1
    _valid(harness)


def test_concurrent_one_shot_calls_never_merge(traj: Any) -> None:
    harness = traj()
    script = Script(*[text("positive") for _ in range(16)])
    client = script.client("openai")
    barrier = threading.Barrier(8)

    def classify() -> None:
        barrier.wait()
        for _ in range(2):  # the same one-shot request, byte for byte, twice per thread
            Agent("openai", client, task="Classify: great product.", tools=()).ask("small")

    threads = [threading.Thread(target=classify) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    harness.finish()
    turns = harness.turns()
    assert len(turns) == 16
    assert len({t.run_id for t in turns}) == 16 and {t.index for t in turns} == {1}
    assert harness.runs() == []
    _valid(harness)
