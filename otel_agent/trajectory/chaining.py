"""Which inferred run a request continues, by what survives the way frameworks rewrite their histories.

A request is looked up, in this order, by:
1. **server-side state**: the response it names (OpenAI Responses `previous_response_id`, Anthropic
   `thread.previous_message_id`), then the provider's conversation id (OpenAI `conversation`);
2. **the verbatim answer**: the run's last answer at the position where its previous request ended, and the same
   first message (raw loops, LangChain, LangGraph, the Agents SDK, pydantic-ai, CrewAI with OpenAI);
3. **tool-call ids**: an id the run's model issued, found in the new messages as a tool call, a tool result, or a word
   of their text (CrewAI with Anthropic drops the answer's text but keeps its `tool_use` ids; smolagents'
   `ToolCallingAgent` renders the calls, ids included, as text and the results as "Observation:" messages);
4. **the answer's words**: the last answer reduced to its lower-cased words, with the same first message (llama-index
   `ReActAgent` re-renders the tool input as a Python dict: quotes and punctuation change, words do not);
5. **the stable prefix and growth**: the same first message, a longer history than the run's last request, and the run
   waiting for its next turn. Used only when exactly one open run fits: two look-alike runs that none of the above
   tells apart start a new run rather than merge two tasks (see docs/frameworks.md).

Every key is a digest of one message or one id, computed from the messages after the request's latest assistant
message (plus that message): the cost per turn is O(new content), not O(history). A key may point at several runs
(look-alike runs that have said the same so far); a request then takes a run that is waiting (no turn in flight) and
whose history it extends, so concurrent copies of one task each keep their own run.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Hashable
from dataclasses import dataclass, field

from ..records import Message, ToolCall, TurnRecord, TurnRequest
from ..values import canonical_json
from .run import RunState
from .waste import digest

SCAN_LIMIT = 64  # messages scanned backwards for the latest assistant message
_FIRST_ENDS = 2048  # characters read at each end of a long first message
_TURNS_PER_RUN = 4  # a retry re-sends an earlier prefix: keep the last few turns' keys
_RUNS_PER_KEY = 64  # look-alike runs remembered under one key
_ID_WORDS = 256  # words of the new messages' text tried as tool-call ids
_WORDS_READ = 8192  # characters of one new message read for tool-call ids
_WORDS_ENDS = 1024  # characters read at each end of a long answer for its words
_ID_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{5,79}")
_WORD = re.compile(r"\w+")


def message_digest(text: str, calls: tuple[ToolCall, ...]) -> bytes:
    parts = [" ".join(text.split())]
    for call in calls:
        parts.append(f"{call.id or ''}\x01{call.name}\x01{canonical_json(call.arguments) or call.arguments}")
    return digest("\x02".join(parts))


def words_digest(text: str, calls: tuple[ToolCall, ...]) -> bytes:
    """An answer as its lower-cased words (tool calls as name and argument words, ids left out): survives a
    framework re-rendering JSON as a Python dict, changing quotes, spacing or punctuation."""
    if len(text) > 2 * _WORDS_ENDS:
        text = f"{len(text)} {text[:_WORDS_ENDS]} {text[-_WORDS_ENDS:]}"
    words = _WORD.findall(text.lower())
    for call in calls:
        words.extend(_WORD.findall(f"{call.name} {call.arguments}".lower()))
    return digest(" ".join(words))


def first_digest(messages: tuple[Message, ...]) -> bytes:
    """The run's first message, read on every turn: by its length and both ends when long, so that a long first
    message (a pasted document) does not make every turn cost O(its size)."""
    if not messages:
        return b""
    text = messages[0].text
    if len(text) > 2 * _FIRST_ENDS:
        text = f"{len(text)}\x03{text[:_FIRST_ENDS]}\x03{text[-_FIRST_ENDS:]}"
    return message_digest(text, messages[0].tool_calls)


def history(messages: tuple[Message, ...]) -> tuple[Message, ...]:
    """The conversation so far: without a trailing assistant message, which is a prefill the model continues."""
    if messages and messages[-1].role == "assistant" and not messages[-1].tool_calls:
        return messages[:-1]
    return messages


@dataclass(slots=True)
class Probe:
    """What a request offers for the look-up, computed outside any lock."""

    length: int
    continues: bool  # it carries an earlier answer (an assistant message, or server-side state)
    previous_response_id: str | None = None
    conversation_id: str | None = None
    exact: tuple[int, bytes, bytes] | None = None
    first: bytes = b""
    tail: tuple[Message, ...] = ()  # the latest assistant message and what follows it (read by `deepen`)
    deep: bool = False  # `deepen` ran: the look-ups below are filled in
    words: tuple[bytes, bytes] | None = None
    ids: tuple[str, ...] = ()


@dataclass(slots=True)
class _Chain:
    """What the chainer keeps for one run: its keys of the last few turns and its last request's length."""

    turns: deque[tuple[Hashable, ...]] = field(default_factory=lambda: deque(maxlen=_TURNS_PER_RUN))
    fixed: list[Hashable] = field(default_factory=list)  # prefix and conversation: for the run's life
    length: int = -1


