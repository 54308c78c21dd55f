"""The gauges: list prices (`otel_agent.model.list_price`) and host GPU readings (`hw.gpu.*`)."""

from __future__ import annotations

from collections.abc import Iterable

from ..gpu.nvml import DeviceReading
from . import names as n
from .instruments import Instruments


class GaugeTelemetry:
    def __init__(self, instruments: Instruments, genai: n.GenAINames) -> None:
        self._m = instruments
        self._g = genai

    def list_price(self, provider: str, model: str, prices: Iterable[tuple[str, float]]) -> None:
        """One point per token type (`input`, `output`, `blended`), in USD per million tokens."""
        g = self._g
        base = {g.provider: provider, g.request_model: model}
        for token_type, value in prices:
            self._m.list_price.set(value, {**base, g.token_type: token_type})

    def gpu_readings(self, readings: Iterable[DeviceReading]) -> None:
        m = self._m
        for reading in readings:
            labels = {n.HW_ID: reading.id, n.HW_VENDOR: "nvidia"}
            if reading.name:
                labels[n.HW_MODEL] = reading.name
            m.hw_gpu_memory_usage.set(reading.memory_used_bytes, labels)
            m.hw_gpu_memory_limit.set(reading.memory_total_bytes, labels)
            if reading.memory_total_bytes:
                m.hw_gpu_memory_utilization.set(reading.memory_used_bytes / reading.memory_total_bytes, labels)
            if reading.utilization is not None:
                m.hw_gpu_utilization.set(reading.utilization, {**labels, n.HW_GPU_TASK: "general"})
