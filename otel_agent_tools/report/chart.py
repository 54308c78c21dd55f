"""``--png``: the waterfall of one run as a static image (matplotlib, Agg backend, imported only when asked for).

The same picture as the HTML view: one row per turn on a time axis since the run started (colour = model; wasted
turns outlined in red with their reasons), tool calls as thin bars under their turn (orange: failed), each model
change as a dashed line with ``from -> to`` and the reason, a missed escalation said in words, and under it the
cumulative cost (``--png-metric duration``, the default) or the cost of each turn (``cost``).

Nothing is clipped: the time axis is widened until every label fits inside the figure, which is checked by the tests
with matplotlib's own text extents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from .errors import ReportError
from .tables import Timeline, TimelineTurn

Metric = Literal["duration", "cost"]
_PALETTE = ("#4c78a8", "#72b7b2", "#54a24b", "#b279a2", "#9d755d", "#f2cf5b", "#79706e")
_WASTED = "#d1382f"
_ESCALATION = "#7a3fc2"
_TOOL = "#8a94a6"
_TOOL_ERROR = "#e07b1f"
_COST = "#c07a00"
_MISSED = "#9a5a00"


def _tokens(value: int) -> str:
    return str(value) if value < 10_000 else f"{value / 1000:.1f}k" if value < 1_000_000 else f"{value / 1e6:.2f}M"


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"


def _label(turn: TimelineTurn, metric: Metric) -> str:
    tokens = f"{_tokens(turn.input_tokens + turn.output_tokens)} tok"
    parts = [_money(turn.cost), f"{turn.duration_s:.2f}s"] if metric == "cost" else [f"{turn.duration_s:.2f}s"]
    parts = [*parts, tokens] if metric == "cost" else [*parts, tokens, _money(turn.cost)]
    label = " · ".join(parts)
    if turn.wasted:
        label += "   WASTED: " + ", ".join(turn.waste_reasons)
    if turn.stagnating:
        label += " (stagnating)"
    if turn.error_type:
        label += f"  error={turn.error_type}"
    return label


def draw_timeline(tl: Timeline, metric: Metric = "duration") -> Any:
    """The figure (not saved): a waterfall panel and a cost panel, laid out so that no text leaves the figure."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib import pyplot as plt
        from matplotlib.patches import Patch
    except ImportError:
        raise ReportError("--png needs matplotlib: pip install 'otel-agent[report]'") from None
    turns = tl.turns
    colors: dict[str, str] = {}
    for t in turns:
        colors.setdefault(t.model, _PALETTE[len(colors) % len(_PALETTE)])
    # rows from the top: an escalation line, the turn, its tools
    rows: list[tuple[str, TimelineTurn, float]] = []
    y = 0.0
    for t in turns:
        if t.escalation is not None:
            rows.append(("escalation", t, y))
            y += 0.8
        rows.append(("turn", t, y))
        y += 1.0
        if t.tools:
            rows.append(("tools", t, y))
            y += 0.7
    if tl.missed_escalation:
        rows.append(("missed", turns[-1], y))
        y += 0.8
    end = max([tl.wall_time_s] + [t.start_offset_s + t.duration_s for t in turns], default=1.0)
    end = max([end] + [x.start_offset_s + x.duration_s for t in turns for x in t.tools]) or 1.0
    height = 2.6 + 0.36 * y
    figure = plt.figure(figsize=(13, height), dpi=100)
    waterfall_in, cost_in, gap_in = 0.36 * max(y, 2.0), 1.1, 0.75  # inches: the cost panel keeps its size
    grid = figure.add_gridspec(
        2, 1, height_ratios=[waterfall_in, cost_in], hspace=gap_in / ((waterfall_in + cost_in) / 2)
    )
    axes = figure.add_subplot(grid[0])
    cost_axes = figure.add_subplot(grid[1], sharex=axes)
    labels = []
    for kind, t, row in rows:
        if kind == "escalation" and t.escalation is not None:
            e = t.escalation
            why = e.reason or "no reason"
            if e.detail:
                why += f': "{e.detail}"'
            if e.after_stagnation:
                why += "; the run was stagnating: should_escalate() said yes"
            word = "DE-ESCALATION" if e.direction == "down" else "ESCALATION"
            axes.axhline(row - 0.1, color=_ESCALATION, linestyle="--", linewidth=1)
            labels.append(
                axes.text(
                    t.start_offset_s,
                    row + 0.3,
                    f"{word} {e.from_model} -> {e.to_model} ({why})",
                    color=_ESCALATION,
                    fontsize=9,
                    fontweight="bold",
                    va="center",
                )
            )
        elif kind == "turn":
            edge = _WASTED if t.wasted else "none"
            axes.barh(
                row + 0.4,
                max(t.duration_s, end / 400),
                left=t.start_offset_s,
                height=0.7,
                color=colors[t.model],
                edgecolor=edge,
                linewidth=2.0 if t.wasted else 0,
            )
            labels.append(
                axes.text(
                    t.start_offset_s + t.duration_s + end * 0.008,
                    row + 0.4,
                    _label(t, metric),
                    color=_WASTED if t.wasted else "#1d2330",
                    fontsize=9,
                    va="center",
                )
            )
        elif kind == "tools":
            for x in t.tools:
                color = _TOOL_ERROR if x.is_error else _TOOL
                axes.barh(row + 0.3, max(x.duration_s, end / 400), left=x.start_offset_s, height=0.4, color=color)
                labels.append(
                    axes.text(
                        x.start_offset_s + x.duration_s + end * 0.006,
                        row + 0.3,
                        f"{x.name}{' (failed)' if x.is_error else ''} {x.duration_s:.2f}s",
                        color=color,
                        fontsize=8,
                        va="center",
                    )
                )
        elif kind == "missed":
            labels.append(
                axes.text(
                    end * 0.005,
                    row + 0.4,
                    "MISSED ESCALATION: the run was still stagnating when it ended and never escalated",
                    color=_MISSED,
                    fontsize=9,
                    fontweight="bold",
                    va="center",
                )
            )
    axes.set_yticks(
        [row + 0.4 for kind, _, row in rows if kind == "turn"],
        [f"#{t.index} {t.model}" for kind, t, _ in rows if kind == "turn"],
        fontsize=9,
    )
    axes.set_ylim(y + 0.1, -0.2)
    axes.grid(axis="x", color="#eef1f6")
    axes.set_axisbelow(True)
    axes.tick_params(axis="x", labelbottom=False)
    title = f"run {tl.run_id} ({tl.agent}), outcome {tl.outcome}: {len(turns)} turns, "
    title += f"{sum(1 for t in turns if t.wasted)} wasted, trace {tl.trace_id}"
    axes.set_title(title, fontsize=10, loc="left")
    legend = [Patch(color=c, label=m) for m, c in colors.items()]
    legend += [Patch(facecolor="white", edgecolor=_WASTED, linewidth=2, label="wasted turn")]
    legend += [Patch(color=_TOOL, label="tool call"), Patch(color=_TOOL_ERROR, label="failed tool call")]
    axes.legend(
        handles=legend, loc="upper left", bbox_to_anchor=(0, -0.02), ncol=min(len(legend), 6), fontsize=8, frameon=False
    )
    # the cost panel
    if metric == "cost":
        cost_axes.bar(
            [t.start_offset_s + t.duration_s / 2 for t in turns],
            [t.cost or 0.0 for t in turns],
            width=[max(t.duration_s, end / 200) for t in turns],
            color=[_WASTED if t.wasted else colors[t.model] for t in turns],
        )
        cost_axes.set_ylabel(f"cost per turn\n({tl.currency})", fontsize=9)
    else:
        xs, ys, total = [0.0], [0.0], 0.0
        for t in turns:
            xs.append(t.start_offset_s + t.duration_s)
            ys.append(total)
            total = t.cumulative_cost
            xs.append(t.start_offset_s + t.duration_s)
            ys.append(total)
        xs.append(end)
        ys.append(total)
        cost_axes.plot(xs, ys, color=_COST, linewidth=2)
        labels.append(cost_axes.text(end, total, f" {_money(total)}", color=_COST, fontsize=9, va="bottom"))
        cost_axes.set_ylabel(f"cumulative cost\n({tl.currency})", fontsize=9)
        cost_axes.set_ylim(0, (total or 1.0) * 1.25)
    cost_axes.set_xlabel("seconds since the run started")
    cost_axes.grid(color="#eef1f6")
    if metric == "cost":
        cost_axes.set_ylim(bottom=0)
    figure.subplots_adjust(left=0.16, right=0.98, top=1 - 0.45 / height, bottom=0.6 / height + 0.02)
    _fit_labels(figure, axes, labels, end)
    return figure


