"""``--html``: the report as one self-contained HTML file (no network fetches: the script and styles are inlined).

The page is drawn in the browser from one embedded JSON document built here from the same rows as ``--format json``
(`tables.report_to_json`), so the numbers agree by construction. Every run's timeline is included (the text report
shows one); rows and turns are packed as arrays under a key list to keep the file small, and floats are rounded to
6 significant digits (finer than anything the page shows).

    {"version", "title", "generated", "source", "jaeger_url", "currency", "notes",
     "run_keys": [...], "runs": [[...]],          # the JSON report's run rows, as arrays in run_keys order
     "models": [...], "list_price_columns",      # the JSON report's model rows
     "turn_keys": [...], "timelines": [[[...]]]} # per run (same order), its turns as arrays in turn_keys order
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ReportError
from .model import Run
from .tables import Report, report_to_json, timeline

FORMAT_VERSION = 1
_TURN_KEYS = (
    "index",
    "model",
    "start_offset_s",
    "duration_s",
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost",
    "cumulative_cost",
    "wasted",
    "waste_reasons",
    "escalation",
    "tools",
    "error_type",
    "stagnating",
    "resent_input_tokens",
    "cache_share",
)


def _round(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.6g}")
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _turn_row(turn: dict[str, Any]) -> list[Any]:
    escalation = turn["escalation"]
    turn = dict(turn)
    turn["escalation"] = (
        [
            escalation["from_model"],
            escalation["to_model"],
            escalation["reason"],
            escalation["direction"],
            escalation["detail"],
            escalation["after_stagnation"],
        ]
        if escalation
        else None
    )
    turn["tools"] = [[t["name"], t["start_offset_s"], t["duration_s"], t["is_error"]] for t in turn["tools"]]
    return [_round(turn[key]) for key in _TURN_KEYS]


def page_data(
    report: Report, runs: Sequence[Run], *, source: str, jaeger_url: str | None = None, generated: str | None = None
) -> dict[str, Any]:
    """The document the page draws: the JSON report's rows plus every run's timeline (see the module docstring)."""
    document = report_to_json(report)
    run_rows = document["runs"]
    run_keys = list(run_rows[0]) if run_rows else []
    by_id = {r.run_id: r for r in runs}
    timelines = []
    for row in run_rows:
        tl = asdict(timeline(by_id[row["run_id"]], "run_id"))
        timelines.append([_turn_row(t) for t in tl["turns"]])
    return {
        "version": FORMAT_VERSION,
        "title": "otel-agent report",
        "generated": generated or datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "source": source,
        "jaeger_url": jaeger_url.rstrip("/") if jaeger_url else None,
        "currency": run_rows[0]["currency"] if run_rows else "USD",
        "notes": document["notes"],
        "run_keys": run_keys,
        "runs": [[_round(row[key]) for key in run_keys] for row in run_rows],
        "models": _round(document["models"]),
        "list_price_columns": report.list_price_columns,
        "turn_keys": list(_TURN_KEYS),
        "timelines": timelines,
    }


def _asset(name: str) -> str:
    return resources.files("otel_agent_tools.report").joinpath("html_assets", name).read_text(encoding="utf-8")


def _script_safe_json(data: dict[str, Any]) -> str:
    """JSON that cannot close the <script> element it sits in, whatever the strings in it hold."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(data: dict[str, Any]) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{data['title']}</title><style>{_asset('view.css')}</style></head>\n"
        '<body><div id="app"><p class="loading">Loading the report&hellip;</p></div>\n'
        f'<script id="report-data" type="application/json">{_script_safe_json(data)}</script>\n'
        f"<script>{_asset('view.js')}</script>\n</body></html>\n"
    )


def write_html(
    report: Report, runs: Sequence[Run], path: str | Path, *, source: str, jaeger_url: str | None = None
) -> Path:
    """Write the page to `path` (its folder must exist: a typo'd folder is an error, not created)."""
    target = Path(path)
    if not target.parent.is_dir():
        raise ReportError(f"--html: no such folder {target.parent} (create it first)")
    text = render_html(page_data(report, runs, source=source, jaeger_url=jaeger_url))
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ReportError(f"cannot write {target}: {error.strerror or error}") from None
    return target
