"""MCP: a real `mcp` ClientSession against a real in-process MCP server -> `execute_tool` spans, with the mcp SDK's
own spans nested under ours. Runs `_mcp_scenario.py` in its own process: the mcp SDK binds its tracer to the global
tracer provider once per process, which a test must not set for the rest of the session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_OPEN"))}
    done = subprocess.run(
        [sys.executable, "-m", "tests.trajectory._mcp_scenario"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)


def by_name(spans: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [s for s in spans if s["name"] == name]


def ancestors(spans: list[dict[str, Any]], span: dict[str, Any]) -> list[dict[str, Any]]:
    index = {s["span_id"]: s for s in spans}
    chain = []
    while span["parent_id"] is not None:
        span = index[span["parent_id"]]
        chain.append(span)
    return chain


def test_call_tool_is_an_execute_tool_span_of_the_run(scenario: dict[str, Any]) -> None:
    spans = scenario["spans"]
    (run,) = by_name(spans, "invoke_agent mcp-agent")
    (good,) = by_name(spans, "execute_tool population")
    assert good["scope"] == "otel_agent"
    assert good["parent_id"] == run["span_id"]
    a = good["attributes"]
    assert a["gen_ai.operation.name"] == "execute_tool"
    assert a["gen_ai.tool.name"] == "population"
    assert a["otel_agent.tool.source"] == "mcp"
    assert a["otel_agent.tool.is_error"] is False
    assert a["gen_ai.agent.name"] == "mcp-agent"
    assert good["status"] == "UNSET"


def test_is_error_result_marks_the_span_failed(scenario: dict[str, Any]) -> None:
    assert scenario["out"]["results"] == [False, True]  # the server answered isError for the raising tool
    spans = scenario["spans"]
    (run,) = by_name(spans, "invoke_agent mcp-agent")
    failed = [s for s in by_name(spans, "execute_tool area") if s["parent_id"] == run["span_id"]]
    assert len(failed) == 1
    assert failed[0]["attributes"]["otel_agent.tool.is_error"] is True
    assert failed[0]["attributes"]["error.type"] == "tool_error"
    assert failed[0]["status"] == "ERROR"


def test_mcp_sdk_spans_nest_under_ours(scenario: dict[str, Any]) -> None:
    spans = scenario["spans"]
    ours = {s["span_id"]: s for s in spans if s["name"].startswith("execute_tool")}
    sends = [s for s in spans if s["scope"] == "mcp-python-sdk" and s["name"].startswith("MCP send tools/call")]
    assert len(sends) == 3
    for send in sends:
        parent = ours.get(send["parent_id"])
        assert parent is not None, send
        assert send["name"] == f"MCP send tools/call {parent['attributes']['gen_ai.tool.name']}"
        assert send["trace_id"] == parent["trace_id"]
        assert parent["start"] <= send["start"] and send["end"] <= parent["end"]
    # the server side of each call continues the same trace (W3C context in _meta), under the client's send span
    for server in (s for s in spans if s["scope"] == "mcp-python-sdk" and s["name"].startswith("tools/call")):
        chain = ancestors(spans, server)
        assert chain[0]["name"].startswith("MCP send tools/call")
        assert any(s["name"].startswith("invoke_agent") for s in chain), [s["name"] for s in chain]
    # one execute_tool span per call: no second span from the mcp SDK's own names
    assert sum(1 for s in spans if s["name"].startswith("execute_tool")) == 3


def test_mcp_tool_in_an_inferred_run(scenario: dict[str, Any]) -> None:
    spans = scenario["spans"]
    (run,) = by_name(spans, "invoke_agent agent")
    assert run["attributes"]["otel_agent.run.inferred"] is True
    children = [s for s in spans if s["parent_id"] == run["span_id"]]
    assert [s["name"] for s in sorted(children, key=lambda s: s["start"])] == [
        "chat small",
        "execute_tool area",
        "chat small",
    ]
    tool = by_name(children, "execute_tool area")[0]
    # the MCP span, not an inferred one: the call was seen, so it is not reported twice
    assert tool["attributes"]["otel_agent.tool.source"] == "mcp"
    assert tool["attributes"]["otel_agent.turn.index"] == 1
    assert tool["attributes"]["otel_agent.tool.is_error"] is True
    turns = sorted((s for s in children if s["name"] == "chat small"), key=lambda s: s["start"])
    assert [s["attributes"].get("otel_agent.turn.waste_reasons") for s in turns] == [None, ["tool_error"]]


def test_hook_is_removed_by_uninstrument(traj: Any) -> None:
    from mcp.client.session import ClientSession

    import otel_agent
    from otel_agent.trajectory import mcp_hook

    traj()
    assert mcp_hook._is_hooked(ClientSession)
    otel_agent.uninstrument()
    assert not mcp_hook._is_hooked(ClientSession)
