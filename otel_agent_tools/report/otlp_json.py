"""Parse OTLP/JSON trace documents (``ExportTraceServiceRequest`` or Jaeger's ``{"result": TracesData}``).

Tolerant of both OTLP/JSON spellings seen in the wild: camelCase or snake_case keys, hex or base64 ids, integer or
named enums, 64-bit integers as strings or numbers.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterator
from typing import Any

from .spans import SpanEvent, SpanRow, StatusCode

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
    return None if not text.strip("0") else text


def decode_any_value(value: Any) -> Any:
    """An OTLP ``AnyValue`` as a Python value (intValue strings become int)."""
    if not isinstance(value, dict) or not value:
        return None
    if "stringValue" in value or "string_value" in value:
        return _get(value, "stringValue")
    if "boolValue" in value or "bool_value" in value:
        return bool(_get(value, "boolValue"))
    if "intValue" in value or "int_value" in value:
        return int(_get(value, "intValue"))
    if "doubleValue" in value or "double_value" in value:
        raw = _get(value, "doubleValue")
        return _FLOATS[raw] if isinstance(raw, str) and raw in _FLOATS else float(raw)
    if "arrayValue" in value or "array_value" in value:
        return [decode_any_value(item) for item in (_get(value, "arrayValue") or {}).get("values", [])]
    if "kvlistValue" in value or "kvlist_value" in value:
        return decode_attributes((_get(value, "kvlistValue") or {}).get("values", []))
    if "bytesValue" in value or "bytes_value" in value:
        return _get(value, "bytesValue")
    return None


def decode_attributes(items: Any) -> dict[str, Any]:
    return {item["key"]: decode_any_value(item.get("value")) for item in items or () if "key" in item}


def _status(span: dict[str, Any]) -> tuple[StatusCode, str]:
    status = span.get("status") or {}
    code = status.get("code", 0)
    return _STATUS.get(code, "unset"), str(status.get("message", ""))  # type: ignore[return-value]


def _span(span: dict[str, Any], service: str | None) -> SpanRow | None:
    trace_id = decode_id(_get(span, "traceId"), 16)
    span_id = decode_id(_get(span, "spanId"), 8)
    if trace_id is None or span_id is None:
        return None
    events = tuple(
        SpanEvent(
            name=str(event.get("name", "")),
            time_ns=int(_get(event, "timeUnixNano", 0) or 0),
            attributes=decode_attributes(event.get("attributes")),
        )
        for event in span.get("events") or ()
    )
    code, message = _status(span)
    return SpanRow(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=decode_id(_get(span, "parentSpanId"), 8),
        name=str(span.get("name", "")),
        start_ns=int(_get(span, "startTimeUnixNano", 0) or 0),
        end_ns=int(_get(span, "endTimeUnixNano", 0) or 0),
        attributes=decode_attributes(span.get("attributes")),
        events=events,
        status=code,
        status_message=message,
        service_name=service,
    )


def parse_otlp_json(document: dict[str, Any]) -> list[SpanRow]:
    """Every span of one OTLP/JSON traces document; a ``{"result": ...}`` wrapper (Jaeger api/v3) is unwrapped."""
    if "result" in document and isinstance(document["result"], dict):
        document = document["result"]
    rows: list[SpanRow] = []
    for resource_spans in _get(document, "resourceSpans") or ():
        resource = decode_attributes((resource_spans.get("resource") or {}).get("attributes"))
        service = resource.get("service.name")
        service = str(service) if service is not None else None
        for scope_spans in (
            _get(resource_spans, "scopeSpans") or _get(resource_spans, "instrumentationLibrarySpans") or ()
        ):
            for span in scope_spans.get("spans") or ():
                row = _span(span, service)
                if row is not None:
                    rows.append(row)
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
