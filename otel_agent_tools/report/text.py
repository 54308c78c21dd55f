"""Plain-text rendering of a `Report`, at most 120 columns wide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .tables import ModelRow, Report, RunRow, Timeline

MAX_WIDTH = 120
_GAP = "  "


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    align: str = ">"  # ">" numbers, "<" text
    min_width: int | None = None  # set: the column may be cut down to this width to fit the line


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "~"


def render_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], max_width: int = MAX_WIDTH) -> list[str]:
    """Aligned lines, cutting the shrinkable columns (widest first) until the line fits `max_width`."""
    widths = [max([len(c.header)] + [len(row[i]) for row in rows]) for i, c in enumerate(columns)]
    total = sum(widths) + len(_GAP) * (len(columns) - 1)
    while total > max_width:
        candidates = [i for i, c in enumerate(columns) if c.min_width is not None and widths[i] > c.min_width]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
        total -= 1
    lines = []
    for cells in [[c.header for c in columns], *rows]:
        parts = [f"{_fit(cell, w):{c.align}{w}}" for cell, c, w in zip(cells, columns, widths)]
        lines.append(_GAP.join(parts).rstrip())
    return lines


# --- value formats ----------------------------------------------------------------------------------------------------
def tokens(value: int) -> str:
    if value < 10_000:
        return str(value)
    if value < 1_000_000:
        return f"{value / 1000:.1f}k"
    return f"{value / 1_000_000:.2f}M"


def money(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"


def seconds(value: float) -> str:
    return f"{value:.2f}s" if value < 10 else f"{value:.1f}s" if value < 1000 else f"{value:.0f}s"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# --- sections ---------------------------------------------------------------------------------------------------------
def _wasted(row: RunRow) -> str:
    if not row.wasted_by_reason:
        return str(row.wasted_turns)
    reasons = ",".join(f"{reason}:{count}" for reason, count in sorted(row.wasted_by_reason.items()))
    return f"{row.wasted_turns} ({reasons})"


def _run_cost(row: RunRow) -> str:
    if row.unpriced_turns and row.unpriced_turns >= row.turns:
        return "-"  # nothing priced
    return money(row.cost) + ("*" if row.unpriced_turns else "")


def _escalations(up: int, down: int) -> str:
    return f"{up}/{down}" if down else str(up)


def runs_section(rows: Sequence[RunRow]) -> list[str]:
    currency = rows[0].currency if rows else "USD"
    columns = [
        Column("run", "<", 8),
        Column("agent", "<", 6),
        Column("turns"),
        Column("wasted (by reason)", "<", 8),
        Column("esc"),
        Column("input"),
        Column("output"),
        Column("think"),
        Column("cached"),
        Column(currency),
        Column("GiB*s"),
        Column("wall"),
        Column("outcome", "<"),
    ]
    cells = [
        [
            r.run_id,
            r.agent,
            str(r.turns),
            _wasted(r),
            _escalations(r.escalations, r.deescalations),
            tokens(r.input_tokens),
            tokens(r.output_tokens),
            tokens(r.reasoning_tokens),
            tokens(r.cache_read_tokens),
            _run_cost(r),
            number(r.vram_time_gib_s, 1),
            seconds(r.wall_time_s),
            r.outcome,
        ]
        for r in rows
    ]
    lines = [f"RUNS ({len(rows)})", *render_table(columns, cells)]
    totals: dict[str, int] = {}
    for row in rows:
        for reason, count in row.wasted_by_reason.items():
            totals[reason] = totals.get(reason, 0) + count
    if totals:
        ranked = ", ".join(f"{reason} {count}" for reason, count in sorted(totals.items(), key=lambda kv: -kv[1]))
        lines.append(_fit(f"wasted turns by reason: {ranked}", MAX_WIDTH))
    if any(0 < r.unpriced_turns < r.turns for r in rows):
        lines.append("* some turns of the run had no price: its cost is a lower bound")
    return lines


def _reversal_lines(rows: Sequence[ModelRow]) -> list[str]:
    lines = []
    for row in rows:
        for r in row.reversals:
            extra = (
                "never succeeded"
                if r.extra_cost is None
                else f"costs {r.extra_cost * 100:.0f}% more per successful run"
            )
            lines.append(
                _fit(
                    f"PRICE REVERSAL ({row.agent}): {row.model} is listed {r.listed_discount * 100:.0f}% "
                    f"cheaper than {r.pricier_listed} but {extra}",
                    MAX_WIDTH,
                )
            )
    return lines


def models_section(rows: Sequence[ModelRow], with_list_price: bool) -> list[str]:
    columns = [
        Column("agent", "<", 6),
        Column("model", "<", 10),
        Column("runs"),
        Column("ok"),
        Column("$/ok run"),
        Column("score/1k tok"),
        Column("think $"),
        Column("eff $/1M"),
    ]
    if with_list_price:
        columns += [Column("list $/1M"), Column("reversed", "<")]
    cells = []
    for r in rows:
        cost_per_success = money(r.cost_per_successful_run)
        if r.cost_per_successful_run is None and r.cost > 0:
            cost_per_success = "never ok"
        row = [
            r.agent,
            r.model,
            str(r.runs),
            percent(r.success_rate),
            cost_per_success,
            number(r.score_per_1k_tokens, 3),
            percent(r.thinking_cost_share),
            money(r.effective_price_per_1m),
        ]
        if with_list_price:
            row += [money(r.list_price_per_1m), f"YES ({len(r.reversals)})" if r.reversals else "-"]
        cells.append(row)
    lines = [f"MODELS ({len(rows)})", *render_table(columns, cells)]
    return lines + (_reversal_lines(rows) if with_list_price else [])


def _tools(names: Sequence[tuple[str, bool]]) -> str:
    counted: dict[str, int] = {}
    for name, is_error in names:
        label = name + ("!" if is_error else "")
        counted[label] = counted.get(label, 0) + 1
    return ", ".join(label if count == 1 else f"{label} x{count}" for label, count in counted.items()) or "-"


def timeline_section(tl: Timeline) -> list[str]:
    how = "most wasteful run" if tl.selected_by == "most_wasteful" else "selected run"
    columns = [
        Column("#"),
        Column("model", "<", 8),
        Column("start"),
        Column("dur"),
        Column("input"),
        Column("output"),
        Column("think"),
        Column("cached"),
        Column(tl.currency),
        Column("wasted", "<", 8),
        Column("tools (! = error)", "<", 8),
    ]
    cells = []
    markers: dict[int, str] = {}
    for position, t in enumerate(tl.turns):
        if t.escalation is not None:
            e = t.escalation
            word = "DE-ESCALATION" if e.direction == "down" else "ESCALATION"
            markers[position] = f"   >> {word} {e.from_model} -> {e.to_model} ({e.reason or 'no reason'})"
        wasted = f"WASTED {','.join(t.waste_reasons)}" if t.wasted else ""
        if t.error_type:
            wasted = (wasted + f" error={t.error_type}").strip()
        cells.append(
            [
                str(t.index),
                t.model,
                seconds(t.start_offset_s),
                seconds(t.duration_s),
                tokens(t.input_tokens),
                tokens(t.output_tokens),
                tokens(t.reasoning_tokens),
                tokens(t.cache_read_tokens),
                money(t.cost),
                wasted or "-",
                _tools([(x.name, x.is_error) for x in t.tools]),
            ]
        )
    table = render_table(columns, cells)
    lines = [_fit(f"TIMELINE of run {tl.run_id} (agent {tl.agent}, {how}, trace {tl.trace_id})", MAX_WIDTH), table[0]]
    for position, line in enumerate(table[1:]):
        if position in markers:
            lines.append(_fit(markers[position], MAX_WIDTH))
        lines.append(line)
    return lines


def render_text(report: Report) -> str:
    sections = [runs_section(report.runs), models_section(report.models, report.list_price_columns)]
    if report.timeline is not None:
        sections.append(timeline_section(report.timeline))
    body = "\n\n".join("\n".join(lines) for lines in sections)
    notes = "".join(f"\nnote: {_fit(note, MAX_WIDTH - 6)}" for note in report.notes)
    return body + ("\n" + notes if notes else "") + "\n"
