"""Plain-text rendering of a `Report`, fitted to the terminal's width (120 columns when it is not a terminal).

Nothing is cut: a long cell wraps onto the next line of its column, and a table too wide for the width is shown in
column groups one under the other, each starting with the row's first column. Each table has a legend in words.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from .tables import ModelRow, Report, RunRow, Timeline, TimelineEscalation

MAX_WIDTH = 120  # when stdout is not a terminal and COLUMNS is not set
MIN_WIDTH = 40
_GAP = "  "


def terminal_width() -> int:
    """The terminal's width (COLUMNS wins, as `shutil.get_terminal_size` reads it), `MAX_WIDTH` when unknown."""
    return max(shutil.get_terminal_size((MAX_WIDTH, 24)).columns, MIN_WIDTH)


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    align: str = ">"  # ">" numbers, "<" text
    min_width: int | None = None  # set: the column may wrap down to this width to fit the line


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width`, broken after commas and spaces where possible, never cut short."""
    if len(text) <= width:
        return [text]
    spaced = text.replace(",", ", ").replace(",  ", ", ")
    lines = textwrap.wrap(spaced, width, break_long_words=True, break_on_hyphens=True) or [""]
    return [line.rstrip() for line in lines]


def wrap_line(text: str, width: int, indent: str = "  ") -> list[str]:
    """A sentence fitted to `width`, its continuation lines indented."""
    return textwrap.wrap(text, width, subsequent_indent=indent, break_long_words=True) or [""]


def _widths(columns: Sequence[Column], rows: Sequence[Sequence[str]], max_width: int) -> list[int]:
    """Natural widths; the shrinkable columns narrowed (widest first) when that makes the table fit on one line;
    else natural widths, each capped so that it fits a group beside the key column."""
    natural = [max([len(c.header)] + [len(row[i]) for row in rows]) for i, c in enumerate(columns)]
    # a shrinkable column wraps between words, never inside one: its longest word is as narrow as it goes
    floors = [
        max([c.min_width or 0] + [len(word) for row in rows for word in re.split(r"[\s,]+|(?<=-)", row[i])])
        for i, c in enumerate(columns)
    ]
    widths = list(natural)
    total = sum(widths) + len(_GAP) * (len(columns) - 1)
    while total > max_width:
        candidates = [i for i, c in enumerate(columns) if c.min_width is not None and widths[i] > floors[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
        total -= 1
    if total <= max_width:
        return widths
    key = min(natural[0], max_width // 3)
    room = max(max_width - key - len(_GAP), 8)
    return [key] + [min(w, room) for w in natural[1:]]


def _groups(widths: Sequence[int], max_width: int) -> list[list[int]]:
    """Column indexes per group: every group fits `max_width` and repeats column 0 (the row's key)."""
    groups: list[list[int]] = [[0]]
    used = widths[0]
    for i in range(1, len(widths)):
        if used + len(_GAP) + widths[i] > max_width and len(groups[-1]) > 1:
            groups.append([0])
            used = widths[0]
        groups[-1].append(i)
        used += len(_GAP) + widths[i]
    return groups


def table_blocks(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], max_width: int = MAX_WIDTH
) -> list[list[list[str]]]:
    """Per column group, per row (the header first), that row's lines (more than one where a cell wraps)."""
    widths = _widths(columns, rows, max_width)
    groups = []
    for group in _groups(widths, max_width):
        blocks = []
        for cells in [[c.header for c in columns], *rows]:
            wrapped = {i: _wrap(cells[i], widths[i]) for i in group}
            block = []
            for k in range(max(len(w) for w in wrapped.values())):
                parts = []
                for i in group:
                    piece = wrapped[i][k] if k < len(wrapped[i]) else ""
                    align = columns[i].align if k == 0 else "<"
                    parts.append(f"{piece:{align}{widths[i]}}")
                block.append(_GAP.join(parts).rstrip())
            blocks.append(block)
        groups.append(blocks)
    return groups


def render_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], max_width: int = MAX_WIDTH) -> list[str]:
    """Aligned lines within `max_width`: the shrinkable columns wrap (widest first), then the columns that still do not
    fit go to a further group of lines below."""
    lines: list[str] = []
    for number, blocks in enumerate(table_blocks(columns, rows, max_width)):
        if number:
            lines.append("")
        lines += [line for block in blocks for line in block]
    return lines


def legend(entries: Sequence[tuple[str, str]], width: int) -> list[str]:
    """``legend: name = meaning; ...`` fitted to `width`."""
    return wrap_line("legend: " + "; ".join(f"{name} = {meaning}" for name, meaning in entries), width)


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
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(row.wasted_by_reason.items()))
    return f"{row.wasted_turns}: {reasons}"


def _run_cost(row: RunRow) -> str:
    if row.unpriced_turns and row.unpriced_turns >= row.turns:
        return "-"  # nothing priced
    return money(row.cost) + ("*" if row.unpriced_turns else "")


def _escalations(up: int, down: int) -> str:
    return f"{up}/{down}" if down else str(up)


def runs_section(rows: Sequence[RunRow], width: int = MAX_WIDTH) -> list[str]:
    currency = rows[0].currency if rows else "USD"
    columns = [
        Column("run", "<"),
        Column("agent", "<", 6),
        Column("turns"),
        Column("wasted (by reason)", "<", 12),
        Column("esc"),
        Column("input"),
        Column("output"),
        Column("think"),
        Column("cached"),
        Column(currency),
        Column("GiB*s"),  # dropped below when no run used a local GPU
        Column("wall"),
        Column("outcome", "<", 7),
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
            r.outcome + ("!" if r.missed_escalation else ""),
        ]
        for r in rows
    ]
    gpu = any(r.vram_time_gib_s for r in rows)
    if not gpu:
        gpu_column = [c.header for c in columns].index("GiB*s")
        columns.pop(gpu_column)
        cells = [row[:gpu_column] + row[gpu_column + 1 :] for row in cells]
    lines = [f"RUNS ({len(rows)})", *render_table(columns, cells, width)]
    totals: dict[str, int] = {}
    for row in rows:
        for reason, count in row.wasted_by_reason.items():
            totals[reason] = totals.get(reason, 0) + count
    if totals:
        ranked = ", ".join(f"{reason} {count}" for reason, count in sorted(totals.items(), key=lambda kv: -kv[1]))
        lines += wrap_line(f"wasted turns by reason (a turn with two reasons counts under both): {ranked}", width)
    for r in rows:
        if r.missed_escalation:
            lines += wrap_line(
                f"! MISSED ESCALATION: run {r.run_id} was still stagnating when it ended (should_escalate() said yes) "
                "and never escalated",
                width,
            )
    if any(0 < r.unpriced_turns < r.turns for r in rows):
        lines.append("* some turns of the run had no price: its cost is a lower bound")
    lines += legend(
        [
            ("esc", "escalations to another model (n/m: n up, m down)"),
            ("input", "input tokens, cached included"),
            ("output", "output tokens, thinking included"),
            ("think", "thinking (reasoning) tokens"),
            ("cached", "input tokens read from the cache"),
            (currency, "cost"),
            *([("GiB*s", "GPU memory held by a local model, GiB x seconds")] if gpu else []),
            ("wall", "the run's duration"),
            ("outcome!", "a missed escalation"),
            *([] if gpu else [("(no GiB*s column)", "no run used a local GPU")]),
        ],
        width,
    )
    return lines


def _reversal_lines(rows: Sequence[ModelRow], width: int) -> list[str]:
    lines = []
    for row in rows:
        for r in row.reversals:
            extra = (
                "never succeeded"
                if r.extra_cost is None
                else f"costs {r.extra_cost * 100:.0f}% more per successful run"
            )
            lines += wrap_line(
                f"PRICE REVERSAL ({row.agent}): {row.model} is listed {r.listed_discount * 100:.0f}% "
                f"cheaper than {r.pricier_listed} but {extra}",
                width,
            )
    return lines


def models_section(rows: Sequence[ModelRow], with_list_price: bool, width: int = MAX_WIDTH) -> list[str]:
    columns = [
        Column("agent", "<", 6),
        Column("model", "<"),
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
    lines = [f"MODELS ({len(rows)})", *render_table(columns, cells, width)]
    entries = [
        ("ok", "share of its runs that succeeded"),
        ("$/ok run", "its cost / its successful runs"),
        ("score/1k tok", "run score per 1,000 tokens"),
        ("think $", "share of the cost spent on thinking tokens"),
        ("eff $/1M", "what a million tokens really cost: cost / (input + output tokens) x 1M"),
    ]
    if with_list_price:
        entries += [
            ("list $/1M", "list price per 1M tokens, 3 input : 1 output"),
            ("reversed", "listed cheaper than another model of the agent, yet costs more per successful run"),
        ]
    lines += legend(entries, width)
    return lines + (_reversal_lines(rows, width) if with_list_price else [])


def _tools(names: Sequence[tuple[str, bool]]) -> str:
    counted: dict[str, int] = {}
    for name, is_error in names:
        label = name + ("!" if is_error else "")
        counted[label] = counted.get(label, 0) + 1
    return ", ".join(label if count == 1 else f"{label} x{count}" for label, count in counted.items()) or "-"


def _escalation_line(e: TimelineEscalation) -> str:
    word = "DE-ESCALATION" if e.direction == "down" else "ESCALATION"
    why = e.reason or "no reason"
    if e.detail:
        why += f': "{e.detail}"'
    if e.after_stagnation:
        why += "; the run was stagnating: should_escalate() said yes"
    return f"   >> {word} {e.from_model} -> {e.to_model} ({why})"


def timeline_section(tl: Timeline, width: int = MAX_WIDTH) -> list[str]:
    how = "most wasteful run" if tl.selected_by == "most_wasteful" else "selected run"
    columns = [
        Column("#"),
        Column("model", "<"),
        Column("start"),
        Column("dur"),
        Column("input"),
        Column("output"),
        Column("think"),
        Column("cached"),
        Column(tl.currency),
        Column("wasted", "<", 10),
        Column("tools (! = error)", "<", 8),
    ]
    cells = []
    markers: dict[int, list[str]] = {}
    for position, t in enumerate(tl.turns):
        if t.escalation is not None:
            markers[position] = wrap_line(_escalation_line(t.escalation), width, "      ")
        wasted = f"WASTED {','.join(t.waste_reasons)}" if t.wasted else ""
        if t.stagnating:
            wasted = (wasted + " (stagnating)").strip()
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
    lines = wrap_line(f"TIMELINE of run {tl.run_id} (agent {tl.agent}, {how}, trace {tl.trace_id})", width)
    groups = table_blocks(columns, cells, width)
    if len(groups) == 1:  # the escalation markers go between the turns
        header, *blocks = groups[0]
        lines += header
        for position, block in enumerate(blocks):
            lines += markers.get(position, []) + block
    else:  # in column groups: the markers follow the table
        lines += render_table(columns, cells, width)
        for position in sorted(markers):
            lines += [f"   before turn {tl.turns[position].index}:", *markers[position]]
    if tl.missed_escalation:
        lines += wrap_line(
            "   >> MISSED ESCALATION: the run was still stagnating when it ended and never escalated", width, "      "
        )
    lines += legend(
        [
            ("start", "since the run started"),
            ("dur", "the turn's duration"),
            ("stagnating", "wasted turns in a row: should_escalate() says yes"),
        ],
        width,
    )
    return lines


def render_text(report: Report, width: int | None = None) -> str:
    """The text report, `width` columns wide at most (default: the terminal's width)."""
    width = terminal_width() if width is None else max(width, MIN_WIDTH)
    sections = [
        runs_section(report.runs, width),
        models_section(report.models, report.list_price_columns, width),
    ]
    if report.timeline is not None:
        sections.append(timeline_section(report.timeline, width))
    body = "\n\n".join("\n".join(lines) for lines in sections)
    notes = "".join("\n" + "\n".join(wrap_line(f"note: {note}", width, "      ")) for note in report.notes)
    return body + ("\n" + notes if notes else "") + "\n"
