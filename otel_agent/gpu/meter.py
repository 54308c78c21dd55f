"""The pipeline's GPU stage: sample NVML around calls that go to a local endpoint, and publish hw.gpu.* readings.

No GPU, no driver or no `nvidia-ml-py`: the sampler says so once and every call costs one endpoint check.
"""

from __future__ import annotations

from typing import Any

from ..config import Options
from ..records import GpuUsage, TurnRequest
from ..telemetry import names as n
from .local_endpoint import is_local_endpoint
from .sampler import GpuSampler, SpanToken


class GpuMeter:
    def __init__(self, sampler: GpuSampler, instruments: Any = None) -> None:
        self._sampler = sampler
        self._instruments = instruments

    @classmethod
    def from_options(cls, options: Options, instruments: Any = None) -> GpuMeter:
        sampler = GpuSampler(mode=options.gpu, devices=options.gpu_devices, hz=options.gpu_sample_hz)
        return cls(sampler, instruments)

    def begin(self, request: TurnRequest) -> SpanToken | None:
        if not is_local_endpoint(request.server_address):
            return None
        return self._sampler.begin()

    def end(self, token: SpanToken | None) -> GpuUsage | None:
        usage = self._sampler.end(token)
        if usage is not None and self._instruments is not None:
            self._publish_host_readings()
        return usage

    def _publish_host_readings(self) -> None:
        m = self._instruments
        for reading in self._sampler.latest():
            labels = {n.HW_ID: reading.id, n.HW_VENDOR: "nvidia"}
            if reading.name:
                labels[n.HW_MODEL] = reading.name
            m.hw_gpu_memory_usage.set(reading.memory_used_bytes, labels)
            m.hw_gpu_memory_limit.set(reading.memory_total_bytes, labels)
            if reading.memory_total_bytes:
                m.hw_gpu_memory_utilization.set(reading.memory_used_bytes / reading.memory_total_bytes, labels)
            if reading.utilization is not None:
                m.hw_gpu_utilization.set(reading.utilization, {**labels, n.HW_GPU_TASK: "general"})

    def shutdown(self) -> None:
        self._sampler.shutdown()
