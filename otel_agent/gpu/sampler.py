"""Background GPU sampling, and the VRAM-time, peak and utilization of each span from it.

`GpuSampler` reads the selected devices through NVML at ``hz`` (default 10) on a daemon thread into a bounded ring
buffer of timestamped samples (memory used summed over the devices, utilization averaged). For a span:
``token = sampler.begin()`` at its start and ``sampler.end(token)`` at its end; both also take a sample on the
spot, so even a call shorter than the sampling period has exact edges. `end` integrates the buffer over the span
(`integrate.integrate_window`). A span older than the buffer (``buffer_s``, default 10 minutes) is integrated over
what is left, its start interpolated from the sample taken at `begin`.

Lifecycle: nothing happens at construction. The first `begin` initialises NVML and starts the thread; with no GPU,
no driver or no ``nvidia-ml-py`` (or ``mode="off"``) `begin` returns None, no thread starts, and later calls cost an
attribute check. With no span open for ``idle_after_s`` the thread exits; the next `begin` starts a new one.
`shutdown` (also run at interpreter exit) stops it for good and shuts NVML down. All methods are thread-safe.
"""

from __future__ import annotations

import atexit
import functools
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..records import GpuUsage
from .integrate import Sample, integrate_window
from .nvml import DeviceReading, Nvml

log = logging.getLogger("otel_agent.gpu")
MODES = ("auto", "on", "off")


@dataclass(frozen=True, slots=True)
class SpanToken:
    id: int
    start_ns: int
    start_sample: Sample | None = None  # kept so a span longer than the buffer still has its start


