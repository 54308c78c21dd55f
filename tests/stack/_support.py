"""Skip-or-fail helpers for the stack tests (OTEL_AGENT_STACK_REQUIRE=1 turns a missing binary into a failure)."""

from __future__ import annotations

import os
import shutil

import pytest


def missing(what: str) -> None:
    message = f"{what} not available: run collector/build.sh"
    if os.environ.get("OTEL_AGENT_STACK_REQUIRE") == "1":
        pytest.fail(message)
    pytest.skip(message)


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        missing(name)
    return found  # type: ignore[return-value]
