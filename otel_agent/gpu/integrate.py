"""Integrate sampled VRAM over a time window: the arithmetic of `GpuSampler.end`, kept pure for testing.

VRAM-time (GiB*s) is the trapezoid rule over the samples inside ``[t0, t1]`` plus the two edges, whose values are
interpolated linearly between the samples either side of each edge (or held from the nearest sample when only one
side exists). Peak and mean utilization are over the samples inside the window; with none inside (a window shorter
than the sampling period whose edge samples were missed), over the interpolated edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GIB = 1 << 30


@dataclass(frozen=True, slots=True)
class Sample:
    """The selected devices at one moment: memory used summed over them, utilization averaged over them."""

    t_ns: int
    used_bytes: int
    utilization: float | None


@dataclass(frozen=True, slots=True)
class WindowStats:
    vram_time_gib_s: float
    peak_bytes: int
    utilization_mean: float | None
    samples: int  # samples inside the window


def integrate_window(samples: Sequence[Sample], t0_ns: int, t1_ns: int) -> WindowStats | None:
    """Stats of `samples` (sorted by time) over ``[t0_ns, t1_ns]``; None when no sample can tell anything."""
    if t1_ns < t0_ns or not samples:
        return None
    inside = [s for s in samples if t0_ns <= s.t_ns <= t1_ns]
    before = next((s for s in reversed(samples) if s.t_ns < t0_ns), None)
    after = next((s for s in samples if s.t_ns > t1_ns), None)
    first_right = inside[0] if inside else after
    last_left = inside[-1] if inside else before
    start = _value_at(t0_ns, before, first_right)
    end = _value_at(t1_ns, last_left, after)
    if start is None or end is None:
        return None

    points: list[tuple[int, float]] = []
    if not inside or inside[0].t_ns > t0_ns:
        points.append((t0_ns, start))
    points.extend((s.t_ns, float(s.used_bytes)) for s in inside)
    if not inside or inside[-1].t_ns < t1_ns:
        points.append((t1_ns, end))
    byte_ns = sum((tb - ta) * (va + vb) / 2 for (ta, va), (tb, vb) in zip(points, points[1:]))

    if inside:
        peak = max(s.used_bytes for s in inside)
        utilizations = [s.utilization for s in inside if s.utilization is not None]
    else:
        peak = round(max(start, end))
        utilizations = [
            u for u in (_util_at(t0_ns, before, first_right), _util_at(t1_ns, last_left, after)) if u is not None
        ]
    mean = sum(utilizations) / len(utilizations) if utilizations else None
    return WindowStats(vram_time_gib_s=byte_ns / 1e9 / GIB, peak_bytes=peak, utilization_mean=mean, samples=len(inside))


def _value_at(t: int, left: Sample | None, right: Sample | None) -> float | None:
    if left is None and right is None:
        return None
    if left is None or right is None or right.t_ns == left.t_ns:
        return float((right or left).used_bytes)  # type: ignore[union-attr]
    return left.used_bytes + (right.used_bytes - left.used_bytes) * (t - left.t_ns) / (right.t_ns - left.t_ns)


def _util_at(t: int, left: Sample | None, right: Sample | None) -> float | None:
    known = [s for s in (left, right) if s is not None and s.utilization is not None]
    if len(known) == 2 and known[1].t_ns != known[0].t_ns:
        a, b = known
        return a.utilization + (b.utilization - a.utilization) * (t - a.t_ns) / (b.t_ns - a.t_ns)  # type: ignore[operator]
    return known[0].utilization if known else None
