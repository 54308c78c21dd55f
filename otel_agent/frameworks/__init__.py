"""Bridges to agent frameworks' own hooks: the framework's names and run boundaries instead of inferred ones.

Each bridge is loaded only when its framework is imported by the application: at `instrument()` when it already is,
else on the first model call after it is (a look-up in `sys.modules` per call until then). A bridge only observes: it
opens and closes an otel-agent run (`invoke_agent {the framework's agent name}`) around the framework's own run, and
the inference and tool spans inside become its turns. Where a framework's hook is absent, turned off or fails, runs
are inferred as usual. See docs/frameworks.md.

- `openai_agents`: the OpenAI Agents SDK's trace processors (`agents.add_trace_processor`).
- `langchain`: LangChain / LangGraph callbacks, as a configure hook every invocation picks up.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable

from ..safety import report_internal_error
from ..trajectory.context import add_run_source
from ..trajectory.run import RunState

# framework module -> our bridge module (its `install()` registers the hook; idempotent)
BRIDGES = {"agents": "openai_agents", "langchain_core": "langchain"}

_lock = threading.Lock()
_installed: set[str] = set()
_watching = False


def install_imported() -> None:
    """Install the bridges of the frameworks imported so far; watch for the others on model calls."""
    global _watching
    _check()
    with _lock:
        if not _watching and len(_installed) < len(BRIDGES):
            _watching = True
            add_run_source(_watch)


def _check() -> None:
    for module, bridge in BRIDGES.items():
        if bridge in _installed or module not in sys.modules:
            continue
        with _lock:
            if bridge in _installed:
                continue
            _installed.add(bridge)
        try:
            install: Callable[[], None] = importlib.import_module(f"{__name__}.{bridge}").install
            install()
        except Exception:
            report_internal_error(f"frameworks.{bridge}.install")


def _watch() -> RunState | None:
    """A run source that finds no run: it installs a bridge once its framework has been imported."""
    if len(_installed) < len(BRIDGES):
        _check()
    return None
