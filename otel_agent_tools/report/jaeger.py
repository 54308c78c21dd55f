"""Read spans from Jaeger's HTTP query API.

First ``GET {url}/api/v3/traces`` (OTLP/JSON, ``{"result": {"resourceSpans": [...]}}``, Jaeger >= 1.35 and v2); when
that route is missing, the older UI API ``GET {url}/api/traces`` (Jaeger JSON, microsecond times, tags). Without a
service name, every service ``/api/v3/services`` (or ``/api/services``) lists is queried, Jaeger's own excepted.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from typing import Any

from .errors import ReportError
from .otlp_json import ParseStats, iter_json_documents, parse_otlp_json
from .spans import SpanEvent, SpanRow

DEFAULT_LIMIT = 1000
MAX_ANSWER_BYTES = 256 * 1024 * 1024  # one answer; a larger one is refused, not read
MAX_ERROR_BYTES = 64 * 1024
_JAEGER_SELF = "jaeger"


class _RouteMissing(Exception):
    pass


def _rfc3339(ns: int) -> str:
    seconds, nanos = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def check_url(url: str) -> str:
    """`url` without a trailing slash when it is an http(s) URL with a host; a `ReportError` otherwise."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError as error:
        raise ReportError(f"--jaeger {url!r} is not a valid URL ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ReportError(f"--jaeger {url!r} is not an http(s) URL with a host, e.g. http://127.0.0.1:16686")
    del port
    return url.rstrip("/")


def _read_bounded(response: Any, limit: int, url: str) -> str:
    body = response.read(limit + 1)
    if len(body) > limit:
        raise ReportError(
            f"Jaeger's answer to {url.split('?')[0]} is over {limit // (1024 * 1024)} MiB: "
            "narrow it with --service, --since/--until or --limit"
        )
    return str(body.decode("utf-8", "replace"))


def _get_text(url: str, timeout: float, limit: int | None = None) -> tuple[int, str]:
    limit = MAX_ANSWER_BYTES if limit is None else limit
    try:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _read_bounded(response, limit, url)
    except urllib.error.HTTPError as error:
        return error.code, error.read(MAX_ERROR_BYTES).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise ReportError(f"cannot reach Jaeger at {url.split('/api/')[0]}: {reason}") from None


def _error_message(body: str) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        return body.strip()[:200]
    if isinstance(document, dict):
        error = document.get("error")
        if isinstance(error, dict):
            return str(error.get("message", ""))
        errors = document.get("errors")
        if isinstance(errors, list) and errors:
            return str(errors[0].get("msg", errors[0]) if isinstance(errors[0], dict) else errors[0])
    return body.strip()[:200]


def _parse_documents(body: str, url: str) -> list[dict[str, Any]]:
    try:
        return list(iter_json_documents(body))
    except (ValueError, RecursionError):
        raise ReportError(f"Jaeger answered {url} with something that is not JSON") from None


# --- api/v3 (OTLP/JSON) -------------------------------------------------------------------------------------------------
def _v3_services(base: str, timeout: float) -> list[str]:
    status, body = _get_text(f"{base}/api/v3/services", timeout)
    if status == 404:
        raise _RouteMissing
    if status != 200:
        raise ReportError(f"Jaeger services query failed ({status}): {_error_message(body)}")
    services = next(iter(_parse_documents(body, "/api/v3/services")), {}).get("services")
    return [str(s) for s in services] if isinstance(services, list) else []


def _v3_traces(
    base: str, service: str, start_ns: int, end_ns: int, limit: int, timeout: float, stats: ParseStats
) -> list[SpanRow]:
    query = urllib.parse.urlencode(
        {
            "query.service_name": service,
            "query.start_time_min": _rfc3339(start_ns),
            "query.start_time_max": _rfc3339(end_ns),
            "query.num_traces": limit,
            "query.search_depth": limit,
        }
    )
    url = f"{base}/api/v3/traces?{query}"
    status, body = _get_text(url, timeout)
    if status == 404:
        message = _error_message(body)
        if "not found" in message.lower() and "trace" in message.lower():
            return []  # Jaeger's answer to a search with no hits
        raise _RouteMissing
    if status != 200:
        raise ReportError(f"Jaeger trace query failed ({status}): {_error_message(body)}")
    rows: list[SpanRow] = []
    for document in _parse_documents(body, "/api/v3/traces"):
        if "error" in document and "result" not in document:
            raise ReportError(f"Jaeger trace query failed: {_error_message(json.dumps(document))}")
        rows.extend(parse_otlp_json(document, stats))
    return rows


# --- api/traces (Jaeger JSON) -------------------------------------------------------------------------------------
def _tag_value(tag: dict[str, Any]) -> Any:
    value = tag.get("value")
    kind = tag.get("type", "string")
    try:
        if kind == "int64":
            return int(value)  # type: ignore[arg-type]
        if kind == "float64":
            return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return value


def _tags(tags: Any) -> dict[str, Any]:
    return {tag["key"]: _tag_value(tag) for tag in tags or () if "key" in tag}


def parse_jaeger_json(document: dict[str, Any]) -> list[SpanRow]:
    """Spans of a Jaeger UI API answer (``{"data": [{"traceID", "spans", "processes"}]}``)."""
    rows: list[SpanRow] = []
    for trace in document.get("data") or ():
        processes = trace.get("processes") or {}
        for span in trace.get("spans") or ():
            attributes = _tags(span.get("tags"))
            status_tag = str(attributes.pop("otel.status_code", "")).lower()
            message = str(attributes.pop("otel.status_description", ""))
            status = (
                "error"
                if status_tag == "error" or attributes.get("error") is True
                else ("ok" if status_tag == "ok" else "unset")
            )
            parent = next(
                (ref.get("spanID") for ref in span.get("references") or () if ref.get("refType") == "CHILD_OF"), None
            )
            events = []
            for log in span.get("logs") or ():
                fields = _tags(log.get("fields"))
                name = str(fields.pop("event", ""))
                events.append(SpanEvent(name=name, time_ns=int(log.get("timestamp", 0)) * 1000, attributes=fields))
            start_ns = int(span.get("startTime", 0)) * 1000
            process = processes.get(span.get("processID")) or {}
            rows.append(
                SpanRow(
                    trace_id=str(span.get("traceID", trace.get("traceID", ""))).lower().rjust(32, "0"),
                    span_id=str(span.get("spanID", "")).lower().rjust(16, "0"),
                    parent_id=str(parent).lower().rjust(16, "0") if parent else None,
                    name=str(span.get("operationName", "")),
                    start_ns=start_ns,
                    end_ns=start_ns + int(span.get("duration", 0)) * 1000,
                    attributes=attributes,
                    events=tuple(events),
                    status=status,  # type: ignore[arg-type]
                    status_message=message,
                    service_name=process.get("serviceName"),
                )
            )
    return rows


def _ui_services(base: str, timeout: float) -> list[str]:
    status, body = _get_text(f"{base}/api/services", timeout)
    if status != 200:
        raise ReportError(f"Jaeger services query failed ({status}): {_error_message(body)}")
    document = next(iter(_parse_documents(body, "/api/services")), {})
    services = document.get("data")
    return [str(s) for s in services] if isinstance(services, list) else []


def _ui_traces(base: str, service: str, start_ns: int, end_ns: int, limit: int, timeout: float) -> list[SpanRow]:
    query = urllib.parse.urlencode(
        {"service": service, "start": start_ns // 1000, "end": end_ns // 1000, "limit": limit}
    )
    status, body = _get_text(f"{base}/api/traces?{query}", timeout)
    if status != 200:
        raise ReportError(f"Jaeger trace query failed ({status}): {_error_message(body)}")
    rows: list[SpanRow] = []
    for document in _parse_documents(body, "/api/traces"):
        try:
            rows.extend(parse_jaeger_json(document))
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError):
            raise ReportError("Jaeger answered /api/traces with spans this report cannot read") from None
    return rows


def fetch_jaeger_spans(
    url: str,
    service: str | None,
    start_ns: int,
    end_ns: int,
    *,
    limit: int = DEFAULT_LIMIT,
    timeout: float = 10.0,
    stats: ParseStats | None = None,
) -> list[SpanRow]:
    """Spans of the traces that started in [start_ns, end_ns], of `service` or of every service Jaeger knows.

    Each answer is read up to `MAX_ANSWER_BYTES`; a larger one is refused with one line.
    """
    base = check_url(url)
    stats = stats if stats is not None else ParseStats()
    try:
        services = [service] if service else [s for s in _v3_services(base, timeout) if s != _JAEGER_SELF]
        rows: list[SpanRow] = []
        for name in services:
            rows.extend(_v3_traces(base, name, start_ns, end_ns, limit, timeout, stats))
        return rows
    except _RouteMissing:
        pass
    services = [service] if service else [s for s in _ui_services(base, timeout) if s != _JAEGER_SELF]
    rows = []
    for name in services:
        rows.extend(_ui_traces(base, name, start_ns, end_ns, limit, timeout))
    return rows
