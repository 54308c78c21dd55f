"""Agent runs, turns and tools: waste and escalation detection."""

from ..records import RunStats
from .api import agent_run, current_run, register_detector, tool
from .grouping import session
from .run import Run
from .waste import WASTE_REASONS, RunMemory, TurnView, WasteDetector

__all__ = [
    "agent_run",
    "current_run",
    "register_detector",
    "tool",
    "session",
    "Run",
    "RunStats",
    "WASTE_REASONS",
    "RunMemory",
    "TurnView",
    "WasteDetector",
]
