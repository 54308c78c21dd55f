"""`otel-agent report`: the text tables, the PNG chart, the price-reversal columns and the user-error exits."""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path

import pytest

from otel_agent_tools.cli.report import add_parser, run
from otel_agent_tools.report.load import SpanSource, load_spans
from otel_agent_tools.report.model import build_runs
from otel_agent_tools.report.tables import build_report
from otel_agent_tools.report.text import MAX_WIDTH, render_text
from tests._report_spans import CLEAN, RUNS, STALLED, WASTEFUL, write_runs


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


def test_text_has_the_three_tables_and_the_markers(trace_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = report(["--from", str(trace_folder), "--no-list-prices"], capsys)
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    assert "RUNS (3)" in lines
    assert "MODELS (3)" in lines
    runs_header = lines[lines.index("RUNS (3)") + 1]
    for header in (
        "run",
        "agent",
        "turns",
        "wasted (by reason)",
        "esc",
        "input",
        "output",
        "think",
        "cached",
        "USD",
        "GiB*s",
        "wall",
        "outcome",
    ):
        assert header in runs_header
    models_header = lines[lines.index("MODELS (3)") + 1]
    for header in ("model", "runs", "ok", "$/ok run", "score/1k tok", "think $", "eff $/1M"):
        assert header in models_header
    assert any(line.startswith("TIMELINE of run run-waste") for line in lines)
    assert "WASTED repeated_tool_call" in out
    assert "WASTED tool_error" in out
    escalation = next(line for line in lines if "ESCALATION" in line)
    assert "small-model -> large-model (stagnation)" in escalation
    # the escalation marker comes right before the turn that ran on the new model
    assert lines[lines.index(escalation) + 1].split()[:2] == ["4", "large-model"]
    assert "run_tests!" in out
    assert "never ok" in out
    assert "note: list price and price-reversal columns" not in out
    assert all(len(line) <= MAX_WIDTH for line in lines), max(lines, key=len)


def test_text_stays_within_120_columns_with_long_names(tmp_path: Path) -> None:
    from dataclasses import replace

    long_turns = tuple(
        replace(t, model="a-very-long-provider-model-name-2025-10-01-preview" + str(t.index)) for t in WASTEFUL.turns
    )
    spec = replace(
        WASTEFUL, run_id="0d5c1f1e-6f7b-4b0e-9d0c-2a8f6c1b9e77-with-extra", agent="agent-" * 8, turns=long_turns
    )
    write_runs(tmp_path, (spec,))
    runs = build_runs(load_spans(SpanSource(path=str(tmp_path))))
    text = render_text(build_report(runs))
    assert all(len(line) <= MAX_WIDTH for line in text.splitlines())


def test_png_is_written(trace_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    for metric in ("duration", "cost"):
        target = tmp_path / f"timeline-{metric}.png"
        code, out, err = report(
            ["--from", str(trace_folder), "--no-list-prices", "--png", str(target), "--png-metric", metric], capsys
        )
        assert code == 0, err
        data = target.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 5000
        assert f"timeline chart written to {target}" in out


def test_png_with_json_keeps_stdout_json(
    trace_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    code, out, _ = report(
        ["--from", str(trace_folder), "--no-list-prices", "--format", "json", "--png", str(tmp_path / "t.png")], capsys
    )
    assert code == 0
    assert json.loads(out)["timeline"]["run_id"] == "run-waste"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--from", "/nonexistent/traces.otlp.jsonl"], "no such trace file"),
        ([], "exactly one of --from FILE and --jaeger URL"),
        (["--from", "x", "--jaeger", "http://127.0.0.1:1"], "exactly one of"),
        (["--jaeger", "http://127.0.0.1:{port}"], "cannot reach Jaeger"),
        (["--from", "{folder}", "--since", "yesterday-ish"], "cannot read the time"),
        (["--from", "{folder}", "--run", "no-such-run"], "no run 'no-such-run'"),
        (["--from", "{bad}"], "not an OTLP/JSON line"),
    ],
)
def test_user_errors_exit_2_with_one_line(
    argv: list[str], needle: str, trace_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    argv = [a.format(port=_free_port(), folder=trace_folder, bad=bad) for a in argv]
    code, out, err = report(argv, capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("otel-agent report: ")
    assert needle in err
    assert "Traceback" not in err


def test_no_runs_exits_3(trace_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = report(["--from", str(trace_folder), "--agent", "nobody"], capsys)
    assert (code, out) == (3, "")
    assert err == f"otel-agent report: no agent runs matching agent=nobody in {trace_folder} (16 spans read)\n"
    empty = tmp_path / "traces.otlp.jsonl"
    empty.write_text("")
    code, _, err = report(["--from", str(empty)], capsys)
    assert code == 3
    assert "no agent runs" in err


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="otel-agent")
    add_parser(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit):
        parser.parse_args(["report", "--help"])
    out = capsys.readouterr().out
    assert "exit codes:" in out and "  2  user error" in out and "  3  the spans were read" in out


# --- what a newcomer reading the report after the demo asked for ------------------------------------------------------
def test_the_missed_escalation_is_in_the_text_and_the_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, (CLEAN, STALLED))
    code, out, err = report(["--from", str(tmp_path), "--no-list-prices", "--run", "run-stalled"], capsys)
    assert code == 0, err
    assert "MISSED ESCALATION: run run-stalled was still stagnating when it ended" in out
    assert "MISSED ESCALATION: the run was still stagnating when it ended and never escalated" in out  # timeline
    assert "(stagnating)" in out
    code, out, err = report(["--from", str(tmp_path), "--no-list-prices", "--format", "json"], capsys)
    document = json.loads(out)
    flags = {r["run_id"]: (r["stagnated"], r["missed_escalation"]) for r in document["runs"]}
    assert flags == {"run-clean": (False, False), "run-stalled": (True, True)}
    assert document["timeline"]["run_id"] == "run-stalled" and document["timeline"]["missed_escalation"] is True
    assert [t["stagnating"] for t in document["timeline"]["turns"]] == [t.stagnating for t in STALLED.turns]


def test_an_explicit_escalation_after_stagnation_shows_both_facts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    from otel_agent.telemetry import names as n

    turns = list(WASTEFUL.turns)
    turns[2] = replace(turns[2], stagnating=True)  # turn 3 left the run stagnating: should_escalate() said yes
    turns[3] = replace(
        turns[3],
        escalation=("small-model", "large-model", "explicit", "up"),
        extra_attributes={n.ESCALATION_DETAIL: "stagnating on short answers"},
    )
    write_runs(tmp_path, (replace(WASTEFUL, turns=tuple(turns)),))
    code, out, err = report(["--from", str(tmp_path), "--no-list-prices"], capsys)
    assert code == 0, err
    assert (
        'ESCALATION small-model -> large-model (explicit: "stagnating on short answers"; '
        "the run was stagnating: should_escalate() said yes)"
    ) in " ".join(line.strip() for line in out.splitlines())
    code, out, _ = report(["--from", str(tmp_path), "--no-list-prices", "--format", "json"], capsys)
    (escalation,) = [t["escalation"] for t in json.loads(out)["timeline"]["turns"] if t["escalation"]]
    assert escalation["reason"] == "explicit"
    assert escalation["detail"] == "stagnating on short answers"
    assert escalation["after_stagnation"] is True


def _priced_runs(folder: Path) -> Path:
    from dataclasses import replace

    rates = {"small-model": (0.5, 2.0), "large-model": (3.0, 15.0)}
    runs = tuple(replace(r, turns=tuple(replace(t, list_rates=rates[t.model]) for t in r.turns)) for r in RUNS[:2])
    return write_runs(folder, runs)


def _list_prices(document: dict) -> dict[str, float | None]:
    return {m["model"]: m["list_price_per_1m"] for m in document["models"]}


def test_list_prices_from_every_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prices were set where the telemetry was made (as the demo does): --from and --jaeger read them back."""
    from tests.test_report_jaeger import FakeJaeger, v3_answer

    monkeypatch.delenv("OTEL_AGENT_PRICES", raising=False)
    monkeypatch.delenv("OTEL_AGENT_PRICES_FILE", raising=False)
    trace = _priced_runs(tmp_path)
    blended = {"small-model": (3 * 0.5 + 2.0) / 4, "large-model": (3 * 3.0 + 15.0) / 4}
    code, out, err = report(["--from", str(tmp_path), "--format", "json"], capsys)
    assert code == 0, err
    assert _list_prices(json.loads(out)) == pytest.approx(blended)
    with FakeJaeger({"/api/v3/traces": (200, v3_answer(trace))}) as jaeger:
        code, out, err = report(["--jaeger", jaeger.url, "--service", "agents", "--format", "json"], capsys)
        assert code == 0, err
        assert _list_prices(json.loads(out)) == pytest.approx(blended)
        code, out, err = report(["--jaeger", jaeger.url, "--service", "agents"], capsys)
    models = out[out.index("MODELS") :]
    assert f"{blended['small-model']:.4f}" in models and f"{blended['large-model']:.4f}" in models


def test_every_table_has_a_legend(trace_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = report(["--from", str(trace_folder)], capsys)
    assert code == 0
    sections = out.split("\n\n")
    for title in ("RUNS", "MODELS", "TIMELINE"):
        section = next(s for s in sections if s.startswith(title))
        assert "\nlegend: " in section, title
    flat = " ".join(out.split())
    for words in (
        "GiB*s = GPU memory",
        "eff $/1M = what a million tokens really cost",
        "think $ = share of the cost",
        "score/1k tok = run score per 1,000 tokens",
        "reversed = listed cheaper",
    ):
        assert words in flat


@pytest.mark.parametrize("width", [80, 100, 160])
def test_the_text_fits_the_terminal_width_and_cuts_nothing(
    width: int, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    long_turns = tuple(
        replace(t, model="a-long-provider-model-name-2025-10-01-preview-" + str(t.index)) for t in WASTEFUL.turns
    )
    spec = replace(WASTEFUL, run_id="0d5c1f1e-6f7b-4b0e-9d0c-2a8f6c1b9e77", agent="triage-agent", turns=long_turns)
    write_runs(tmp_path, (spec, STALLED))
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, err = report(["--from", str(tmp_path), "--no-list-prices"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert "~" not in out
    words = set(out.split())
    assert spec.run_id in words and STALLED.run_id in words  # whole, never cut
    assert all(t.model in out for t in long_turns)


@pytest.mark.parametrize("turn_count", [5, 40])
def test_the_png_waterfall_fits_every_label_in_the_image(
    turn_count: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    from dataclasses import replace

    from matplotlib import image
    from matplotlib.text import Text

    from otel_agent_tools.report.chart import draw_timeline

    turns = [
        replace(
            WASTEFUL.turns[k % len(WASTEFUL.turns)],
            index=k + 1,
            start_s=10.2 + 0.5 * k,
            duration_s=0.4,
            model=f"provider/a-long-model-name-{k % 3}",
        )
        for k in range(turn_count)
    ]
    spec = replace(WASTEFUL, turns=tuple(turns), end_s=10.2 + 0.5 * turn_count + 1)
    write_runs(tmp_path, (spec,))
    timeline = build_report(build_runs(load_spans(SpanSource(path=str(tmp_path))))).timeline
    assert timeline is not None
    figure = draw_timeline(timeline)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    frame = figure.bbox

    def drawn(text: Text) -> bool:  # matplotlib keeps labels for ticks outside the view, and does not draw them
        for axes in figure.axes:
            low, high = sorted(axes.get_xlim())
            if text in axes.get_xticklabels() and not low <= text.get_position()[0] <= high:
                return False
        return text.get_visible() and bool(text.get_text().strip())

    texts = [t for t in figure.findobj(Text) if drawn(t)]
    assert any("WASTED" in t.get_text() for t in texts) and any("ESCALATION" in t.get_text() for t in texts)
    for text in texts:
        box = text.get_window_extent(renderer)
        assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1, text.get_text()
        assert frame.y0 - 1 <= box.y0 and box.y1 <= frame.y1 + 1, text.get_text()
    for axes in figure.axes:  # the bar labels end inside the plot, not on its frame
        plot = axes.get_window_extent(renderer)
        for text in axes.texts:
            assert text.get_window_extent(renderer).x1 <= plot.x1, text.get_text()
    from matplotlib import pyplot as plt

    plt.close(figure)
    target = tmp_path / "waterfall.png"
    code, _, err = report(["--from", str(tmp_path), "--no-list-prices", "--png", str(target)], capsys)
    assert code == 0, err
    pixels = image.imread(str(target))
    height, width = pixels.shape[:2]
    assert width == 1300 and 300 <= height <= 300 + 60 * turn_count  # grows with the turns and their tool rows
    assert 10_000 < target.stat().st_size < 1_500_000
