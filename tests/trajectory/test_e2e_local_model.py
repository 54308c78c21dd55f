"""End to end against the real local model server (llama.cpp + SmolLM2-135M on CPU), through both SDKs.

A clean run, and a wasteful run: a failing tool, the same tool call repeated, an answer truncated by a tiny
`max_tokens` on a larger "model" (the server answers any model name, so `model_tiers` makes one name the bigger
tier): each detected with the right reason on the right turn. The model only calls a tool when told to
(`otel_agent_tools.local_model.recipes`); the tool takes no arguments, so the repeated call is the same call whatever the
model writes. Few, small calls: each can take tens of seconds on a busy CPU.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest

import otel_agent
from otel_agent_tools.local_model.recipes import (
    anthropic_tool_call_kwargs,
    anthropic_tool_result_kwargs,
    anthropic_tool_result_messages,
    openai_tool_call_kwargs,
    openai_tool_result_kwargs,
    openai_tool_result_messages,
)
from tests._model_server_fixture import MODEL_CLIENT_TIMEOUT

pytestmark = pytest.mark.e2e

SMALL, LARGE = "smollm2-small", "smollm2-large"
TIERS = {SMALL: 1, LARGE: 3}
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "The current time (UTC).",
            "parameters": {"type": "object", "properties": {}},
        },
    }
]
ANTHROPIC_TOOLS = [
    {"name": "get_time", "description": "The current time (UTC).", "input_schema": {"type": "object", "properties": {}}}
]
QUESTION = [{"role": "user", "content": "What time is it?"}]


class Clock:
    """The agent's tool: fails its first `failures` calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

        @otel_agent.tool
        def get_time() -> str:
            if self.failures > 0:
                self.failures -= 1
                raise RuntimeError("clock service unavailable")
            return "12:00 UTC"

        self.get_time = get_time

    def run(self, arguments: Any) -> tuple[str, bool]:
        """(result text, failed)"""
        try:
            return self.get_time(**(json.loads(arguments) if isinstance(arguments, str) else dict(arguments))), False
        except RuntimeError as error:
            return f"Error: {error}", True


def openai_client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_base_url, api_key="x", timeout=MODEL_CLIENT_TIMEOUT, max_retries=0)


def anthropic_client(server: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.base_url, api_key="x", timeout=MODEL_CLIENT_TIMEOUT, max_retries=0)


def tool_use(message: Any) -> Any:
    (block,) = [b for b in message.content if b.type == "tool_use"]
    return block


def structure(harness: Any) -> list[tuple[int, tuple[str, ...], Any]]:
    turns = harness.turns()
    assert len({t.run_id for t in turns}) == 1, [(t.run_id, t.index) for t in turns]
    return [(t.index, t.reasons, t.escalation) for t in turns]


def check_tools(harness: Any, failed: list[bool]) -> None:
    run = harness.run()
    tools = harness.tools()
    # the decorated tool's spans only: the calls were seen, so no inferred span repeats them
    assert [s.attributes["otel_agent.tool.source"] for s in tools] == ["decorator"] * len(failed)
    assert [s.attributes["otel_agent.tool.is_error"] for s in tools] == failed
    assert [s.attributes["otel_agent.turn.index"] for s in tools] == list(range(1, len(failed) + 1))
    assert all(s.parent.span_id == run.context.span_id for s in tools)


def test_clean_run_openai(traj: Any, model_server: Any) -> None:
    harness = traj(model_tiers=TIERS)
    client, clock = openai_client(model_server), Clock(failures=0)
    with otel_agent.agent_run("clock-agent") as run:
        first = client.chat.completions.create(
            **openai_tool_call_kwargs(OPENAI_TOOLS, QUESTION, tool_name="get_time", model=SMALL)
        )
        assert first.choices[0].finish_reason == "tool_calls"
        (call,) = first.choices[0].message.tool_calls
        result, _ = clock.run(call.function.arguments)
        answer = client.chat.completions.create(
            **openai_tool_result_kwargs(OPENAI_TOOLS, QUESTION, call, result, model=SMALL, max_tokens=96)
        )
        assert answer.choices[0].finish_reason == "stop"
        run.set_outcome(success=True, score=1.0)
    assert structure(harness) == [(1, (), None), (2, (), None)]
    check_tools(harness, [False])
    a = harness.run().attributes
    assert (a["otel_agent.run.turns"], a["otel_agent.run.wasted_turns"]) == (2, 0)
    assert a["otel_agent.run.input_tokens"] > 0 and a["otel_agent.run.output_tokens"] > 0
    assert a["otel_agent.run.score_per_1k_tokens"] > 0