def _fit_labels(figure: Any, axes: Any, labels: list[Any], end: float) -> None:
    """Widen the time axis until every label ends inside the plot (a few rounds: each widening shrinks the text's
    share of the axis)."""
    left = 0.0
    right = end * 1.02
    axes.set_xlim(left, right)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    names = max((t.get_window_extent(renderer).width for t in axes.get_yticklabels()), default=0.0)
    ylabel = figure.axes[-1].yaxis.label.get_window_extent(renderer).width
    margin = (max(names, ylabel + 40) + 16) / figure.bbox.width  # the turns' names and the cost axis label
    figure.subplots_adjust(left=min(max(margin, 0.08), 0.5))
    for _ in range(8):
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        box = axes.get_window_extent(renderer)
        overflow = max([t.get_window_extent(renderer).x1 for t in labels] + [box.x1 - 10]) - (box.x1 - 10)
        if overflow <= 1:
            return
        per_pixel = (right - left) / box.width
        right += overflow * per_pixel * 1.15
        axes.set_xlim(left, right)


def write_timeline_png(tl: Timeline, path: str | Path, metric: Metric = "duration") -> Path:
    target = Path(path)
    if not target.parent.is_dir():
        raise ReportError(f"--png: no such folder {target.parent} (create it first)")
    figure = draw_timeline(tl, metric)
    from matplotlib import pyplot as plt

    try:
        figure.savefig(target, format="png")
    except OSError as error:
        raise ReportError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        plt.close(figure)
    return target
