"""``otel-agent report``: where your agents lose time and money, from a trace file or from Jaeger."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from ..report.errors import EXIT_NO_RUNS, EXIT_USER_ERROR, NoRunsError, ReportError
from ..report.jaeger import check_url
from ..report.load import SpanSource, load_spans, skipped_note
from ..report.model import RunFilter, build_runs
from ..report.otlp_json import ParseStats
from ..report.tables import build_report, report_to_json
from ..report.text import render_text
from ..report.timerange import parse_time

JAEGER_DEFAULT_SINCE = "24h"
PROG_ERROR_PREFIX = "otel-agent report"

EPILOG = f"""\
examples:
  otel-agent report --from ./telemetry                      (a folder means its traces.otlp.jsonl)
  otel-agent report --from traces.otlp.jsonl --agent coder --since 2h --png timeline.png
  otel-agent report --jaeger http://127.0.0.1:16686 --service my-agent --format json
  otel-agent report --from ./telemetry --html report.html    (one self-contained page: open it in a browser)

Jaeger is searched over --since .. --until (default: the last {JAEGER_DEFAULT_SINCE}); a file is read a line at a
time, then runs are kept by the time they started (a torn last line is skipped, and said so in the notes). The timeline shows --run, else the run with the most wasted turns.
--format json prints one document: {{"schema_version", "runs", "models", "timeline", "notes"}}
(its fields are listed in otel_agent_tools/report/tables.py).

exit codes:
  0  report written
  {EXIT_USER_ERROR}  user error: bad arguments, missing or unreadable file, Jaeger unreachable, unknown --run
  {EXIT_NO_RUNS}  the spans were read but no agent run matched (no invoke_agent / turn spans, or all filtered out)
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``report`` sub-command on an argparse sub-parsers object; its handler is `run`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        help="where agents lose time and money: runs, models, and the turn-by-turn timeline of one run",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_argument_group("where the spans come from (exactly one)")
    source.add_argument(
        "--from",
        dest="from_path",
        metavar="FILE",
        help="an OTLP/JSON lines trace file, or a folder holding traces.otlp.jsonl",
    )
    source.add_argument("--jaeger", metavar="URL", help="a Jaeger query endpoint, e.g. http://127.0.0.1:16686")
    narrow = parser.add_argument_group("which runs")
    narrow.add_argument("--service", help="only runs of this service.name")
    narrow.add_argument("--agent", help="only runs of this agent (gen_ai.agent.name)")
    narrow.add_argument("--since", metavar="WHEN", help="runs started after: 30m, 1h, 2d, or an ISO time")
    narrow.add_argument("--until", metavar="WHEN", help="runs started before: 30m, 1h, 2d, or an ISO time")
    narrow.add_argument(
        "--run", dest="run_id", metavar="RUN_ID", help="the run to show turn by turn (default: the most wasteful run)"
    )
    narrow.add_argument(
        "--limit", type=int, default=1000, metavar="N", help="Jaeger: at most N traces per service (default: 1000)"
    )
    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    output.add_argument(
        "--html",
        metavar="PATH",
        help="also write the report as one self-contained HTML page: every run's waterfall, sortable tables, "
        "the price-reversal chart (the folder must exist)",
    )
    output.add_argument(
        "--jaeger-ui",
        metavar="URL",
        help="--html: link each trace id to this Jaeger UI (default: the --jaeger URL, if any)",
    )
    output.add_argument(
        "--png", metavar="PATH", help="also draw the chosen run's waterfall to this PNG file (the folder must exist)"
    )
    output.add_argument(
        "--png-metric",
        choices=("duration", "cost"),
        default="duration",
        help="bar height in the chart (default: duration)",
    )
    output.add_argument(
        "--no-list-prices",
        action="store_true",
        help="skip the list-price and price-reversal columns (no price data lookup)",
    )
    parser.set_defaults(func=run)
    return parser


def _source(args: argparse.Namespace, now_ns: int) -> tuple[SpanSource, RunFilter]:
    if bool(args.from_path) == bool(args.jaeger):
        raise ReportError("give exactly one of --from FILE and --jaeger URL")
    start = parse_time(args.since, now_ns) if args.since else None
    end = parse_time(args.until, now_ns) if args.until else None
    if start is not None and end is not None and start > end:
        raise ReportError("--since is later than --until")
    if args.jaeger:  # Jaeger needs a search window; a file is read whole and its runs filtered afterwards
        source = SpanSource(
            jaeger_url=check_url(args.jaeger),
            service=args.service,
            limit=args.limit,
            start_ns=start if start is not None else parse_time(JAEGER_DEFAULT_SINCE, now_ns),
            end_ns=end if end is not None else now_ns,
        )
    else:
        source = SpanSource(path=args.from_path)
    return source, RunFilter(service=args.service, agent=args.agent, start_ns=start, end_ns=end)


def _check_output_folder(option: str, path: str | None) -> None:
    """Before any work: an output into a folder that does not exist is a typo to report, not a folder to create."""
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ReportError(f"--{option}: no such folder {folder} (create it first)")
    if os.path.isdir(path):
        raise ReportError(f"--{option}: {path} is a folder; give a file name")


def _no_runs_message(args: argparse.Namespace, span_count: int) -> str:
    where = args.from_path or args.jaeger
    filters = [
        f"{name}={value}"
        for name, value in (
            ("service", args.service),
            ("agent", args.agent),
            ("since", args.since),
            ("until", args.until),
        )
        if value
    ]
    narrowed = f" matching {' '.join(filters)}" if filters else ""
    return f"no agent runs{narrowed} in {where} ({span_count} spans read)"


def run(args: argparse.Namespace) -> int:
    """The ``report`` command. Returns the exit code; user errors are one line on stderr."""
    try:
        for option in ("html", "png"):
            _check_output_folder(option, getattr(args, option))
        source, run_filter = _source(args, time.time_ns())
        stats = ParseStats()
        spans = load_spans(source, stats)
        runs = build_runs(spans, run_filter)
        if not runs:
            raise NoRunsError(_no_runs_message(args, len(spans)))
        report = build_report(runs, args.run_id)
        note = skipped_note(stats)
        if note:
            report.notes.append(note)
        if not args.no_list_prices:
            from ..report.reversal_adapter import apply_price_reversal

            note = apply_price_reversal(report.models)
            if note is None:
                report.list_price_columns = True
            else:
                report.notes.append(note)
        if args.png:
            from ..report.chart import write_timeline_png

            if report.timeline is None or not report.timeline.turns:
                raise ReportError("--png: the chosen run has no turns to draw")
            written = write_timeline_png(report.timeline, args.png, args.png_metric)
            report.notes.append(f"timeline chart written to {written}")
        if args.html:
            from ..report.html import write_html

            jaeger_ui = check_url(args.jaeger_ui) if args.jaeger_ui else args.jaeger
            page = write_html(report, runs, args.html, source=str(args.from_path or args.jaeger), jaeger_url=jaeger_ui)
            report.notes.append(f"HTML report written to {page} (open it in a browser)")
    except ReportError as error:
        print(f"{PROG_ERROR_PREFIX}: {error}", file=sys.stderr)
        return error.exit_code
    text = json.dumps(report_to_json(report), indent=2) + "\n" if args.format == "json" else render_text(report)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m otel_agent_tools.cli.report ...``: the sub-command on its own."""
    parser = argparse.ArgumentParser(prog="otel-agent")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
