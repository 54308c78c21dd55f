"""Run the otel-agent backend stack (collector, Jaeger, Prometheus, Alertmanager) as local processes on loopback.

    with Stack() as stack:                      # free ports, temp dir, everything stopped on exit
        print(stack.endpoints.otlp_http)        # point OTEL_EXPORTER_OTLP_ENDPOINT here
        print(stack.endpoints.jaeger_query)     # http://127.0.0.1:PORT/api/traces/...
        print(stack.endpoints.prometheus)       # http://127.0.0.1:PORT/api/v1/query?...

The configs come from ``OTEL_AGENT_COLLECTOR_DIR``, else the source checkout's ``collector/`` directory, else the
copy installed with the package (``otel_agent_tools/_data/collector``, `pip install 'otel-agent[stack]'`): the
collector and Jaeger configs take their listen addresses and data directories from environment variables,
Prometheus' config is rendered with the picked ports. Binaries: ``<build dir>/bin/{otelcol-agent,jaeger}``
(``collector/build.sh``; the build dir is ``collector/_build`` in a checkout, ``~/.cache/otel-agent/build`` for an
installed package, or ``OTEL_AGENT_BUILD_DIR``) or ``OTEL_AGENT_COLLECTOR_BIN`` / ``OTEL_AGENT_JAEGER_BIN``, and
``prometheus``/``prometheus-alertmanager`` on PATH.

Every piece of data lives under the work directory: Jaeger's badger store (``jaeger-data``), the collectors'
persistent sending queues (``queue/<name>``), Prometheus' TSDB (``prometheus-data``) and Alertmanager's state
(``alertmanager-data``), so a stack started again on the same directory serves what the previous one stored.
Every process runs in its own session and is stopped by its own pid (SIGTERM, then SIGKILL), after checking the
pid still is the process we started (its start time and command line).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
SINGLE_NODE = "single-node"
SCALE_OUT = "scale-out"

# well-known defaults, used by `otel-agent stack up` when free; tests ask for free ports instead
DEFAULT_PORTS: Mapping[str, int] = {
    "otlp_grpc": 4317,
    "otlp_http": 4318,
    "collector_health": 13133,
    "collector_metrics": 8889,
    "collector_telemetry": 8888,
    "jaeger_query": 16686,
    "jaeger_query_grpc": 16685,
    "jaeger_otlp_grpc": 14317,
    "jaeger_otlp_http": 14318,
    "jaeger_health": 14133,
    "jaeger_telemetry": 14269,
    "prometheus": 9090,
    "alertmanager": 9093,
}


class StackError(RuntimeError):
    """The stack cannot be built, started or found."""


# --- locations ---------------------------------------------------------------------------------------------------------
_CHECKOUT = Path(__file__).resolve().parents[2]
_PACKAGE_DATA = Path(__file__).resolve().parents[1] / "_data"


def _data_dir(name: str, probe: str, env: str) -> Path:
    """``$env``, else the checkout's ``name/``, else the copy shipped in the wheel; the first holding ``probe``."""
    explicit = os.environ.get(env)
    candidates = [Path(explicit)] if explicit else [_CHECKOUT / name, _PACKAGE_DATA / name]
    for path in candidates:
        if (path / probe).is_file():
            return path
    where = " or ".join(str(path) for path in candidates)
    raise StackError(f"no {name} files under {where}: reinstall otel-agent or set {env}")


def collector_dir() -> Path:
    """The directory holding the collector, Jaeger, Prometheus and Alertmanager configs and the alert rules."""
    return _data_dir("collector", "config/single-node.yaml", "OTEL_AGENT_COLLECTOR_DIR")


def dashboards_dir() -> Path:
    """The Grafana dashboards (``json/``) and provisioning files (``provisioning/``)."""
    return _data_dir("dashboards", "provisioning/dashboards/otel-agent.yaml", "OTEL_AGENT_DASHBOARDS_DIR")


