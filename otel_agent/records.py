"""The neutral, typed records that flow one way through otel-agent.

Provider adapters turn each SDK call into a `TurnRequest` (before the call) and a `TurnResponse` (after it); together
with timing they make one `TurnRecord`. The trajectory layer reads them and produces run and tool records
(`RunRecord`, `ToolRecord`, `TurnAnnotations`), cost and GPU enrich them, and the telemetry layer alone turns them
into spans and metrics. Nothing here imports an SDK or OpenTelemetry.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Operation = Literal["chat", "embeddings", "text_completion"]


@dataclass(slots=True)
class ToolCall:
    """A tool call the model requested in a turn."""

    id: str | None
    name: str
    arguments: str  # the raw JSON text the model produced
    type: str = "function"


@dataclass(slots=True)
class ToolResult:
    """A tool result the application sent back in a request (the tool ran where we could not see it)."""

    call_id: str | None
    content: str
    is_error: bool = False


@dataclass(slots=True)
class Message:
    """One message of a request, reduced to what the trajectory layer needs."""

    role: str
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()


@dataclass(slots=True)
class RequestParams:
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: tuple[str, ...] | None = None
    seed: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    choice_count: int | None = None
    reasoning_effort: str | None = None
    thinking_budget_tokens: int | None = None
    encoding_formats: tuple[str, ...] | None = None
    output_type: str | None = None


@dataclass(slots=True)
class TurnRequest:
    """What an SDK call asked for, known before the call is sent."""

    provider: str  # gen_ai.provider.name: openai | anthropic
    operation: Operation
    model: str | None
    server_address: str | None
    server_port: int | None
    stream: bool
    params: RequestParams = field(default_factory=RequestParams)
    system: str | None = None
    messages: tuple[Message, ...] = ()
    tool_names: tuple[str, ...] | None = None  # tools offered to the model; None when none were declared
    conversation_id: str | None = None  # the provider's or application's own conversation id, never invented
    previous_response_id: str | None = None  # server-side state: the earlier response this request continues
    api: str = ""  # e.g. "chat.completions", "responses", "messages", "beta.messages"
    content: ContentSource | None = None  # the request's messages, read only when content capture is on


@dataclass(slots=True)
class Usage:
    """Token usage by the conventions: input includes cached tokens, output includes reasoning tokens."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None

    @property
    def uncached_input_tokens(self) -> int:
        return max((self.input_tokens or 0) - (self.cache_read_tokens or 0) - (self.cache_write_tokens or 0), 0)


@dataclass(slots=True)
class TurnResponse:
    """What came back. Every field is optional: malformed or partial responses still make a record."""

    id: str | None = None
    model: str | None = None
    finish_reasons: tuple[str, ...] = ()
    usage: Usage | None = None
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    refusal: str | None = None
    has_thinking: bool = False
    content: ContentSource | None = None  # the output messages, read only when content capture is on
    reported_cost: float | None = None  # a cost the provider itself reported (OpenRouter usage.cost, a proxy header)
    service_tier: str | None = None  # openai.response.service_tier
    system_fingerprint: str | None = None  # openai.response.system_fingerprint
    embedding_dimensions: int | None = None  # gen_ai.embeddings.dimension.count
    client_cost: float | None = None  # a cost the client library computed itself (LiteLLM), kept beside ours


MAX_CHUNK_GAPS = 4096  # per stream; a longer stream's later gaps are not recorded one by one

StreamEnd = Literal["completed", "closed_early", "cancelled", "error", "garbage_collected"]


@dataclass(slots=True)
class StreamStats:
    chunks: int = 0
    time_to_first_chunk_s: float | None = None
    time_per_chunk_s: float | None = None  # mean time between chunks after the first
    # each chunk's time since the previous one, for every chunk after the first (at most MAX_CHUNK_GAPS of them)
    chunk_gaps_s: list[float] = field(default_factory=list)
    end: StreamEnd | None = None


@dataclass(slots=True)
class CostBreakdown:
    """Cost of one turn, in `currency`. Components add up to `total`."""

    total: float
    currency: str = "USD"
    input: float = 0.0
    output: float = 0.0
    reasoning: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0
    gpu: float = 0.0
    source: Literal["provider", "local"] = "local"  # gen_ai.usage.cost.source: who computed the amount
    price_source: str = "genai-prices"  # genai-prices | user | gpu-hour | provider

    @property
    def unattributed(self) -> float:
        """The part of `total` no component explains: a provider-reported cost comes without a breakdown."""
        parts = self.input + self.output + self.reasoning + self.cache_read + self.cache_write + self.gpu
        return max(self.total - parts, 0.0)


