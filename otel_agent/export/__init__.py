"""Exporters that write telemetry somewhere other than an OTLP endpoint."""

from .otlp_json_file import (
    METRICS_FILE,
    TRACES_FILE,
    OtlpJsonFileMetricExporter,
    OtlpJsonFileSpanExporter,
)

__all__ = ["METRICS_FILE", "TRACES_FILE", "OtlpJsonFileMetricExporter", "OtlpJsonFileSpanExporter"]
