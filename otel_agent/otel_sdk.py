"""Tracer, meter and logger providers: the application's when it has set them, else ours, by the standard variables.

We never replace providers the application set. When none is set we install SDK providers with a resource
(`service.name`) and the exporters `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER` / `OTEL_LOGS_EXPORTER` choose
(a comma list of `otlp`, `console`, `none`, `otlp_json_file`); without those, our `exporter` option: OTLP when an
OTLP endpoint is configured, else the embedded default, an OTLP-JSON file. OTLP goes over HTTP/protobuf, or gRPC when
`OTEL_EXPORTER_OTLP_PROTOCOL` (or the per-signal variable) says `grpc` and the `grpc` extra is installed.

Providers we set up are ours for the life of the process: they are created without the SDK's own exit hook, so that
`runtime` ends open runs before they shut down, and shuts them down within `exit_timeout_s`. `uninstrument()` only
flushes them (a global provider cannot be replaced, so a later `instrument()` reuses them).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from .config import Options, otlp_endpoint_set, otlp_protocol, service_name, signal_exporters

log = logging.getLogger("otel_agent")

_UNSET_NAMES = frozenset(
    {
        "ProxyTracerProvider",
        "_ProxyMeterProvider",
        "NoOpTracerProvider",
        "NoOpMeterProvider",
        "ProxyLoggerProvider",
        "NoOpLoggerProvider",
    }
)
_warned: set[str] = set()


def _warn_once(key: str, message: str, *args: Any) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message, *args)


# -- counting what was delivered ------------------------------------------------------------------------------------
class _EndedSpans(SpanProcessor):
    """Counts the sampled spans that ended in our tracer provider (what the exporters should deliver)."""

    def __init__(self) -> None:
        self.count = 0

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.trace_flags.sampled:
            self.count += 1


class _CountingSpanExporter(SpanExporter):
    """Wraps one exporter of ours and counts the spans it delivered."""

    def __init__(self, inner: SpanExporter, kind: str) -> None:
        self.inner = inner
        self.kind = kind
        self.delivered = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        if result is SpanExportResult.SUCCESS:
            self.delivered += len(spans)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self.inner.force_flush(timeout_millis))


@dataclass
class OtelSdk:
    tracer_provider: Any
    meter_provider: Any
    logger_provider: Any = None
    owned_tracer: TracerProvider | None = None
    owned_meter: MeterProvider | None = None
    owned_logger: Any = None
    exporters: list[str] = field(default_factory=list)
    ended: _EndedSpans | None = None
    span_exporters: list[_CountingSpanExporter] = field(default_factory=list)
    exporter_options: tuple[Any, ...] = ()

    def _owned(self) -> list[tuple[str, Any]]:
        return [(name, p) for name, p in (("traces", self.owned_tracer), ("metrics", self.owned_meter),
                                          ("logs", self.owned_logger)) if p is not None]  # fmt: skip

    def flush(self, timeout_s: float) -> None:
        """Flush what we own, waiting at most `timeout_s` (uninstrument: the providers stay usable)."""
        jobs = [(name, provider.force_flush) for name, provider in self._owned()]
        late = _run_bounded(jobs, timeout_s)
        if late:
            _warn_once("flush", "otel-agent: flushing %s took over %.1f s; not waiting", ", ".join(late), timeout_s)

    def shutdown(self, timeout_s: float) -> None:
        """Shut down what we own (final: at exit), waiting at most `timeout_s`, then say once what was not sent."""
        jobs = [(name, provider.shutdown) for name, provider in self._owned()]
        late = _run_bounded(jobs, timeout_s)
        for _name, provider in self._owned():
            _forget_owned(provider)
        self._report_dropped(late, timeout_s)

    def _report_dropped(self, late: list[str], timeout_s: float) -> None:
        lost: list[str] = []
        if self.ended is not None:
            for exporter in self.span_exporters:
                missing = self.ended.count - exporter.delivered
                if missing > 0:
                    lost.append(f"{missing} of {self.ended.count} spans to {exporter.kind}")
        if "metrics" in late:
            lost.append("the last metrics")
        if "logs" in late:
            lost.append("the last events")
        if not lost and not late:
            return
        why = f"not sent within {timeout_s:g} s (exit_timeout_s)" if late else "export failed"
        log.warning(
            "otel-agent: telemetry dropped at exit: %s (%s; is the collector reachable?)",
            " and ".join(lost) or " and ".join(late),
            why,
        )


def _run_bounded(jobs: list[tuple[str, Callable[[], Any]]], timeout_s: float) -> list[str]:
    """Run each job in its own daemon thread; return the names of those still running after `timeout_s`."""
    threads: list[tuple[str, threading.Thread]] = []
    for name, job in jobs:
        thread = threading.Thread(target=_quietly, args=(name, job), name=f"otel-agent-{name}-flush", daemon=True)
        thread.start()
        threads.append((name, thread))
    deadline = time.monotonic() + max(timeout_s, 0.0)
    for _name, thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
    return [name for name, thread in threads if thread.is_alive()]


def _quietly(name: str, job: Callable[[], Any]) -> None:
    try:
        job()
    except Exception:
        log.debug("otel-agent: %s flush failed", name, exc_info=True)


def _is_unset(provider: Any) -> bool:
    return type(provider).__name__ in _UNSET_NAMES


# -- providers we own: kept for the process, reused by a later instrument() ----------------------------------------
_OWNED: dict[str, OtelSdk] = {}
_OWNED_LOCK = threading.Lock()


def _forget_owned(provider: Any) -> None:
    with _OWNED_LOCK:
        for key in [k for k, p in _OWNED.items() if provider in (p.owned_tracer, p.owned_meter, p.owned_logger)]:
            del _OWNED[key]


def _reset_tallies_in_child() -> None:
    """A forked child counts its own spans: what the parent ended and queued is the parent's to deliver."""
    global _OWNED_LOCK
    _OWNED_LOCK = threading.Lock()
    providers = _OWNED.get("providers")
    if providers is not None:
        if providers.ended is not None:
            providers.ended.count = 0
        for exporter in providers.span_exporters:
            exporter.delivered = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_tallies_in_child)


