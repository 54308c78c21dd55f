"""Tracer and meter providers: the application's when it has set them, else ours with the standard `OTEL_*` choice.

We never replace providers the application set. When none is set we install SDK providers with a resource
(`service.name`) and the exporters `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER` choose; without those, our
`exporter` option: OTLP/HTTP when an OTLP endpoint is configured, else the embedded default, an OTLP-JSON file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from .config import Options

log = logging.getLogger("otel_agent")


@dataclass
class Providers:
    tracer_provider: Any
    meter_provider: Any
    owned_tracer: TracerProvider | None = None
    owned_meter: MeterProvider | None = None
    exporters: list[str] = field(default_factory=list)

    def shutdown(self) -> None:
        for provider in (self.owned_tracer, self.owned_meter):
            if provider is not None:
                try:
                    provider.shutdown()
                except Exception:
                    log.debug("otel-agent: provider shutdown failed", exc_info=True)


def _is_unset(provider: Any) -> bool:
    return type(provider).__name__ in {
        "ProxyTracerProvider",
        "_ProxyMeterProvider",
        "NoOpTracerProvider",
        "NoOpMeterProvider",
    }


def _choice(options: Options, signal: str) -> str:
    env = os.environ.get(f"OTEL_{signal.upper()}_EXPORTER")
    if env:
        return env.split(",")[0].strip().lower()
    if options.exporter != "auto":
        return options.exporter
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"):
        return "otlp"
    return "file"


def _span_exporter(kind: str, options: Options) -> SpanExporter | None:
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if kind == "file":
        from .export.otlp_json_file import OtlpJsonFileSpanExporter

        return OtlpJsonFileSpanExporter(options.file_path)
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    return None


def _metric_reader(kind: str, options: Options) -> MetricReader | None:
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        return PeriodicExportingMetricReader(OTLPMetricExporter())
    if kind == "file":
        from .export.otlp_json_file import OtlpJsonFileMetricExporter

        return PeriodicExportingMetricReader(OtlpJsonFileMetricExporter(options.file_path))
    if kind == "console":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

        return PeriodicExportingMetricReader(ConsoleMetricExporter())
    return None


def resolve_providers(options: Options, tracer_provider: Any = None, meter_provider: Any = None) -> Providers:
    providers = Providers(
        tracer_provider or trace.get_tracer_provider(), meter_provider or metrics.get_meter_provider()
    )
    service = options.service_name or os.environ.get("OTEL_SERVICE_NAME") or "otel-agent"
    resource = Resource.create({"service.name": service})
    if _is_unset(providers.tracer_provider):
        kind = _choice(options, "traces")
        tracer = TracerProvider(resource=resource)
        exporter = _span_exporter(kind, options)
        if exporter is not None:
            tracer.add_span_processor(BatchSpanProcessor(exporter))
            providers.exporters.append(f"traces:{kind}")
        trace.set_tracer_provider(tracer)
        providers.tracer_provider = trace.get_tracer_provider()
        providers.owned_tracer = tracer
    if _is_unset(providers.meter_provider):
        kind = _choice(options, "metrics")
        reader = _metric_reader(kind, options)
        meter = MeterProvider(resource=resource, metric_readers=[reader] if reader else [])
        if reader is not None:
            providers.exporters.append(f"metrics:{kind}")
        metrics.set_meter_provider(meter)
        providers.meter_provider = metrics.get_meter_provider()
        providers.owned_meter = meter
    return providers
