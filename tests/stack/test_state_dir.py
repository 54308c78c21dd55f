"""`otel-agent stack` never deletes or signals what it did not create (no binaries needed: these run in every suite).

- `stack up`/`down --purge` pointed at a directory holding files of someone else's refuses and touches nothing;
- `stack down` signals a recorded pid only while that process has the start time and command line recorded for it,
  and refuses, with one line, a pid it cannot verify;
- a state file with wrong types gives one line and exit code 2 for `status` and `down`, never a traceback.
The processes here are `sleep`s started by the test (stand-ins for the stack's binaries).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_agent_tools.stack.runner import GONE, NOT_OURS, OURS, UNVERIFIABLE, ownership, proc_cmdline, proc_start_time
from otel_agent_tools.stack.state import MARKER, claim, load_state, purge


def cli(state_dir: Path, *args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"HOME": str(home)} if home else {})}
    return subprocess.run(
        [sys.executable, "-m", "otel_agent_tools.cli.main", "stack", "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _write_state(state_dir: Path, processes: list[dict[str, object]]) -> Path:
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / MARKER).write_text("test\n")
    path = state_dir / "state.json"
    path.write_text(json.dumps({"settings": {}, "endpoints": {}, "processes": processes}))
    return path


def _record(proc: subprocess.Popen[bytes], **override: object) -> dict[str, object]:
    return {
        "name": "collector",
        "pid": proc.pid,
        "start_time": proc_start_time(proc.pid),
        "argv": proc_cmdline(proc.pid),
        "health_url": None,
        **override,
    }


# --- the directory --------------------------------------------------------------------------------------------------
def test_up_refuses_a_directory_of_someone_elses_and_deletes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True)
    (home / "run" / "precious.txt").write_text("mine")
    (home / "notes.txt").write_text("mine too")
    result = cli(home, "up", "--random-ports")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "did not create" in result.stderr
    assert (home / "run" / "precious.txt").read_text() == "mine"
    assert sorted(p.name for p in home.iterdir()) == ["notes.txt", "run"]  # no marker, no state file written


def test_purge_refuses_a_directory_without_our_marker(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "data").write_text("x")
    (tmp_path / "state.json").write_text(json.dumps({"processes": []}))
    result = cli(tmp_path, "down", "--purge")
    assert result.returncode == 2 and "nothing removed" in result.stderr
    assert (tmp_path / "run" / "data").exists()


def test_claim_then_purge_removes_only_what_the_stack_created(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    workdir = claim(state_dir)
    (workdir / "jaeger-data").mkdir()
    (state_dir / "state.json").write_text("{}")
    (state_dir / "yours.txt").write_text("added by the user later")
    purge(state_dir)
    assert sorted(p.name for p in state_dir.iterdir()) == ["yours.txt"]  # kept, and so the directory too


def test_claim_accepts_an_empty_directory_and_a_new_one(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert claim(tmp_path / "empty") == tmp_path / "empty" / "run"
    assert claim(tmp_path / "new" / "deeper").is_dir()
    assert (tmp_path / "new" / "deeper" / MARKER).is_file()


def test_purge_unlinks_a_symlinked_run_folder_without_following_it(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    claim(state_dir)
    (state_dir / "run").rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("x")
    (state_dir / "run").symlink_to(elsewhere)
    purge(state_dir)
    assert (elsewhere / "keep").exists()


def test_down_keeps_the_data_and_purge_removes_it(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    claim(state_dir)
    (state_dir / "run" / "prometheus-data").mkdir()
    _write_state(state_dir, [])
    kept = cli(state_dir, "down")
    assert kept.returncode == 0 and "data kept" in kept.stdout
    assert (state_dir / "run" / "prometheus-data").is_dir()
    purged = cli(state_dir, "down", "--purge")
    assert purged.returncode == 0, purged.stderr
    assert not state_dir.exists()


# --- pid ownership ---------------------------------------------------------------------------------------------------
def test_ownership_needs_the_same_start_time_and_command_line(sleeper: subprocess.Popen[bytes]) -> None:
    start, argv = proc_start_time(sleeper.pid), proc_cmdline(sleeper.pid)
    assert start is not None and argv == ["sleep", "300"]
    assert ownership(sleeper.pid, start, argv) == OURS
    assert ownership(sleeper.pid, start + 1, argv) == NOT_OURS  # a recycled pid: another process, same number
    assert ownership(sleeper.pid, start, ["otelcol-agent", "--config=x"]) == NOT_OURS
    assert ownership(sleeper.pid, None, argv) == UNVERIFIABLE  # nothing recorded to compare: never trusted
    sleeper.kill()
    sleeper.wait()
    assert ownership(sleeper.pid, start, argv) == GONE


def test_down_signals_a_recorded_process_that_is_ours(tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    _write_state(tmp_path, [_record(sleeper)])
    result = cli(tmp_path, "down")
    assert result.returncode == 0, result.stderr
    assert f"collector (pid {sleeper.pid})" in result.stdout
    assert sleeper.wait(timeout=10) == -signal.SIGTERM


@pytest.mark.parametrize(
    "override",
    [
        pytest.param({"start_time": 1}, id="other start time (recycled pid)"),
        pytest.param({"argv": ["/usr/bin/otelcol-agent", "--config=/x.yaml"]}, id="other command line"),
        pytest.param({"start_time": None}, id="no start time recorded"),
        pytest.param({"argv": []}, id="no command line recorded"),
    ],
)
def test_down_refuses_a_pid_it_cannot_prove_is_ours(
    tmp_path: Path, sleeper: subprocess.Popen[bytes], override: dict[str, object]
) -> None:
    _write_state(tmp_path, [_record(sleeper, **override)])
    result = cli(tmp_path, "down")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and f"not signalling collector (pid {sleeper.pid}" in result.stderr
    time.sleep(0.2)
    assert sleeper.poll() is None  # still running: never signalled
    assert (tmp_path / "state.json").exists()


# --- bad state files ------------------------------------------------------------------------------------------------
BAD_STATES = {
    "not json": "{not json",
    "a list": "[1, 2]",
    "processes not a list": json.dumps({"processes": "collector"}),
    "pid a string": json.dumps({"processes": [{"name": "collector", "pid": "123", "argv": []}]}),
    "pid a bool": json.dumps({"processes": [{"name": "collector", "pid": True, "argv": []}]}),
    "process a number": json.dumps({"processes": [7]}),
    "argv a string": json.dumps({"processes": [{"name": "c", "pid": 1, "argv": "sleep 300"}]}),
    "endpoints a list": json.dumps({"endpoints": [], "processes": []}),
    "name missing": json.dumps({"processes": [{"pid": 5, "argv": []}]}),
}


@pytest.mark.parametrize("action", ["status", "down"])
@pytest.mark.parametrize("content", BAD_STATES.values(), ids=BAD_STATES.keys())
def test_a_state_file_with_wrong_types_gives_one_line_and_exit_code_2(
    tmp_path: Path, action: str, content: str
) -> None:
    tmp_path.joinpath(MARKER).write_text("test\n")
    tmp_path.joinpath("state.json").write_text(content)
    result = cli(tmp_path, action)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "is not a stack state" in result.stderr


def test_load_state_reads_what_the_stack_writes(tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    path = _write_state(tmp_path, [_record(sleeper, health_url="http://127.0.0.1:1/")])
    state = load_state(path)
    assert state is not None and [p.pid for p in state.processes] == [sleeper.pid]
    assert state.processes[0].ownership() == OURS
    assert load_state(tmp_path / "missing.json") is None


def test_status_without_a_stack_exits_3(tmp_path: Path) -> None:
    result = cli(tmp_path / "none", "status")
    assert result.returncode == 3 and "no stack running" in result.stdout
