"""The neutral, typed records that flow one way through otel-agent.

Provider adapters turn each SDK call into a `TurnRequest` (before the call) and a `TurnResponse` (after it); together
with timing they make one `TurnRecord`. The trajectory layer reads them, cost and GPU enrich them, and the telemetry
layer alone turns them into spans and metrics. Nothing here imports an SDK or OpenTelemetry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
    raw_messages: Any = None  # the request's own message objects, read only when content capture is on


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

    @property
    def visible_output_tokens(self) -> int:
        return max((self.output_tokens or 0) - (self.reasoning_tokens or 0), 0)


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
    raw_output: Any = None  # the response's own output objects, read only when content capture is on
    reported_cost: float | None = None  # a cost the provider itself reported (OpenRouter usage.cost, a proxy header)
    service_tier: str | None = None  # openai.response.service_tier
    system_fingerprint: str | None = None  # openai.response.system_fingerprint
    embedding_dimensions: int | None = None  # gen_ai.embeddings.dimension.count


StreamEnd = Literal["completed", "closed_early", "cancelled", "error", "garbage_collected"]


@dataclass(slots=True)
class StreamStats:
    chunks: int = 0
    time_to_first_chunk_s: float | None = None
    time_per_chunk_s: float | None = None  # mean time between chunks after the first
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
