"""Request arguments that make SmolLM2-135M on the local model server emit exactly one tool call, and the follow-up
requests that send the tool's result back. For the OpenAI and the Anthropic SDK.

    kwargs = openai_tool_call_kwargs(tools, messages)            # -> client.chat.completions.create(**kwargs)
    kwargs = anthropic_tool_call_kwargs(tools, messages)         # -> client.messages.create(**kwargs) / .stream(**kwargs)

Why a recipe: a 135M model never chooses a tool by itself, and `tool_choice="required"` alone does not constrain
it (it answers in prose, finish_reason "length"). What works every time (checked on several tools, one to three
parameters, integer and string arguments, no parameters):

- the last message is an assistant *prefill* `"<tool_call>\\n"` (`TOOL_CALL_PREFILL`): the server continues that
  assistant turn, so the model writes `{"name": ..., "arguments": {...}}` in the Hermes layout of our chat template;
  with `tool_name=...` the prefill also holds `{"name": "<tool_name>", "arguments": ` and the model only writes the
  arguments (fewer tokens, and the only way to pick one of several tools: by itself the model calls the first one).
  Not for streaming: when any of the call's JSON is in the prefill, the server's streamed deltas lose the first
  arguments fragment (OpenAI `delta.tool_calls` arguments start at `"city"...` without the `{`; the anthropic SDK's
  `messages.stream` raises "Unable to parse tool parameter JSON"); the non-streamed response is complete. To force
  one tool while streaming, pass only that tool;
- OpenAI `tool_choice="required"` / Anthropic `tool_choice={"type": "any"}`: the server then parses the output as a
  tool call (with `"auto"` and the prefill it answers HTTP 500 "does not match the expected peg-native format"; so
  does a named OpenAI `tool_choice={"type": "function", ...}`);
- `stop=["</tool_call>"]` / `stop_sequences=["</tool_call>"]` (`TOOL_CALL_STOP`): exactly one call, then stop;
- temperature 0 and a fixed seed.

Facts verified against xllamacpp 2026.10.11549 with openai 3.54 and anthropic 2.12 (and surprises):

- OpenAI chat: `finish_reason` is "stop", "length" or "tool_calls"; `message.content` is "" (not None) next to
  `tool_calls`; a call's `id` is a random 32-char string (no "call_" prefix); `function.arguments` is a JSON string,
  often pretty-printed (`'{\\n    "city": "Paris"\\n}'`): parse it, don't compare text.
- OpenAI usage: `prompt_tokens`, `completion_tokens`, `total_tokens`, `prompt_tokens_details.cached_tokens` (prompt
  cache hits, included in `prompt_tokens`); `completion_tokens_details` is None (no `reasoning_tokens`). The
  response has an extra non-standard `timings` object. `model` is always the alias "smollm2";
  `system_fingerprint` is "b0-unknown".
- OpenAI streaming: the first chunk has `delta.role="assistant"` and no content; the finish chunk has an empty delta;
  with `stream_options={"include_usage": True}` one last chunk has `choices=[]` and the usage (otherwise no usage).
  A streamed tool call: the first `delta.tool_calls[0]` carries `id`, `type` and `function.name` with the first
  arguments fragment, later ones only `function.arguments` fragments; finish_reason "tool_calls".
- Responses API (`client.responses.create`, plain and `stream=True`) works: `output[0]` is a message with one
  `output_text`; usage has `input_tokens` (cache hits included), `input_tokens_details.cached_tokens`,
  `output_tokens`, `total_tokens`, no `output_tokens_details`. Surprise: `status` is "completed" and
  `incomplete_details` None even when `max_output_tokens` cut the answer short; `temperature`, `max_output_tokens`
  etc. are echoed as None. Streaming emits response.created, response.in_progress, response.output_item.added,
  response.content_part.added, response.output_text.delta..., response.output_text.done, response.content_part.done,
  response.output_item.done, response.completed (with usage) - but `sequence_number` and `output_index` are None.
- Anthropic: `messages.create` in anthropic 2.x has no `temperature`/`top_k` parameters: sampling goes in
  `extra_body={"temperature": 0, "seed": 42}` (the server honours it). `stop_reason` is "end_turn", "max_tokens"
  or "tool_use". Surprise: with the recipe, `stop_reason="tool_use"` *and* `stop_sequence="</tool_call>"` (the
  real API leaves stop_sequence None on tool_use). Tool-use ids are random 32-char strings (no "toolu_" prefix).
- Anthropic usage: `input_tokens` counts only tokens not served from the prompt cache; hits are in
  `cache_read_input_tokens` (a repeated prompt shows `input_tokens=1`): assert on the sum.
  `cache_creation_input_tokens` and `output_tokens_details` are None.
- Anthropic `messages.stream` events: message_start (usage so far), content_block_start (a `text` block, or a
  `tool_use` block with id and name and `input=None`), content_block_delta (`text_delta`, or `input_json_delta`
  with `partial_json` fragments), content_block_stop, message_delta (stop_reason, stop_sequence, `usage.output_tokens`
  only; input/cache fields None), message_stop. The SDK adds its own `text` / `input_json` events in between;
  `get_final_message()` returns the full message with usage.
- Sending the result back: OpenAI `{"role": "tool", "tool_call_id": ..., "content": ...}` after the assistant
  message with `tool_calls`, and Anthropic `tool_result` blocks (string or text-block content), are accepted; the
  template puts them in a user turn inside `<tool_response></tool_response>`. The model then answers in text
  (finish_reason "stop" / stop_reason "end_turn"), often by echoing the result, sometimes starting with a literal
  "<tool_response>". Anthropic `is_error: true` is accepted but ignored: `count_tokens` is the same with and
  without it, so the model never sees the flag (put "error" in the content if it matters).
  The follow-up helpers set `tool_choice="none"` (Anthropic `{"type": "none"}`) so the model cannot start another
  call ("auto" also worked, but a stray "<tool_call>" in the reply could then fail to parse).
- Dropped connections: now and then (1 in 100 requests of a stream/create loop on a loaded machine, and once in a
  test run) a request fails at once with httpx's RemoteProtocolError "Server disconnected without sending a
  response", i.e. `APIConnectionError`; the server keeps running. Most likely the keep-alive race: the server
  answers `Keep-Alive: timeout=5, max=100` (not configurable in xllamacpp) and closes a pooled connection just as the
  client reuses it. Keep the SDKs' retries on (`max_retries` >= 1; the default is 2): with them, no failures.
- Speed: ~0.35 s for a short reply on an idle 2-core machine, but 10-80 s per request when the CPU is shared (the
  first request with a new tools system prompt has ~200 prompt tokens to process): use generous client timeouts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .server import MODEL_ALIAS

TOOL_CALL_PREFILL = "<tool_call>\n"
TOOL_CALL_STOP = "</tool_call>"
DEFAULT_SEED = 42


def tool_call_prefill(tool_name: str | None = None) -> str:
    """The assistant prefill: `"<tool_call>\\n"`, plus `{"name": "<tool_name>", "arguments": ` to force that tool."""
    if tool_name is None:
        return TOOL_CALL_PREFILL
    return TOOL_CALL_PREFILL + '{"name": ' + json.dumps(tool_name) + ', "arguments": '


def _without_prefill(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The messages, minus a trailing assistant prefill left by a *_tool_call_kwargs call."""
    out = [dict(m) for m in messages]
    if out and out[-1].get("role") == "assistant" and isinstance(out[-1].get("content"), str):
        if out[-1]["content"].startswith(TOOL_CALL_PREFILL):
            out.pop()
    return out


