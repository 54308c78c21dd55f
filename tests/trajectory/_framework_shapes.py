"""Agents that rewrite their history between turns, exactly as the frameworks send it (stand-ins for the frameworks).

smolagents, llama-index and CrewAI pin dependencies that conflict with this project's (CrewAI and llama-index pin
`openai<3`), so they are not installed; these loops reproduce the request shapes those frameworks send (recorded in
../shared/notes/frameworks-and-providers.md and the frameworks' own message renderers), through the real openai and
anthropic SDKs over `httpx2.MockTransport`:

- smolagents `ToolCallingAgent` (`ActionStep.to_messages` + `get_clean_message_list`): the model's tool calls come back
  as an assistant text "Calling tools:\\n[{'id': ..., 'type': 'function', 'function': {...}}]" (a Python repr, ids
  included), the results as a user message "Observation:\\n...", content as lists of text parts.
- llama-index `ReActAgent` (`ReActChatFormatter`): the ReAct text protocol; the answer's "Action Input" is re-rendered
  from the parsed dict (`str(dict)`: single quotes), the result as a user "Observation: ..." message.
- CrewAI with Anthropic: the assistant's answer re-sent with its `tool_use` blocks only (the text block dropped), the
  results as `tool_result` blocks.

Each agent runs its tools through functions decorated with `@otel_agent.tool` when `tools` are given, as an
application would; the tool runs in the task that made the model call.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._providers import TOOLS

SYSTEM = "You are a helpful agent. You can use the tools search and lookup."
ToolFn = Callable[..., Any]


def _openai_tools() -> list[dict[str, Any]]:
    return [
        {"type": "function", "function": {"name": n, "description": f"{n} tool", "parameters": TOOLS[n]}}
        for n in ("search", "lookup")
    ]


@dataclass
class Turned:
    """One model answer as the loop saw it."""

    id: str
    text: str
    calls: list[tuple[str, str, dict[str, Any]]]  # (call id, name, arguments)
    input_tokens: int
    output_tokens: int


@dataclass
class ShapedAgent:
    """`shape`: smolagents | llamaindex_react | crewai_anthropic. `client`: sync or async SDK client."""

    shape: str
    client: Any
    task: str
    tools: dict[str, ToolFn] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    answers: list[Turned] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.shape == "smolagents":
            self.messages = [
                {"role": "system", "content": [{"type": "text", "text": SYSTEM}]},
                {"role": "user", "content": [{"type": "text", "text": f"New task:\n{self.task}"}]},
            ]
        elif self.shape == "llamaindex_react":
            self.messages = [
                {
                    "role": "system",
                    "content": SYSTEM + "\n## Output Format\nThought: ...\nAction: ...\nAction Input: ...",
                },
                {"role": "user", "content": self.task},
            ]
        else:
            self.messages = [{"role": "user", "content": self.task}]

    # -- requests ----------------------------------------------------------------------------------------------------
    def _kwargs(self) -> dict[str, Any]:
        if self.shape == "crewai_anthropic":
            return {
                "model": "claude-sonnet-4-5",
                "system": SYSTEM,
                "max_tokens": 1024,
                "messages": list(self.messages),
                "tools": [
                    {"name": n, "description": f"{n} tool", "input_schema": TOOLS[n]} for n in ("search", "lookup")
                ],
            }
        kwargs: dict[str, Any] = {"model": "gpt-4o-mini", "messages": list(self.messages)}
        if self.shape == "smolagents":
            kwargs["tools"] = _openai_tools()
            kwargs["tool_choice"] = "required"
        else:
            kwargs["stop"] = ["Observation:"]
        return kwargs

    def _create(self) -> Any:
        if self.shape == "crewai_anthropic":
            return self.client.messages.create
        return self.client.chat.completions.create

    def _read(self, response: Any) -> Turned:
        if self.shape == "crewai_anthropic":
            blocks = [b.model_dump(exclude_none=True) for b in response.content]
            text = "".join(b.get("text", "") for b in blocks if b["type"] == "text")
            calls = [(b["id"], b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"]
            usage = response.usage
            return Turned(response.id, text, calls, usage.input_tokens, usage.output_tokens)
        message = response.choices[0].message
        calls = [(c.id, c.function.name, json.loads(c.function.arguments)) for c in (message.tool_calls or ())]
        usage = response.usage
        return Turned(response.id, message.content or "", calls, usage.prompt_tokens, usage.completion_tokens)

    # -- what the framework sends back -----------------------------------------------------------------------------
    def _run_tool(self, name: str, arguments: dict[str, Any]) -> str:
        tool = self.tools.get(name)
        return str(tool(**arguments)) if tool is not None else f"{name}: done"

    def _follow(self, answer: Turned) -> bool:
        """Append what the framework re-sends for this answer; False when the agent is done."""
        if self.shape == "smolagents":
            if not answer.calls:
                return False
            rendered = [
                {"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in answer.calls
            ]
            observations = "\n".join(self._run_tool(n, a) for _i, n, a in answer.calls)
            self.messages.append(
                {"role": "assistant", "content": [{"type": "text", "text": "Calling tools:\n" + str(rendered)}]}
            )
            self.messages.append(
                {"role": "user", "content": [{"type": "text", "text": f"Observation:\n{observations}"}]}
            )
            return True
        if self.shape == "llamaindex_react":
            if "Action:" not in answer.text:
                return False
            thought = answer.text.split("\nAction:")[0]
            action = answer.text.split("Action:")[1].split("\n")[0].strip()
            action_input = json.loads(answer.text.split("Action Input:")[1].strip())
            self.messages.append(
                {"role": "assistant", "content": f"{thought}\nAction: {action}\nAction Input: {action_input}"}
            )
            self.messages.append({"role": "user", "content": f"Observation: {self._run_tool(action, action_input)}"})
            return True
        if not answer.calls:
            return False
        self.messages.append(
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in answer.calls],
            }
        )
        self.messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": i, "content": self._run_tool(n, a)}
                    for i, n, a in answer.calls
                ],
            }
        )
        return True

    def run(self, max_turns: int = 6) -> list[Turned]:
        for _ in range(max_turns):
            answer = self._read(self._create()(**self._kwargs()))
            self.answers.append(answer)
            if not self._follow(answer):
                break
        return self.answers

    async def arun(self, max_turns: int = 6, pause: Callable[[], Any] | None = None) -> list[Turned]:
        for _ in range(max_turns):
            answer = self._read(await self._create()(**self._kwargs()))
            self.answers.append(answer)
            if pause is not None:
                await pause()
            if not self._follow(answer):
                break
        return self.answers


def react_text(action: str, arguments: dict[str, Any]) -> str:
    """What a model answers in the ReAct protocol (JSON action input, as the prompt asks)."""
    return (
        "Thought: The current language of the user is: English. I need to use a tool to help me answer the question."
        f"\nAction: {action}\nAction Input: {json.dumps(arguments)}"
    )


REACT_ANSWER = "Thought: I can answer without using any more tools.\nAnswer: Lyon has 522,250 inhabitants."
