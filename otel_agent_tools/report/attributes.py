"""Reading span attributes: GenAI names under either convention version, and loosely typed numbers."""

from __future__ import annotations

from typing import Any

from otel_agent import values
from otel_agent.telemetry import names as n

from .spans import SpanRow

INFERENCE_OPERATIONS = frozenset({n.OPERATION_CHAT, n.OPERATION_TEXT_COMPLETION})
_OLD = n.GenAINames.resolve(latest=False)
_NEW = n.GenAINames.resolve(latest=True)


_GENAI_FIELDS_READ = (
    "operation",
    "agent_name",
    "provider",
    "request_model",
    "response_model",
    "tool_name",
    "usage_input",
    "usage_output",
    "usage_reasoning",
    "usage_cache_read",
    "usage_cache_write",
    "cost_amount",
    "cost_currency",
)
# Every attribute name a report reads outside ``otel_agent.*`` (kept whole); loaders keep only these, so a span's
# memory does not grow with captured content or other instrumentations' attributes. Add a name here when it is read.
READ_KEYS = frozenset(
    [getattr(v, f) for v in (_OLD, _NEW) for f in _GENAI_FIELDS_READ] + [n.SERVER_ADDRESS, n.ERROR_TYPE]
)
_OURS = "otel_agent."


def is_read(key: str) -> bool:
    """Whether a report reads the attribute `key` (see `READ_KEYS`)."""
    return key.startswith(_OURS) or key in READ_KEYS


def first_attr(attributes: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = attributes.get(key)
        if value is not None:
            return value
    return None


def genai_attr(attributes: dict[str, Any], field_name: str) -> Any:
    return first_attr(attributes, getattr(_OLD, field_name), getattr(_NEW, field_name))


def as_int(value: Any) -> int | None:
    """Exported attributes may arrive as strings: the lenient reader."""
    return values.as_int(value, lenient=True)


def as_float(value: Any) -> float | None:
    return values.as_float(value, lenient=True)


def operation_of(span: SpanRow) -> str | None:
    """``gen_ai.operation.name``; else the first word of the span name when it names a run or a tool call."""
    value = genai_attr(span.attributes, "operation")
    if value is not None:
        return str(value)
    head = span.name.split(" ", 1)[0]
    return head if head in (n.OPERATION_INVOKE_AGENT, n.OPERATION_EXECUTE_TOOL) else None
