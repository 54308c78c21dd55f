"""The state directory of `otel-agent stack up`/`down`: claimed with a marker file, read back strictly.

    <state dir>/.otel-agent-stack   marker: this directory was created (or found empty) by otel-agent
    <state dir>/state.json          settings, ports, and each process's pid, start time and command line
    <state dir>/run/                logs, rendered configs and every piece of data (Jaeger, queues, Prometheus, ...)

Nothing outside those three names is ever written or removed, and nothing at all in a directory without the marker
that already holds files: ``--state-dir ~`` is refused, it does not lose ``~/run``. A pid from the state file is
signalled only when the process still has the start time and command line recorded for it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .runner import GONE, OURS, StackError, http_ok, ownership, stop_pid

MARKER = ".otel-agent-stack"
STATE_FILE = "state.json"
WORKDIR = "run"
_OWNED = (WORKDIR, STATE_FILE, STATE_FILE + ".tmp", MARKER)
_MARKER_TEXT = (
    "created by `otel-agent stack up`; `otel-agent stack down --purge` removes run/, state.json and this file\n"
)


class StateError(StackError):
    """A state directory or file that is not ours or not readable: one line for the user."""


# --- the directory ---------------------------------------------------------------------------------------------------
def is_ours(state_dir: Path) -> bool:
    return (state_dir / MARKER).is_file()


def claim(state_dir: Path) -> Path:
    """Make sure ``state_dir`` is ours before anything is written there; returns the work directory."""
    if state_dir.exists() and not state_dir.is_dir():
        raise StateError(f"--state-dir {state_dir} is not a directory")
    if not is_ours(state_dir):
        if state_dir.is_dir() and any(state_dir.iterdir()):
            raise StateError(
                f"--state-dir {state_dir} holds files otel-agent did not create (no {MARKER} in it):"
                " choose an empty or new directory"
            )
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / MARKER).write_text(_MARKER_TEXT)
    workdir = state_dir / WORKDIR
    if workdir.is_symlink() or (workdir.exists() and not workdir.is_dir()):
        raise StateError(f"{workdir} is not a directory otel-agent created: not using it")
    workdir.mkdir(exist_ok=True)
    return workdir


def purge(state_dir: Path) -> list[str]:
    """Remove what `stack up` created (run/, state.json, the marker) and the directory when that leaves it empty."""
    if not is_ours(state_dir):
        raise StateError(f"{state_dir} was not created by otel-agent (no {MARKER}): nothing removed")
    removed = []
    for name in _OWNED:
        path = state_dir / name
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            continue
        removed.append(str(path))
    if not any(state_dir.iterdir()):
        state_dir.rmdir()
    return removed


# --- the state file --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordedProcess:
    name: str
    pid: int
    start_time: int | None
    argv: list[str]
    health_url: str | None

    def ownership(self) -> str:
        return ownership(self.pid, self.start_time, self.argv)


@dataclass(frozen=True)
class StackState:
    path: Path
    settings: dict[str, Any]
    endpoints: dict[str, Any]
    processes: list[RecordedProcess] = field(default_factory=list)


def _need(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ValueError(f"{what} is {type(value).__name__}")
    return value


def _process(raw: Any, i: int) -> RecordedProcess:
    _need(raw, dict, f"processes[{i}]")
    start = raw.get("start_time")
    argv = _need(raw.get("argv", []), list, f"processes[{i}].argv")
    url = raw.get("health_url")
    return RecordedProcess(
        name=_need(raw.get("name"), str, f"processes[{i}].name"),
        pid=_need(raw.get("pid"), int, f"processes[{i}].pid"),
        start_time=None if start is None else _need(start, int, f"processes[{i}].start_time"),
        argv=[_need(arg, str, f"processes[{i}].argv item") for arg in argv],
        health_url=None if url is None else _need(url, str, f"processes[{i}].health_url"),
    )


def load_state(path: Path) -> StackState | None:
    """The state file, checked field by field; None when there is none, StateError when it is not one of ours."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read the state file {path}: {exc.strerror or exc}") from exc
    try:
        raw = json.loads(text)
        _need(raw, dict, "the document")
        settings = _need(raw.get("settings", {}), dict, "settings")
        endpoints = _need(raw.get("endpoints", {}), dict, "endpoints")
        processes = [_process(proc, i) for i, proc in enumerate(_need(raw.get("processes", []), list, "processes"))]
    except ValueError as exc:
        raise StateError(f"the state file {path} is not a stack state ({exc}); move it away or use another --state-dir")
    return StackState(path=path, settings=settings, endpoints=endpoints, processes=processes)


# --- the processes it names ------------------------------------------------------------------------------------------
def running_processes(state: StackState) -> dict[str, tuple[int, int | None]]:
    """The recorded processes that still run and are ours (pid, start time), by name."""
    return {proc.name: (proc.pid, proc.start_time) for proc in state.processes if proc.ownership() == OURS}


def stop_recorded(state: StackState, timeout: float = 10.0) -> tuple[list[str], list[str]]:
    """Stop every recorded process that is ours; (stopped, refused) descriptions. A pid whose process has another
    start time or command line, or that cannot be checked (no /proc), is never signalled."""
    stopped, refused = [], []
    for proc in reversed(state.processes):
        verdict = proc.ownership()
        if verdict == OURS:
            if stop_pid(proc.pid, timeout):
                stopped.append(f"{proc.name} (pid {proc.pid})")
        elif verdict != GONE:
            refused.append(f"{proc.name} (pid {proc.pid}: {verdict})")
    return stopped, refused


def state_health(state: StackState) -> Iterator[tuple[str, int, bool, bool]]:
    """(name, pid, process alive and ours, health endpoint answers) for each recorded process."""
    for proc in state.processes:
        alive = proc.ownership() == OURS
        yield proc.name, proc.pid, alive, alive and (proc.health_url is None or http_ok(proc.health_url))
