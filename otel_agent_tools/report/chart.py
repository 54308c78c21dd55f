"""``--png``: the timeline of one run as a bar chart (matplotlib, Agg backend, imported only when asked for).

One bar per turn (its duration or its cost), wasted turns in red with their reason above the bar, and a dashed
vertical line before each turn where the model changed, annotated ``from -> to`` and the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from .errors import ReportError
from .tables import Timeline

Metric = Literal["duration", "cost"]
_CLEAN = "#4C72B0"
_WASTED = "#D62728"
_ESCALATION = "#555555"


def write_timeline_png(tl: Timeline, path: str | Path, metric: Metric = "duration") -> Path:
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib import pyplot as plt
    except ImportError:
        raise ReportError("--png needs matplotlib: pip install 'otel-agent[report]'") from None
    target = Path(path)
    values = [t.duration_s if metric == "duration" else (t.cost or 0.0) for t in tl.turns]
    positions = list(range(len(tl.turns)))
    top = max(values, default=0.0) or 1.0
    width = min(max(6.0, 0.6 * len(tl.turns) + 2), 24.0)
    figure, axes = plt.subplots(figsize=(width, 4.5), dpi=100)
    try:
        colors = [_WASTED if t.wasted else _CLEAN for t in tl.turns]
        axes.bar(positions, values, color=colors, width=0.7)
        for x, (turn, value) in enumerate(zip(tl.turns, values)):
            if turn.wasted:
                axes.text(
                    x,
                    value + top * 0.02,
                    ", ".join(turn.waste_reasons),
                    rotation=60,
                    ha="left",
                    va="bottom",
                    fontsize=7,
                    color=_WASTED,
                )
            if turn.escalation is not None:
                e = turn.escalation
                axes.axvline(x - 0.5, color=_ESCALATION, linestyle="--", linewidth=1)
                arrow = "v" if e.direction == "down" else "^"
                axes.text(
                    x - 0.45,
                    top * 1.25,
                    f"{arrow} {e.from_model} -> {e.to_model}\n({e.reason})",
                    fontsize=7,
                    va="top",
                    ha="left",
                    color=_ESCALATION,
                )
        axes.set_xticks(positions, [str(t.index) for t in tl.turns], fontsize=8)
        axes.set_xlim(-0.6, max(len(tl.turns) - 0.4, 0.6))
        axes.set_ylim(0, top * 1.35)
        axes.set_xlabel("turn")
        axes.set_ylabel("duration (s)" if metric == "duration" else f"cost ({tl.currency})")
        axes.set_title(f"run {tl.run_id} ({tl.agent}): red = wasted turn, dashed = model change", fontsize=10)
        figure.tight_layout()
        figure.savefig(target, format="png")
    except OSError as error:
        raise ReportError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        plt.close(figure)
    return target
