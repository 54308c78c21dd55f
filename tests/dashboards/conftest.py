"""The live dashboard test (`stack` marker) runs like the stack end-to-end tests: when selected with `pytest -m stack`
or OTEL_AGENT_STACK_TESTS=1, after `collector/build.sh`; OTEL_AGENT_STACK_REQUIRE=1 (CI) turns a missing binary into a
failure instead of a skip. The static dashboard tests run in every test run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected = "stack" in (config.getoption("markexpr", "") or "") or os.environ.get("OTEL_AGENT_STACK_TESTS") == "1"
    if selected:
        return
    skip = pytest.mark.skip(reason="live dashboard test: run with `pytest -m stack` (or OTEL_AGENT_STACK_TESTS=1)")
    here = Path(__file__).parent
    for item in items:
        if item.get_closest_marker("stack") and here in Path(str(item.fspath)).parents:
            item.add_marker(skip)