def shutdown_owned(timeout_s: float) -> None:
    """Shut down the providers we set up and still hold (after `uninstrument()`, at exit)."""
    with _OWNED_LOCK:
        providers = _OWNED.pop("providers", None)
    if providers is not None:
        providers.shutdown(timeout_s)


# -- exporters ---------------------------------------------------------------------------------------------------
def _choices(options: Options, signal: str) -> tuple[str, ...]:
    otlp_protocol(signal)  # a bad protocol value is said once even when this signal does not use OTLP
    chosen = signal_exporters(signal)
    if chosen is not None:
        return chosen
    if options.exporter != "auto":
        return (options.exporter,)
    return ("otlp",) if otlp_endpoint_set(signal) else ("file",)


def _grpc(signal: str) -> bool:
    """True when the protocol for `signal` is gRPC and its exporter is installed (else one warning, HTTP)."""
    if otlp_protocol(signal) != "grpc":
        return False
    try:
        import opentelemetry.exporter.otlp.proto.grpc  # noqa: F401
    except ImportError:
        _warn_once(
            "grpc",
            "otel-agent: OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs `pip install otel-agent[grpc]`; using http/protobuf",
        )
        return False
    return True


def _span_exporter(kind: str, options: Options) -> SpanExporter | None:
    if kind == "otlp":
        if _grpc("traces"):
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter

            return GrpcSpanExporter()
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if kind == "file":
        from .export.otlp_json_file import OtlpJsonFileSpanExporter

        return OtlpJsonFileSpanExporter(options.file_path, **_rotation(options))
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    return None


def _metric_reader(kind: str, options: Options) -> MetricReader | None:
    if kind == "otlp":
        if _grpc("metrics"):
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                OTLPMetricExporter as GrpcMetricExporter,
            )

            return PeriodicExportingMetricReader(GrpcMetricExporter())
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        return PeriodicExportingMetricReader(OTLPMetricExporter())
    if kind == "file":
        from .export.otlp_json_file import OtlpJsonFileMetricExporter

        return PeriodicExportingMetricReader(OtlpJsonFileMetricExporter(options.file_path, **_rotation(options)))
    if kind == "console":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

        return PeriodicExportingMetricReader(ConsoleMetricExporter())
    return None


def _log_exporter(kind: str, options: Options) -> Any:
    if kind == "otlp":
        if _grpc("logs"):
            from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter

            return GrpcLogExporter()
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        return OTLPLogExporter()
    if kind == "file":
        from .export.otlp_json_file import OtlpJsonFileLogExporter

        return OtlpJsonFileLogExporter(options.file_path, **_rotation(options))
    if kind == "console":
        from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter

        return ConsoleLogRecordExporter()
    return None


def _exporter_options(options: Options) -> tuple[Any, ...]:
    return (options.exporter, options.file_path, options.file_max_bytes, options.file_backups)


def _rotation(options: Options) -> dict[str, int]:
    return {"max_bytes": options.file_max_bytes, "backups": options.file_backups}