def test_clean_run_anthropic_inferred(traj: Any, model_server: Any) -> None:
    harness = traj(model_tiers=TIERS)
    client, clock = anthropic_client(model_server), Clock(failures=0)
    first = client.messages.create(
        **anthropic_tool_call_kwargs(ANTHROPIC_TOOLS, QUESTION, tool_name="get_time", model=SMALL)
    )
    assert first.stop_reason == "tool_use"
    block = tool_use(first)
    result, _ = clock.run(block.input)
    answer = client.messages.create(
        **anthropic_tool_result_kwargs(ANTHROPIC_TOOLS, QUESTION, block, result, model=SMALL, max_tokens=96)
    )
    assert answer.stop_reason == "end_turn"
    harness.finish()
    assert structure(harness) == [(1, (), None), (2, (), None)]
    check_tools(harness, [False])
    assert harness.run().attributes["otel_agent.run.inferred"] is True


def test_wasteful_run_openai_inferred(traj: Any, model_server: Any) -> None:
    """No agent_run: the run is inferred from the message flow; the move to the larger model after a wasted turn is
    a stagnation-driven escalation."""
    harness = traj(model_tiers=TIERS)
    client, clock = openai_client(model_server), Clock(failures=1)
    first = client.chat.completions.create(
        **openai_tool_call_kwargs(OPENAI_TOOLS, QUESTION, tool_name="get_time", model=SMALL)
    )
    (call,) = first.choices[0].message.tool_calls
    result, failed = clock.run(call.function.arguments)
    assert failed
    history = openai_tool_result_messages(QUESTION, call, result)
    again = client.chat.completions.create(
        **openai_tool_call_kwargs(OPENAI_TOOLS, history, tool_name="get_time", model=SMALL)
    )
    (call,) = again.choices[0].message.tool_calls
    result, failed = clock.run(call.function.arguments)
    assert not failed
    cut = client.chat.completions.create(
        **openai_tool_result_kwargs(OPENAI_TOOLS, history, call, result, model=LARGE, max_tokens=2)
    )
    assert cut.choices[0].finish_reason == "length"
    harness.finish()
    assert structure(harness) == [
        (1, (), None),
        (2, ("repeated_tool_call", "tool_error"), None),
        (3, ("truncated",), (SMALL, LARGE, "stagnation", "up")),
    ]
    check_tools(harness, [True, False])
    a = harness.run().attributes
    assert a["otel_agent.run.inferred"] is True
    assert a["otel_agent.run.wasted_turns.repeated_tool_call"] == 1
    assert a["otel_agent.run.wasted_turns.truncated"] == 1
    assert a["otel_agent.run.escalations"] == 1
    assert a["otel_agent.run.models"] == (SMALL, LARGE)
    assert a["otel_agent.run.stagnated"] is True and a["otel_agent.run.missed_escalation"] is False


def test_wasteful_run_anthropic_explicit_escalation(traj: Any, model_server: Any) -> None:
    harness = traj(model_tiers=TIERS)
    client, clock = anthropic_client(model_server), Clock(failures=1)
    with otel_agent.agent_run("clock-agent") as run:
        first = client.messages.create(
            **anthropic_tool_call_kwargs(ANTHROPIC_TOOLS, QUESTION, tool_name="get_time", model=SMALL)
        )
        block = tool_use(first)
        result, failed = clock.run(block.input)
        history = anthropic_tool_result_messages(QUESTION, block, result, is_error=failed)
        again = client.messages.create(
            **anthropic_tool_call_kwargs(ANTHROPIC_TOOLS, history, tool_name="get_time", model=SMALL)
        )
        block = tool_use(again)
        result, failed = clock.run(block.input)
        assert not failed
        assert run.stats.wasted_turns == 1 and not run.stagnating
        run.escalate(LARGE, reason="stuck on the clock tool")
        cut = client.messages.create(
            **anthropic_tool_result_kwargs(ANTHROPIC_TOOLS, history, block, result, model=LARGE, max_tokens=2)
        )
        assert cut.stop_reason == "max_tokens"
        assert run.stagnating and run.should_escalate()  # two wasted turns in a row
        run.set_outcome(success=False)
    assert structure(harness) == [
        (1, (), None),
        (2, ("repeated_tool_call", "tool_error"), None),
        (3, ("truncated",), (SMALL, LARGE, "explicit", "up")),
    ]
    check_tools(harness, [True, False])
    a = harness.run().attributes
    assert a["otel_agent.run.outcome"] == "failure"
    assert a["otel_agent.run.wasted_turns"] == 2
    assert (
        harness.counter(
            "otel_agent.escalations",
            otel_agent__escalation__reason="explicit",
            otel_agent__escalation__from_model=SMALL,
            otel_agent__escalation__to_model=LARGE,
        )
        == 1
    )
