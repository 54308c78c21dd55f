"""VRAM-time integration over a window, worked by hand."""

from __future__ import annotations

import pytest

from otel_agent.gpu.integrate import GIB, Sample, integrate_window

S = 1_000_000_000  # ns


def test_interpolated_edges() -> None:
    samples = [Sample(0, 0, 0.0), Sample(1 * S, 2 * GIB, 1.0), Sample(2 * S, 2 * GIB, 0.5)]
    stats = integrate_window(samples, S // 2, 3 * S // 2)
    assert stats is not None
    # edges: 1 GiB at 0.5 s (halfway 0 -> 2), 2 GiB at 1.5 s; 0.5 x (1 + 2) / 2 + 0.5 x 2 = 1.75 GiB*s
    assert stats.vram_time_gib_s == pytest.approx(1.75)
    assert stats.samples == 1 and stats.peak_bytes == 2 * GIB and stats.utilization_mean == 1.0


def test_window_between_two_samples() -> None:
    samples = [Sample(0, 1 * GIB, 0.2), Sample(S, 3 * GIB, 0.6)]
    stats = integrate_window(samples, S // 4, 3 * S // 4)
    assert stats is not None
    # 1.5 GiB at 0.25 s, 2.5 GiB at 0.75 s: 0.5 s x 2 GiB = 1 GiB*s
    assert stats.vram_time_gib_s == pytest.approx(1.0)
    assert stats.samples == 0 and stats.peak_bytes == round(2.5 * GIB)
    assert stats.utilization_mean == pytest.approx((0.3 + 0.5) / 2)


def test_only_earlier_sample_is_held() -> None:
    stats = integrate_window([Sample(0, 4 * GIB, None)], 2 * S, 3 * S)
    assert stats is not None and stats.vram_time_gib_s == pytest.approx(4.0) and stats.utilization_mean is None


def test_nothing_to_integrate() -> None:
    assert integrate_window([], 0, S) is None
    assert integrate_window([Sample(0, GIB, None)], S, 0) is None
