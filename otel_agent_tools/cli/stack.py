"""`otel-agent stack`: run the local backend stack (collector, Jaeger, Prometheus, Alertmanager) on 127.0.0.1.

    otel-agent stack up [--build] [--scale-out] [--fast] [--demo]   start in the background, print the endpoints
    otel-agent stack status                                          is each process alive and healthy?
    otel-agent stack down                                            stop every process by its pid

`up` uses the well-known ports where free (OTLP 4317/4318, Jaeger 16686, Prometheus 9090, Alertmanager 9093)
and free ports otherwise. State (pids, ports, logs, Prometheus data) lives in --state-dir
(default: $OTEL_AGENT_STACK_DIR or ~/.local/state/otel-agent/stack). Binaries come from collector/build.sh.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from ..stack.runner import (
    SCALE_OUT,
    SINGLE_NODE,
    Stack,
    StackError,
    default_state_dir,
    read_state,
    state_health,
    stop_from_state,
)

STATE_FILE = "state.json"


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

    up = actions.add_parser("up", help="start the stack in the background and print its endpoints")
    up.add_argument("--build", action="store_true", help="run collector/build.sh first if a binary is missing")
    up.add_argument(
        "--scale-out",
        action="store_true",
        help="agent collector + gateways with tail sampling instead of the single-node collector",
    )
    up.add_argument("--gateways", type=int, default=2, help="gateway count with --scale-out (default 2)")
    up.add_argument("--fast", action="store_true", help="1 s scrape/evaluation intervals (demos, tests)")
    up.add_argument("--random-ports", action="store_true", help="never use the well-known ports")
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

    actions.add_parser("down", help="stop every process of the stack (by pid) and remove its state")
    parser.set_defaults(handler=run)


def _user_error(message: str) -> Exception:
    from .main import UserError

    return UserError(message)


def run(args: argparse.Namespace) -> int:
    state_dir: Path = args.state_dir or default_state_dir()
    state_path = state_dir / STATE_FILE
    if args.stack_action == "up":
        return _up(args, state_dir, state_path)
    if args.stack_action == "status":
        return _status(args, state_path)
    return _down(state_path)


def _up(args: argparse.Namespace, state_dir: Path, state_path: Path) -> int:
    state = read_state(state_path)
    if state and any(alive for _, _, alive, _ in state_health(state)):
        raise _user_error(f"a stack is already running (state {state_path}); `otel-agent stack down` first")
    workdir = state_dir / "run"
    shutil.rmtree(workdir, ignore_errors=True)
    try:
        stack = Stack(
            workdir,
            topology=SCALE_OUT if args.scale_out else SINGLE_NODE,
            gateways=args.gateways,
            fast=args.fast,
            prefer_default_ports=not args.random_ports,
            build=args.build,
            keep_workdir=True,
        )
        stack.start()
    except StackError as exc:
        raise _user_error(str(exc)) from exc
    stack.write_state(state_path)
    endpoints = stack.endpoints
    if args.demo > 0:
        _demo(endpoints.otlp_http, args.demo)
    if args.format == "json":
        print(json.dumps(stack.state(), indent=2))
        return 0
    e = endpoints
    lines = [
        f"otel-agent stack up ({stack.topology}); state in {state_path}",
        f"  OTLP gRPC           {e.otlp_grpc}",
        f"  OTLP HTTP           {e.otlp_http}",
        f"  Jaeger query/API    {e.jaeger_query}    (/api/traces, /api/v3/traces, /api/services)",
        f"  Prometheus          {e.prometheus}",
        f"  Alertmanager        {e.alertmanager}",
        f"  collector /metrics  {e.collector_metrics}",
        f"  collector health    {e.collector_health}",
    ]
    lines += [f"  gateway {i}           {gw}" for i, gw in enumerate(e.gateways)]
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
    state = read_state(state_path)
    if state is None:
        if args.format == "json":
            print(json.dumps({"running": False}))
        else:
            print(f"no stack running (no state at {state_path})")
        return 3
    rows = list(state_health(state))
    healthy = all(ok for *_, ok in rows)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "running": True,
                    "healthy": healthy,
                    "endpoints": state.get("endpoints", {}),
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
        for key, value in state.get("endpoints", {}).items():
            if value:
                print(f"  {key:<20} {value}")
    return 0 if healthy else 4


def _down(state_path: Path) -> int:
    if read_state(state_path) is None:
        print(f"no stack running (no state at {state_path})")
        return 0
    stopped = stop_from_state(state_path)
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
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
