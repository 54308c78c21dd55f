"""Run building from spans: roll-ups, escalation events, inferred runs, sub-agents, the price-reversal adapter."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from otel_agent.telemetry import names as n
from otel_agent_tools.report.load import SpanSource, load_spans
from otel_agent_tools.report.model import build_runs
from otel_agent_tools.report.reversal_adapter import apply_price_reversal
from otel_agent_tools.report.spans import SpanEvent, SpanRow
from otel_agent_tools.report.tables import build_report, most_wasteful_run, report_to_json
from otel_agent_tools.report.text import render_text
from tests._report_spans import CLEAN, RUNS, WASTEFUL, G, write_runs

TRACE = "0af7651916cd43dd8448eb211c80319c"


def span(span_id: str, parent: str | None, name: str, start: int, end: int, **attributes: Any) -> SpanRow:
    return SpanRow(
        trace_id=TRACE,
        span_id=span_id.rjust(16, "0"),
        parent_id=parent.rjust(16, "0") if parent else None,
        name=name,
        start_ns=start,
        end_ns=end,
        attributes=attributes,
        service_name="svc",
    )


def chat(span_id: str, parent: str | None, start: int, end: int, **attributes: Any) -> SpanRow:
    return span(span_id, parent, "chat m", start, end, **{G.operation: n.OPERATION_CHAT, **attributes})


def test_rollup_attributes_win_over_the_turns_each_on_its_own() -> None:
    root = span(
        "1",
        None,
        "invoke_agent a",
        0,
        100,
        **{
            G.operation: n.OPERATION_INVOKE_AGENT,
            G.agent_name: "a",
            n.RUN_ID: "r",
            n.RUN_TURNS: 7,
            n.RUN_COST: 1.5,
            n.RUN_WASTED_TURNS: 2,
            n.RUN_WASTED_TURNS_BY_REASON_PREFIX + "loop": 2,
        },
    )
    turns = [
        chat("2", "1", 10, 20, **{G.usage_input: 100, G.cost_amount: 0.25, n.TURN_INDEX: 1}),
        chat(
            "3",
            "1",
            30,
            40,
            **{
                G.usage_input: 50,
                G.cost_amount: 0.5,
                n.TURN_INDEX: 2,
                n.TURN_WASTED: True,
                n.TURN_WASTE_REASON: "other",
            },
        ),
    ]
    (run,) = build_runs([root, *turns])
    assert run.totals.turns == 7  # the roll-up
    assert run.totals.cost == 1.5
    assert run.totals.wasted_turns == 2
    assert run.totals.wasted_by_reason == {"loop": 2}
    assert run.totals.input_tokens == 150  # no roll-up: recomputed
    assert len(run.turns) == 2


def test_escalation_read_from_the_event_when_attributes_are_absent() -> None:
    root = span("1", None, "invoke_agent a", 0, 100, **{G.operation: n.OPERATION_INVOKE_AGENT})
    turn = replace(
        chat("2", "1", 10, 20),
        events=(
            SpanEvent(
                n.ESCALATION_EVENT,
                10,
                {
                    n.ESCALATION_FROM_MODEL: "s",
                    n.ESCALATION_TO_MODEL: "l",
                    n.ESCALATION_REASON: "explicit",
                    n.ESCALATION_DIRECTION: "down",
                },
            ),
        ),
    )
    (run,) = build_runs([root, turn])
    escalation = run.turns[0].escalation
    assert escalation is not None and (escalation.from_model, escalation.to_model) == ("s", "l")
    assert (run.totals.escalations, run.totals.deescalations) == (0, 1)
    assert run.agent == "a"  # from the span name when gen_ai.agent.name is missing
    assert run.run_id == "1".rjust(16, "0")  # the span id when otel_agent.run.id is missing


def test_turns_without_a_run_span_make_an_inferred_run_and_sub_agents_are_their_own_runs() -> None:
    orphan = [
        chat("a", None, 5, 6, **{n.RUN_ID: "lost", G.agent_name: "bot"}),
        chat("b", None, 1, 2, **{n.RUN_ID: "lost", G.agent_name: "bot"}),
    ]
    parent = span("1", None, "invoke_agent p", 0, 100, **{G.operation: n.OPERATION_INVOKE_AGENT, n.RUN_ID: "p"})
    child = span("2", "1", "invoke_agent c", 10, 50, **{G.operation: n.OPERATION_INVOKE_AGENT, n.RUN_ID: "c"})
    runs = build_runs([*orphan, parent, child, chat("3", "2", 20, 30), chat("4", "1", 60, 70)])
    by_id = {r.run_id: r for r in runs}
    assert by_id["lost"].inferred and by_id["lost"].agent == "bot"
    assert [t.index for t in by_id["lost"].turns] == [1, 2]  # by start time when no turn index
    assert (by_id["lost"].start_ns, by_id["lost"].end_ns) == (1, 6)
    assert [t.span_id[-1] for t in by_id["c"].turns] == ["3"]
    assert [t.span_id[-1] for t in by_id["p"].turns] == ["4"]
    assert by_id["p"].outcome == "unknown"


def test_latest_convention_names_are_read() -> None:
    latest = n.GenAINames.resolve(latest=True)
    root = span("1", None, "invoke_agent a", 0, 100, **{latest.operation: n.OPERATION_INVOKE_AGENT})
    (run,) = build_runs([root, chat("2", "1", 1, 2, **{latest.usage_cache_write: 42})])
    assert run.totals.cache_write_tokens == 42


@dataclass(frozen=True)
class FakeListPrice:
    blended: float


def test_price_reversal_columns(tmp_path: Path) -> None:
    pytest.importorskip("otel_agent.cost.reversal")
    write_runs(tmp_path, RUNS)
    report = build_report(build_runs(load_spans(SpanSource(path=str(tmp_path)))))
    prices = {"small-model": FakeListPrice(10.0), "large-model": FakeListPrice(1.0)}
    assert apply_price_reversal(report.models, lambda provider, model, address: prices.get(model)) is None
    report.list_price_columns = True
    rows = {r.model: r for r in report.models}
    assert rows["small-model"].list_price_per_1m == 10.0
    assert rows["local-model"].list_price_per_1m is None
    (reversal,) = rows["large-model"].reversals  # listed 90% cheaper, never succeeded: unbounded cost per success
    assert reversal.pricier_listed == "small-model"
    assert reversal.listed_discount == pytest.approx(0.9)
    assert reversal.extra_cost is None
    assert rows["small-model"].reversals == []
    models = {m["model"]: m for m in report_to_json(report)["models"]}
    assert models["large-model"]["reversals"] == [
        {"pricier_listed": "small-model", "listed_discount": pytest.approx(0.9), "extra_cost": None}
    ]
    text = render_text(report)
    assert "list $/1M" in text and "YES (1)" in text
    assert "PRICE REVERSAL (coder): large-model is listed 90% cheaper than small-model but never succeeded" in text


def test_price_reversal_unavailable_gives_a_note(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "otel_agent.cost.reversal", None)  # import fails
    write_runs(tmp_path, (CLEAN,))
    report = build_report(build_runs(load_spans(SpanSource(path=str(tmp_path)))))
    note = apply_price_reversal(report.models, lambda provider, model, address: None)
    assert note is not None and note.startswith("list price and price-reversal columns omitted")
    report.notes.append(note)
    text = render_text(report)
    assert "list $/1M" not in text
    assert "\nnote: list price and price-reversal columns omitted" in text


def test_most_wasteful_prefers_wasted_turns_then_wasted_cost(tmp_path: Path) -> None:
    write_runs(tmp_path, (CLEAN, WASTEFUL))
    runs = build_runs(load_spans(SpanSource(path=str(tmp_path))))
    assert most_wasteful_run(runs).run_id == WASTEFUL.run_id
    assert most_wasteful_run(runs[:1]).run_id == CLEAN.run_id
