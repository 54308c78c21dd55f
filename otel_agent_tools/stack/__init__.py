"""The local backend stack: collector, Jaeger, Prometheus, Alertmanager (see collector/README.md)."""

from .runner import (
    SCALE_OUT,
    SINGLE_NODE,
    Binaries,
    ManagedProcess,
    Stack,
    StackEndpoints,
    StackError,
    build_dir,
    collector_dir,
    collector_process,
    dashboards_dir,
    find_binaries,
    free_ports,
)

__all__ = [
    "SCALE_OUT",
    "SINGLE_NODE",
    "Binaries",
    "ManagedProcess",
    "Stack",
    "StackEndpoints",
    "StackError",
    "build_dir",
    "collector_dir",
    "collector_process",
    "dashboards_dir",
    "find_binaries",
    "free_ports",
]
