"""Load spans for a report: from an OTLP/JSON lines file (or a folder holding ``traces.otlp.jsonl``) or from Jaeger."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from otel_agent.export.otlp_json_file import TRACES_FILE

from .errors import ReportError
from .jaeger import DEFAULT_LIMIT, fetch_jaeger_spans
from .otlp_json import ParseStats, parse_otlp_json
from .spans import SpanRow


@dataclass(frozen=True, slots=True)
class SpanSource:
    """Where to read: exactly one of `path` and `jaeger_url`. The time window and service only narrow Jaeger's search."""

    path: str | None = None
    jaeger_url: str | None = None
    service: str | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    limit: int = DEFAULT_LIMIT


def trace_files(folder: Path) -> list[Path]:
    """A folder's ``traces.otlp.jsonl`` after its rotated backups, oldest first (``traces.2...``, ``traces.1...``)."""
    stem = TRACES_FILE.split(".")[0]
    backups = []
    for path in folder.glob(f"{stem}.*.otlp.jsonl"):
        number = path.name[len(stem) + 1 : -len(".otlp.jsonl")]
        if number.isdigit() and path.is_file():
            backups.append((int(number), path))
    return [path for _, path in sorted(backups, reverse=True)] + [folder / TRACES_FILE]


def read_otlp_json_file(path: str | Path, stats: ParseStats | None = None) -> list[SpanRow]:
    """Every span in an OTLP/JSON lines file; a folder means its ``traces.otlp.jsonl`` and its rotated backups.

    The file is read a line at a time. A last line cut short (no newline: a writer stopped mid-write) is skipped and
    counted in `stats`; any other line that is not JSON rejects the file.
    """
    stats = stats if stats is not None else ParseStats()
    given = Path(path)
    if given.is_dir():
        rows: list[SpanRow] = []
        files = trace_files(given)
        if not files[-1].is_file() and len(files) == 1:
            raise ReportError(f"no such trace file: {files[-1]}")
        for file in files:
            if file.is_file():
                rows.extend(_read_one(file, stats))
        return rows
    if not given.is_file():
        raise ReportError(f"no such trace file: {given}")
    return _read_one(given, stats)


def _read_one(file: Path, stats: ParseStats) -> list[SpanRow]:
    rows: list[SpanRow] = []
    try:
        with file.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    document = json.loads(line)
                except (ValueError, RecursionError):
                    if not line.endswith("\n"):  # the last line, torn
                        stats.skipped_lines += 1
                        continue
                    raise ReportError(f"{file}:{number}: not an OTLP/JSON line") from None
                if isinstance(document, dict):
                    rows.extend(parse_otlp_json(document, stats))
    except OSError as error:
        raise ReportError(f"cannot read {file}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ReportError(f"{file} is not a UTF-8 text file") from None
    return rows


def skipped_note(stats: ParseStats) -> str | None:
    """One line for the report's notes when something was skipped."""
    parts = []
    if stats.skipped_lines:
        parts.append(f"{stats.skipped_lines} torn last line (a write cut short)")
    if stats.skipped_spans:
        parts.append(f"{stats.skipped_spans} malformed spans (no ids, or times that are not numbers)")
    return f"skipped {' and '.join(parts)}" if parts else None


def _dedupe(rows: list[SpanRow]) -> list[SpanRow]:
    seen: dict[tuple[str, str], SpanRow] = {}
    for row in rows:
        seen.setdefault((row.trace_id, row.span_id), row)
    return list(seen.values())


def load_spans(source: SpanSource, stats: ParseStats | None = None) -> list[SpanRow]:
    """The spans of `source`, each once (a span exported twice, or found in two Jaeger queries, counts once)."""
    if (source.path is None) == (source.jaeger_url is None):
        raise ReportError("give exactly one of --from FILE and --jaeger URL")
    if source.path is not None:
        return _dedupe(read_otlp_json_file(source.path, stats))
    assert source.jaeger_url is not None
    if source.start_ns is None or source.end_ns is None:
        raise ReportError("a Jaeger search needs a time window")
    rows = fetch_jaeger_spans(
        source.jaeger_url, source.service, source.start_ns, source.end_ns, limit=source.limit, stats=stats
    )
    return _dedupe(rows)
