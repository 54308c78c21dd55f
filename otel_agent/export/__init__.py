"""Exporters that write telemetry somewhere other than an OTLP endpoint."""

from .otlp_json_file import (
    LOGS_FILE,
    METRICS_FILE,
    TRACES_FILE,
    OtlpJsonFileLogExporter,
    OtlpJsonFileMetricExporter,
    OtlpJsonFileSpanExporter,
)

__all__ = [
    "LOGS_FILE",
    "METRICS_FILE",
    "TRACES_FILE",
    "OtlpJsonFileLogExporter",
    "OtlpJsonFileMetricExporter",
    "OtlpJsonFileSpanExporter",
]
