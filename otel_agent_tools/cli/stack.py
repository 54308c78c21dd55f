"""`otel-agent stack`: run the local backend stack (collector, Jaeger, Prometheus, Alertmanager) on 127.0.0.1.

    otel-agent stack up [--build] [--scale-out] [--fast] [--demo S]   start in the background (or restart what died)
    otel-agent stack status                                            is each process alive and healthy?
    otel-agent stack down [--purge]                                    stop every process; --purge removes the data

`up` uses the well-known ports where free (OTLP 4317/4318, Jaeger 16686, Prometheus 9090, Alertmanager 9093)
and free ports otherwise. Everything lives in --state-dir (default: $OTEL_AGENT_STACK_DIR or
~/.local/state/otel-agent/stack): pids, logs, Jaeger's traces (badger), the collector's persistent queues,
Prometheus' series and Alertmanager's state. `down` keeps the data, so the next `up` on the same directory serves
every earlier trace and series; `up` on a partly running stack starts only the processes that are not running.
The state directory must be new, empty or one `up` created (it holds a .otel-agent-stack marker): otel-agent never
writes into or deletes from a directory of someone else's. `down` signals a recorded pid only while it still has the
start time and command line `up` recorded for it. Binaries come from collector/build.sh (`up --build`).

Exit codes: 0 done (status: every process healthy); 2 a user error, among them a state file that is not one of
ours or unreadable, or a pid that is not ours; 3 (status) no stack recorded; 4 (status) a process is down or unhealthy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from ..stack.runner import SCALE_OUT, SINGLE_NODE, Stack, StackError, dashboards_dir, default_state_dir
from ..stack.state import (
    STATE_FILE,
    StackState,
    claim,
    is_ours,
    load_state,
    purge,
    running_processes,
    state_health,
    stop_recorded,
)


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "stack",
        help="run the local collector/Jaeger/Prometheus/Alertmanager stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--state-dir", type=Path, default=None, help="where pids, logs and data live")
    actions = parser.add_subparsers(dest="stack_action", metavar="ACTION")
    actions.required = True

    up = actions.add_parser("up", help="start the stack in the background (or what of it is not running)")
    up.add_argument("--build", action="store_true", help="run collector/build.sh first if a binary is missing")
    up.add_argument(
        "--scale-out",
        action="store_true",
        help="agent collector + gateways with tail sampling instead of the single-node collector",
    )
    up.add_argument("--gateways", type=int, default=2, help="gateway count with --scale-out (default 2)")
    up.add_argument("--fast", action="store_true", help="1 s scrape/evaluation intervals (demos, tests)")
    up.add_argument("--random-ports", action="store_true", help="never use the well-known ports")
    up.add_argument("--retention", default="72h", help="how long Jaeger keeps traces (default 72h)")
    up.add_argument("--prometheus-retention", default="15d", help="how long Prometheus keeps series (default 15d)")
    up.add_argument("--prometheus-retention-size", default="2GB", help="disk bound of Prometheus' TSDB (default 2GB)")
    up.add_argument(
        "--prometheus-lifecycle",
        action="store_true",
        help="enable Prometheus' /-/reload and /-/quit HTTP endpoints (off by default)",
    )
    up.add_argument(
        "--demo",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="after start, emit synthetic agent runs for SECONDS so the backends have data",
    )
    up.add_argument("--format", choices=("text", "json"), default="text")

    status = actions.add_parser("status", help="show whether each process is alive and healthy")
    status.add_argument("--format", choices=("text", "json"), default="text")

    down = actions.add_parser("down", help="stop every process of the stack (by pid); the data stays")
    down.add_argument("--purge", action="store_true", help="also remove the data and the state directory")
    parser.set_defaults(handler=run)


def _user_error(message: str) -> Exception:
    from .main import UserError

    return UserError(message)


def _load(state_path: Path) -> StackState | None:
    try:
        return load_state(state_path)
    except StackError as exc:
        raise _user_error(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    state_dir: Path = args.state_dir or default_state_dir()
    state_path = state_dir / STATE_FILE
    if args.stack_action == "up":
        return _up(args, state_dir, state_path)
    if args.stack_action == "status":
        return _status(args, state_path)
    return _down(args, state_dir, state_path)


def _stack_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "topology": SCALE_OUT if args.scale_out else SINGLE_NODE,
        "gateways": args.gateways if args.scale_out else 0,
        "fast": args.fast,
        "jaeger_retention": args.retention,
        "prometheus_retention": args.prometheus_retention,
        "prometheus_retention_size": args.prometheus_retention_size,
        "prometheus_lifecycle": args.prometheus_lifecycle,
    }


def _up(args: argparse.Namespace, state_dir: Path, state_path: Path) -> int:
    try:
        import yaml  # noqa: F401  (rendering the Prometheus config needs it)
    except ImportError:
        raise _user_error("`stack up` needs PyYAML: pip install 'otel-agent[stack]'")
    try:
        workdir = claim(state_dir)  # refuses a directory of someone else's before anything is written
    except StackError as exc:
        raise _user_error(str(exc)) from exc
    state = _load(state_path)
    running = running_processes(state) if state else {}
    options = _stack_options(args)
    ports = None
    if running and state is not None:
        recorded = {key: state.settings.get(key) for key in ("topology", "gateways", "fast")}
        asked = {key: options[key] for key in ("topology", "gateways", "fast")}
        if recorded != asked:
            raise _user_error(
                f"a stack with other settings ({recorded}) runs on {state_dir}; `otel-agent stack down` first"
            )
        recorded_ports = state.settings.get("ports")
        if not isinstance(recorded_ports, dict) or not all(isinstance(v, int) for v in recorded_ports.values()):
            raise _user_error(f"the state file {state_path} records no ports; `otel-agent stack down` first")
        ports = recorded_ports
        options = {**options, **{k: v for k, v in state.settings.items() if k in options}}
    try:
        stack = Stack(
            workdir,
            gateways=options.pop("gateways") or 2,
            prefer_default_ports=not args.random_ports,
            ports=ports,
            build=args.build,
            keep_workdir=True,
            **options,
        )
        stack.start(running=running)
    except StackError as exc:
        raise _user_error(str(exc)) from exc
    stack.write_state(state_path)
    endpoints = stack.endpoints
    if args.demo > 0:
        _demo(endpoints.otlp_http, args.demo)
    if args.format == "json":
        print(json.dumps({**stack.state(), "already_running": sorted(running)}, indent=2))
        return 0
    e = endpoints
    started = [name for name in stack.processes if name not in running]
    title = "otel-agent stack up" if not running else f"otel-agent stack: restarted {', '.join(started) or 'nothing'}"
    lines = [
        f"{title} ({stack.topology}); state in {state_path}",
        f"  OTLP gRPC           {e.otlp_grpc}",
        f"  OTLP HTTP           {e.otlp_http}",
        f"  Jaeger query/API    {e.jaeger_query}    (/api/traces, /api/v3/traces, /api/services)",
        f"  Prometheus          {e.prometheus}",
        f"  Alertmanager        {e.alertmanager}",
        f"  collector /metrics  {e.collector_metrics}",
        f"  collector health    {e.collector_health}",
    ]
    lines += [f"  gateway {i}           {gw}" for i, gw in enumerate(e.gateways)]
    lines += [f"  data                {workdir} (kept by `stack down`; `stack down --purge` removes it)"]
    try:
        lines += [
            f"  Grafana dashboards  {dashboards_dir() / 'json'} (provisioning: {dashboards_dir() / 'provisioning'})"
        ]
    except StackError:
        pass
    lines += ["", "Point an instrumented agent at it:"]
    lines += [f"  export {key}={value}" for key, value in e.sdk_environment().items()]
    lines += ["Stop with: otel-agent stack down"]
    print("\n".join(lines))
    return 0


def _demo(endpoint: str, seconds: float) -> None:
    from ..stack.synthetic import SyntheticAgentTelemetry, scenario

    kinds = ("clean", "clean", "wasted", "escalated", "expensive", "failed_outcome")
    with SyntheticAgentTelemetry(endpoint, "otel-agent-demo") as emitter:
        deadline = time.monotonic() + seconds
        i = 0
        while time.monotonic() < deadline:
            emitter.emit(scenario(kinds[i % len(kinds)], agent="demo-agent"))
            i += 1
            time.sleep(0.5)
    print(f"emitted {i} synthetic runs (service otel-agent-demo)", file=sys.stderr)


def _status(args: argparse.Namespace, state_path: Path) -> int:
    state = _load(state_path)
    if state is None:
        if args.format == "json":
            print(json.dumps({"running": False}))
        else:
            print(f"no stack running (no state at {state_path})")
        return 3
    rows = list(state_health(state))
    healthy = bool(rows) and all(ok for *_, ok in rows)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "running": any(alive for _, _, alive, _ in rows),
                    "healthy": healthy,
                    "endpoints": state.endpoints,
                    "processes": [
                        {"name": name, "pid": pid, "alive": alive, "healthy": ok} for name, pid, alive, ok in rows
                    ],
                },
                indent=2,
            )
        )
    else:
        for name, pid, alive, ok in rows:
            print(f"  {name:<14} pid {pid:<8} {'healthy' if ok else ('alive, unhealthy' if alive else 'DOWN')}")
        for key, value in state.endpoints.items():
            if value:
                print(f"  {key:<20} {value}")
    return 0 if healthy else 4


def _down(args: argparse.Namespace, state_dir: Path, state_path: Path) -> int:
    state = _load(state_path)
    refused: list[str] = []
    if state is None:
        print(f"no stack running (no state at {state_path})")
    else:
        stopped, refused = stop_recorded(state)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        if not refused:
            state_path.unlink(missing_ok=True)
    if refused:
        raise _user_error(
            f"not signalling {', '.join(refused)}: not the process `stack up` started (state kept in {state_path})"
        )
    if args.purge:
        if not state_dir.exists():
            return 0
        try:
            purge(state_dir)
        except StackError as exc:
            raise _user_error(str(exc)) from exc
        print(f"removed the stack's data and state in {state_dir}")
    elif state is not None and is_ours(state_dir):
        print(f"data kept in {state_dir} (`otel-agent stack down --purge` removes it)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (`python -m otel_agent_tools.cli.stack up`), for use before the main CLI registers it."""
    parser = argparse.ArgumentParser(prog="otel-agent")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["stack", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.handler(args) or 0)
    except Exception as exc:  # UserError from .main, without importing it eagerly
        if type(exc).__name__ == "UserError":
            print(f"otel-agent: {exc}", file=sys.stderr)
            return getattr(exc, "code", 2)
        raise


if __name__ == "__main__":
    sys.exit(main())