def _get(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, Mapping) else getattr(obj, name)


# -- OpenAI chat completions -----------------------------------------------------------------------------------


def openai_tool_call_kwargs(
    tools: Sequence[Mapping[str, Any]],
    messages: Sequence[Mapping[str, Any]],
    *,
    tool_name: str | None = None,
    model: str = MODEL_ALIAS,
    max_tokens: int = 64,
    seed: int = DEFAULT_SEED,
    stream: bool = False,
) -> dict[str, Any]:
    """Arguments for `client.chat.completions.create(**kwargs)` that yield exactly one tool call.

    `tools` in OpenAI form (`{"type": "function", "function": {"name", "description", "parameters"}}`).
    Appends the assistant prefill message (`"<tool_call>\\n"`, or with `tool_name` the call's head too), sets
    `tool_choice="required"`, `stop=["</tool_call>"]`, temperature 0, `seed`, `max_tokens` (a call takes 15-50
    tokens). Result: `finish_reason="tool_calls"`, `message.tool_calls` with one call. With `stream=True` also
    `stream_options={"include_usage": True}`; `tool_name` cannot be streamed (ValueError: see the module docs).
    """
    if stream and tool_name is not None:
        raise ValueError(
            "tool_name cannot be streamed: the server drops the first arguments fragment; pass only that tool instead"
        )
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [*(dict(m) for m in messages), {"role": "assistant", "content": tool_call_prefill(tool_name)}],
        "tools": [dict(t) for t in tools],
        "tool_choice": "required",
        "stop": [TOOL_CALL_STOP],
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": seed,
    }
    if stream:
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
    return kwargs


