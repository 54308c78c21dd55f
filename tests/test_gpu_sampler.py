"""The NVML wrapper and the GPU sampler, driven by a test double of NVML.

CI has no GPU, so NVML is a double here: `FakePynvml` stands in for the ``pynvml`` module and is injected into
`Nvml(module=...)`. Its memory and utilization are functions of a fake clock, so a known VRAM curve can be integrated
without sleeping; only the thread lifecycle tests use real time.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from otel_agent.gpu.integrate import GIB
from otel_agent.gpu.nvml import Nvml
from otel_agent.gpu.sampler import GpuSampler

S = 1_000_000_000  # ns


class FakeClock:
    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        return self.ns

    def advance(self, seconds: float) -> None:
        self.ns += round(seconds * S)


class FakePynvml:
    """Enough of the pynvml module for `Nvml`: device i has handle i."""

    class NVMLError(Exception):
        pass

    def __init__(
        self,
        devices: int = 1,
        *,
        used: Callable[[int], int] = lambda i: 2 * GIB,
        utilization: Callable[[int], int] = lambda i: 50,
        total: int = 80 * GIB,
        fail_init: bool = False,
    ) -> None:
        self.devices = devices
        self.used = used
        self.utilization = utilization
        self.total = total
        self.fail_init = fail_init
        self.init_calls = 0
        self.shutdown_calls = 0
        self.memory_reads = 0

    def nvmlInit(self) -> None:
        self.init_calls += 1
        if self.fail_init:
            raise self.NVMLError("NVML Shared Library Not Found")

    def nvmlShutdown(self) -> None:
        self.shutdown_calls += 1

    def nvmlDeviceGetCount(self) -> int:
        return self.devices

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetUUID(self, handle: int) -> bytes:
        return f"GPU-fake-{handle}".encode()

    def nvmlDeviceGetName(self, handle: int) -> str:
        return "Fake H100"

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        self.memory_reads += 1
        used = self.used(handle)
        return SimpleNamespace(used=used, total=self.total, free=self.total - used)

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:
        return SimpleNamespace(gpu=self.utilization(handle), memory=0)


def _sampler(fake: FakePynvml, clock: FakeClock, **kwargs: Any) -> GpuSampler:
    return GpuSampler(Nvml(module=fake), clock=clock, background=False, **kwargs)


def _sample_every(sampler: GpuSampler, clock: FakeClock, period_s: float, count: int) -> None:
    for _ in range(count):
        clock.advance(period_s)
        sampler.sample_once()


# -- NVML wrapper ------------------------------------------------------------------------------------------------------
def test_nvml_reads_devices() -> None:
    fake = FakePynvml(devices=2, used=lambda i: (i + 1) * GIB, utilization=lambda i: 25 * (i + 1))
    nvml = Nvml(module=fake)
    assert nvml.available and nvml.device_count() == 2
    reading = nvml.read(1)
    assert reading is not None
    assert (reading.index, reading.id, reading.name) == (1, "GPU-fake-1", "Fake H100")
    assert reading.memory_used_bytes == 2 * GIB and reading.memory_total_bytes == 80 * GIB
    assert reading.utilization == 0.5 and reading.memory_utilization == pytest.approx(2 / 80)
    assert nvml.device_indexes(["GPU-FAKE-1"]) == (1,) and nvml.device_indexes(["0"]) == (0,)
    assert nvml.read(5) is None
    nvml.shutdown()
    assert fake.shutdown_calls == 1 and not nvml.available and nvml.read(0) is None


def test_nvml_unavailable_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePynvml(fail_init=True)
    nvml = Nvml(module=fake)
    assert not nvml.available and not nvml.available
    assert fake.init_calls == 1  # tried once, then remembered
    assert nvml.read(0) is None and nvml.device_count() == 0 and nvml.read_all([0]) == []
    assert "NVML Shared Library Not Found" in (nvml.unavailable_reason or "")

    monkeypatch.setitem(sys.modules, "pynvml", None)  # the package is not installed
    missing = Nvml()
    assert not missing.available and "nvidia-ml-py" in (missing.unavailable_reason or "")

    assert not Nvml(module=FakePynvml(devices=0)).available


def test_nvml_read_failure_is_none() -> None:
    fake = FakePynvml()

    def broken(handle: int) -> Any:
        raise fake.NVMLError("GPU is lost")

    nvml = Nvml(module=fake)
    assert nvml.available
    fake.nvmlDeviceGetMemoryInfo = broken  # type: ignore[method-assign]
    assert nvml.read(0) is None


# -- integration over spans --------------------------------------------------------------------------------------------
def test_constant_two_gib_for_one_second() -> None:
    fake, clock = FakePynvml(), FakeClock()
    sampler = _sampler(fake, clock)
    token = sampler.begin()
    assert token is not None
    _sample_every(sampler, clock, 0.1, 9)
    clock.advance(0.1)
    usage = sampler.end(token)
    assert usage is not None
    assert usage.vram_time_gib_s == pytest.approx(2.0, rel=1e-9)
    assert usage.vram_peak_bytes == 2 * GIB
    assert usage.utilization_mean == pytest.approx(0.5)
    assert usage.device_ids == ("GPU-fake-0",)
    assert usage.samples == 11  # begin, 9 in between, end


def test_ramp_and_peak() -> None:
    clock = FakeClock()
    fake = FakePynvml(used=lambda i: round(4 * GIB * clock.ns / S), utilization=lambda i: 10 * clock.ns // (S // 10))
    sampler = _sampler(fake, clock)
    token = sampler.begin()
    _sample_every(sampler, clock, 0.1, 10)
    usage = sampler.end(token)
    assert usage is not None
    assert usage.vram_time_gib_s == pytest.approx(2.0, rel=1e-6)  # 0 -> 4 GiB linearly over 1 s
    assert usage.vram_peak_bytes == 4 * GIB
    # utilization 0%, 10%, ... 100% at the 11 samples (the end sample repeats t=1 s: 100%)
    assert usage.utilization_mean == pytest.approx((sum(range(0, 101, 10)) + 100) / 12 / 100)


def test_span_shorter_than_sampling_period_uses_its_edge_samples() -> None:
    fake, clock = FakePynvml(), FakeClock()
    sampler = _sampler(fake, clock, hz=10)
    token = sampler.begin()
    clock.advance(0.05)
    usage = sampler.end(token)
    assert usage is not None and usage.samples == 2
    assert usage.vram_time_gib_s == pytest.approx(0.1)  # 2 GiB x 0.05 s


def test_devices_are_summed_and_filtered() -> None:
    fake, clock = FakePynvml(devices=2, used=lambda i: (i + 1) * GIB), FakeClock()
    both = _sampler(fake, clock)
    token = both.begin()
    clock.advance(1.0)
    usage = both.end(token)
    assert usage is not None and usage.vram_time_gib_s == pytest.approx(3.0)  # 1 GiB + 2 GiB for 1 s
    assert usage.device_ids == ("GPU-fake-0", "GPU-fake-1") and usage.vram_peak_bytes == 3 * GIB

    second = _sampler(fake, clock, devices=["1"])
    token = second.begin()
    clock.advance(1.0)
    usage = second.end(token)
    assert usage is not None and usage.vram_time_gib_s == pytest.approx(2.0) and usage.device_ids == ("GPU-fake-1",)


def test_span_longer_than_the_buffer_keeps_its_start() -> None:
    clock = FakeClock()
    fake = FakePynvml(used=lambda i: round(GIB + GIB * clock.ns / S))  # (1 + t) GiB
    sampler = _sampler(fake, clock, hz=10, buffer_s=1.6)  # 16 samples kept
    token = sampler.begin()
    _sample_every(sampler, clock, 0.1, 30)
    usage = sampler.end(token)
    assert usage is not None
    assert usage.vram_time_gib_s == pytest.approx(3 + 4.5, rel=1e-6)  # integral of (1 + t) from 0 to 3 s


def test_concurrent_overlapping_spans() -> None:
    clock = FakeClock()
    fake = FakePynvml(used=lambda i: 1 * GIB if clock.ns < S else 3 * GIB)
    sampler = _sampler(fake, clock)
    outer = sampler.begin()
    _sample_every(sampler, clock, 0.1, 10)  # t = 1.0 s reads 3 GiB
    inner = sampler.begin()
    _sample_every(sampler, clock, 0.1, 10)
    inner_usage, outer_usage = sampler.end(inner), sampler.end(outer)
    assert inner_usage is not None and outer_usage is not None
    assert inner_usage.vram_time_gib_s == pytest.approx(3.0)  # 3 GiB for 1 s
    # outer: 1 GiB for 0.9 s, the 0.9 -> 1.0 s segment ramps 1 -> 3 GiB (0.2), then 3 GiB for 1 s
    assert outer_usage.vram_time_gib_s == pytest.approx(0.9 + 0.2 + 3.0)
    assert sampler.end(inner) is None  # ended twice


def test_latest_host_readings() -> None:
    fake, clock = FakePynvml(devices=2), FakeClock()
    sampler = _sampler(fake, clock)
    assert sampler.latest() == []  # never initialises NVML on its own in auto mode
    assert fake.init_calls == 0
    sampler.end(sampler.begin())
    readings = sampler.latest()
    assert [r.id for r in readings] == ["GPU-fake-0", "GPU-fake-1"]
    assert readings[0].memory_used_bytes == 2 * GIB and readings[0].memory_total_bytes == 80 * GIB
    reads = fake.memory_reads
    clock.advance(5.0)  # stale: read again
    sampler.latest()
    assert fake.memory_reads == reads + 2


# -- no GPU ------------------------------------------------------------------------------------------------------------
def _sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "otel-agent-gpu-sampler"]


def test_no_gpu_returns_none_and_starts_no_thread() -> None:
    before = _sampler_threads()
    fake = FakePynvml(fail_init=True)
    sampler = GpuSampler(Nvml(module=fake), hz=100)
    for _ in range(100):
        token = sampler.begin()
        assert token is None and sampler.end(token) is None
    assert fake.init_calls == 1
    assert sampler.available is False and not sampler.running and sampler.latest() == []
    assert _sampler_threads() == before


def test_mode_off_never_touches_nvml() -> None:
    fake = FakePynvml()
    sampler = GpuSampler(Nvml(module=fake), mode="off")
    assert sampler.begin() is None and sampler.latest() == [] and not sampler.running
    assert fake.init_calls == 0


def test_mode_on_without_gpu_warns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="otel_agent.gpu")
    GpuSampler(Nvml(module=FakePynvml(fail_init=True)), mode="on").begin()
    warnings = [r for r in caplog.records if r.name == "otel_agent.gpu" and r.levelname == "WARNING"]
    assert len(warnings) == 1 and "NVML Shared Library Not Found" in warnings[0].getMessage()


def test_bad_settings_raise() -> None:
    with pytest.raises(ValueError):
        GpuSampler(mode="sometimes")
    with pytest.raises(ValueError):
        GpuSampler(hz=0)


# -- thread lifecycle (real time) --------------------------------------------------------------------------------------
def _wait_for(condition: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def test_thread_starts_idles_restarts_and_stops() -> None:
    fake = FakePynvml()
    sampler = GpuSampler(Nvml(module=fake), hz=200, idle_after_s=0.1)
    assert not sampler.running  # nothing before the first span
    token = sampler.begin()
    assert token is not None and sampler.running
    (first_thread,) = _sampler_threads()
    reads = fake.memory_reads
    assert _wait_for(lambda: fake.memory_reads >= reads + 5)  # the thread samples on its own
    time.sleep(0.3)  # longer than idle_after_s, but a span is open: no idling
    assert sampler.running
    usage = sampler.end(token)
    assert usage is not None and usage.samples >= 7 and usage.vram_time_gib_s > 0

    assert _wait_for(lambda: not sampler.running)  # idle: the thread exits
    assert not first_thread.is_alive() and not _sampler_threads()
    idle_reads = fake.memory_reads
    time.sleep(0.05)
    assert fake.memory_reads == idle_reads  # and sampling stopped

    token = sampler.begin()  # restart on demand
    assert sampler.running and _sampler_threads() and _sampler_threads()[0] is not first_thread
    sampler.end(token)

    sampler.shutdown()
    assert not sampler.running and not _sampler_threads()
    assert fake.shutdown_calls == 1
    assert sampler.begin() is None
    sampler.shutdown()  # twice is fine
    assert fake.shutdown_calls == 1


def test_many_threads_begin_and_end() -> None:
    fake = FakePynvml()
    sampler = GpuSampler(Nvml(module=fake), hz=500, idle_after_s=0.05)
    results: list[Any] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(50):
                token = sampler.begin()
                results.append(sampler.end(token))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=worker) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    try:
        assert errors == []
        assert len(results) == 400 and all(r is not None and r.samples >= 2 for r in results)
        assert sampler._open == {}
    finally:
        sampler.shutdown()
    assert not sampler.running