# -- resolution --------------------------------------------------------------------------------------------------
def resolve_otel_sdk(
    options: Options,
    tracer_provider: Any = None,
    meter_provider: Any = None,
    *,
    logs: bool = False,
    logger_provider: Any = None,
) -> OtelSdk:
    """The providers to use; with `logs`, a logger provider too (for the content events)."""
    providers = OtelSdk(tracer_provider or trace.get_tracer_provider(), meter_provider or metrics.get_meter_provider())
    resource = Resource.create({"service.name": service_name(options)})
    with _OWNED_LOCK:
        previous = _OWNED.get("providers")
    if previous is not None and providers.tracer_provider is previous.owned_tracer:
        providers.owned_tracer, providers.ended = previous.owned_tracer, previous.ended
        providers.span_exporters = previous.span_exporters
        if _exporter_options(options) != previous.exporter_options:
            _warn_once(
                "reused",
                "otel-agent: reusing the providers an earlier instrument() set up; their exporters stay as they were "
                "(exporter and file options of this call are not applied)",
            )
    elif _is_unset(providers.tracer_provider):
        tracer = TracerProvider(resource=resource, shutdown_on_exit=False)
        providers.ended = _EndedSpans()
        tracer.add_span_processor(providers.ended)
        for kind in _choices(options, "traces"):
            exporter = _span_exporter(kind, options)
            if exporter is not None:
                counted = _CountingSpanExporter(exporter, kind)
                providers.span_exporters.append(counted)
                tracer.add_span_processor(BatchSpanProcessor(counted))
                providers.exporters.append(f"traces:{kind}")
        trace.set_tracer_provider(tracer)
        providers.tracer_provider = trace.get_tracer_provider()
        providers.owned_tracer = tracer
    if previous is not None and providers.meter_provider is previous.owned_meter:
        providers.owned_meter = previous.owned_meter
    elif _is_unset(providers.meter_provider):
        readers = [r for kind in _choices(options, "metrics") if (r := _metric_reader(kind, options)) is not None]
        meter = MeterProvider(resource=resource, metric_readers=readers, shutdown_on_exit=False)
        providers.exporters.extend(f"metrics:{kind}" for kind in _choices(options, "metrics") if kind != "none")
        metrics.set_meter_provider(meter)
        providers.meter_provider = metrics.get_meter_provider()
        providers.owned_meter = meter
    if logs:
        _resolve_logger(providers, options, resource, logger_provider, previous)
    if previous is not None and previous.owned_logger is not None and providers.owned_logger is None:
        providers.owned_logger = previous.owned_logger  # kept for the exit shutdown
        providers.logger_provider = providers.logger_provider or previous.owned_logger
    providers.exporter_options = previous.exporter_options if previous is not None else _exporter_options(options)
    if providers.owned_tracer is not None or providers.owned_meter is not None or providers.owned_logger is not None:
        with _OWNED_LOCK:
            _OWNED["providers"] = providers
    return providers


def _resolve_logger(
    providers: OtelSdk, options: Options, resource: Resource, given: Any, previous: OtelSdk | None
) -> None:
    try:
        from opentelemetry import _logs
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    except ImportError:  # an SDK without the logs API: the events are off, the spans keep the content
        _warn_once("logs-import", "otel-agent: this OpenTelemetry SDK has no logs API; content events are off")
        return
    current = given or _logs.get_logger_provider()
    if previous is not None and current is previous.owned_logger:
        providers.logger_provider = providers.owned_logger = current
        return
    if not _is_unset(current):
        providers.logger_provider = current
        return
    logger = LoggerProvider(resource=resource, shutdown_on_exit=False)
    for kind in _choices(options, "logs"):
        exporter = _log_exporter(kind, options)
        if exporter is not None:
            logger.add_log_record_processor(BatchLogRecordProcessor(exporter))
            providers.exporters.append(f"logs:{kind}")
    _logs.set_logger_provider(logger)
    providers.logger_provider = _logs.get_logger_provider()
    providers.owned_logger = logger


def install_shutdown_guard(tracer_provider: Any, before_shutdown: Callable[[], None]) -> bool:
    """Make `before_shutdown` run first whenever the application's SDK tracer provider shuts down (its own exit
    hook or an explicit `shutdown()`), while its exporters still work: open runs end and their spans are sent.

    Adds a span processor and moves it to the front of the provider's processor list; returns False (nothing
    changed) when the provider is not an SDK provider of the expected shape."""
    add = getattr(tracer_provider, "add_span_processor", None)
    if add is None:
        return False
    guard = _ShutdownGuard(before_shutdown)
    try:
        add(guard)
        multi = getattr(tracer_provider, "_active_span_processor", None)
        processors = getattr(multi, "_span_processors", None)
        lock = getattr(multi, "_lock", None)
        if isinstance(processors, tuple) and processors and processors[-1] is guard and lock is not None:
            with lock:
                multi._span_processors = (guard, *processors[:-1])  # type: ignore[union-attr]
        return True
    except Exception:
        log.debug("otel-agent: could not guard the tracer provider's shutdown", exc_info=True)
        return False


class _ShutdownGuard(SpanProcessor):
    def __init__(self, before_shutdown: Callable[[], None]) -> None:
        self._before_shutdown = before_shutdown

    def shutdown(self) -> None:
        try:
            self._before_shutdown()
        except Exception:
            log.debug("otel-agent: ending runs before the provider's shutdown failed", exc_info=True)
