"""Each waste reason is detected on the turn it belongs to, through the real SDKs, in explicit and inferred runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import otel_agent
from otel_agent.trajectory import RunMemory, TurnView, register_detector

from ._providers import PROVIDERS, Agent, Reply, Script, call, text

MODES = ("explicit", "inferred")


def play(
    traj: Any, mode: str, provider: str, script: Script, loop: Callable[[Agent], None], **options: Any
) -> list[tuple[int, tuple[str, ...]]]:
    """Run `loop` on one agent (inside `agent_run` or not); returns (turn index, waste reasons) per turn."""
    harness = traj(**options)
    agent = Agent(provider, script.client(provider))
    if mode == "explicit":
        with otel_agent.agent_run("researcher"):
            loop(agent)
    else:
        loop(agent)
    harness.finish()
    turns = harness.turns()
    assert len({t.run_id for t in turns}) == 1, [(t.run_id, t.index) for t in turns]
    run = harness.run()
    assert run.attributes["otel_agent.run.id"] == turns[0].run_id
    assert run.attributes["otel_agent.run.inferred"] is (mode == "inferred")
    assert run.attributes["otel_agent.run.turns"] == len(turns)
    assert all(t.span.parent is not None and t.span.parent.span_id == run.context.span_id for t in turns)
    return [(t.index, t.reasons) for t in turns]


def ok(agent: Agent, answer: Any, content: str = "Lyon: 522,250 inhabitants (2021 census)") -> None:
    agent.results(*[(call_id, content, False) for call_id, _name, _args in answer.calls])


def failed(agent: Agent, answer: Any, content: str) -> None:
    agent.results(*[(call_id, content, True) for call_id, _name, _args in answer.calls])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_repeated_tool_call(traj: Any, provider: str, mode: str) -> None:
    # the same tool with the same arguments (keys in another order) after it was answered
    script = Script(
        call("search", {"q": "lyon population", "limit": 3}),
        call("search", {"limit": 3, "q": "lyon population"}),
        call("search", {"q": "lyon area", "limit": 3}),
        text("Lyon has 522,250 inhabitants."),
    )

    def loop(agent: Agent) -> None:
        for _ in range(3):
            ok(agent, agent.ask("small"))
        agent.ask("small")

    turns = play(traj, mode, provider, script, loop)
    assert turns == [(1, ()), (2, ("repeated_tool_call",)), (3, ()), (4, ())]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_tool_error_from_the_result(traj: Any, provider: str, mode: str) -> None:
    # Anthropic: a tool_result block with is_error: true; OpenAI: a tool message that reads as an error
    script = Script(
        call("search", {"q": "lyon"}),
        call("lookup", {"id": 7}),
        call("lookup", {"id": 8}),
        text("Lyon has 522,250 inhabitants."),
    )

    def loop(agent: Agent) -> None:
        answer = agent.ask("small")
        if provider == "anthropic":
            failed(agent, answer, "connection reset by peer")  # only the flag says it failed
        else:
            ok(agent, answer, "Error: connection reset by peer")
        ok(agent, agent.ask("small"), "No results found.")  # not an error
        ok(agent, agent.ask("small"))
        agent.ask("small")

    turns = play(traj, mode, provider, script, loop)
    assert turns == [(1, ()), (2, ("tool_error",)), (3, ()), (4, ())]


def test_error_flag_wins_over_wording(traj: Any) -> None:
    # Anthropic `is_error: false` with text that starts like an error still reads as an error (documented rule);
    # an is_error result with harmless wording is an error too
    script = Script(call("search", {"q": "a"}), call("search", {"q": "b"}), text("done"))

    def loop(agent: Agent) -> None:
        ok(agent, agent.ask("small"), "Exception: index out of range")
        failed(agent, agent.ask("small"), "partial data")
        agent.ask("small")

    assert play(traj, "explicit", "anthropic", script, loop) == [(1, ()), (2, ("tool_error",)), (3, ("tool_error",))]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_failed_decorated_tool_marks_the_next_turn(traj: Any, provider: str, mode: str) -> None:
    """A `@otel_agent.tool` that raises: the agent reports the failure in words that do not read as an error; the
    failed tool span alone makes the next turn a `tool_error` (inferred runs too: the tool finds the run whose model
    requested that call)."""

    @otel_agent.tool
    def search(q: str) -> str:
        raise TimeoutError(f"search backend too slow for {q!r}")

    script = Script(call("search", {"q": "lyon"}), text("I could not search, sorry."))

    def loop(agent: Agent) -> None:
        answer = agent.ask("small")
        for call_id, _name, arguments in answer.calls:
            try:
                content = search(**(arguments if isinstance(arguments, dict) else json.loads(arguments)))
            except TimeoutError as error:
                content = f"The search tool did not answer ({error})."
            agent.results((call_id, content, False))
        agent.ask("small")

    assert play(traj, mode, provider, script, loop) == [(1, ()), (2, ("tool_error",))]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_unknown_tool(traj: Any, provider: str, mode: str) -> None:
    script = Script(call("delete_everything", {}), text("Lyon has 522,250 inhabitants."))

    def loop(agent: Agent) -> None:
        answer = agent.ask("small")
        if provider == "anthropic":
            failed(agent, answer, "no tool named delete_everything")
        else:
            ok(agent, answer, "Error: no tool named delete_everything")
        agent.ask("small")

    # the invalid call, then a turn spent recovering from the error it earned
    assert play(traj, mode, provider, script, loop) == [(1, ("invalid_tool_call",)), (2, ("tool_error",))]


@pytest.mark.parametrize("mode", MODES)
def test_unparsable_arguments(traj: Any, mode: str) -> None:
    # OpenAI only: Anthropic sends tool input as an object
    script = Script(call("search", {"q": "lyon"}), call("search", '{"q": "lyon area'), text("done"))

    def loop(agent: Agent) -> None:
        ok(agent, agent.ask("small"))
        answer = agent.ask("small")
        ok(agent, answer, "Invalid arguments; please send JSON.")
        agent.ask("small")

    assert play(traj, mode, "openai", script, loop) == [(1, ()), (2, ("invalid_tool_call",)), (3, ())]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_truncated(traj: Any, provider: str, mode: str) -> None:
    # OpenAI finish_reason `length`, Anthropic stop_reason `max_tokens`
    script = Script(
        call("search", {"q": "lyon"}),
        text("Lyon is a city in", finish="length"),
        text("France with 522,250 inhabitants."),
    )

    def loop(agent: Agent) -> None:
        ok(agent, agent.ask("small"))
        agent.ask("small", max_tokens=8)
        agent.say("Continue.")
        agent.ask("small")

    assert play(traj, mode, provider, script, loop) == [(1, ()), (2, ("truncated",)), (3, ())]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_empty(traj: Any, provider: str, mode: str) -> None:
    script = Script(call("search", {"q": "lyon"}), text(""), text("Lyon has 522,250 inhabitants."))

    def loop(agent: Agent) -> None:
        ok(agent, agent.ask("small"))
        agent.ask("small")
        agent.say("Please answer the question.")
        agent.ask("small")

    assert play(traj, mode, provider, script, loop) == [(1, ()), (2, ("empty",)), (3, ())]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_repeated_output(traj: Any, provider: str, mode: str) -> None:
    script = Script(
        text("I could not find the population."),
        text("I could not  find the\npopulation."),
        call("search", {"q": "lyon"}),
        text("Lyon has 522,250 inhabitants."),
    )

    def loop(agent: Agent) -> None:
        agent.ask("small")
        agent.say("Try again.")
        agent.ask("small")  # the same answer, whitespace aside
        agent.say("Use the search tool.")
        ok(agent, agent.ask("small"))
        agent.ask("small")

    assert play(traj, mode, provider, script, loop) == [(1, ()), (2, ("repeated_output",)), (3, ()), (4, ())]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_api_error(traj: Any, provider: str, mode: str) -> None:
    script = Script(call("search", {"q": "lyon"}), Reply(status=500), text("Lyon has 522,250 inhabitants."))

    def loop(agent: Agent) -> None:
        ok(agent, agent.ask("small"))
        answer = agent.ask("small")
        assert answer.error is not None and answer.error.status_code == 500
        agent.ask("small")  # the retry, same history

    harness_turns = play(traj, mode, provider, script, loop)
    assert harness_turns == [(1, ()), (2, ("api_error",)), (3, ())]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_abandoned_stream(traj: Any, provider: str, mode: str) -> None:
    script = Script(
        call("search", {"q": "lyon"}),
        text("Lyon is a large city in the south east of France."),
        text("Lyon has 522,250 inhabitants."),
    )

    def loop(agent: Agent) -> None:
        ok(agent, agent.ask("small"))
        agent.ask_and_abandon("small")  # break after the first chunk, then close()
        agent.ask("small")

    assert play(traj, mode, provider, script, loop) == [(1, ()), (2, ("abandoned_stream",)), (3, ())]


def test_abandoned_stream_span(traj: Any) -> None:
    harness = traj()
    script = Script(text("Lyon is a large city in the south east of France."))
    with otel_agent.agent_run("researcher"):
        Agent("openai", script.client("openai")).ask_and_abandon("small")
    (turn,) = harness.turns()
    assert turn.reasons == ("abandoned_stream",)
    assert turn.span.attributes["otel_agent.stream.end"] == "closed_early"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_reason_that_applies_is_reported(traj: Any, provider: str) -> None:
    # a repeated call that also follows a failed tool result: both reasons, in the documented order
    script = Script(call("search", {"q": "lyon"}), call("search", {"q": "lyon"}), text("done"))

    def loop(agent: Agent) -> None:
        answer = agent.ask("small")
        if provider == "anthropic":
            failed(agent, answer, "rate limited")
        else:
            ok(agent, answer, "Error: rate limited")
        ok(agent, agent.ask("small"))
        agent.ask("small")

    assert play(traj, "explicit", provider, script, loop) == [
        (1, ()),
        (2, ("repeated_tool_call", "tool_error")),
        (3, ()),
    ]


class LongAnswer:
    """A user detector: answers over 40 characters are waste for this agent."""

    reason = "too_long"

    def detect(self, turn: TurnView, memory: RunMemory) -> bool:
        response = turn.record.response
        return response is not None and len(response.text) > 40


class Broken:
    reason = "broken"

    def detect(self, turn: TurnView, memory: RunMemory) -> bool:
        raise RuntimeError("a bug in the user's detector")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_user_detector(traj: Any, provider: str, mode: str) -> None:
    script = Script(
        text("Short answer."),
        text("A very long answer that goes on and on about Lyon."),
        text("Another very long answer that is cut off before it", finish="length"),
    )

    def loop(agent: Agent) -> None:
        register_detector(Broken())  # a failing detector is skipped, never reaches the agent
        register_detector(LongAnswer())
        for _ in range(3):
            agent.ask("small")
            agent.say("Go on.")

    assert play(traj, mode, provider, script, loop) == [(1, ()), (2, ("too_long",)), (3, ("truncated", "too_long"))]


def test_user_detector_counted_in_run_and_metrics(traj: Any) -> None:
    harness = traj()
    register_detector(LongAnswer())
    script = Script(text("A very long answer that goes on and on about Lyon."))
    with otel_agent.agent_run("researcher"):
        Agent("openai", script.client("openai")).ask("small")
    assert harness.run().attributes["otel_agent.run.wasted_turns.too_long"] == 1
    assert harness.counter("otel_agent.turns", otel_agent__turn__waste_reason="too_long") == 1


def test_register_detector_needs_instrument() -> None:
    otel_agent.uninstrument()
    with pytest.raises(RuntimeError, match="instrument"):
        register_detector(LongAnswer())