def probe(request: TurnRequest) -> Probe:
    """The cheap keys: server-side state and the verbatim answer (one digest of the latest assistant message)."""
    messages = history(request.messages)
    first = first_digest(messages)
    found = Probe(
        length=len(messages),
        continues=bool(request.previous_response_id or request.conversation_id) or len(messages) > SCAN_LIMIT,
        previous_response_id=request.previous_response_id,
        conversation_id=request.conversation_id,
        first=first,
    )
    start = max(len(messages) - SCAN_LIMIT, 0)
    position = len(messages)
    for position in range(len(messages) - 1, start - 1, -1):
        message = messages[position]
        if message.tool_results:
            found.continues = True  # a tool result answers an earlier call, even when that call is not re-sent
        if message.role == "assistant":
            found.continues = True
            found.exact = (position, message_digest(message.text, message.tool_calls), first)
            break
    found.tail = messages[position:] if messages else ()
    return found


def deepen(found: Probe) -> None:
    """The keys that survive rewriting, for a request the cheap keys did not place: tool-call ids in the new messages
    (structured, or words of their text) and the latest answer's words. O(new content)."""
    if found.deep:
        return
    found.deep = True
    ids: list[str] = []
    words: list[str] = []
    for message in reversed(found.tail):
        ids.extend(call.id for call in message.tool_calls if call.id)
        ids.extend(result.call_id for result in message.tool_results if result.call_id)
        if len(words) < _ID_WORDS:
            words.extend(_ID_WORD.findall(message.text[:_WORDS_READ])[: _ID_WORDS - len(words)])
    if found.exact is not None and found.tail:
        latest = found.tail[0]
        found.words = (words_digest(latest.text, latest.tool_calls), found.first)
    found.ids = tuple(dict.fromkeys(ids + words))


