"""OTLP/JSON lines files: one export request per line, as the OpenTelemetry Collector's ``file`` exporter writes them.

Each `export` call appends one line to ``<folder>/traces.otlp.jsonl`` (an ``ExportTraceServiceRequest``) or
``<folder>/metrics.otlp.jsonl`` (an ``ExportMetricsServiceRequest``). The JSON follows the OTLP/JSON rules, so the
collector's ``otlpjsonfile`` receiver and ``otel-agent report --from`` read it back:

* field names in lowerCamelCase, enums as integers, 64-bit integers as decimal strings;
* ``traceId``, ``spanId`` and ``parentSpanId`` as lowercase hex (protobuf's own JSON mapping would write base64).

Files are created with mode 0600 (owner only: they may hold captured prompts); the umask can only narrow that, and a
file that already exists keeps its mode. A file rotates when the next line would take it past ``max_bytes``:
``traces.otlp.jsonl`` becomes ``traces.1.otlp.jsonl`` (the newest backup), older backups shift up, and at most
``backups`` are kept. Rotation is per process: several processes appending to one folder each rotate by the size
they see.

Exporting never raises into the application. A line is written whole or not at all: a short write (a full disk) is
cut back to the last complete line, so readers never see half a line. The first failure of each file (full disk,
read-only folder, ``/dev/full``) is one WARNING line on the ``otel_agent.export`` logger, with the count of dropped
exports said when writing works again; later failures are counted silently. Appends are serialised by a lock per
file within the process, and each line is written with one ``O_APPEND`` write so that lines from separate processes
do not interleave.
"""

from __future__ import annotations

import base64
import errno
import json
import logging
import os
import stat
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
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
LOGS_FILE = "logs.otlp.jsonl"

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


FILE_MODE = 0o600
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_BACKUPS = 3


def backup_name(file_name: str, number: int) -> str:
    """``traces.otlp.jsonl`` -> ``traces.<number>.otlp.jsonl`` (keeps the extension readers look for)."""
    stem, dot, rest = file_name.partition(".")
    return f"{stem}.{number}{dot}{rest}"


class _JsonLinesFile:
    """Appends whole lines to one file, rotating by size; never raises, warns once per failure spell."""

    def __init__(
        self,
        folder: str | os.PathLike[str],
        file_name: str,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        backups: int = DEFAULT_BACKUPS,
    ) -> None:
        self.path = Path(folder) / file_name
        self._file_name = file_name
        self._lock = _lock_for(self.path.resolve())
        self._max_bytes = max(int(max_bytes), 0)
        self._backups = max(int(backups), 0)
        self._failing = False
        self._warned = False
        self._dropped = 0
        self._closed = False

    @property
    def dropped(self) -> int:
        """Export calls whose line could not be written."""
        return self._dropped

    def append(self, build_line: Any) -> bool:
        if self._closed:
            return False
        try:
            data = (build_line() + "\n").encode("utf-8")
        except Exception:
            log.debug("otel-agent could not encode telemetry for %s", self.path, exc_info=True)
            self._dropped += 1
            return False
        with self._lock:
            try:
                self._write(data)
            except Exception as error:
                self._dropped += 1
                if not self._warned:
                    self._warned = True
                    log.warning(
                        "otel-agent: cannot write telemetry to %s (%s); dropping it until writing works again",
                        self.path,
                        error,
                    )
                self._failing = True
                return False
            if self._failing:
                self._failing = False
                log.warning(
                    "otel-agent: writing telemetry to %s again; %d exports were dropped", self.path, self._dropped
                )
            return True

    def _write(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        try:
            info = os.fstat(fd)
            regular = stat.S_ISREG(info.st_mode)
            if regular and self._max_bytes and info.st_size and info.st_size + len(data) > self._max_bytes:
                os.close(fd)
                fd = -1
                self._rotate()
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
                info = os.fstat(fd)
            start = info.st_size
            view = memoryview(data)
            written = 0
            try:
                while written < len(data):
                    count = os.write(fd, view[written:])
                    if count <= 0:
                        raise OSError(errno.ENOSPC, "short write")
                    written += count
            except OSError:
                if written and regular:
                    _cut_back(fd, start, written)
                raise
        finally:
            if fd >= 0:
                os.close(fd)

    def _rotate(self) -> None:
        folder = self.path.parent
        if self._backups == 0:
            os.unlink(self.path)
            return
        for number in range(self._backups - 1, 0, -1):
            older = folder / backup_name(self._file_name, number)
            if older.exists():
                os.replace(older, folder / backup_name(self._file_name, number + 1))
        os.replace(self.path, folder / backup_name(self._file_name, 1))

    def close(self) -> None:
        self._closed = True


def _cut_back(fd: int, start: int, written: int) -> None:
    """Remove the torn tail of a short write, unless another process appended after it (then it stays, and readers
    skip the one torn line)."""
    try:
        if os.fstat(fd).st_size == start + written:
            os.ftruncate(fd, start)
    except OSError:
        log.debug("otel-agent could not cut back a torn telemetry line", exc_info=True)


class OtlpJsonFileSpanExporter(SpanExporter):
    """Appends one ``ExportTraceServiceRequest`` per export call to ``<folder>/traces.otlp.jsonl``."""

    def __init__(
        self, folder: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES, backups: int = DEFAULT_BACKUPS
    ) -> None:
        self._file = _JsonLinesFile(folder, TRACES_FILE, max_bytes=max_bytes, backups=backups)

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

    def __init__(
        self, folder: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES, backups: int = DEFAULT_BACKUPS
    ) -> None:
        super().__init__(preferred_temporality=dict(_CUMULATIVE))
        self._file = _JsonLinesFile(folder, METRICS_FILE, max_bytes=max_bytes, backups=backups)

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


class OtlpJsonFileLogExporter(LogRecordExporter):
    """Appends one ``ExportLogsServiceRequest`` per export call to ``<folder>/logs.otlp.jsonl`` (the content events)."""

    def __init__(
        self, folder: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES, backups: int = DEFAULT_BACKUPS
    ) -> None:
        self._file = _JsonLinesFile(folder, LOGS_FILE, max_bytes=max_bytes, backups=backups)

    @property
    def path(self) -> Path:
        return self._file.path

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs

        if not batch:
            return LogRecordExportResult.SUCCESS
        ok = self._file.append(lambda: to_otlp_json_line(encode_logs(batch)))
        return LogRecordExportResult.SUCCESS if ok else LogRecordExportResult.FAILURE

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def shutdown(self) -> None:
        self._file.close()
