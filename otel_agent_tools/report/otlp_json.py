"""Parse OTLP/JSON trace documents (``ExportTraceServiceRequest`` or Jaeger's ``{"result": TracesData}``).

Tolerant of both OTLP/JSON spellings seen in the wild: camelCase or snake_case keys, hex or base64 ids, integer or
named enums, 64-bit integers as strings or numbers. Tolerant of damage too: a value of the wrong type loses that value
only (an ``intValue`` of ``"abc"`` reads as absent), an entry that is not an object is skipped, and a span whose times
are not numbers is skipped (`ParseStats` counts them).

Only what a report reads is kept, so memory grows with the number of spans, not with the bytes of captured content:
span attributes a report does not read (`attributes.READ_KEYS`: prompts, completions, other instrumentations'
attributes) are skipped undecoded, string values over `MAX_KEPT_STRING` characters are dropped, and span events other
than escalations keep their name and time only.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from otel_agent.telemetry import names as n

from .attributes import is_read
from .spans import SpanEvent, SpanRow, StatusCode

MAX_KEPT_STRING = 1024
_INTERNED = 64
_KEPT_EVENTS = frozenset({n.ESCALATION_EVENT})


@dataclass(slots=True)
class ParseStats:
    """What a parse had to skip; shown to the user as one note."""

    skipped_spans: int = 0
    skipped_lines: int = 0


_HEX = re.compile(r"^[0-9a-fA-F]*$")
_STATUS = {
    0: "unset",
    1: "ok",
    2: "error",
    "STATUS_CODE_UNSET": "unset",
    "STATUS_CODE_OK": "ok",
    "STATUS_CODE_ERROR": "error",
}
_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _get(obj: dict[str, Any], camel: str, default: Any = None) -> Any:
    if camel in obj:
        return obj[camel]
    snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel)
    return obj.get(snake, default)


def decode_id(value: Any, size: int) -> str | None:
    """An id as lowercase hex; accepts hex (OTLP/JSON) or base64 (protobuf's JSON mapping). Empty or zero: None."""
    if not value or not isinstance(value, str):
        return None
    if len(value) == 2 * size and _HEX.match(value):
        text = value.lower()
    else:
        try:
            text = base64.b64decode(value, validate=True).hex()
        except (binascii.Error, ValueError):
            text = value.lower()
    return None if not text.strip("0") else sys.intern(text)  # a trace id is shared by every span of the trace


def decode_any_value(value: Any) -> Any:
    """An OTLP ``AnyValue`` as a Python value (intValue strings become int)."""
    if not isinstance(value, dict) or not value:
        return None
    if "stringValue" in value or "string_value" in value:
        return _get(value, "stringValue")
    if "boolValue" in value or "bool_value" in value:
        return bool(_get(value, "boolValue"))
    if "intValue" in value or "int_value" in value:
        return _int(_get(value, "intValue"))
    if "doubleValue" in value or "double_value" in value:
        raw = _get(value, "doubleValue")
        if isinstance(raw, str) and raw in _FLOATS:
            return _FLOATS[raw]
        try:
            return float(raw)
        except (TypeError, ValueError, OverflowError):
            return None
    if "arrayValue" in value or "array_value" in value:
        return [decode_any_value(item) for item in _list(_dict(_get(value, "arrayValue")).get("values"))]
    if "kvlistValue" in value or "kvlist_value" in value:
        return decode_attributes(_dict(_get(value, "kvlistValue")).get("values"))
    if "bytesValue" in value or "bytes_value" in value:
        return _get(value, "bytesValue")
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in _list(value) if isinstance(item, dict)]


def _int(value: Any) -> int | None:
    """An OTLP 64-bit integer (a number or a decimal string); anything else: None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def decode_attributes(items: Any, keep: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """Attributes as a dict; with `keep`, only the keys it accepts (the others are not even decoded)."""
    kept: dict[str, Any] = {}
    for item in _objects(items):
        key = item.get("key")
        if not isinstance(key, str) or (keep is not None and not keep(key)):
            continue
        value = decode_any_value(item.get("value"))
        if isinstance(value, str):
            if len(value) > MAX_KEPT_STRING:
                continue  # captured content: no report reads it
            if len(value) <= _INTERNED:
                value = sys.intern(value)  # model names, reasons, providers: one copy for every span
        kept[sys.intern(key)] = value
    return kept


def _status(span: dict[str, Any]) -> tuple[StatusCode, str]:
    status = _dict(span.get("status"))
    code = status.get("code", 0)
    code = code if isinstance(code, (int, str)) else 0
    return _STATUS.get(code, "unset"), str(status.get("message", ""))[:MAX_KEPT_STRING]  # type: ignore[return-value]


def _time(span: dict[str, Any], key: str) -> int | None:
    raw = _get(span, key, 0)
    return 0 if raw in (None, "") else _int(raw)


def _event(event: dict[str, Any]) -> SpanEvent:
    name = str(event.get("name", ""))
    return SpanEvent(
        name=name,
        time_ns=_time(event, "timeUnixNano") or 0,
        attributes=decode_attributes(event.get("attributes"), is_read) if name in _KEPT_EVENTS else {},
    )


def _span(span: dict[str, Any], service: str | None, stats: ParseStats) -> SpanRow | None:
    trace_id = decode_id(_get(span, "traceId"), 16)
    span_id = decode_id(_get(span, "spanId"), 8)
    start_ns, end_ns = _time(span, "startTimeUnixNano"), _time(span, "endTimeUnixNano")
    if trace_id is None or span_id is None or start_ns is None or end_ns is None:
        stats.skipped_spans += 1
        return None
    code, message = _status(span)
    return SpanRow(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=decode_id(_get(span, "parentSpanId"), 8),
        name=str(span.get("name", "")),
        start_ns=start_ns,
        end_ns=end_ns,
        attributes=decode_attributes(span.get("attributes"), is_read),
        events=tuple(_event(event) for event in _objects(span.get("events"))),
        status=code,
        status_message=message,
        service_name=service,
    )


def parse_otlp_json(document: dict[str, Any], stats: ParseStats | None = None) -> list[SpanRow]:
    """Every span of one OTLP/JSON traces document; a ``{"result": ...}`` wrapper (Jaeger api/v3) is unwrapped.

    Entries of the wrong type are skipped, and spans that cannot be placed (no ids, times that are not numbers) are
    counted in `stats`.
    """
    stats = stats if stats is not None else ParseStats()
    if isinstance(document.get("result"), dict):
        document = document["result"]
    rows: list[SpanRow] = []
    for resource_spans in _objects(_get(document, "resourceSpans")):
        resource = decode_attributes(_dict(resource_spans.get("resource")).get("attributes"))
        service = resource.get("service.name")
        service = str(service) if service is not None else None
        scopes = _get(resource_spans, "scopeSpans") or _get(resource_spans, "instrumentationLibrarySpans")
        for scope_spans in _objects(scopes):
            for span in _list(scope_spans.get("spans")):
                row = _span(span, service, stats) if isinstance(span, dict) else None
                if row is not None:
                    rows.append(row)
                elif not isinstance(span, dict):
                    stats.skipped_spans += 1
    return rows


def iter_json_documents(text: str) -> Iterator[dict[str, Any]]:
    """JSON objects one after another: JSON lines, or concatenated objects (a streamed HTTP answer)."""
    decoder = json.JSONDecoder()
    position, end = 0, len(text)
    while True:
        while position < end and text[position].isspace():
            position += 1
        if position >= end:
            return
        document, position = decoder.raw_decode(text, position)
        if isinstance(document, dict):
            yield document
