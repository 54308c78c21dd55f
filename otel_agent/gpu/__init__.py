"""GPU use of local models: NVML readings, per-span VRAM-time sampling, and which endpoints are local."""

from .local_endpoint import is_local_endpoint
from .nvml import DeviceReading, Nvml
from .sampler import GpuSampler, SpanToken

__all__ = ["DeviceReading", "GpuSampler", "Nvml", "SpanToken", "is_local_endpoint"]
