"""The pipeline's GPU stage: sample NVML around calls that go to a local endpoint, and report the host readings
(`on_readings`; the telemetry layer makes them the `hw.gpu.*` gauges).

No GPU, no driver or no `nvidia-ml-py`: the sampler says so once and every call costs one endpoint check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..config import Options
from ..records import GpuUsage, TurnRequest
from .local_endpoint import is_local_endpoint
from .nvml import DeviceReading
from .sampler import GpuSampler, SpanToken

ReadingsSink = Callable[[Iterable[DeviceReading]], None]


class GpuMeter:
    def __init__(self, sampler: GpuSampler, on_readings: ReadingsSink | None = None) -> None:
        self._sampler = sampler
        self._on_readings = on_readings

    @classmethod
    def from_options(cls, options: Options, on_readings: ReadingsSink | None = None) -> GpuMeter:
        sampler = GpuSampler(mode=options.gpu, devices=options.gpu_devices, hz=options.gpu_sample_hz)
        return cls(sampler, on_readings)

    def begin(self, request: TurnRequest) -> SpanToken | None:
        if not is_local_endpoint(request.server_address):
            return None
        return self._sampler.begin()

    def end(self, token: SpanToken | None) -> GpuUsage | None:
        usage = self._sampler.end(token)
        if usage is not None and self._on_readings is not None:
            self._on_readings(self._sampler.latest())
        return usage

    def shutdown(self) -> None:
        self._sampler.shutdown()
