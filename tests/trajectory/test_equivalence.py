"""The same agent loop, with and without `agent_run`, gives the same turn structure: indexes, waste reasons,
stagnation and escalations. Inference from the message flow must see what the explicit run sees."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import otel_agent

from ._providers import PROVIDERS, Agent, Reply, Script, call, text


def replies() -> list[Reply]:
    return [
        call("search", {"q": "lyon population"}),  # 1 clean
        call("search", {"q": "lyon population"}),  # 2 repeated call (its result is an error)
        call("lookup", {"id": 7}),  # 3 recovering from the error: stagnating
        call("search", {"q": "lyon area"}),  # 4 on the big model: escalation (stagnation)
        Reply(status=500),  # 5 api error
        text("Lyon has about", finish="length"),  # 6 truncated
        text("Lyon has 522,250 inhabitants and an area"),  # 7 streamed, abandoned after one chunk
        text(""),  # 8 empty
        text("Lyon: 522,250 inhabitants, 47.87 km2."),  # 9 back on the small model: de-escalation
        text("Lyon:  522,250 inhabitants, 47.87 km2."),  # 10 repeated output
        text("Done."),  # 11 clean
    ]


EXPECTED = [
    (1, (), None, False),
    (2, ("repeated_tool_call",), None, False),
    (3, ("tool_error",), None, True),
    (4, (), ("small", "big", "stagnation", "up"), False),
    (5, ("api_error",), None, False),
    (6, ("truncated",), None, True),
    (7, ("abandoned_stream",), None, True),
    (8, ("empty",), None, True),
    (9, (), ("big", "small", "stagnation", "down"), False),
    (10, ("repeated_output",), None, False),
    (11, (), None, False),
]


def loop(agent: Agent) -> None:
    """A plain agent loop: it never looks at otel_agent."""

    def run_tools(answer: Any, failing: bool = False) -> None:
        for call_id, _name, _args in answer.calls:
            if failing:
                agent.results(
                    (
                        call_id,
                        "Error: search backend unavailable"
                        if agent.provider == "openai"
                        else "search backend unavailable",
                        agent.provider == "anthropic",
                    )
                )
            else:
                agent.results((call_id, "Lyon: 522,250 inhabitants", False))

    run_tools(agent.ask("small"))
    run_tools(agent.ask("small"), failing=True)
    run_tools(agent.ask("small"))
    run_tools(agent.ask("big"))
    assert agent.ask("big").error is not None
    agent.ask("big", max_tokens=4)
    agent.say("Continue.")
    agent.ask_and_abandon("big")
    agent.ask("big")
    agent.say("Please answer.")
    agent.ask("small")
    agent.say("Check it once more.")
    agent.ask("small")
    agent.say("Thanks, anything else?")
    agent.ask("small")


async def aloop(agent: Agent) -> None:
    """The same loop on an async client."""

    async def ask(model: str, **kwargs: Any) -> Any:
        return await agent.aask(model, **kwargs)

    def run_tools(answer: Any, failing: bool = False) -> None:
        for call_id, _name, _args in answer.calls:
            if failing:
                agent.results(
                    (
                        call_id,
                        "Error: search backend unavailable"
                        if agent.provider == "openai"
                        else "search backend unavailable",
                        agent.provider == "anthropic",
                    )
                )
            else:
                agent.results((call_id, "Lyon: 522,250 inhabitants", False))

    run_tools(await ask("small"))
    run_tools(await ask("small"), failing=True)
    run_tools(await ask("small"))
    run_tools(await ask("big"))
    assert (await ask("big")).error is not None
    await ask("big", max_tokens=4)
    agent.say("Continue.")
    await agent.aask_and_abandon("big")
    await ask("big")
    agent.say("Please answer.")
    await ask("small")
    agent.say("Check it once more.")
    await ask("small")
    agent.say("Thanks, anything else?")
    await ask("small")


def structure(harness: Any) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    turns = harness.turns()
    assert len({t.run_id for t in turns}) == 1
    run = harness.run()
    roll_up = {
        k: v
        for k, v in run.attributes.items()
        if k.startswith("otel_agent.run.")
        and k not in ("otel_agent.run.id", "otel_agent.run.inferred", "otel_agent.run.end_reason")
    }
    return [(t.index, t.reasons, t.escalation, t.stagnating) for t in turns], roll_up


@pytest.mark.parametrize("provider", PROVIDERS)
def test_same_structure_with_and_without_agent_run(traj: Any, provider: str) -> None:
    harness = traj()
    with otel_agent.agent_run("agent"):
        loop(Agent(provider, Script(*replies()).client(provider)))
    explicit, explicit_roll_up = structure(harness)
    assert explicit == EXPECTED

    harness = traj()
    loop(Agent(provider, Script(*replies()).client(provider)))
    harness.finish()
    inferred, inferred_roll_up = structure(harness)
    assert inferred == explicit
    assert inferred_roll_up == explicit_roll_up
    assert inferred_roll_up["otel_agent.run.turns"] == 11
    assert inferred_roll_up["otel_agent.run.escalations"] == 1
    assert inferred_roll_up["otel_agent.run.deescalations"] == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_same_structure_async(traj: Any, provider: str) -> None:
    harness = traj()

    async def explicit_run() -> None:
        async with otel_agent.agent_run("agent"):
            await aloop(Agent(provider, Script(*replies()).client(provider, is_async=True)))

    asyncio.run(explicit_run())
    explicit, _ = structure(harness)
    harness = traj()
    asyncio.run(aloop(Agent(provider, Script(*replies()).client(provider, is_async=True))))
    harness.finish()
    inferred, _ = structure(harness)
    assert explicit == inferred == EXPECTED