class GpuSampler:
    def __init__(
        self,
        nvml: Nvml | None = None,
        *,
        mode: str = "auto",
        devices: Sequence[str] = (),
        hz: float = 10.0,
        buffer_s: float = 600.0,
        idle_after_s: float = 30.0,
        clock: Callable[[], int] = time.monotonic_ns,
        background: bool = True,
    ) -> None:
        """`devices`: indexes or UUIDs to sample (default all). `clock`: monotonic nanoseconds (tests pass a fake).
        `background=False` never starts the thread: samples come only from `begin`, `end` and `sample_once`."""
        if mode not in MODES:
            raise ValueError(f"GPU mode must be one of {', '.join(MODES)}, got {mode!r}")
        if not hz > 0:
            raise ValueError(f"GPU sample rate must be positive, got {hz!r}")
        self._nvml = nvml if nvml is not None else Nvml()
        self._mode = mode
        self._selection = tuple(devices)
        self._interval_s = 1.0 / hz
        self._idle_ns = int(idle_after_s * 1e9)
        self._clock = clock
        self._background = background
        self._lock = threading.Lock()
        self._samples: deque[Sample] = deque(maxlen=max(int(hz * buffer_s), 16))
        self._latest: list[DeviceReading] = []
        self._device_ids: tuple[str, ...] = ()
        self._indexes: tuple[int, ...] = ()
        self._ready: bool | None = None if mode != "off" else False
        self._closed = False
        self._open: dict[int, int] = {}
        self._next_id = 0
        self._last_activity_ns = 0
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None
        self._atexit: Callable[[], None] | None = None

    # -- spans -----------------------------------------------------------------------------------------------------
    def begin(self) -> SpanToken | None:
        """Mark a span's start; None when GPU sampling is off or impossible."""
        if self._ready is False or self._closed:
            return None
        with self._lock:
            if self._closed or not self._ensure_ready():
                return None
            sample = self._sample_locked()
            start = sample.t_ns if sample is not None else self._clock()
            self._next_id += 1
            token = SpanToken(self._next_id, start, sample)
            self._open[token.id] = start
            self._last_activity_ns = start
            if self._background and not self.running:
                self._start_thread()
        return token

    def end(self, token: SpanToken | None) -> GpuUsage | None:
        """The span's GPU use since `begin`; None for a None or already ended token, or when nothing was sampled."""
        if token is None:
            return None
        with self._lock:
            if self._open.pop(token.id, None) is None:
                return None
            sample = self._sample_locked() if not self._closed else None
            t1 = sample.t_ns if sample is not None else self._clock()
            self._last_activity_ns = t1
            window = self._window_locked(token.start_ns)
            if token.start_sample is not None and (not window or window[0].t_ns > token.start_ns):
                window.insert(0, token.start_sample)
            device_ids = self._device_ids
        stats = integrate_window(window, token.start_ns, t1)
        if stats is None:
            return None
        return GpuUsage(
            vram_time_gib_s=stats.vram_time_gib_s,
            vram_peak_bytes=stats.peak_bytes,
            utilization_mean=stats.utilization_mean,
            device_ids=device_ids,
            samples=stats.samples,
        )

    # -- host readings ---------------------------------------------------------------------------------------------
    def latest(self) -> list[DeviceReading]:
        """The newest reading of each selected device, for the hw.gpu.* metrics; [] without GPU sampling.

        Reads the devices now when the thread is idle and the last reading is older than two sampling periods.
        Never initialises NVML on its own: before the first `begin` it returns [] unless ``mode="on"``.
        """
        if self._ready is False or self._closed:
            return []
        with self._lock:
            if self._closed or (self._ready is None and self._mode != "on") or not self._ensure_ready():
                return []
            last = self._samples[-1].t_ns if self._samples else None
            if last is None or self._clock() - last > 2 * self._interval_s * 1e9:
                self._sample_locked()
            return list(self._latest)

    def sample_once(self) -> Sample | None:
        """Take one sample now (what the thread does each period)."""
        if self._ready is False or self._closed:
            return None
        with self._lock:
            if self._closed or not self._ensure_ready():
                return None
            return self._sample_locked()

    # -- lifecycle -------------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def available(self) -> bool | None:
        """True/False once `begin` has looked for a GPU; None before."""
        return self._ready

    def shutdown(self, timeout_s: float = 2.0) -> None:
        """Stop the thread and NVML for good; `begin` returns None afterwards. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread, stop = self._thread, self._stop
            self._thread = self._stop = None
            callback, self._atexit = self._atexit, None
        if stop is not None:
            stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        if callback is not None:
            atexit.unregister(callback)
        if self._ready:
            self._nvml.shutdown()

    # -- internals (call with the lock held) -----------------------------------------------------------------------
    def _ensure_ready(self) -> bool:
        if self._ready is None:
            self._ready = self._nvml.init() and bool(self._nvml.device_indexes(self._selection))
            if self._ready:
                self._indexes = self._nvml.device_indexes(self._selection)
            else:
                reason = self._nvml.unavailable_reason or f"no GPU matches the device filter {self._selection!r}"
                (log.warning if self._mode == "on" else log.debug)("otel-agent: GPU sampling off: %s", reason)
        return self._ready

    def _sample_locked(self) -> Sample | None:
        readings = self._nvml.read_all(self._indexes)
        if not readings:
            return None
        utilizations = [r.utilization for r in readings if r.utilization is not None]
        sample = Sample(
            t_ns=self._clock(),
            used_bytes=sum(r.memory_used_bytes for r in readings),
            utilization=sum(utilizations) / len(utilizations) if utilizations else None,
        )
        if self._samples and sample.t_ns < self._samples[-1].t_ns:  # a clock that went back: keep the buffer sorted
            return None
        self._samples.append(sample)
        self._latest = readings
        self._device_ids = tuple(r.id for r in readings)
        return sample

    def _window_locked(self, t0_ns: int) -> list[Sample]:
        """The samples from the last one before `t0_ns` to the newest, oldest first."""
        window: list[Sample] = []
        for sample in reversed(self._samples):
            window.append(sample)
            if sample.t_ns < t0_ns:
                break
        window.reverse()
        return window

    def _start_thread(self) -> None:
        stop = threading.Event()
        thread = threading.Thread(target=self._run, args=(stop,), name="otel-agent-gpu-sampler", daemon=True)
        self._thread, self._stop = thread, stop
        if self._atexit is None:
            self._atexit = functools.partial(_shutdown_at_exit, weakref.ref(self))
            atexit.register(self._atexit)
        thread.start()

    def _run(self, stop: threading.Event) -> None:
        me = threading.current_thread()
        while not stop.wait(self._interval_s):
            with self._lock:
                if self._thread is not me:
                    return
                if not self._open and self._clock() - self._last_activity_ns >= self._idle_ns:
                    self._thread = self._stop = None  # idle: the next begin() starts a new thread
                    return
                try:
                    self._sample_locked()
                except Exception:
                    log.debug("otel-agent: GPU sample failed", exc_info=True)


def _shutdown_at_exit(ref: weakref.ReferenceType[GpuSampler]) -> None:
    sampler = ref()
    if sampler is not None:
        sampler.shutdown(timeout_s=0.5)
