"""The demo's telemetry folder: it only ever deletes files it wrote there itself.

The demo starts each time from empty telemetry files. Clearing the folder is safe only when the files are ours, so the
demo leaves a marker file in each folder it writes to, and checks before it deletes anything:

- a new or empty folder: the marker is written, nothing is deleted;
- a folder holding our marker: our telemetry files (`OWNED_FILES`, rotated copies included) are deleted, nothing else;
- a folder holding telemetry files but no marker: refused with one line, nothing is touched.
"""

from __future__ import annotations

import re
from pathlib import Path

from otel_agent.export import METRICS_FILE, TRACES_FILE

MARKER = ".otel-agent-demo"
OWNED_FILES = (TRACES_FILE, METRICS_FILE)
_MARKER_TEXT = (
    "This folder holds telemetry written by `otel-agent demo`, which clears its own files here on each run.\n"
)


class OutFolderError(Exception):
    """The folder cannot be used without touching files the demo did not write."""


def _owned(folder: Path) -> list[Path]:
    """Our telemetry files and their rotated backups (``traces.otlp.jsonl``, ``traces.1.otlp.jsonl``, ...)."""
    patterns = [re.compile(rf"^{re.escape(name.split('.')[0])}(\.\d+)?\.otlp\.jsonl$") for name in OWNED_FILES]
    return sorted(p for p in folder.iterdir() if p.is_file() and any(r.match(p.name) for r in patterns))


def prepare_out_folder(folder: Path) -> list[Path]:
    """Make `folder` ready for a fresh demo run; returns the files deleted. Raises `OutFolderError` first, if unsafe."""
    if folder.exists() and not folder.is_dir():
        raise OutFolderError(f"--out {folder} is a file, not a folder")
    marker = folder / MARKER
    if folder.is_dir() and not marker.is_file():
        foreign = sorted(p.name for p in folder.glob("*.otlp.jsonl"))
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise OutFolderError(
                f"--out {folder} already holds telemetry files the demo did not write ({shown}); "
                "choose a new or empty folder"
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        deleted = _owned(folder) if marker.is_file() else []
        for path in deleted:
            path.unlink()
        marker.write_text(_MARKER_TEXT, encoding="utf-8")
    except OSError as error:
        raise OutFolderError(f"cannot prepare --out {folder}: {error.strerror or error}") from None
    return deleted
