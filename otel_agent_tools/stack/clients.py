"""Small HTTP clients for the stack's query APIs (Jaeger, Prometheus, Alertmanager) and an OTLP/HTTP trace sink.

Standard library only, so tests, the benchmark and the CLI share them without extra dependencies.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

T = TypeVar("T")


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def wait_for(probe: Callable[[], T | None], timeout: float, interval: float = 0.25, what: str = "condition") -> T:
    """Poll ``probe`` until it returns something truthy; raise TimeoutError with ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = probe()
            if value:
                return value
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"timed out after {timeout:.0f}s waiting for {what}"
                + (f" (last error: {last_error})" if last_error else "")
            )
        time.sleep(interval)


# --- Jaeger --------------------------------------------------------------------------------------------------------------
@dataclass
class JaegerSpan:
    name: str
    span_id: str
    parent_id: str | None
    tags: dict[str, Any]
    events: list[dict[str, Any]]
    error: bool
    duration_us: int


class Jaeger:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def services(self) -> list[str]:
        return get_json(f"{self.base}/api/services").get("data") or []

    def trace(self, trace_id: str) -> list[JaegerSpan] | None:
        """Spans of one trace via the UI API (/api/traces/{id}); None while unknown."""
        try:
            data = get_json(f"{self.base}/api/traces/{trace_id}").get("data") or []
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
        if not data:
            return None
        spans = []
        for span in data[0]["spans"]:
            tags = {tag["key"]: tag["value"] for tag in span.get("tags", [])}
            parent = next(
                (ref["spanID"] for ref in span.get("references", []) if ref.get("refType") == "CHILD_OF"), None
            )
            events = [
                {"timestamp": log["timestamp"], **{f["key"]: f["value"] for f in log.get("fields", [])}}
                for log in span.get("logs", [])
            ]
            spans.append(
                JaegerSpan(
                    name=span["operationName"],
                    span_id=span["spanID"],
                    parent_id=parent,
                    tags=tags,
                    events=events,
                    error=tags.get("error") is True or tags.get("otel.status_code") == "ERROR",
                    duration_us=span["duration"],
                )
            )
        return spans

    def trace_v3(self, trace_id: str) -> dict[str, Any] | None:
        """The same trace as OTLP JSON via the v3 API (/api/v3/traces/{id})."""
        try:
            body = get_json(f"{self.base}/api/v3/traces/{trace_id}")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
        return body.get("result") or None

    def wait_trace(self, trace_id: str, spans: int, timeout: float = 30.0, interval: float = 0.1) -> list[JaegerSpan]:
        def probe() -> list[JaegerSpan] | None:
            found = self.trace(trace_id)
            return found if found and len(found) >= spans else None

        return wait_for(probe, timeout, interval, what=f"trace {trace_id} with {spans} spans in Jaeger")

    def span_counts(self, service: str, limit: int = 10000, lookback: str = "6h") -> dict[str, int]:
        """Spans per trace id of one service, through the search API (/api/traces?service=...)."""
        query = urllib.parse.urlencode({"service": service, "limit": limit, "lookback": lookback})
        try:
            data = get_json(f"{self.base}/api/traces?{query}", timeout=30.0).get("data") or []
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return {}
            raise
        return {trace["traceID"]: len(trace.get("spans", [])) for trace in data}


# --- OTLP/JSON without retries (exact counts for the fault tests and the fault benchmark) ---------------------------
def otlp_json_traces(service: str, trace_ids: list[str], spans_per_trace: int) -> bytes:
    """One OTLP/JSON ExportTraceServiceRequest: ``spans_per_trace`` spans (a root and its children) per trace id."""
    now = time.time_ns()
    spans = []
    for trace_id in trace_ids:
        root = trace_id[:16]
        for i in range(spans_per_trace):
            span_id = root if i == 0 else f"{trace_id[16:30]}{i:02x}"
            span: dict[str, Any] = {
                "traceId": trace_id,
                "spanId": span_id,
                "name": "invoke_agent fault-test" if i == 0 else "chat fault-test",
                "kind": 1,
                "startTimeUnixNano": str(now - 1_000_000),
                "endTimeUnixNano": str(now),
                "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}],
            }
            if i:
                span["parentSpanId"] = root
            spans.append(span)
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeSpans": [{"scope": {"name": "otel-agent.fault-test"}, "spans": spans}],
            }
        ]
    }
    return json.dumps(body).encode()


