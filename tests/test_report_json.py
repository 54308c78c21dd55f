"""`otel-agent report --format json` checked field by field against the spans the real SDK emitted."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from otel_agent_tools.cli.report import add_parser, run
from tests._report_spans import CLEAN, OTHER, RUNS, T0_NS, WASTEFUL, RunSpec, write_runs


def report(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="otel-agent")
    add_parser(parser.add_subparsers(dest="command"))
    code = run(parser.parse_args(["report", *argv]))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trace_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("telemetry")
    write_runs(folder)
    return folder


@pytest.fixture()
def document(trace_folder: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = report(["--from", str(trace_folder), "--format", "json", "--no-list-prices"], capsys)
    assert code == 0, err
    return json.loads(out)


def _expected_by_reason(spec: RunSpec) -> dict[str, int]:
    """Wasted turns per reason: every reason of a turn counts, not only its first."""
    counts: dict[str, int] = {}
    for turn in spec.turns:
        for reason in turn.waste_reasons:
            counts[reason] = counts.get(reason, 0) + 1
    return counts


def test_top_level_schema(document: dict[str, Any]) -> None:
    assert set(document) == {"schema_version", "runs", "models", "timeline", "notes"}
    assert document["schema_version"] == 1
    assert [r["run_id"] for r in document["runs"]] == [spec.run_id for spec in RUNS]


@pytest.mark.parametrize("spec", RUNS, ids=lambda s: s.run_id)
def test_run_rows_match_the_emitted_spans(document: dict[str, Any], spec: RunSpec) -> None:
    row = next(r for r in document["runs"] if r["run_id"] == spec.run_id)
    turns = spec.turns
    assert row["agent"] == spec.agent
    assert row["service"] == spec.service
    assert len(row["trace_id"]) == 32
    assert row["models"] == list(dict.fromkeys(t.model for t in turns))
    assert row["turns"] == len(turns)
    assert row["wasted_turns"] == sum(1 for t in turns if t.waste_reasons)
    assert row["wasted_by_reason"] == _expected_by_reason(spec)
    assert row["wasted_cost"] == pytest.approx(sum(t.cost or 0.0 for t in turns if t.waste_reasons))
    assert row["escalations"] == sum(1 for t in turns if t.escalation and t.escalation[3] == "up")
    assert row["deescalations"] == sum(1 for t in turns if t.escalation and t.escalation[3] == "down")
    for field in ("input_tokens", "output_tokens", "reasoning_tokens", "cache_read_tokens", "cache_write_tokens"):
        assert row[field] == sum(getattr(t, field) for t in turns), field
    assert row["cost"] == pytest.approx(sum(t.cost or 0.0 for t in turns))
    assert row["reasoning_cost"] == pytest.approx(sum(t.reasoning_cost for t in turns))
    assert row["unpriced_turns"] == sum(1 for t in turns if t.cost is None)
    assert row["vram_time_gib_s"] == pytest.approx(sum(t.vram_time or 0.0 for t in turns))
    assert row["wall_time_s"] == pytest.approx(spec.wall_time_s)
    assert row["outcome"] == spec.outcome
    assert row["score"] == spec.score
    assert row["currency"] == "USD"
    assert row["inferred"] is False
    assert row["start_time"].endswith("Z")


def test_hand_checked_totals_of_the_wasteful_run(document: dict[str, Any]) -> None:
    row = next(r for r in document["runs"] if r["run_id"] == "run-waste")
    # turn 3 is wasted for two reasons: it counts under both (the run span's roll-up counts its first reason only)
    assert row["wasted_by_reason"] == {"repeated_tool_call": 2, "no_progress": 1, "tool_error": 1}
    assert row["input_tokens"] == 14100
    assert row["reasoning_tokens"] == 1950
    assert row["cache_read_tokens"] == 6800
    assert row["cost"] == pytest.approx(0.0929)
    assert row["wall_time_s"] == pytest.approx(21.0)


def test_model_rows(document: dict[str, Any]) -> None:
    models = {(m["agent"], m["model"]): m for m in document["models"]}
    assert set(models) == {("coder", "small-model"), ("coder", "large-model"), ("reviewer", "local-model")}
    small_turns = [t for spec in (CLEAN, WASTEFUL) for t in spec.turns if t.model == "small-model"]
    small = models[("coder", "small-model")]
    assert small["runs"] == 2
    assert small["successful_runs"] == 1
    assert small["success_rate"] == pytest.approx(0.5)
    assert small["turns"] == len(small_turns)
    assert small["wasted_turns"] == 2
    small_cost = sum(t.cost or 0.0 for t in small_turns)
    assert small["cost"] == pytest.approx(small_cost)
    assert small["cost_per_successful_run"] == pytest.approx(small_cost / 1)
    assert small["thinking_cost_share"] == pytest.approx(sum(t.reasoning_cost for t in small_turns) / small_cost)
    tokens = sum(t.input_tokens + t.output_tokens for t in small_turns)
    assert small["effective_price_per_1m"] == pytest.approx(small_cost / tokens * 1e6)
    clean_tokens = sum(t.input_tokens + t.output_tokens for t in CLEAN.turns)
    waste_small_tokens = sum(t.input_tokens + t.output_tokens for t in WASTEFUL.turns if t.model == "small-model")
    assert small["score_per_1k_tokens"] == pytest.approx(
        (CLEAN.score + WASTEFUL.score) / ((clean_tokens + waste_small_tokens) / 1000)
    )
    assert small["provider"] == "openai"
    large = models[("coder", "large-model")]
    assert large["runs"] == 1
    assert large["successful_runs"] == 0
    assert large["cost_per_successful_run"] is None  # spent money, never succeeded
    assert large["provider"] == "anthropic"
    local = models[("reviewer", "local-model")]
    assert local["cost"] == 0.0
    assert local["effective_price_per_1m"] is None
    assert local["score_per_1k_tokens"] is None
    for row in models.values():
        assert row["list_price_per_1m"] is None
        assert row["reversals"] == []


def test_timeline_defaults_to_the_most_wasteful_run(document: dict[str, Any]) -> None:
    timeline = document["timeline"]
    assert timeline["run_id"] == WASTEFUL.run_id
    assert timeline["selected_by"] == "most_wasteful"
    assert [t["index"] for t in timeline["turns"]] == [t.index for t in WASTEFUL.turns]
    for got, spec in zip(timeline["turns"], WASTEFUL.turns):
        assert got["model"] == spec.model
        assert got["start_offset_s"] == pytest.approx(spec.start_s - WASTEFUL.start_s)
        assert got["duration_s"] == pytest.approx(spec.duration_s)
        assert got["input_tokens"] == spec.input_tokens
        assert got["output_tokens"] == spec.output_tokens
        assert got["reasoning_tokens"] == spec.reasoning_tokens
        assert got["cache_read_tokens"] == spec.cache_read_tokens
        assert got["cost"] == pytest.approx(spec.cost)
        assert got["wasted"] is bool(spec.waste_reasons)
        assert got["waste_reasons"] == list(spec.waste_reasons)
        if spec.escalation is None:
            assert got["escalation"] is None
        else:
            assert got["escalation"] == {
                **dict(zip(("from_model", "to_model", "reason", "direction"), spec.escalation)),
                "detail": None,
                "after_stagnation": False,
            }
    tools = [[(x["name"], x["is_error"]) for x in t["tools"]] for t in timeline["turns"]]
    # the index-less search call ran after turn 3 ended, so it is turn 3's
    assert tools == [[("search", False)], [("search", False)], [("search", False)], [], [("run_tests", True)]]
    assert timeline["turns"][4]["tools"][0]["duration_s"] == pytest.approx(5.0)


def test_run_option_selects_the_timeline(trace_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = report(
        ["--from", str(trace_folder), "--format", "json", "--no-list-prices", "--run", "run-clean"], capsys
    )
    assert code == 0
    timeline = json.loads(out)["timeline"]
    assert timeline["run_id"] == "run-clean"
    assert timeline["selected_by"] == "run_id"
    assert [t["tools"] for t in timeline["turns"]][0][0]["name"] == "read_file"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--agent", "coder"], ["run-clean", "run-waste"]),
        (["--service", "other-service"], ["run-other"]),
        (["--since", "2025-10-09T08:53:25Z"], ["run-waste", "run-other"]),
        (["--until", "2025-10-09T08:53:50Z"], ["run-clean", "run-waste"]),
    ],
)
def test_filters(trace_folder: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: list[str]) -> None:
    code, out, err = report(
        ["--from", str(trace_folder / "traces.otlp.jsonl"), "--format", "json", "--no-list-prices", *argv], capsys
    )
    assert code == 0, err
    assert [r["run_id"] for r in json.loads(out)["runs"]] == expected


def test_start_time_is_the_run_span_start(document: dict[str, Any]) -> None:
    from datetime import datetime

    stamp = datetime.fromisoformat(document["runs"][0]["start_time"].replace("Z", "+00:00"))
    assert int(stamp.timestamp()) * 1_000_000_000 == T0_NS + round(CLEAN.start_s * 1e9)
    assert OTHER.run_id in {r["run_id"] for r in document["runs"]}
