"""`otel-agent demo` end to end: the real local model server, the real SDK, the OTLP-JSON file, then the report.

The demo's JSON report is checked field by field against the spans in the file it wrote.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from otel_agent_tools.report.load import read_otlp_json_file

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list]:
    out = tmp_path_factory.mktemp("demo") / "telemetry"
    done = subprocess.run(
        [sys.executable, "-m", "otel_agent_tools.cli.main", "demo", "--out", str(out), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "run 1:" in done.stderr and "escalating to the long tier" in done.stderr  # progress on screen
    assert (out / "report.html").is_file() and f"HTML report: {(out / 'report.html').resolve()}" in done.stderr
    assert "next:" in done.stderr and "otel-agent stack up" in done.stderr  # what to run next
    assert (out / ".otel-agent-demo").is_file()  # the marker: a second demo run may clear this folder
    return json.loads(done.stdout), read_otlp_json_file(Path(out) / "traces.otlp.jsonl")


def test_the_demo_shows_waste_stagnation_and_an_escalation(demo: tuple[dict, list]) -> None:
    report, spans = demo
    runs = report["runs"]
    assert len(runs) == 3
    assert sum(r["escalations"] for r in runs) == 1
    assert all(r["wasted_turns"] >= 1 for r in runs if r["outcome"] == "failure")
    reasons = {reason for s in spans for reason in s.attributes.get("otel_agent.turn.waste_reasons", ())}
    assert {"repeated_tool_call", "truncated", "tool_error"} <= reasons  # every reason, not only the first per turn
    assert any(s.attributes.get("otel_agent.turn.stagnating") for s in spans)
    assert any(s.attributes.get("otel_agent.run.missed_escalation") for s in spans)
    escalated = next(r for r in runs if r["escalations"])
    timeline = (
        {t["index"]: t for t in report["timeline"]["turns"]}
        if report["timeline"]["run_id"] == escalated["run_id"]
        else None
    )
    if timeline is not None:
        (turn,) = [t for t in timeline.values() if t["escalation"]]
        assert turn["escalation"]["to_model"] == "smollm2-135m/long"


def test_the_report_matches_the_spans_field_by_field(demo: tuple[dict, list]) -> None:
    report, spans = demo
    by_run: dict[str, dict] = defaultdict(
        lambda: {"turns": 0, "wasted": 0, "input": 0, "output": 0, "cached": 0, "cost": 0.0, "escalations": 0}
    )
    for span in spans:
        a = span.attributes
        if a.get("gen_ai.operation.name") != "chat" or "otel_agent.run.id" not in a:
            continue
        run = by_run[a["otel_agent.run.id"]]
        run["turns"] += 1
        run["wasted"] += int(bool(a.get("otel_agent.turn.wasted")))
        run["input"] += a.get("gen_ai.usage.input_tokens", 0)
        run["output"] += a.get("gen_ai.usage.output_tokens", 0)
        run["cached"] += a.get("gen_ai.usage.cache_read.input_tokens", 0)
        run["cost"] += a.get("gen_ai.usage.cost.amount", 0.0)
        run["escalations"] += int(a.get("otel_agent.escalation.direction") == "up")
    assert set(by_run) == {r["run_id"] for r in report["runs"]}
    for row in report["runs"]:
        want = by_run[row["run_id"]]
        assert row["turns"] == want["turns"]
        assert row["wasted_turns"] == want["wasted"]
        assert row["input_tokens"] == want["input"]
        assert row["output_tokens"] == want["output"]
        assert row["cache_read_tokens"] == want["cached"]
        assert row["escalations"] == want["escalations"]
        assert row["cost"] == pytest.approx(want["cost"], rel=1e-9)
        assert want["cost"] > 0  # the demo's user prices price every turn