def post_otlp_json(endpoint: str, body: bytes, timeout: float = 10.0) -> int:
    """POST one request to ``endpoint``/v1/traces once (no retry); the HTTP status, or 0 when unreachable."""
    request = urllib.request.Request(
        endpoint.rstrip("/") + "/v1/traces", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0


@dataclass
class SentTraces:
    """What a fault test sent: trace ids with their span count, split by the collector's answer."""

    accepted: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)

    @property
    def accepted_spans(self) -> int:
        return sum(self.accepted.values())

    @property
    def refused_spans(self) -> int:
        return sum(self.refused.values())

    def send(self, endpoint: str, service: str, traces: int = 1, spans_per_trace: int = 5) -> int:
        """Send one request holding ``traces`` new traces; returns the HTTP status."""
        import secrets

        ids = [secrets.token_hex(16) for _ in range(traces)]
        status = post_otlp_json(endpoint, otlp_json_traces(service, ids, spans_per_trace))
        self.statuses.append(status)
        target = self.accepted if status == 200 else self.refused
        target.update({trace_id: spans_per_trace for trace_id in ids})
        return status


# --- Prometheus -------------------------------------------------------------------------------------------------------
class Prometheus:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        url = f"{self.base}/api/v1/query?query={urllib.parse.quote(expr)}" + (f"&time={at:.3f}" if at else "")
        body = get_json(url)
        if body.get("status") != "success":
            raise ValueError(f"query failed: {body}")
        return body["data"]["result"]

    def scalar(self, expr: str, at: float | None = None) -> float | None:
        """The value of a one-series result (None when empty), now or at the unix time ``at``."""
        result = self.query(expr, at)
        return float(result[0]["value"][1]) if result else None

    def by_label(self, expr: str, label: str) -> dict[str, float]:
        return {r["metric"].get(label, ""): float(r["value"][1]) for r in self.query(expr)}

    def exemplars(self, expr: str, seconds: float = 600) -> list[dict[str, Any]]:
        now = time.time()
        url = (
            f"{self.base}/api/v1/query_exemplars?query={urllib.parse.quote(expr)}"
            f"&start={now - seconds:.3f}&end={now + 60:.3f}"
        )
        body = get_json(url)
        return [
            {**ex, "seriesLabels": series["seriesLabels"]}
            for series in body.get("data") or []
            for ex in series.get("exemplars", [])
        ]

    def alerts(self) -> list[dict[str, Any]]:
        return get_json(f"{self.base}/api/v1/alerts")["data"]["alerts"]


class Alertmanager:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def alerts(self, **matchers: str) -> list[dict[str, Any]]:
        query = "&".join(f"filter={urllib.parse.quote(f'{k}={json.dumps(v)}')}" for k, v in matchers.items())
        return get_json(f"{self.base}/api/v2/alerts" + (f"?{query}" if query else ""))


# --- OTLP/HTTP trace sink -----------------------------------------------------------------------------------------------
@dataclass
class SinkSpan:
    trace_id: str
    span_id: str
    name: str
    attributes: dict[str, Any]


@dataclass
class OtlpTraceSink:
    """A loopback OTLP/HTTP receiver for traces (protobuf, gzip or not) that records every span it gets."""

    host: str = "127.0.0.1"
    port: int = 0
    spans: list[SinkSpan] = field(default_factory=list)
    requests: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> OtlpTraceSink:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                received = []
                for rs in request.resource_spans:
                    for ss in rs.scope_spans:
                        for span in ss.spans:
                            attrs = {kv.key: _any_value(kv.value) for kv in span.attributes}
                            received.append(SinkSpan(span.trace_id.hex(), span.span_id.hex(), span.name, attrs))
                with sink._lock:
                    sink.spans.extend(received)
                    sink.requests += 1
                payload = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def traces(self) -> dict[str, list[SinkSpan]]:
        with self._lock:
            spans = list(self.spans)
        grouped: dict[str, list[SinkSpan]] = {}
        for span in spans:
            grouped.setdefault(span.trace_id, []).append(span)
        return grouped

    def __enter__(self) -> OtlpTraceSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _any_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None