class RunChainer:
    """The index from requests to the open inferred runs they continue. Not thread-safe: the tracker calls it under
    its own lock (digests are computed by `probe`, outside it)."""

    def __init__(self) -> None:
        self._index: dict[Hashable, list[RunState]] = {}
        self._chains: OrderedDict[str, _Chain] = OrderedDict()

    def __len__(self) -> int:
        """Keys held (bounded: a few per open run)."""
        return len(self._index)

    def find(self, found: Probe) -> RunState | None:
        if found.previous_response_id:
            run = self._any(("response", found.previous_response_id))
            if run is not None:
                return run
        if found.conversation_id:
            run = self._any(("conversation", found.conversation_id))
            if run is not None:
                return run
        if not found.continues:
            return None  # a first turn: nothing earlier to continue
        if found.exact is not None:
            run = self._pick(("exact", *found.exact), found.length, strict=False)
            if run is not None:
                return run
        if not found.deep:
            return None  # the caller deepens the probe (outside its lock) and asks again
        run = self._by_ids(found.ids)
        if run is not None:
            return run
        if found.words is not None:
            run = self._pick(("words", *found.words), found.length, strict=True)
            if run is not None:
                return run
        return self._only(("first", found.first), found.length)

    def register(self, run: RunState, record: TurnRecord) -> None:
        """After a turn of an inferred run: the keys its next request may carry."""
        response = record.response
        chain = self._chains.get(run.id)
        if chain is None:
            chain = self._chains[run.id] = _Chain()
            first = first_digest(history(record.request.messages))
            self._add(("first", first), run, chain.fixed)
        request = record.request
        if request.conversation_id and ("conversation", request.conversation_id) not in chain.fixed:
            self._add(("conversation", request.conversation_id), run, chain.fixed)
        if response is None:
            return
        messages = history(request.messages)
        chain.length = len(messages)
        first = first_digest(messages)
        keys: list[Hashable] = []
        position = len(messages)
        self._add(("exact", position, message_digest(response.text, response.tool_calls), first), run, keys)
        self._add(("words", words_digest(response.text, response.tool_calls), first), run, keys)
        if response.id:
            self._add(("response", response.id), run, keys)
        for call in response.tool_calls:
            if call.id:
                self._add(("id", call.id), run, keys)
        if len(chain.turns) == chain.turns.maxlen:
            kept = {key for turn in list(chain.turns)[1:] for key in turn} | set(keys) | set(chain.fixed)
            self._remove(run, [key for key in chain.turns[0] if key not in kept])
        chain.turns.append(tuple(keys))

    def forget(self, run: RunState) -> None:
        chain = self._chains.pop(run.id, None)
        if chain is None:
            return
        self._remove(run, chain.fixed)
        for keys in chain.turns:
            self._remove(run, keys)

    # -- look-ups ----------------------------------------------------------------------------------------------------
    def _open(self, key: Hashable) -> list[RunState]:
        return [run for run in self._index.get(key, ()) if not run.ended]

    def _any(self, key: Hashable) -> RunState | None:
        runs = self._open(key)
        return runs[-1] if runs else None

    def _grows(self, run: RunState, length: int) -> bool:
        chain = self._chains.get(run.id)
        return chain is not None and chain.length < length

    def _pick(self, key: Hashable, length: int, *, strict: bool) -> RunState | None:
        """A run under `key`: the longest-waiting one whose history the request extends; else (not `strict`: a retry
        or a regenerated answer re-sends the same history) the latest one."""
        runs = self._open(key)
        for run in runs:
            if not run.in_flight and self._grows(run, length):
                return run
        if runs and not strict:
            return runs[-1]
        return None

    def _by_ids(self, ids: tuple[str, ...]) -> RunState | None:
        """The run that issued these tool-call ids; none when they point at several (ids a server reuses)."""
        owner: RunState | None = None
        for call_id in ids:
            runs = self._open(("id", call_id))
            if len(runs) > 1:
                return None
            if runs:
                if owner is not None and runs[0] is not owner:
                    return None
                owner = runs[0]
        return owner

    def _only(self, key: Hashable, length: int) -> RunState | None:
        """The one open run with this first message that is waiting and shorter than the request; none if several."""
        fits = [run for run in self._open(key) if not run.in_flight and self._grows(run, length)]
        return fits[0] if len(fits) == 1 else None

    # -- bookkeeping -------------------------------------------------------------------------------------------------
    def _add(self, key: Hashable, run: RunState, keys: list[Hashable]) -> None:
        runs = self._index.setdefault(key, [])
        if run in runs:
            runs.remove(run)
        runs.append(run)
        if len(runs) > _RUNS_PER_KEY:
            del runs[0]
        keys.append(key)

    def _remove(self, run: RunState, keys: tuple[Hashable, ...] | list[Hashable]) -> None:
        for key in keys:
            runs = self._index.get(key)
            if runs is None:
                continue
            if run in runs:
                runs.remove(run)
            if not runs:
                del self._index[key]
