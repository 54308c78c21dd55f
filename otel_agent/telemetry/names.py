"""Every span, attribute and metric name otel-agent emits, in one place.

GenAI semantic-convention names come from one mapping table (`_GENAI`): the v1.41 name by default and the newest
name when ``OTEL_SEMCONV_STABILITY_OPT_IN`` contains ``gen_ai_latest_experimental`` (read in `config.py`). Our own ``otel_agent.*`` names
exist only where no convention does. ``docs/attributes.md`` lists all of them; a test holds it against this module and
against what the code really emits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# key: (v1.41 name, newest name). Only the names that differ between the two need distinct entries.
_GENAI: Final[dict[str, tuple[str, str]]] = {
    "operation": ("gen_ai.operation.name", "gen_ai.operation.name"),
    "provider": ("gen_ai.provider.name", "gen_ai.provider.name"),
    "request_model": ("gen_ai.request.model", "gen_ai.request.model"),
    "request_max_tokens": ("gen_ai.request.max_tokens", "gen_ai.request.max_tokens"),
    "request_temperature": ("gen_ai.request.temperature", "gen_ai.request.temperature"),
    "request_top_p": ("gen_ai.request.top_p", "gen_ai.request.top_p"),
    "request_top_k": ("gen_ai.request.top_k", "gen_ai.request.top_k"),
    "request_stop_sequences": ("gen_ai.request.stop_sequences", "gen_ai.request.stop_sequences"),
    "request_seed": ("gen_ai.request.seed", "gen_ai.request.seed"),
    "request_frequency_penalty": ("gen_ai.request.frequency_penalty", "gen_ai.request.frequency_penalty"),
    "request_presence_penalty": ("gen_ai.request.presence_penalty", "gen_ai.request.presence_penalty"),
    "request_choice_count": ("gen_ai.request.choice.count", "gen_ai.request.choice.count"),
    "request_stream": ("gen_ai.request.stream", "gen_ai.request.stream"),
    "request_encoding_formats": ("gen_ai.request.encoding_formats", "gen_ai.request.encoding_formats"),
    "output_type": ("gen_ai.output.type", "gen_ai.output.type"),
    "response_id": ("gen_ai.response.id", "gen_ai.response.id"),
    "response_model": ("gen_ai.response.model", "gen_ai.response.model"),
    "response_finish_reasons": ("gen_ai.response.finish_reasons", "gen_ai.response.finish_reasons"),
    "usage_input": ("gen_ai.usage.input_tokens", "gen_ai.usage.input_tokens"),
    "usage_output": ("gen_ai.usage.output_tokens", "gen_ai.usage.output_tokens"),
    "usage_cache_read": ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read.input_tokens"),
    "usage_cache_write": ("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_write.input_tokens"),
    "usage_reasoning": ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning.output_tokens"),
    "conversation_id": ("gen_ai.conversation.id", "gen_ai.conversation.id"),
    "agent_name": ("gen_ai.agent.name", "gen_ai.agent.name"),
    "agent_id": ("gen_ai.agent.id", "gen_ai.agent.id"),
    "agent_turn_count": ("gen_ai.agent.turn.count", "gen_ai.agent.turn.count"),
    "tool_name": ("gen_ai.tool.name", "gen_ai.tool.name"),
    "tool_call_id": ("gen_ai.tool.call.id", "gen_ai.tool.call.id"),
    "tool_type": ("gen_ai.tool.type", "gen_ai.tool.type"),
    "tool_arguments": ("gen_ai.tool.call.arguments", "gen_ai.tool.call.arguments"),
    "tool_result": ("gen_ai.tool.call.result", "gen_ai.tool.call.result"),
    "input_messages": ("gen_ai.input.messages", "gen_ai.input.messages"),
    "output_messages": ("gen_ai.output.messages", "gen_ai.output.messages"),
    "system_instructions": ("gen_ai.system_instructions", "gen_ai.system_instructions"),
    "token_type": ("gen_ai.token.type", "gen_ai.token.type"),
    "cost_amount": ("gen_ai.usage.cost.amount", "gen_ai.usage.cost.amount"),
    "cost_currency": ("gen_ai.usage.cost.currency", "gen_ai.usage.cost.currency"),
    "cost_source": ("gen_ai.usage.cost.source", "gen_ai.usage.cost.source"),
    # defined by the GenAI conventions after v1.41; ours until then
    "time_to_first_chunk": ("otel_agent.response.time_to_first_chunk", "gen_ai.response.time_to_first_chunk"),
}


@dataclass(frozen=True, slots=True)
class GenAINames:
    """The GenAI attribute names of one convention version, resolved once at instrument time."""

    operation: str
    provider: str
    request_model: str
    request_max_tokens: str
    request_temperature: str
    request_top_p: str
    request_top_k: str
    request_stop_sequences: str
    request_seed: str
    request_frequency_penalty: str
    request_presence_penalty: str
    request_choice_count: str
    request_stream: str
    request_encoding_formats: str
    output_type: str
    response_id: str
    response_model: str
    response_finish_reasons: str
    usage_input: str
    usage_output: str
    usage_cache_read: str
    usage_cache_write: str
    usage_reasoning: str
    conversation_id: str
    agent_name: str
    agent_id: str
    agent_turn_count: str
    tool_name: str
    tool_call_id: str
    tool_type: str
    tool_arguments: str
    tool_result: str
    input_messages: str
    output_messages: str
    system_instructions: str
    token_type: str
    cost_amount: str
    cost_currency: str
    cost_source: str
    time_to_first_chunk: str
    latest: bool

    @classmethod
    def resolve(cls, latest: bool) -> GenAINames:
        """The v1.41 names, or the newest (`config.latest_conventions_requested()`)."""
        column = 1 if latest else 0
        return cls(**{key: names[column] for key, names in _GENAI.items()}, latest=latest)


def all_genai_names() -> set[str]:
    """Every GenAI name either convention version can emit (for the attribute-reference test)."""
    return {name for pair in _GENAI.values() for name in pair}


# --- conventions outside gen_ai -----------------------------------------------------------------------------------
SERVER_ADDRESS: Final = "server.address"
USER_ID: Final = "user.id"  # grouping ids: `agent_run(user_id=)`, `session(user_id=)`
SESSION_ID: Final = "session.id"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"
EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
OPENAI_RESPONSE_SERVICE_TIER: Final = "openai.response.service_tier"
COST_CLIENT_REPORTED: Final = "otel_agent.cost.client_reported"
OPENAI_RESPONSE_SYSTEM_FINGERPRINT: Final = "openai.response.system_fingerprint"

# --- our own attributes, only where no convention exists --------------------------------------------------------------
# inference spans
REQUEST_REASONING_EFFORT: Final = "otel_agent.request.reasoning_effort"
REQUEST_THINKING_BUDGET: Final = "otel_agent.request.thinking_budget_tokens"
RESPONSE_CHUNKS: Final = "otel_agent.response.chunk_count"
STREAM_END: Final = "otel_agent.stream.end"  # completed | closed_early | error | garbage_collected
USAGE_MISSING: Final = "otel_agent.usage.missing"
USAGE_ESTIMATED: Final = "otel_agent.usage.estimated"  # the token counts were estimated from the text (cost/estimate)
# turns (inference spans inside a run)
RUN_ID: Final = "otel_agent.run.id"
RUN_FRAMEWORK: Final = "otel_agent.run.framework"  # the framework whose hooks named the run: openai-agents | langchain
TURN_INDEX: Final = "otel_agent.turn.index"
TURN_WASTED: Final = "otel_agent.turn.wasted"
TURN_WASTE_REASON: Final = "otel_agent.turn.waste_reason"
TURN_WASTE_REASONS: Final = "otel_agent.turn.waste_reasons"
TURN_RESENT_INPUT_TOKENS: Final = "otel_agent.turn.resent_input_tokens"
TURN_CONTEXT_GROWTH_TOKENS: Final = "otel_agent.turn.context_growth_tokens"
TURN_CACHE_HIT_RATIO: Final = "otel_agent.turn.cache_hit_ratio"
TURN_MODEL_TIER: Final = "otel_agent.turn.model_tier"
TURN_STAGNATING: Final = "otel_agent.turn.stagnating"
ESCALATION_EVENT: Final = "otel_agent.escalation"
ESCALATION_FROM_MODEL: Final = "otel_agent.escalation.from_model"
ESCALATION_TO_MODEL: Final = "otel_agent.escalation.to_model"
ESCALATION_REASON: Final = "otel_agent.escalation.reason"
ESCALATION_DIRECTION: Final = "otel_agent.escalation.direction"  # up | down
ESCALATION_DETAIL: Final = "otel_agent.escalation.detail"  # the text given to run.escalate(reason=...)
# cost on inference spans
COST_INPUT: Final = "otel_agent.cost.input"
COST_OUTPUT: Final = "otel_agent.cost.output"
COST_REASONING: Final = "otel_agent.cost.reasoning"
COST_CACHE_READ: Final = "otel_agent.cost.cache_read"
COST_CACHE_WRITE: Final = "otel_agent.cost.cache_write"
COST_GPU: Final = "otel_agent.cost.gpu"
COST_UNPRICED: Final = "otel_agent.cost.unpriced"
COST_PRICE_SOURCE: Final = "otel_agent.cost.price_source"  # genai-prices | user | gpu-hour
# GPU on inference spans and runs
GPU_VRAM_TIME: Final = "otel_agent.gpu.vram_time"  # GiB*s
GPU_VRAM_PEAK: Final = "otel_agent.gpu.vram_peak"  # bytes
GPU_UTILIZATION_MEAN: Final = "otel_agent.gpu.utilization_mean"  # 0..1
GPU_DEVICE_IDS: Final = "otel_agent.gpu.device_ids"
GPU_SAMPLES: Final = "otel_agent.gpu.samples"
# runs (invoke_agent spans)
RUN_INFERRED: Final = "otel_agent.run.inferred"
LINK_RELATION: Final = "otel_agent.link.relation"  # on a span link: why the span links there
RUN_TURNS: Final = "otel_agent.run.turns"
RUN_WASTED_TURNS: Final = "otel_agent.run.wasted_turns"
RUN_WASTED_TURNS_BY_REASON_PREFIX: Final = "otel_agent.run.wasted_turns."  # + reason
RUN_ESCALATIONS: Final = "otel_agent.run.escalations"
RUN_DEESCALATIONS: Final = "otel_agent.run.deescalations"
RUN_STAGNATED: Final = "otel_agent.run.stagnated"
RUN_MISSED_ESCALATION: Final = "otel_agent.run.missed_escalation"
RUN_INPUT_TOKENS: Final = "otel_agent.run.input_tokens"
RUN_OUTPUT_TOKENS: Final = "otel_agent.run.output_tokens"
RUN_REASONING_TOKENS: Final = "otel_agent.run.reasoning_tokens"
RUN_CACHED_TOKENS: Final = "otel_agent.run.cache_read_tokens"
RUN_CACHE_WRITE_TOKENS: Final = "otel_agent.run.cache_write_tokens"
RUN_RESENT_INPUT_TOKENS: Final = "otel_agent.run.resent_input_tokens"
RUN_COST: Final = "otel_agent.run.cost"
RUN_COST_REASONING: Final = "otel_agent.run.cost.reasoning"
RUN_COST_CURRENCY: Final = "otel_agent.run.cost.currency"
RUN_UNPRICED_TURNS: Final = "otel_agent.run.unpriced_turns"
RUN_VRAM_TIME: Final = "otel_agent.run.gpu.vram_time"
RUN_OUTCOME: Final = "otel_agent.run.outcome"  # success | failure | unknown
RUN_SCORE: Final = "otel_agent.run.score"
RUN_SCORE_PER_1K_TOKENS: Final = "otel_agent.run.score_per_1k_tokens"
RUN_SCORE_PER_USD: Final = "otel_agent.run.score_per_usd"
RUN_MODELS: Final = "otel_agent.run.models"
RUN_END_REASON: Final = "otel_agent.run.end_reason"  # exit | idle | shutdown | error
# tools
TOOL_TURN_INDEX: Final = "otel_agent.turn.index"
TOOL_SOURCE: Final = "otel_agent.tool.source"  # decorator | mcp | inferred
TOOL_IS_ERROR: Final = "otel_agent.tool.is_error"

# --- span names -------------------------------------------------------------------------------------------------------
OPERATION_CHAT: Final = "chat"
OPERATION_EMBEDDINGS: Final = "embeddings"
OPERATION_TEXT_COMPLETION: Final = "text_completion"
OPERATION_INVOKE_AGENT: Final = "invoke_agent"
OPERATION_EXECUTE_TOOL: Final = "execute_tool"


def span_name(operation: str, target: str | None) -> str:
    return f"{operation} {target}" if target else operation


# --- metrics ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    kind: str  # histogram | counter | updown_counter | gauge
    unit: str
    description: str
    buckets: tuple[float, ...] | None = None


TOKEN_BUCKETS: Final = (
    1,
    4,
    16,
    64,
    256,
    1024,
    4096,
    16384,
    65536,
    262144,
    1048576,
    4194304,
    16777216,
    67108864,
)
DURATION_BUCKETS: Final = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)
COST_BUCKETS: Final = (
    0.00001,
    0.0001,
    0.0005,
    0.001,
    0.005,
    0.01,
    0.05,
    0.1,
    0.5,
    1.0,
    5.0,
    10.0,
    50.0,
)
RUN_DURATION_BUCKETS: Final = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
RUN_TURN_BUCKETS: Final = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100)

# GenAI conventions
M_TOKEN_USAGE = MetricSpec(
    "gen_ai.client.token.usage", "histogram", "{token}", "Input and output tokens per GenAI operation", TOKEN_BUCKETS
)
M_OPERATION_DURATION = MetricSpec(
    "gen_ai.client.operation.duration", "histogram", "s", "Duration of a GenAI operation", DURATION_BUCKETS
)
M_TIME_TO_FIRST_CHUNK = MetricSpec(
    "gen_ai.client.operation.time_to_first_chunk",
    "histogram",
    "s",
    "Time from request to the first chunk of a streamed response",
    DURATION_BUCKETS,
)
M_TIME_PER_OUTPUT_CHUNK = MetricSpec(
    "gen_ai.client.operation.time_per_output_chunk",
    "histogram",
    "s",
    "Time per output chunk after the first, from the end of the previous chunk",
    DURATION_BUCKETS,  # the conventions' client duration buckets, as opentelemetry-util-genai advises them
)
M_OPERATION_COST = MetricSpec(
    "gen_ai.client.operation.cost",
    "histogram",
    "{USD}",
    "Cost of one GenAI operation (proposed convention)",
    COST_BUCKETS,
)
# newest-convention token counters (emitted only under the latest opt-in)
M_LATEST_TOKEN_COUNTERS: Final = {
    "input": MetricSpec("gen_ai.client.inference.usage.input_tokens", "counter", "{token}", "Input tokens"),
    "output": MetricSpec("gen_ai.client.inference.usage.output_tokens", "counter", "{token}", "Output tokens"),
    "cache_read": MetricSpec(
        "gen_ai.client.inference.usage.cache_read.input_tokens",
        "counter",
        "{token}",
        "Input tokens read from the provider's cache",
    ),
    "cache_write": MetricSpec(
        "gen_ai.client.inference.usage.cache_write.input_tokens",
        "counter",
        "{token}",
        "Input tokens written to the provider's cache",
    ),
    "reasoning": MetricSpec(
        "gen_ai.client.inference.usage.reasoning.output_tokens",
        "counter",
        "{token}",
        "Reasoning / thinking output tokens",
    ),
}
# newest-convention per-operation histograms (semconv-genai PR #374; latest opt-in only)
M_LATEST_OPERATION_TOKENS: Final = {
    "input": MetricSpec(
        "gen_ai.client.inference.usage.operation.input_tokens",
        "histogram",
        "{token}",
        "Input tokens per inference operation",
        TOKEN_BUCKETS,
    ),
    "output": MetricSpec(
        "gen_ai.client.inference.usage.operation.output_tokens",
        "histogram",
        "{token}",
        "Output tokens per inference operation",
        TOKEN_BUCKETS,
    ),
}
# ours
M_TOKENS = MetricSpec(
    "otel_agent.tokens", "counter", "{token}", "Tokens by type: input, output, reasoning, cache_read, cache_write"
)
M_COST = MetricSpec(
    "otel_agent.cost",
    "counter",
    "{USD}",
    "Spend by model, provider, agent and component (input, output, reasoning, cache_read, cache_write, gpu)",
)
M_UNPRICED = MetricSpec("otel_agent.cost.unpriced_calls", "counter", "{call}", "Calls with no known price")
M_LIST_PRICE = MetricSpec(
    "otel_agent.model.list_price",
    "gauge",
    "{USD}",
    "List price per million tokens by model and token type, from the price data in use",
)
M_RUNS = MetricSpec("otel_agent.runs", "counter", "{run}", "Finished agent runs by outcome")
M_TURNS = MetricSpec("otel_agent.turns", "counter", "{turn}", "Turns by agent, model, wasted and waste reason")
M_ESCALATIONS = MetricSpec(
    "otel_agent.escalations", "counter", "{escalation}", "Model escalations (and de-escalations) by from, to and reason"
)
M_RESENT_TOKENS = MetricSpec(
    "otel_agent.context.resent_tokens", "counter", "{token}", "Input tokens re-sent from earlier turns of the same run"
)
M_RUN_DURATION = MetricSpec(
    "otel_agent.run.duration", "histogram", "s", "Wall time of an agent run", RUN_DURATION_BUCKETS
)
M_RUN_TURNS = MetricSpec("otel_agent.run.turns", "histogram", "{turn}", "Turns per agent run", RUN_TURN_BUCKETS)
M_RUN_COST = MetricSpec("otel_agent.run.cost", "histogram", "{USD}", "Cost per agent run", COST_BUCKETS)
M_RUN_TOKENS = MetricSpec(
    "otel_agent.run.tokens", "histogram", "{token}", "Tokens per agent run by type", TOKEN_BUCKETS
)
M_RUN_SCORE = MetricSpec(
    "otel_agent.run.score",
    "histogram",
    "{score}",
    "Outcome score per run",
    (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
)
M_VRAM_TIME = MetricSpec(
    "otel_agent.gpu.vram_time",
    "counter",
    "{GiB.s}",
    "GPU memory held integrated over inference time (GiB*s) for local models",
)
M_TOOL_CALLS = MetricSpec("otel_agent.tool.calls", "counter", "{call}", "Tool calls by tool, source and error")
# hardware conventions
M_HW_GPU_UTILIZATION = MetricSpec("hw.gpu.utilization", "gauge", "1", "GPU utilization")
M_HW_GPU_MEMORY_USAGE = MetricSpec("hw.gpu.memory.usage", "gauge", "By", "GPU memory used")
M_HW_GPU_MEMORY_LIMIT = MetricSpec("hw.gpu.memory.limit", "gauge", "By", "GPU memory size")
M_HW_GPU_MEMORY_UTILIZATION = MetricSpec("hw.gpu.memory.utilization", "gauge", "1", "GPU memory used share")

ALL_METRICS: Final = (
    M_TOKEN_USAGE,
    M_OPERATION_DURATION,
    M_TIME_TO_FIRST_CHUNK,
    M_TIME_PER_OUTPUT_CHUNK,
    M_OPERATION_COST,
    *M_LATEST_TOKEN_COUNTERS.values(),
    *M_LATEST_OPERATION_TOKENS.values(),
    M_TOKENS,
    M_COST,
    M_UNPRICED,
    M_LIST_PRICE,
    M_RUNS,
    M_TURNS,
    M_ESCALATIONS,
    M_RESENT_TOKENS,
    M_RUN_DURATION,
    M_RUN_TURNS,
    M_RUN_COST,
    M_RUN_TOKENS,
    M_RUN_SCORE,
    M_VRAM_TIME,
    M_TOOL_CALLS,
    M_HW_GPU_UTILIZATION,
    M_HW_GPU_MEMORY_USAGE,
    M_HW_GPU_MEMORY_LIMIT,
    M_HW_GPU_MEMORY_UTILIZATION,
)

# metric attribute keys of our own (labels; bounded cardinality: never an id)
COST_COMPONENT: Final = "otel_agent.cost.component"
HW_ID: Final = "hw.id"
HW_VENDOR: Final = "hw.vendor"
HW_MODEL: Final = "hw.model"
HW_GPU_TASK: Final = "hw.gpu.task"
