"""A real instrumented agent workload for the live dashboard test: the demo's triage-agent setting (two price tiers of
SmolLM2-135M on the local llama.cpp server, the demo's user prices, its decorated tools), arranged so that every
signal the dashboards show happens in every round:

  run "escalates"        two short-tier answers cut at 12 tokens with a failing tool call between them (truncated,
                         tool_error: the run stagnates) -> escalation up to the long tier -> a successful tool call ->
                         back to the short tier (a de-escalation); outcome success, score 1.0
  run "clean"            a tool call and one long-tier answer; outcome success, score 0.8
  run "never-escalates"  two truncated short-tier answers: stagnates and never escalates (a missed escalation);
                         outcome failure, score 0.0
  run "self-hosted"      one answer from a model with no token price, priced by GPU-hour (`gpu_hourly_price`) as a
                         self-hosted model on a local endpoint; outcome success, score 0.5

Outcomes are set by the workload, not read from the model's answers, so the success panels do not depend on what a
135M model happens to say. The agent code calls the tools itself (no model tool-calling needed).
"""

from __future__ import annotations

from typing import Any

import otel_agent
from otel_agent_tools.demo.agent import LONG, PRICES, SHORT, SYSTEM, TIERS, lookup_order, search_docs

AGENT = "support-triage"
SELF_HOSTED = "smollm2-135m/self-hosted"  # no user price: GPU-hour priced
GPU_HOURLY_PRICE = 2.0
RUNS_PER_ROUND = 4
CALLS_PER_ROUND = 8

__all__ = [
    "AGENT",
    "CALLS_PER_ROUND",
    "GPU_HOURLY_PRICE",
    "PRICES",
    "RUNS_PER_ROUND",
    "SELF_HOSTED",
    "TIERS",
    "run_round",
]


def _answer(client: Any, messages: list[dict[str, Any]], model: str) -> str:
    reply = client.chat.completions.create(
        model=model, messages=messages, temperature=0, seed=7, max_tokens=96 if model == LONG else 12
    )
    choice = reply.choices[0]
    messages.append({"role": "assistant", "content": choice.message.content or ""})
    messages.append({"role": "user", "content": "Go on."})
    return choice.finish_reason or ""


def _tool(messages: list[dict[str, Any]], function: Any, **arguments: Any) -> None:
    try:
        result = function(**arguments)
    except Exception as error:  # agents report tool failures back to the model
        result = f"Error: {error}"
    messages.append({"role": "user", "content": f"Tool {function.__name__} returned: {result}"})


def run_round(client: Any) -> None:
    with otel_agent.agent_run(AGENT, scenario="escalates") as run:
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Where is my order A-1042? Also, how do returns work?"},
        ]
        _answer(client, messages, SHORT)
        _tool(messages, search_docs, query="returns")
        _answer(client, messages, SHORT)
        run.escalate(LONG, reason="stagnating on short answers")  # the model change escalates; this names why
        _answer(client, messages, LONG)
        _tool(messages, lookup_order, order_id="A-1042")
        _answer(client, messages, SHORT)  # back to the cheap tier: a de-escalation
        run.set_outcome(success=True, score=1.0)
    with otel_agent.agent_run(AGENT, scenario="clean") as run:
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Status of order A-2001?"}]
        _tool(messages, lookup_order, order_id="A-2001")
        _answer(client, messages, LONG)
        run.set_outcome(success=True, score=0.8)
    with otel_agent.agent_run(AGENT, scenario="never-escalates") as run:
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Explain your refund policy in detail."},
        ]
        for _ in range(2):
            _answer(client, messages, SHORT)
        run.set_outcome(success=False, score=0.0)
    with otel_agent.agent_run(AGENT, scenario="self-hosted") as run:
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Hello!"}]
        _answer(client, messages, SELF_HOSTED)
        run.set_outcome(success=True, score=0.5)