@dataclass(slots=True)
class GpuUsage:
    vram_time_gib_s: float
    vram_peak_bytes: int
    utilization_mean: float | None
    device_ids: tuple[str, ...]
    samples: int


@dataclass(slots=True)
class TurnRecord:
    """One inference call, complete: request, response or error, timing, and enrichments."""

    request: TurnRequest
    response: TurnResponse | None
    start_ns: int
    end_ns: int
    error_type: str | None = None
    stream: StreamStats | None = None
    cost: CostBreakdown | None = None
    unpriced: bool = False
    gpu: GpuUsage | None = None
    usage_estimated: bool = False  # the response had no usage: its counts were estimated from the text

    @property
    def duration_s(self) -> float:
        return max(self.end_ns - self.start_ns, 0) / 1e9

    @property
    def usage(self) -> Usage | None:
        return self.response.usage if self.response else None

    @property
    def model(self) -> str | None:
        """The model that served the turn: the response's, else the request's."""
        if self.response and self.response.model:
            return self.response.model
        return self.request.model


@dataclass(slots=True)
class Escalation:
    """A change of model tier between two turns of a run."""

    from_model: str
    to_model: str
    reason: str  # stagnation | explicit | unspecified (+ the user's own reason text for explicit)
    direction: Literal["up", "down"]
    detail: str | None = None


@dataclass(slots=True)
class TurnAnnotations:
    """What the trajectory layer adds to a turn."""

    run_id: str
    agent_name: str
    index: int
    wasted: bool = False
    waste_reasons: tuple[str, ...] = ()
    resent_input_tokens: int | None = None
    context_growth_tokens: int | None = None
    cache_hit_ratio: float | None = None
    model_tier: float | None = None
    escalation: Escalation | None = None
    stagnating: bool = False
    group: dict[str, str] = field(default_factory=dict)  # the run's grouping ids (conversation, user, session, agent)

    @property
    def waste_reason(self) -> str | None:
        return self.waste_reasons[0] if self.waste_reasons else None


@dataclass
class RunStats:
    """Live figures of a run (a snapshot is returned by `Run.stats`)."""

    turns: int = 0
    wasted_turns: int = 0
    wasted_by_reason: Counter[str] = field(default_factory=Counter)
    escalations: int = 0
    deescalations: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    resent_input_tokens: int = 0
    cost: float = 0.0
    reasoning_cost: float = 0.0
    unpriced_turns: int = 0
    vram_time_gib_s: float = 0.0
    tool_calls: int = 0
    tool_errors: int = 0
    models: list[str] = field(default_factory=list)
    stagnated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def copy(self) -> RunStats:
        clone = RunStats(**{k: v for k, v in self.__dict__.items() if k not in ("wasted_by_reason", "models")})
        clone.wasted_by_reason = Counter(self.wasted_by_reason)
        clone.models = list(self.models)
        return clone

    def add_turn(self, record: TurnRecord, turn: TurnAnnotations) -> None:
        """Fold one finished turn into the figures (the same arithmetic for real and synthetic runs)."""
        self.turns += 1
        if turn.waste_reasons:
            self.wasted_turns += 1
            self.wasted_by_reason[turn.waste_reasons[0]] += 1
        direction = turn.escalation.direction if turn.escalation is not None else None
        if direction == "up":
            self.escalations += 1
        elif direction == "down":
            self.deescalations += 1
        usage = record.usage
        if usage is not None:
            self.input_tokens += usage.input_tokens or 0
            self.output_tokens += usage.output_tokens or 0
            self.reasoning_tokens += usage.reasoning_tokens or 0
            self.cache_read_tokens += usage.cache_read_tokens or 0
            self.cache_write_tokens += usage.cache_write_tokens or 0
        self.resent_input_tokens += turn.resent_input_tokens or 0
        if record.cost is not None:
            self.cost += record.cost.total
            self.reasoning_cost += record.cost.reasoning
        elif record.unpriced:
            self.unpriced_turns += 1
        if record.gpu is not None:
            self.vram_time_gib_s += record.gpu.vram_time_gib_s
        model = record.request.model or record.model
        if model and model not in self.models and len(self.models) < 16:
            self.models.append(model)
        if turn.stagnating:
            self.stagnated = True

    def add_tool_call(self, failed: bool) -> None:
        self.tool_calls += 1
        self.tool_errors += int(failed)


