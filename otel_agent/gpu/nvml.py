"""A thin typed wrapper over NVML (the ``pynvml`` module of the ``nvidia-ml-py`` package).

Nothing happens at import. The first `Nvml.init` imports pynvml and initialises NVML; when the package, the driver or
a GPU is missing, the wrapper stays "unavailable" (with the reason) and every read returns nothing: no exception
reaches the caller, and later calls cost one attribute check. Tests pass a double of the module as `module`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DeviceReading:
    """One device at one moment."""

    index: int
    uuid: str | None
    name: str | None
    memory_used_bytes: int
    memory_total_bytes: int
    utilization: float | None  # 0..1, share of the last sample period a kernel ran

    @property
    def id(self) -> str:
        """A stable device id: the UUID when NVML gives one, else the index."""
        return self.uuid or str(self.index)

    @property
    def memory_utilization(self) -> float | None:
        return self.memory_used_bytes / self.memory_total_bytes if self.memory_total_bytes else None


@dataclass(frozen=True, slots=True)
class _Device:
    index: int
    handle: Any
    uuid: str | None
    name: str | None


class Nvml:
    """NVML, or a clean "unavailable". Thread-safe: NVML is, and init/shutdown hold a lock."""

    def __init__(self, module: Any | None = None) -> None:
        self._module = module
        self._lock = threading.Lock()
        self._state = "new"  # new | available | unavailable | shut
        self._reason: str | None = None
        self._devices: tuple[_Device, ...] = ()

    @property
    def available(self) -> bool:
        """Initialises on first use."""
        return self.init()

    @property
    def unavailable_reason(self) -> str | None:
        return self._reason

    def init(self) -> bool:
        if self._state == "available":
            return True
        if self._state != "new":
            return False
        with self._lock:
            if self._state == "new":
                self._state = "available" if self._open() else "unavailable"
        return self._state == "available"

    def shutdown(self) -> None:
        with self._lock:
            if self._state == "available":
                try:
                    assert self._module is not None
                    self._module.nvmlShutdown()
                except Exception:
                    pass
            if self._state != "unavailable":
                self._state = "shut"
            self._devices = ()

    def device_count(self) -> int:
        return len(self._devices) if self.init() else 0

    def device_indexes(self, selection: Sequence[str] = ()) -> tuple[int, ...]:
        """Indexes of the devices named in `selection` (indexes or UUIDs); all devices when it is empty."""
        if not self.init():
            return ()
        if not selection:
            return tuple(d.index for d in self._devices)
        wanted = {s.strip().lower() for s in selection}
        return tuple(
            d.index
            for d in self._devices
            if str(d.index) in wanted or (d.uuid is not None and d.uuid.lower() in wanted)
        )

    def read(self, index: int) -> DeviceReading | None:
        """One device's memory and utilization, or None when it cannot be read."""
        if not self.init() or not 0 <= index < len(self._devices):
            return None
        m = self._module
        assert m is not None  # init() succeeded
        device = self._devices[index]
        try:
            memory = m.nvmlDeviceGetMemoryInfo(device.handle)
            used, total = int(memory.used), int(memory.total)
        except Exception:
            return None
        try:
            utilization: float | None = float(m.nvmlDeviceGetUtilizationRates(device.handle).gpu) / 100.0
        except Exception:
            utilization = None
        return DeviceReading(
            index=device.index,
            uuid=device.uuid,
            name=device.name,
            memory_used_bytes=used,
            memory_total_bytes=total,
            utilization=utilization,
        )

    def read_all(self, indexes: Sequence[int]) -> list[DeviceReading]:
        return [r for i in indexes if (r := self.read(i)) is not None]

    # -- internals -------------------------------------------------------------------------------------------------
    def _open(self) -> bool:
        if self._module is None:
            try:
                import pynvml
            except ImportError:
                self._reason = "nvidia-ml-py is not installed (pip install 'otel-agent[gpu]')"
                return False
            self._module = pynvml
        m = self._module
        try:
            m.nvmlInit()
        except Exception as exc:
            self._reason = f"NVML did not start: {exc}"
            return False
        try:
            devices = []
            for index in range(int(m.nvmlDeviceGetCount())):
                handle = m.nvmlDeviceGetHandleByIndex(index)
                devices.append(
                    _Device(index, handle, _text(m, "nvmlDeviceGetUUID", handle), _text(m, "nvmlDeviceGetName", handle))
                )
        except Exception as exc:
            self._reason = f"NVML could not list devices: {exc}"
            _quiet_shutdown(m)
            return False
        if not devices:
            self._reason = "NVML found no GPU"
            _quiet_shutdown(m)
            return False
        self._devices = tuple(devices)
        return True


def _text(module: Any, function: str, handle: Any) -> str | None:
    try:
        value = getattr(module, function)(handle)
    except Exception:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _quiet_shutdown(module: Any) -> None:
    try:
        module.nvmlShutdown()
    except Exception:
        pass