def build_dir(cdir: Path | None = None) -> Path:
    """Where ``build.sh`` puts the binaries: ``OTEL_AGENT_BUILD_DIR``, ``collector/_build`` in a checkout, else a
    user cache directory (an installed package's own directory may be read-only)."""
    env = os.environ.get("OTEL_AGENT_BUILD_DIR")
    if env:
        return Path(env)
    cdir = cdir or collector_dir()
    if cdir.resolve() == (_CHECKOUT / "collector").resolve():
        return cdir / "_build"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "otel-agent" / "build"


def default_state_dir() -> Path:
    env = os.environ.get("OTEL_AGENT_STACK_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "otel-agent" / "stack"


@dataclass(frozen=True)
class Binaries:
    collector: Path
    jaeger: Path
    prometheus: Path
    alertmanager: Path
    promtool: Path | None = None
    amtool: Path | None = None


def _which(*names: str) -> Path | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def find_binaries(build: bool = False) -> Binaries:
    """Locate every binary the stack runs; with ``build=True`` run ``collector/build.sh`` first if any is missing."""
    cdir = collector_dir()
    bdir = build_dir(cdir)

    def locate() -> dict[str, Path | None]:
        bin_dir = bdir / "bin"
        found: dict[str, Path | None] = {}
        for key, env, name in (
            ("collector", "OTEL_AGENT_COLLECTOR_BIN", "otelcol-agent"),
            ("jaeger", "OTEL_AGENT_JAEGER_BIN", "jaeger"),
        ):
            candidate = Path(os.environ[env]) if os.environ.get(env) else bin_dir / name
            found[key] = candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None
        found["prometheus"] = _which("prometheus")
        found["alertmanager"] = _which("prometheus-alertmanager", "alertmanager")
        found["promtool"] = _which("promtool")
        found["amtool"] = _which("amtool")
        return found

    found = locate()
    required = ("collector", "jaeger", "prometheus", "alertmanager")
    missing = [key for key in required if found[key] is None]
    if missing and build:
        try:
            subprocess.run(
                ["bash", str(cdir / "build.sh")], check=True, env={**os.environ, "OTEL_AGENT_BUILD_DIR": str(bdir)}
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise StackError(f"{cdir / 'build.sh'} failed: {exc}") from exc
        found = locate()
        missing = [key for key in required if found[key] is None]
    if missing:
        raise StackError(
            f"missing {', '.join(missing)} (looked in {bdir / 'bin'} and on PATH): run `otel-agent stack up --build`"
            f" (or {cdir / 'build.sh'})"
        )
    return Binaries(**found)  # type: ignore[arg-type]


# --- ports ---------------------------------------------------------------------------------------------------------------
def _port_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """``count`` distinct ports that were free on ``host`` a moment ago (all sockets held while picking)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            socks.append(sock)
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def allocate_ports(names: list[str], prefer_defaults: bool, fixed: Mapping[str, int] | None = None) -> dict[str, int]:
    fixed = dict(fixed or {})
    ports: dict[str, int] = {}
    pool = iter(free_ports(len(names) + 4))
    taken = set(fixed.values())
    for name in names:
        if name in fixed:
            ports[name] = fixed[name]
            continue
        default = DEFAULT_PORTS.get(name)
        if prefer_defaults and default and default not in taken and _port_free(default):
            ports[name] = default
        else:
            port = next(pool)
            while port in taken:
                port = next(pool)
            ports[name] = port
        taken.add(ports[name])
    return ports


# --- processes -----------------------------------------------------------------------------------------------------------
def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def proc_start_time(pid: int) -> int | None:
    """The process's start time (clock ticks since boot, /proc/PID/stat field 22); None when /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(") ", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def proc_cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]] if raw else None


# ownership of a recorded pid: the process we started, gone, another process, or no way to tell
OURS, GONE, NOT_OURS, UNVERIFIABLE = "ours", "gone", "not ours", "unverifiable"


def ownership(pid: int, start_time: int | None, argv: list[str] | None) -> str:
    """Is ``pid`` still the process we started (same start time and command line)? Never guesses: without /proc,
    or without the start time and command line we recorded, the answer is UNVERIFIABLE."""
    if pid <= 0 or not pid_alive(pid):
        return GONE
    actual_start, actual_argv = proc_start_time(pid), proc_cmdline(pid)
    if actual_start is None or actual_argv is None or start_time is None or not argv:
        return UNVERIFIABLE if pid_alive(pid) else GONE
    return OURS if (actual_start == start_time and actual_argv == list(argv)) else NOT_OURS


def stop_pid(pid: int, timeout: float = 10.0) -> bool:
    """SIGTERM ``pid``, wait up to ``timeout``, then SIGKILL. Returns False if it was not running. The caller checks
    ownership first (:func:`ownership`)."""
    if not pid_alive(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)  # reap when it is our child
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)
    return True


@dataclass
class ManagedProcess:
    """One backend process: started in its own session, output to ``log``, health polled over HTTP."""

    name: str
    argv: list[str]
    log: Path
    health_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    pid: int | None = None
    start_time: int | None = None
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> ManagedProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self._popen = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                start_new_session=True,
            )
        self.pid = self._popen.pid
        self.start_time = proc_start_time(self.pid)
        return self

    def adopt(self, pid: int, start_time: int | None) -> None:
        """Take over a process a previous ``stack up`` started (already checked to be ours)."""
        self._popen, self.pid, self.start_time = None, pid, start_time

    def running(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is None
        return self.pid is not None and pid_alive(self.pid)

    def healthy(self) -> bool:
        return self.running() and (self.health_url is None or http_ok(self.health_url))

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise StackError(f"{self.name} exited ({self._exit_code()}); last log lines:\n{self.log_tail()}")
            if self.health_url is None or http_ok(self.health_url):
                return
            time.sleep(0.1)
        raise StackError(f"{self.name} not healthy after {timeout:.0f}s at {self.health_url}:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.pid is None:
            return
        if self._popen is not None:
            if self._popen.poll() is None:
                self._popen.terminate()
                try:
                    self._popen.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._popen.kill()
                    self._popen.wait()
        elif ownership(self.pid, self.start_time, self.argv) == OURS:
            stop_pid(self.pid, timeout)
        self._popen = None
        self.pid = None
        self.start_time = None

    def _exit_code(self) -> str:
        return f"exit code {self._popen.returncode}" if self._popen is not None else "gone"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def to_state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pid": self.pid,
            "start_time": self.start_time,
            "argv": self.argv,
            "log": str(self.log),
            "health_url": self.health_url,
        }


def collector_process(
    binary: Path,
    config: Path,
    *,
    name: str,
    workdir: Path,
    otlp_grpc: int,
    otlp_http: int | None = None,
    health: int,
    telemetry: int,
    env: Mapping[str, str] | None = None,
) -> ManagedProcess:
    """A collector process on loopback with its ports passed through the config's ``${env:...}`` variables; its
    persistent sending queue lives in ``workdir/queue/<name>``."""
    variables = {
        "OTEL_AGENT_QUEUE_DIR": str(workdir / "queue" / name),
        "OTEL_AGENT_OTLP_GRPC_ENDPOINT": f"{LOOPBACK}:{otlp_grpc}",
        "OTEL_AGENT_OTLP_HTTP_ENDPOINT": f"{LOOPBACK}:{otlp_http or free_ports(1)[0]}",
        "OTEL_AGENT_COLLECTOR_HEALTH_ENDPOINT": f"{LOOPBACK}:{health}",
        "OTEL_AGENT_COLLECTOR_TELEMETRY_HOST": LOOPBACK,
        "OTEL_AGENT_COLLECTOR_TELEMETRY_PORT": str(telemetry),
        **(env or {}),
    }
    return ManagedProcess(
        name=name,
        argv=[str(binary), f"--config={config}"],
        log=workdir / f"{name}.log",
        health_url=f"http://{LOOPBACK}:{health}/",
        env=variables,
        cwd=workdir,
    )


# --- the stack ---------------------------------------------------------------------------------------------------------
@dataclass
class StackEndpoints:
    otlp_grpc: str
    otlp_http: str
    collector_health: str
    collector_metrics: str
    collector_telemetry: str
    jaeger_query: str
    jaeger_otlp_grpc: str
    jaeger_otlp_http: str
    prometheus: str
    alertmanager: str
    gateways: list[str] = field(default_factory=list)

    def sdk_environment(self) -> dict[str, str]:
        """What an instrumented process needs to export here."""
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_http, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}


