"""`otel-agent report --html`: one self-contained page, opened in a real headless browser (Debian's chromium).

The DOM the page's script builds must carry the same runs, turns, waste marks and escalations, with the same numbers,
as `report --format json` on the same file.
"""

from __future__ import annotations

import argparse
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from otel_agent_tools.cli.report import add_parser, run
from otel_agent_tools.report.html import page_data, render_html
from otel_agent_tools.report.run_types import Run, RunTotals, Turn
from otel_agent_tools.report.tables import build_report
from tests._browser import dump_dom, screenshot
from tests._report_spans import RUNS, STALLED, write_runs


def report(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="otel-agent")
    add_parser(parser.add_subparsers(dest="command"))
    code = run(parser.parse_args(["report", *argv]))
    out, err = capsys.readouterr()
    return code, out, err


class Elements(HTMLParser):
    """Every element's tag, attributes and text (enough to query the dumped DOM by attribute)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str], list[str]]] = []
        self._open: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        texts: list[str] = []
        self.found.append((tag, {k: v or "" for k, v in attrs}, texts))
        self._open.append(texts)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for texts in self._open:
            texts.append(data)

    def having(self, attribute: str, tag: str | None = None) -> list[dict[str, str]]:
        return [a for t, a, _ in self.found if attribute in a and (tag is None or t == tag)]

    def text_of(self, attribute: str, value: str) -> str:
        return "".join(next(texts for _, a, texts in self.found if a.get(attribute) == value))


def parse(dom: str) -> Elements:
    elements = Elements()
    elements.feed(dom)
    return elements


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("telemetry")
    write_runs(folder, (*RUNS, STALLED))
    html = folder / "report.html"
    parser = argparse.ArgumentParser(prog="otel-agent")
    add_parser(parser.add_subparsers(dest="command"))
    assert run(parser.parse_args(["report", "--from", str(folder), "--no-list-prices", "--html", str(html)])) == 0
    return folder, html


def json_report(folder: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code, out, err = report(["--from", str(folder), "--no-list-prices", "--format", "json", *extra], capsys)
    assert code == 0, err
    return json.loads(out)


def test_the_page_is_one_self_contained_file(page: tuple[Path, Path]) -> None:
    text = page[1].read_text()
    assert "<script src" not in text and "<link" not in text and "@import" not in text
    assert "default-src 'none'" in text  # the page's policy forbids every fetch: a missed one is a console error
    # No URL at all but the SVG namespace (no Jaeger URL was given).
    assert set(re.findall(r"https?://[^\s\"'<>)]+", text)) == {"http://www.w3.org/2000/svg"}


def test_the_browser_shows_every_run_with_the_json_numbers(
    page: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, html = page
    document = json_report(folder, capsys)
    loaded = dump_dom(html.as_uri())
    assert loaded.console == []  # no error, no CSP violation, no log line of any kind
    dom = parse(loaded.dom)
    assert dom.having("data-ready", "body")
    rows = {r["data-run-id"]: r for r in dom.having("data-run-id", "tr")}
    assert set(rows) == {r["run_id"] for r in document["runs"]}
    for want in document["runs"]:
        got = rows[want["run_id"]]
        assert int(got["data-turns"]) == want["turns"]
        assert int(got["data-wasted"]) == want["wasted_turns"]
        assert int(got["data-escalations"]) == want["escalations"]
        assert float(got["data-cost"]) == pytest.approx(want["cost"], rel=1e-5)
        assert got["data-outcome"] == want["outcome"]
    assert "missed escalation" in dom.text_of("data-run-id", "run-stalled")
    # Without a #run the page shows the run the text report picks: the most wasteful.
    (view,) = dom.having("data-run-id", "section")
    assert view["data-run-id"] == document["timeline"]["run_id"]


@pytest.mark.parametrize("run_id", ["run-waste", "run-stalled"])
def test_the_waterfall_has_each_turn_its_waste_and_the_escalation(
    page: tuple[Path, Path], capsys: pytest.CaptureFixture[str], run_id: str
) -> None:
    folder, html = page
    timeline = json_report(folder, capsys, "--run", run_id)["timeline"]
    loaded = dump_dom(html.as_uri() + "#run=" + run_id)
    assert loaded.console == []
    dom = parse(loaded.dom)
    turns = {int(t["data-index"]): t for t in dom.having("data-index", "g")}
    assert sorted(turns) == [t["index"] for t in timeline["turns"]]
    for want in timeline["turns"]:
        got = turns[want["index"]]
        assert got["data-model"] == want["model"]
        assert got["data-wasted"] == ("true" if want["wasted"] else "false")
        assert got["data-reasons"].split(",") == (want["waste_reasons"] or [""])  # every reason, in order
        assert float(got["data-cost"]) == pytest.approx(want["cost"], rel=1e-5)
        assert float(got["data-duration"]) == pytest.approx(want["duration_s"], rel=1e-5)
        assert int(got["data-input"]) == want["input_tokens"]
    escalations = dom.having("data-from", "g")
    expected = [t["escalation"] for t in timeline["turns"] if t["escalation"]]
    assert [(e["data-from"], e["data-to"], e["data-reason"]) for e in escalations] == [
        (e["from_model"], e["to_model"], e["reason"]) for e in expected
    ]
    missed = [g for g in dom.having("class", "g") if g["class"] == "missed-escalation"]
    assert len(missed) == (1 if timeline["missed_escalation"] else 0)
    assert (run_id == "run-stalled") == timeline["missed_escalation"]
    tools = [r for r in dom.having("data-name", "rect")]
    assert len(tools) == sum(len(t["tools"]) for t in timeline["turns"])


def test_the_console_check_can_fail(tmp_path: Path) -> None:
    """The browser reports a page's errors: the checks above would see one (a stand-in page with an error)."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>missing_function();</script></body></html>")
    assert any("missing_function" in line for line in dump_dom(bad.as_uri()).console)


