"""Wasted-turn detectors: a small interface, a closed list of built-in reasons, room for the user's own.

A detector looks at one finished turn (`TurnView`) and the run's bounded memory (`RunMemory`) and returns True when
the turn was wasted for its reason. Each costs O(new content): it reads only this turn's response and the request's
new messages, and set look-ups in the run's memory.

Built-in reasons (`WASTE_REASONS`), checked in this order (a turn reports every reason that applies; the first one
is `otel_agent.turn.waste_reason`):
- `api_error`: the call failed (HTTP error, timeout, connection error).
- `abandoned_stream`: a streamed answer was closed, cancelled or collected before it finished.
- `truncated`: the model stopped at its token limit (`length`, `max_tokens`, `max_output_tokens`).
- `invalid_tool_call`: a requested tool is not among the tools offered, or its arguments are not valid JSON.
- `repeated_tool_call`: the same tool with the same canonical arguments was already called and answered in this run.
- `tool_error`: the request carried a failed tool result (Anthropic `is_error`, a tool span that failed, or an
  OpenAI `tool` message that reads as an error); the turn was spent recovering from it.
- `repeated_output`: the same answer text as an earlier turn of this run.
- `empty`: no text and no tool call.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol

from ..records import ToolCall, ToolResult, TurnRecord
from ..values import canonical_json

WASTE_REASONS = (
    "api_error",
    "abandoned_stream",
    "truncated",
    "invalid_tool_call",
    "repeated_tool_call",
    "tool_error",
    "repeated_output",
    "empty",
)
_TRUNCATED = frozenset({"length", "max_tokens", "max_output_tokens", "model_context_window_exceeded"})
_ABANDONED = frozenset({"closed_early", "cancelled", "garbage_collected"})
_ERROR_PREFIXES = ("error", "exception", "traceback", "failed", "failure")


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=12).digest()


def call_key(call: ToolCall) -> bytes:
    return digest(f"{call.name}\x00{canonical_json(call.arguments) or call.arguments}")


class BoundedSet:
    """A set that forgets its oldest entries beyond `limit` (run memory stays bounded on 10,000-turn runs)."""

    __slots__ = ("_items", "_limit")

    def __init__(self, limit: int) -> None:
        self._items: OrderedDict[bytes, None] = OrderedDict()
        self._limit = limit

    def add(self, item: bytes) -> None:
        self._items[item] = None
        self._items.move_to_end(item)
        if len(self._items) > self._limit:
            self._items.popitem(last=False)

    def __contains__(self, item: bytes) -> bool:
        return item in self._items

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class RunMemory:
    """What a run remembers for detection, all bounded by `limit` entries."""

    limit: int = 64
    answered_calls: BoundedSet = field(init=False)
    outputs: BoundedSet = field(init=False)
    pending_calls: OrderedDict[str, tuple[bytes, str]] = field(default_factory=OrderedDict)  # id -> (key, name)
    failed_call_ids: BoundedSet = field(init=False)
    seen_results: BoundedSet = field(init=False)  # digests of tool-result call ids already taken into account

    def __post_init__(self) -> None:
        self.answered_calls = BoundedSet(self.limit)
        self.outputs = BoundedSet(self.limit)
        self.failed_call_ids = BoundedSet(self.limit)
        self.seen_results = BoundedSet(self.limit)

    def remember_calls(self, calls: tuple[ToolCall, ...]) -> None:
        for call in calls:
            if call.id:
                self.pending_calls[call.id] = (call_key(call), call.name)
                while len(self.pending_calls) > self.limit:
                    self.pending_calls.popitem(last=False)

    def mark_failed(self, key: bytes, name: str) -> None:
        """A tool we saw fail (`@tool`, MCP): the pending call(s) it ran for answer with an error.

        Matched by call key (name and canonical arguments); else by name when exactly one pending call has it.
        """
        pending = list(self.pending_calls.items())
        ids = [call_id for call_id, (call_key_, _) in pending if call_key_ == key]
        if not ids:
            ids = [call_id for call_id, (_, call_name) in pending if call_name == name]
            if len(ids) != 1:
                return
        for call_id in ids:
            self.failed_call_ids.add(digest(call_id))

    def answer(self, result: ToolResult) -> tuple[bytes, str] | None:
        """Mark the call this result answers; returns its (key, tool name) when the run had requested it."""
        if result.call_id is None:
            return None
        pending = self.pending_calls.pop(result.call_id, None)
        if pending is not None:
            self.answered_calls.add(pending[0])
        return pending


@dataclass(slots=True)
class TurnView:
    record: TurnRecord
    new_tool_results: tuple[ToolResult, ...]


class WasteDetector(Protocol):
    """Implement `reason` and `detect`; register with `otel_agent.trajectory.register_detector`."""

    reason: str

    def detect(self, turn: TurnView, memory: RunMemory) -> bool: ...


class ApiError:
    reason = "api_error"

    def detect(self, turn: TurnView, memory: RunMemory) -> bool:
        return turn.record.error_type is not None and (turn.record.stream is None or turn.record.stream.end == "error")


class AbandonedStream:
    reason = "abandoned_stream"

    def detect(self, turn: TurnView, memory: RunMemory) -> bool:
        stream = turn.record.stream
        response = turn.record.response
        return stream is not None and stream.end in _ABANDONED and not (response and response.finish_reasons)


class Truncated:
    reason = "truncated"

    def detect(self, turn: TurnView, memory: RunMemory) -> bool:
        response = turn.record.response
        return response is not None and any(reason in _TRUNCATED for reason in response.finish_reasons)


class InvalidToolCall:
    reason = "invalid_tool_call"

    def detect(self, turn: TurnView, memory: RunMemory) -> bool:
        response = turn.record.response
        if response is None:
            return False
        offered = turn.record.request.tool_names
        for call in response.tool_calls:
            if offered is not None and call.name not in offered:
                return True
            if canonical_json(call.arguments) is None:
                return True
        return False


class RepeatedToolCall:
    reason = "repeated_tool_call"

    def detect(self, turn: TurnView, memory: RunMemory) -> bool:
        response = turn.record.response
        return response is not None and any(call_key(c) in memory.answered_calls for c in response.tool_calls)


def reads_as_error(result: ToolResult) -> bool:
    return result.is_error or result.content.lstrip().lower().startswith(_ERROR_PREFIXES)


class ToolError:
    reason = "tool_error"

    def detect(self, turn: TurnView, memory: RunMemory) -> bool:
        return any(
            reads_as_error(r) or (r.call_id is not None and digest(r.call_id) in memory.failed_call_ids)
            for r in turn.new_tool_results
        )


class RepeatedOutput:
    reason = "repeated_output"

    def detect(self, turn: TurnView, memory: RunMemory) -> bool:
        response = turn.record.response
        if response is None or response.tool_calls:
            return False
        text = " ".join(response.text.split())
        return bool(text) and digest(text) in memory.outputs


class Empty:
    reason = "empty"

    def detect(self, turn: TurnView, memory: RunMemory) -> bool:
        record = turn.record
        response = record.response
        if record.error_type is not None or response is None or record.request.operation != "chat":
            return False
        if record.stream is not None and record.stream.end in _ABANDONED:
            return False
        return not response.text.strip() and not response.tool_calls and not response.refusal


BUILTIN_DETECTORS: tuple[WasteDetector, ...] = (
    ApiError(),
    AbandonedStream(),
    Truncated(),
    InvalidToolCall(),
    RepeatedToolCall(),
    ToolError(),
    RepeatedOutput(),
    Empty(),
)


def remember_turn(turn: TurnView, memory: RunMemory) -> None:
    """After detection: what this turn adds to the run's memory."""
    response = turn.record.response
    if response is None:
        return
    memory.remember_calls(response.tool_calls)
    if not response.tool_calls:
        text = " ".join(response.text.split())
        if text:
            memory.outputs.add(digest(text))