class Stack:
    """Collector (single node, or agent + gateways), Jaeger, Prometheus and Alertmanager as local processes.

    ``fast=True`` shortens every interval for tests (1 s scrape and rule evaluation, 1 s span-metrics flush,
    200 ms collector batches). ``prefer_default_ports`` uses the well-known ports where free. Data stays under
    ``workdir`` (see the module docstring): ``jaeger_retention`` bounds Jaeger's badger store by age,
    ``prometheus_retention``/``prometheus_retention_size`` Prometheus' TSDB by age and size.
    ``prometheus_lifecycle`` turns on Prometheus' ``/-/reload`` and ``/-/quit`` endpoints (off unless asked).
    """

    def __init__(
        self,
        workdir: str | Path | None = None,
        *,
        topology: str = SINGLE_NODE,
        gateways: int = 2,
        fast: bool = False,
        prefer_default_ports: bool = False,
        ports: Mapping[str, int] | None = None,
        scrape_interval: str | None = None,
        evaluation_interval: str | None = None,
        collector_env: Mapping[str, str] | None = None,
        binaries: Binaries | None = None,
        build: bool = False,
        keep_workdir: bool | None = None,
        jaeger_retention: str = "72h",
        prometheus_retention: str = "15d",
        prometheus_retention_size: str = "2GB",
        prometheus_lifecycle: bool = False,
    ) -> None:
        if topology not in (SINGLE_NODE, SCALE_OUT):
            raise ValueError(f"topology must be {SINGLE_NODE!r} or {SCALE_OUT!r}")
        self.cdir = collector_dir()
        self.binaries = binaries or find_binaries(build=build)
        self.topology = topology
        self.gateway_count = gateways if topology == SCALE_OUT else 0
        self.fast = fast
        self.scrape_interval = scrape_interval or ("1s" if fast else "15s")
        self.evaluation_interval = evaluation_interval or ("1s" if fast else "15s")
        self.collector_env = dict(collector_env or {})
        self.jaeger_retention = jaeger_retention
        self.prometheus_retention = prometheus_retention
        self.prometheus_retention_size = prometheus_retention_size
        self.prometheus_lifecycle = prometheus_lifecycle
        self._own_workdir = workdir is None
        self.keep_workdir = (not self._own_workdir) if keep_workdir is None else keep_workdir
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="otel-agent-stack-"))
        names = list(DEFAULT_PORTS)
        for i in range(self.gateway_count):
            names += [f"gateway{i}_otlp_grpc", f"gateway{i}_health", f"gateway{i}_telemetry"]
        self.ports = allocate_ports(names, prefer_default_ports, ports)
        self.processes: dict[str, ManagedProcess] = {}
        self._build_processes()

    # -- public -----------------------------------------------------------------------------------------------------
    @property
    def endpoints(self) -> StackEndpoints:
        p = self.ports
        return StackEndpoints(
            otlp_grpc=f"{LOOPBACK}:{p['otlp_grpc']}",
            otlp_http=f"http://{LOOPBACK}:{p['otlp_http']}",
            collector_health=f"http://{LOOPBACK}:{p['collector_health']}/",
            collector_metrics=f"http://{LOOPBACK}:{p['collector_metrics']}/metrics",
            collector_telemetry=f"http://{LOOPBACK}:{p['collector_telemetry']}/metrics",
            jaeger_query=f"http://{LOOPBACK}:{p['jaeger_query']}",
            jaeger_otlp_grpc=f"{LOOPBACK}:{p['jaeger_otlp_grpc']}",
            jaeger_otlp_http=f"http://{LOOPBACK}:{p['jaeger_otlp_http']}",
            prometheus=f"http://{LOOPBACK}:{p['prometheus']}",
            alertmanager=f"http://{LOOPBACK}:{p['alertmanager']}",
            gateways=[f"{LOOPBACK}:{p[f'gateway{i}_otlp_grpc']}" for i in range(self.gateway_count)],
        )

    def start(self, timeout: float = 90.0, running: Mapping[str, tuple[int, int | None]] | None = None) -> Stack:
        """Start every process, in dependency order. ``running`` maps the names of processes a previous start left
        running (checked to be ours) to their (pid, start time): those are adopted, not started again."""
        self._render_configs()
        running = running or {}
        try:
            for name in self._start_order():
                if name in running:
                    self.processes[name].adopt(*running[name])
                    continue
                self.processes[name].start()
                self.processes[name].wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def settings(self) -> dict[str, Any]:
        """What `stack up` needs to rebuild this stack on the same directory (same ports, same options)."""
        return {
            "topology": self.topology,
            "gateways": self.gateway_count,
            "fast": self.fast,
            "scrape_interval": self.scrape_interval,
            "evaluation_interval": self.evaluation_interval,
            "jaeger_retention": self.jaeger_retention,
            "prometheus_retention": self.prometheus_retention,
            "prometheus_retention_size": self.prometheus_retention_size,
            "prometheus_lifecycle": self.prometheus_lifecycle,
            "ports": dict(self.ports),
        }

    def stop(self) -> None:
        for name in reversed(self._start_order()):
            self.processes[name].stop()
        if not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def stop_component(self, name: str) -> None:
        self.processes[name].stop()

    def start_component(self, name: str, timeout: float = 60.0) -> None:
        self.processes[name].start()
        self.processes[name].wait_healthy(timeout)

    def status(self) -> dict[str, bool]:
        return {name: proc.healthy() for name, proc in self.processes.items()}

    def state(self) -> dict[str, Any]:
        return {
            "workdir": str(self.workdir),
            "topology": self.topology,
            "settings": self.settings(),
            "endpoints": asdict(self.endpoints),
            "processes": [proc.to_state() for proc in self.processes.values() if proc.pid],
        }

    def write_state(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.state(), indent=2))
        tmp.replace(path)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------------------------------------------------
    def _start_order(self) -> list[str]:
        gateways = [f"gateway{i}" for i in range(self.gateway_count)]
        return ["jaeger", *gateways, "collector", "alertmanager", "prometheus"]

    def _fast_env(self) -> dict[str, str]:
        if not self.fast:
            return {}
        return {
            "OTEL_AGENT_SPANMETRICS_FLUSH_INTERVAL": "1s",
            "OTEL_AGENT_BATCH_TIMEOUT": "200ms",
            "OTEL_AGENT_SAMPLE_DECISION_WAIT": "5s",
            "OTEL_AGENT_SAMPLE_DECISION_WAIT_AFTER_ROOT": "1s",
        }

    def _build_processes(self) -> None:
        p, b, wd = self.ports, self.binaries, self.workdir
        self.processes["jaeger"] = ManagedProcess(
            name="jaeger",
            argv=[str(b.jaeger), f"--config={self.cdir / 'jaeger.yaml'}"],
            log=wd / "jaeger.log",
            health_url=f"http://{LOOPBACK}:{p['jaeger_health']}/status",
            cwd=wd,
            env={
                "JAEGER_OTLP_GRPC_ENDPOINT": f"{LOOPBACK}:{p['jaeger_otlp_grpc']}",
                "JAEGER_OTLP_HTTP_ENDPOINT": f"{LOOPBACK}:{p['jaeger_otlp_http']}",
                "JAEGER_QUERY_HTTP_ENDPOINT": f"{LOOPBACK}:{p['jaeger_query']}",
                "JAEGER_QUERY_GRPC_ENDPOINT": f"{LOOPBACK}:{p['jaeger_query_grpc']}",
                "JAEGER_HEALTH_ENDPOINT": f"{LOOPBACK}:{p['jaeger_health']}",
                "JAEGER_TELEMETRY_HOST": LOOPBACK,
                "JAEGER_TELEMETRY_PORT": str(p["jaeger_telemetry"]),
                "JAEGER_BADGER_DIR": str(wd / "jaeger-data"),
                "JAEGER_BADGER_TTL": self.jaeger_retention,
            },
        )
        common = {**self._fast_env(), **self.collector_env}
        for i in range(self.gateway_count):
            self.processes[f"gateway{i}"] = collector_process(
                b.collector,
                self.cdir / "config" / "gateway.yaml",
                name=f"gateway{i}",
                workdir=wd,
                otlp_grpc=p[f"gateway{i}_otlp_grpc"],
                health=p[f"gateway{i}_health"],
                telemetry=p[f"gateway{i}_telemetry"],
                env={**common, "OTEL_AGENT_GATEWAY_TRACES_ENDPOINT": f"http://{LOOPBACK}:{p['jaeger_otlp_http']}"},
            )
        if self.topology == SCALE_OUT:
            hostnames = ", ".join(self.endpoints.gateways)
            config = self.cdir / "config" / "agent.yaml"
            extra = {"OTEL_AGENT_GATEWAY_HOSTNAMES": f"[{hostnames}]"}
        else:
            config = self.cdir / "config" / "single-node.yaml"
            extra = {"OTEL_AGENT_JAEGER_OTLP_ENDPOINT": f"{LOOPBACK}:{p['jaeger_otlp_grpc']}"}
        self.processes["collector"] = collector_process(
            b.collector,
            config,
            name="collector",
            workdir=wd,
            otlp_grpc=p["otlp_grpc"],
            otlp_http=p["otlp_http"],
            health=p["collector_health"],
            telemetry=p["collector_telemetry"],
            env={**common, **extra, "OTEL_AGENT_PROM_EXPORTER_ENDPOINT": f"{LOOPBACK}:{p['collector_metrics']}"},
        )
        self.processes["alertmanager"] = ManagedProcess(
            name="alertmanager",
            log=wd / "alertmanager.log",
            cwd=wd,
            argv=[
                str(b.alertmanager),
                f"--config.file={wd / 'alertmanager.yml'}",
                f"--storage.path={wd / 'alertmanager-data'}",
                f"--web.listen-address={LOOPBACK}:{p['alertmanager']}",
                "--cluster.listen-address=",
            ],
            health_url=f"http://{LOOPBACK}:{p['alertmanager']}/-/ready",
        )
        self.processes["prometheus"] = ManagedProcess(
            name="prometheus",
            log=wd / "prometheus.log",
            cwd=wd,
            argv=[
                str(b.prometheus),
                f"--config.file={wd / 'prometheus.yml'}",
                f"--storage.tsdb.path={wd / 'prometheus-data'}",
                f"--storage.tsdb.retention.time={self.prometheus_retention}",
                f"--storage.tsdb.retention.size={self.prometheus_retention_size}",
                f"--web.listen-address={LOOPBACK}:{p['prometheus']}",
                "--enable-feature=exemplar-storage",
                *(["--web.enable-lifecycle"] if self.prometheus_lifecycle else []),
            ],
            health_url=f"http://{LOOPBACK}:{p['prometheus']}/-/ready",
        )

    def render_prometheus_config(self) -> dict[str, Any]:
        import yaml

        p = self.ports
        config = yaml.safe_load((self.cdir / "prometheus.yml").read_text())
        config["global"]["scrape_interval"] = self.scrape_interval
        config["global"]["evaluation_interval"] = self.evaluation_interval
        config["rule_files"] = [str((self.cdir / rule).resolve()) for rule in config.get("rule_files", [])]
        config["alerting"]["alertmanagers"] = [{"static_configs": [{"targets": [f"{LOOPBACK}:{p['alertmanager']}"]}]}]
        telemetry = [f"{LOOPBACK}:{p['collector_telemetry']}"]
        telemetry += [f"{LOOPBACK}:{p[f'gateway{i}_telemetry']}" for i in range(self.gateway_count)]
        targets = {
            "otel-agent-collector": [f"{LOOPBACK}:{p['collector_metrics']}"],
            "otel-agent-collector-internal": telemetry,
            "jaeger": [f"{LOOPBACK}:{p['jaeger_telemetry']}"],
        }
        for job in config["scrape_configs"]:
            if job["job_name"] in targets:
                job["static_configs"] = [{"targets": targets[job["job_name"]]}]
        return config

    def _render_configs(self) -> None:
        import yaml

        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "prometheus.yml").write_text(yaml.safe_dump(self.render_prometheus_config(), sort_keys=False))
        shutil.copyfile(self.cdir / "alertmanager.yml", self.workdir / "alertmanager.yml")