def test_a_screenshot_is_not_blank(page: tuple[Path, Path], tmp_path: Path) -> None:
    from matplotlib import image

    shot = tmp_path / "page.png"
    assert screenshot(page[1].as_uri() + "#run=run-waste", shot) == []
    pixels = image.imread(str(shot))[:, :, :3]
    background = pixels[-1, -1]
    drawn = (abs(pixels - background).sum(axis=2) > 0.1).mean()
    colours = len({tuple(p) for p in (pixels[::7, ::7] * 255).astype(int).reshape(-1, 3).tolist()})
    assert drawn > 0.05, f"only {drawn:.1%} of the screenshot differs from the background"
    assert colours > 20


def test_trace_ids_link_to_the_jaeger_ui_given(
    page: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = tmp_path / "linked.html"
    argv = ["--from", str(page[0]), "--no-list-prices", "--html", str(html), "--jaeger-ui", "http://127.0.0.1:16686/"]
    code, _, err = report(argv, capsys)
    assert code == 0, err
    dom = parse(dump_dom(html.as_uri()).dom)
    links = {a["href"] for a in dom.having("href", "a") if "trace-link" in a.get("class", "")}
    document = json_report(page[0], capsys)
    assert links == {f"http://127.0.0.1:16686/trace/{r['trace_id']}" for r in document["runs"]}


def test_jaeger_links_when_a_jaeger_url_is_known(page: tuple[Path, Path]) -> None:
    from otel_agent_tools.report.load import SpanSource, load_spans
    from otel_agent_tools.report.model import build_runs

    runs = build_runs(load_spans(SpanSource(path=str(page[0]))))
    data = page_data(build_report(runs), runs, source="test", jaeger_url="http://127.0.0.1:16686/")
    assert data["jaeger_url"] == "http://127.0.0.1:16686"
    text = render_html(data)
    assert "</script><script>" not in text.split('id="report-data"', 1)[1].split("</script>", 1)[0]


def _many_runs(count: int) -> list[Run]:
    runs = []
    for i in range(count):
        start = 1_760_000_000_000_000_000 + i * 60_000_000_000
        turns = [
            Turn(
                index=k + 1,
                span_id=f"{i:08x}{k:08x}",
                model="small-model" if k < 3 else "large-model",
                provider="openai",
                server_address=None,
                start_ns=start + k * 2_000_000_000,
                end_ns=start + k * 2_000_000_000 + 1_500_000_000,
                input_tokens=1000 + 400 * k,
                output_tokens=200,
                cost=0.001 * (k + 1),
                wasted=k == 1,
                waste_reasons=("repeated_tool_call",) if k == 1 else (),
            )
            for k in range(5)
        ]
        from otel_agent_tools.report.totals import totals_from_turns

        runs.append(
            Run(
                run_id=f"run-{i:05d}",
                agent="coder",
                service="agents",
                trace_id=f"{i:032x}",
                span_id=f"{i:016x}",
                start_ns=start,
                end_ns=start + 10_000_000_000,
                outcome="success" if i % 3 else "failure",
                score=None,
                inferred=False,
                end_reason=None,
                currency="USD",
                turns=turns,
                tools=[],
                totals=totals_from_turns(turns) if turns else RunTotals(),
            )
        )
    return runs


def test_ten_thousand_runs_stay_small_and_paged(tmp_path: Path) -> None:
    runs = _many_runs(10_000)
    html = tmp_path / "big.html"
    html.write_text(render_html(page_data(build_report(runs), runs, source="synthetic")))
    size = html.stat().st_size
    assert size < 12 * 1024 * 1024, f"{size / 1e6:.1f} MB for 10,000 runs of 5 turns"
    loaded = dump_dom(html.as_uri())
    assert loaded.console == []
    dom = parse(loaded.dom)
    assert len(dom.having("data-run-id", "tr")) == 50  # one page of the table, not 10,000 rows
    assert "runs 1–50 of 10000" in loaded.dom
    third = dump_dom(html.as_uri() + "#page=3")
    assert "runs 101–150 of 10000" in third.dom
    assert [r["data-run-id"] for r in parse(third.dom).having("data-run-id", "tr")][0] == "run-00100"


@pytest.mark.parametrize(
    ("fragment", "key", "descending"), [("sort=-cost", "cost", True), ("sort=turns", "turns", False)]
)
def test_the_runs_table_sorts_in_the_browser(
    page: tuple[Path, Path], capsys: pytest.CaptureFixture[str], fragment: str, key: str, descending: bool
) -> None:
    document = json_report(page[0], capsys)
    loaded = dump_dom(page[1].as_uri() + "#" + fragment)
    assert loaded.console == []
    shown = [r["data-run-id"] for r in parse(loaded.dom).having("data-run-id", "tr")]
    ordered = sorted(document["runs"], key=lambda r: -r[key] if descending else r[key])  # stable: ties keep order
    assert shown == [r["run_id"] for r in ordered]
    assert shown != [r["run_id"] for r in document["runs"]]  # not the order it started in


def test_the_runs_table_filters_in_the_browser(page: tuple[Path, Path]) -> None:
    loaded = dump_dom(page[1].as_uri() + "#q=truncated")  # a waste reason: only the stalled run has it
    assert loaded.console == []
    assert [r["data-run-id"] for r in parse(loaded.dom).having("data-run-id", "tr")] == ["run-stalled"]
    assert "(filtered from 4)" in loaded.dom
