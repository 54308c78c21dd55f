"""OTLP/JSON lines files: one export request per line, as the OpenTelemetry Collector's ``file`` exporter writes them.

Each `export` call appends one line to ``<folder>/traces.otlp.jsonl`` (an ``ExportTraceServiceRequest``) or
``<folder>/metrics.otlp.jsonl`` (an ``ExportMetricsServiceRequest``). The JSON follows the OTLP/JSON rules, so the
collector's ``otlpjsonfile`` receiver and ``otel-agent report --from`` read it back:

* field names in lowerCamelCase, enums as integers, 64-bit integers as decimal strings;
* ``traceId``, ``spanId`` and ``parentSpanId`` as lowercase hex (protobuf's own JSON mapping would write base64).

Exporting never raises into the application: a failure returns FAILURE and is logged once, at debug level, on the
``otel_agent.export`` logger. Appends are serialised by a lock per file within the process, and each line is written
with a single ``O_APPEND`` write so that lines from separate processes do not interleave.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

log = logging.getLogger("otel_agent.export")

TRACES_FILE = "traces.otlp.jsonl"
METRICS_FILE = "metrics.otlp.jsonl"

_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId"})
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, threading.Lock())


def _hex_ids(value: Any) -> Any:
    """Rewrite protobuf's base64 ids as the hex OTLP/JSON requires, everywhere in the tree (spans, links, exemplars)."""
    if isinstance(value, dict):
        return {
            key: base64.b64decode(item).hex() if key in _ID_FIELDS and isinstance(item, str) else _hex_ids(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_hex_ids(item) for item in value]
    return value


def to_otlp_json_line(message: Message) -> str:
    """One OTLP/JSON line (no trailing newline) for an export request message."""
    tree = MessageToDict(message, use_integers_for_enums=True)
    return json.dumps(_hex_ids(tree), separators=(",", ":"), ensure_ascii=False)


class _JsonLinesFile:
    """Appends lines to one file; never raises, logs its first failure once."""

    def __init__(self, folder: str | os.PathLike[str], file_name: str) -> None:
        self.path = Path(folder) / file_name
        self._lock = _lock_for(self.path.resolve())
        self._failure_logged = False
        self._closed = False

    def append(self, build_line: Any) -> bool:
        if self._closed:
            return False
        try:
            data = (build_line() + "\n").encode("utf-8")
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    view = memoryview(data)
                    while view:
                        written = os.write(fd, view)
                        view = view[written:]
                finally:
                    os.close(fd)
            return True
        except Exception:
            if not self._failure_logged:
                self._failure_logged = True
                log.debug("otel-agent could not append telemetry to %s", self.path, exc_info=True)
            return False

    def close(self) -> None:
        self._closed = True


class OtlpJsonFileSpanExporter(SpanExporter):
    """Appends one ``ExportTraceServiceRequest`` per export call to ``<folder>/traces.otlp.jsonl``."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self._file = _JsonLinesFile(folder, TRACES_FILE)

    @property
    def path(self) -> Path:
        return self._file.path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        ok = self._file.append(lambda: to_otlp_json_line(encode_spans(spans)))
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self._file.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True  # every export is written before it returns


_CUMULATIVE: dict[type, AggregationTemporality] = {
    kind: AggregationTemporality.CUMULATIVE
    for kind in (Counter, UpDownCounter, Histogram, ObservableCounter, ObservableUpDownCounter, ObservableGauge)
}


class OtlpJsonFileMetricExporter(MetricExporter):
    """Appends one ``ExportMetricsServiceRequest`` per export call to ``<folder>/metrics.otlp.jsonl`` (cumulative)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        super().__init__(preferred_temporality=dict(_CUMULATIVE))
        self._file = _JsonLinesFile(folder, METRICS_FILE)

    @property
    def path(self) -> Path:
        return self._file.path

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        ok = self._file.append(lambda: to_otlp_json_line(encode_metrics(metrics_data)))
        return MetricExportResult.SUCCESS if ok else MetricExportResult.FAILURE

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._file.close()
