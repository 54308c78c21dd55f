"""The demo's agent: a small support-triage agent with tools, run against the real local model.

What it shows, honestly: the model is SmolLM2-135M-Instruct served by llama.cpp on this machine. The two "tiers" the
agent escalates between are the same weights with different token budgets and different prices that the demo
configures (user prices, not list prices): `smollm2-135m/short` (12-token answers, cheap) and `smollm2-135m/long`
(96-token answers, 20x the price). Tool calls are forced by the recipe in `otel_agent_tools.local_model.recipes`, because a
135M model never chooses a tool by itself. The waste is real: a failing tool, answers cut at the token limit, and
the stagnation signal that makes the agent escalate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import otel_agent
from otel_agent_tools.local_model import openai_tool_call_kwargs

SHORT = "smollm2-135m/short"
LONG = "smollm2-135m/long"
TIERS = {SHORT: 1, LONG: 2}
PRICES = {  # USD per million tokens: the demo's own prices, declared as user prices
    SHORT: {"input": 0.05, "output": 0.20},
    LONG: {"input": 1.00, "output": 4.00},
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Order status by order id",
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search_docs",
            "description": "Search the help centre",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
        },
    },
]
SYSTEM = "You are a support agent. Use tools to look up orders. Answer briefly."


@otel_agent.tool
def lookup_order(order_id: str = "A-1042") -> str:
    return json.dumps({"order_id": order_id, "status": "shipped", "carrier": "DHL", "eta_days": 2})


@otel_agent.tool
def search_docs(query: str = "") -> str:
    raise ConnectionError("help-centre search is down (HTTP 503)")


TOOL_FUNCTIONS: dict[str, Callable[..., str]] = {"lookup_order": lookup_order, "search_docs": search_docs}


def _finish_words(finish: str) -> str:
    """The finish reason in words a newcomer reads: ``length`` is a cut-off answer, the demo's wasted turns."""
    return {"stop": "finished", "length": "cut off at the token limit", "tool_calls": "asked for a tool"}.get(
        finish, f"finish reason {finish}"
    )


class TriageAgent:
    """One agent, three runs: a wasteful run that escalates, a clean run, and a run that stagnates unescalated."""

    def __init__(self, client: Any, progress: Callable[[str], None]) -> None:
        self._client = client
        self._progress = progress

    # -- steps ----------------------------------------------------------------------------------------------------
    def _tool_turn(self, messages: list[dict[str, Any]], model: str, tool: str) -> None:
        kwargs = openai_tool_call_kwargs(TOOLS, messages, tool_name=tool, model=model, max_tokens=48, seed=7)
        reply = self._client.chat.completions.create(**kwargs)
        message = reply.choices[0].message
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls or ():
            function = TOOL_FUNCTIONS.get(call.function.name)
            try:
                arguments = json.loads(call.function.arguments or "{}")
                result = function(**arguments) if function else f"Error: unknown tool {call.function.name}"
            except Exception as error:  # the agent reports tool failures back to the model, as agents do
                result = f"Error: {error}"
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
            self._progress(f"    tool {call.function.name}({call.function.arguments}) -> {result[:60]}")

    def _answer_turn(self, messages: list[dict[str, Any]], model: str) -> str:
        budget = 12 if model == SHORT else 96
        reply = self._client.chat.completions.create(
            model=model,
            messages=messages + [{"role": "user", "content": "Reply to the customer now."}],
            temperature=0,
            seed=7,
            max_tokens=budget,
        )
        choice = reply.choices[0]
        messages.append({"role": "assistant", "content": choice.message.content or ""})
        return choice.finish_reason or ""

    def _turn_note(self, run: Any) -> str:
        stats = run.stats
        return (
            f"turns={stats.turns} wasted={stats.wasted_turns} "
            f"{'STAGNATING ' if run.stagnating else ''}cost=${stats.cost:.6f}"
        )

    # -- runs -----------------------------------------------------------------------------------------------------
    def wasteful_run_that_escalates(self) -> None:
        with otel_agent.agent_run("support-triage", scenario="escalates") as run:
            messages = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Where is my order A-1042? Also, how do returns work?"},
            ]
            model = SHORT
            self._tool_turn(messages, model, "lookup_order")
            self._progress(f"  turn 1 [{model}] tool call: {self._turn_note(run)}")
            self._tool_turn(messages, model, "lookup_order")
            self._progress(f"  turn 2 [{model}] the same tool call again: {self._turn_note(run)}")
            self._tool_turn(messages, model, "search_docs")
            self._progress(f"  turn 3 [{model}] tool call: {self._turn_note(run)}")
            grounded = list(messages)  # the conversation up to the tool results, before any answer attempt
            for attempt in range(4, 8):
                finish = self._answer_turn(messages, model)
                self._progress(f"  turn {attempt} [{model}] answer ({_finish_words(finish)}): {self._turn_note(run)}")
                if finish == "stop":
                    break
                if run.should_escalate() and model == SHORT:
                    self._progress("  -> run.should_escalate() is true: escalating to the long tier")
                    run.escalate(LONG, reason="stagnating on short answers")
                    model = LONG
                    messages = list(grounded)  # the larger tier starts from the grounded context, not the failures
            run.set_outcome(success=finish == "stop", score=1.0 if finish == "stop" else 0.2)

    def clean_run(self) -> None:
        with otel_agent.agent_run("support-triage", scenario="clean") as run:
            messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Status of order A-2001?"}]
            self._tool_turn(messages, LONG, "lookup_order")
            self._progress(f"  turn 1 [{LONG}] tool call: {self._turn_note(run)}")
            finish = self._answer_turn(messages, LONG)
            self._progress(f"  turn 2 [{LONG}] answer ({_finish_words(finish)}): {self._turn_note(run)}")
            run.set_outcome(success=finish == "stop", score=1.0 if finish == "stop" else 0.5)

    def stagnating_run_without_escalation(self) -> None:
        with otel_agent.agent_run("support-triage", scenario="never-escalates") as run:
            messages = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Explain your refund policy in detail."},
            ]
            for index in (1, 2, 3):
                finish = self._answer_turn(messages, SHORT)
                self._progress(f"  turn {index} [{SHORT}] answer ({_finish_words(finish)}): {self._turn_note(run)}")
            run.set_outcome(success=False, score=0.0)
