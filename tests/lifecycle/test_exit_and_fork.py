"""Process lifecycle, in subprocesses: the run span is exported at exit whatever the provider order, a forked child
starts its own runs, re-instrumenting keeps exporting, and exit is bounded when the collector is down or hangs."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from otel_agent.telemetry import names as n

from ._support import attributes, free_port, hanging_collector, run_child, spans_in

RUN_SPAN = "invoke_agent agent"


def _by_name(spans: list[dict[str, object]]) -> Counter[str]:
    return Counter(str(s["name"]) for s in spans)


@pytest.mark.parametrize(
    "mode",
    [
        "app-first",  # the application's provider, created after `import otel_agent`, before instrument()
        "app-shutdown",  # the same, and the application shuts its provider down itself at the end
        "owned",  # otel-agent set up the providers (the README's one line)
    ],
)
def test_a_run_open_at_exit_is_exported(tmp_path: Path, mode: str) -> None:
    done = run_child(mode, tmp_path)
    assert done.returncode == 0, done.stderr
    spans = spans_in(tmp_path)
    names = _by_name(spans)
    assert names["chat gpt-5.4-mini"] == 2, names
    assert names[RUN_SPAN] == 1, (names, done.stderr)
    (run,) = [s for s in spans if s["name"] == RUN_SPAN]
    assert all(s["parentSpanId"] == run["spanId"] for s in spans if s["name"] != RUN_SPAN)
    assert "already shutdown" not in done.stderr


def test_under_opentelemetry_instrument_the_run_is_exported_at_exit(tmp_path: Path) -> None:
    """The auto-instrumentation path: `opentelemetry-instrument` loads our entry points; nobody calls instrument()."""
    launcher = Path(sys.executable).with_name("opentelemetry-instrument")
    if not launcher.exists():
        pytest.skip("opentelemetry-instrument is not installed beside this interpreter")
    env = {
        "OTEL_AGENT_FILE_PATH": str(tmp_path),
        "OTEL_AGENT_COST": "false",
        "OTEL_AGENT_GPU": "off",
        "OTEL_AGENT_RUN_IDLE_TIMEOUT": "600",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "httpx,requests,urllib3,threading,asyncio,logging,grpc",
    }
    done = run_child("auto", tmp_path, env, launcher=(str(launcher),))
    assert done.returncode == 0, done.stderr
    names = _by_name(spans_in(tmp_path))
    assert names["chat gpt-5.4-mini"] == 2 and names[RUN_SPAN] == 1, (names, done.stderr)


def test_instrument_uninstrument_instrument_keeps_exporting(tmp_path: Path) -> None:
    done = run_child("reinstrument", tmp_path)
    assert done.returncode == 0, done.stderr
    names = _by_name(spans_in(tmp_path))
    assert names["chat gpt-5.4-mini"] == 2 and names[RUN_SPAN] == 1, (names, done.stderr)
    assert (tmp_path / "metrics.otlp.jsonl").stat().st_size > 0


def test_a_forked_child_starts_its_own_run(tmp_path: Path) -> None:
    done = run_child("fork", tmp_path)
    assert done.returncode == 0, done.stderr
    spans = spans_in(tmp_path)
    ids = Counter(str(s["spanId"]) for s in spans)
    assert all(count == 1 for count in ids.values()), "a span id exported twice (parent and child)"
    runs = [s for s in spans if s["name"] == RUN_SPAN]
    assert len(runs) == 2, _by_name(spans)  # the parent's run, and one the child started
    turns = Counter((attributes(s)[n.RUN_ID], attributes(s)[n.TURN_INDEX]) for s in spans if s["name"] != RUN_SPAN)
    assert all(count == 1 for count in turns.values()), turns  # no run has two spans for one turn index
    assert sorted(index for _run, index in turns) == ["1", "1", "2"]
    assert "not delivered" not in done.stderr


def test_an_agent_run_open_across_a_fork_is_exported_once(tmp_path: Path) -> None:
    done = run_child("fork-explicit", tmp_path)
    assert done.returncode == 0, done.stderr
    spans = spans_in(tmp_path)
    ids = Counter(str(s["spanId"]) for s in spans)
    assert all(count == 1 for count in ids.values()), "a span id exported twice (parent and child)"
    (run,) = [s for s in spans if s["name"] == "invoke_agent job"]
    chats = [s for s in spans if s["name"] == "chat gpt-5.4-mini"]
    assert len(chats) == 3 and all(s["parentSpanId"] == run["spanId"] for s in chats)


@pytest.mark.parametrize("collector", ["dead", "hanging"])
def test_exit_is_bounded_when_the_collector_is_unreachable(tmp_path: Path, collector: str) -> None:
    def run(port: int) -> None:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}", "OTEL_AGENT_EXIT_TIMEOUT": "1"}
        done = run_child("owned", tmp_path, env)
        assert done.returncode == 0, done.stderr
        # a loose bound on the exit alone (1 s asked): unbounded, this exit took 12 s (dead) and 16 s (hanging)
        # here, 33-41 s in the setup (each signal's exporter retries with backoff until its own timeout)
        assert done.exit_seconds < 6, done.exit_seconds
        dropped = [line for line in done.stderr.splitlines() if "telemetry dropped at exit" in line]
        assert len(dropped) == 1, done.stderr
        assert "spans" in dropped[0]

    if collector == "dead":
        run(free_port())
    else:
        with hanging_collector() as port:
            run(port)