@dataclass(eq=False)
class RunRecord:
    """One agent run as the telemetry layer sees it: identity when it starts, figures and outcome when it ends.

    `telemetry` is the telemetry layer's own handle (the run's span); no other layer reads it.
    """

    id: str
    name: str
    inferred: bool
    start_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)
    end_ns: int | None = None  # None: now
    last_activity_ns: int | None = None
    stats: RunStats = field(default_factory=RunStats)
    outcome: str = "unknown"  # success | failure | unknown
    score: float | None = None
    missed_escalation: bool = False
    end_reason: str = "exit"  # exit | error | idle | evicted | shutdown
    telemetry: Any = None
    links: list[Any] = field(default_factory=list)  # telemetry-only: spans the run's span links to (a first turn)


ToolSource = Literal["decorator", "mcp", "inferred"]


@dataclass(eq=False)
class ToolRecord:
    """One tool execution: what ran, for which run and turn, and how it ended.

    `telemetry` is the telemetry layer's own handle (the tool's span); no other layer reads it.
    """

    name: str
    source: ToolSource
    turn_index: int | None = None
    agent_name: str | None = None
    call_id: str | None = None
    arguments: Any = None  # recorded only when content capture is on
    start_ns: int | None = None  # None: now
    end_ns: int | None = None
    failed: bool = False
    result: Any = None  # recorded only when content capture is on
    group: dict[str, str] = field(default_factory=dict)  # the run's grouping ids (conversation, user, session)
    telemetry: Any = None


# -- message content, by the GenAI conventions' message schema ---------------------------------------------------
# What a provider adapter fills for `gen_ai.input.messages`, `gen_ai.output.messages` and `gen_ai.system_instructions`
# (and the `gen_ai.client.inference.operation.details` event). Adapters never build these on the hot path: they put a
# `ContentSource` on the request and the response (holding the SDK's own objects, O(1)), and the telemetry layer
# calls it only when content capture is on. `telemetry/content.py` renders the parts, redacts secrets and applies
# the size cap. A new provider adapter writes one `ContentSource` per API and maps each of its block types to the
# part below that means the same thing; a block with no match is a `GenericPart` (type plus plain JSON fields).


@dataclass(slots=True, frozen=True)
class TextPart:
    """Text sent to or received from the model."""

    content: str


@dataclass(slots=True, frozen=True)
class ReasoningPart:
    """The model's visible reasoning (OpenAI reasoning summaries, Anthropic thinking blocks); never a signature or
    encrypted content."""

    content: str


@dataclass(slots=True, frozen=True)
class ToolCallPart:
    """A tool call the model requested. `arguments`: the parsed JSON value, or the raw text when it does not parse."""

    name: str
    id: str | None = None
    arguments: Any = None


@dataclass(slots=True, frozen=True)
class ToolCallResponsePart:
    """A tool result sent back to the model (any role may carry it)."""

    id: str | None
    response: Any


@dataclass(slots=True, frozen=True)
class BlobPart:
    """Inline binary data; `content` is the base64 text the request carried."""

    modality: str  # image | video | audio | document
    content: str
    mime_type: str | None = None


@dataclass(slots=True, frozen=True)
class UriPart:
    """Data referenced by URI (never a `data:` URL: that is a `BlobPart`)."""

    modality: str
    uri: str
    mime_type: str | None = None


@dataclass(slots=True, frozen=True)
class FilePart:
    """A file uploaded to the provider beforehand, referenced by its id."""

    modality: str
    file_id: str
    mime_type: str | None = None


@dataclass(slots=True, frozen=True)
class GenericPart:
    """Any other block: its type and its plain JSON fields (server tool calls, citations, refusals, ...)."""

    type: str
    fields: dict[str, Any] = field(default_factory=dict)


Part = TextPart | ReasoningPart | ToolCallPart | ToolCallResponsePart | BlobPart | UriPart | FilePart | GenericPart


@dataclass(slots=True, frozen=True)
class ChatMessage:
    """One message: its role (`system`, `user`, `assistant`, `tool`, or the provider's own) and its parts.
    `finish_reason` only on output messages: `stop`, `length`, `content_filter`, `tool_call`, `error`."""

    role: str
    parts: tuple[Part, ...]
    finish_reason: str | None = None
    name: str | None = None


class ContentSource(Protocol):
    """A call's messages, read on demand from the SDK's own objects. For a request: the system instructions and
    the input messages; for a response: the output messages (one per choice or candidate), no system instructions.
    May raise on malformed data: the caller drops the content, never the span."""

    def system_instructions(self) -> tuple[Part, ...]: ...

    def messages(self) -> tuple[ChatMessage, ...]: ...