def openai_tool_result_messages(
    messages: Sequence[Mapping[str, Any]],
    tool_call: Any,
    result: str,
) -> list[dict[str, Any]]:
    """`messages` (minus the prefill) + the assistant message with `tool_call` + the `role: "tool"` result.

    `tool_call` is `response.choices[0].message.tool_calls[0]` (SDK object) or the same as a dict.
    """
    function = _get(tool_call, "function")
    call_id = _get(tool_call, "id")
    return [
        *_without_prefill(messages),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": _get(function, "name"), "arguments": _get(function, "arguments")},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": result},
    ]


def openai_tool_result_kwargs(
    tools: Sequence[Mapping[str, Any]],
    messages: Sequence[Mapping[str, Any]],
    tool_call: Any,
    result: str,
    *,
    model: str = MODEL_ALIAS,
    max_tokens: int = 32,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Arguments for the follow-up `chat.completions.create`: the tool's result sent back, a text answer expected
    (`tool_choice="none"`, temperature 0, `seed`). Result: finish_reason "stop" or "length", text content."""
    return {
        "model": model,
        "messages": openai_tool_result_messages(messages, tool_call, result),
        "tools": [dict(t) for t in tools],
        "tool_choice": "none",
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": seed,
    }


# -- Anthropic messages ----------------------------------------------------------------------------------------


def anthropic_tool_call_kwargs(
    tools: Sequence[Mapping[str, Any]],
    messages: Sequence[Mapping[str, Any]],
    *,
    tool_name: str | None = None,
    model: str = MODEL_ALIAS,
    max_tokens: int = 64,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Arguments for `client.messages.create(**kwargs)` or `client.messages.stream(**kwargs)`: exactly one tool use.

    `tools` in Anthropic form (`{"name", "description", "input_schema"}`). Appends the assistant prefill message,
    sets `tool_choice={"type": "any"}`, `stop_sequences=["</tool_call>"]`, `max_tokens`, and
    `extra_body={"temperature": 0, "seed": seed}` (anthropic 2.x has no temperature argument). Result:
    `stop_reason="tool_use"` (with `stop_sequence="</tool_call>"`), one `tool_use` block with a parsed `input`.
    With `tool_name`, use `messages.create` only: `messages.stream` then fails to parse the tool input (module docs).
    """
    return {
        "model": model,
        "max_tokens": max_tokens,
        "messages": [*(dict(m) for m in messages), {"role": "assistant", "content": tool_call_prefill(tool_name)}],
        "tools": [dict(t) for t in tools],
        "tool_choice": {"type": "any"},
        "stop_sequences": [TOOL_CALL_STOP],
        "extra_body": {"temperature": 0, "seed": seed},
    }


def anthropic_tool_result_messages(
    messages: Sequence[Mapping[str, Any]],
    tool_use: Any,
    result: str | Sequence[Mapping[str, Any]],
    *,
    is_error: bool = False,
) -> list[dict[str, Any]]:
    """`messages` (minus the prefill) + the assistant `tool_use` block + a user `tool_result` block.

    `tool_use` is the response's `ToolUseBlock` (SDK object) or the same as a dict. `is_error` is sent, but this
    server ignores it: the model only sees `result`.
    """
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": _get(tool_use, "id"), "content": result}
    if is_error:
        block["is_error"] = True
    return [
        *_without_prefill(messages),
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": _get(tool_use, "id"),
                    "name": _get(tool_use, "name"),
                    "input": dict(_get(tool_use, "input") or {}),
                }
            ],
        },
        {"role": "user", "content": [block]},
    ]


def anthropic_tool_result_kwargs(
    tools: Sequence[Mapping[str, Any]],
    messages: Sequence[Mapping[str, Any]],
    tool_use: Any,
    result: str | Sequence[Mapping[str, Any]],
    *,
    is_error: bool = False,
    model: str = MODEL_ALIAS,
    max_tokens: int = 32,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Arguments for the follow-up `messages.create`: the tool result sent back, a text answer expected
    (`tool_choice={"type": "none"}`). Result: stop_reason "end_turn" or "max_tokens", one text block."""
    return {
        "model": model,
        "max_tokens": max_tokens,
        "messages": anthropic_tool_result_messages(messages, tool_use, result, is_error=is_error),
        "tools": [dict(t) for t in tools],
        "tool_choice": {"type": "none"},
        "extra_body": {"temperature": 0, "seed": seed},
    }
