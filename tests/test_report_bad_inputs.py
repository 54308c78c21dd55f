"""The report and the CLI on careless or hostile input: one line and the documented exit code, never a traceback;
a damaged value loses that value only; a torn last line is skipped with a count; big answers are bounded."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from otel_agent_tools.cli.report import add_parser, run
from otel_agent_tools.demo.out_folder import MARKER, OutFolderError, prepare_out_folder
from otel_agent_tools.report import jaeger
from tests._report_spans import RUNS, write_runs
from tests.test_report_jaeger import FakeJaeger, v3_answer


def report(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="otel-agent")
    add_parser(parser.add_subparsers(dest="command"))
    code = run(parser.parse_args(["report", *argv]))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> None:
    assert err.count("\n") == 1 and err.startswith("otel-agent report: ") and "Traceback" not in err, err


@pytest.fixture(scope="module")
def good_lines(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    trace = write_runs(tmp_path_factory.mktemp("telemetry"))
    return [json.loads(line) for line in trace.read_text().splitlines()]


def _spans(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for rs in document["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]


def _write(path: Path, documents: list[Any], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in documents) + tail)
    return path


@pytest.mark.parametrize(
    "document",
    [
        {"resourceSpans": 5},
        {"resourceSpans": [1, "x", None]},
        {"resourceSpans": [{"scopeSpans": "nope"}]},
        {"resourceSpans": [{"scopeSpans": [{"spans": [7, "span"]}]}]},
        {"resourceSpans": [{"resource": [], "scopeSpans": [{"spans": [{"traceId": 5, "spanId": []}]}]}]},
    ],
)
def test_wrong_shapes_read_as_no_runs(document: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = report(["--from", str(_write(tmp_path / "t.jsonl", [document]))], capsys)
    assert (code, out) == (3, "")
    one_line(err)


def test_a_bad_int_value_loses_that_value_only(
    good_lines: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = json.loads(json.dumps(good_lines))
    for document in damaged:
        for span in _spans(document):
            for attribute in span["attributes"]:
                if attribute["key"] == "gen_ai.usage.input_tokens":
                    attribute["value"] = {"intValue": "abc"}
                if attribute["key"] == "gen_ai.usage.output_tokens":
                    attribute["value"] = {"doubleValue": {"x": 1}}
    code, out, err = report(["--from", str(_write(tmp_path / "t.jsonl", damaged)), "--format", "json"], capsys)
    assert code == 0, err
    runs = json.loads(out)["runs"]
    assert [r["run_id"] for r in runs] == [r.run_id for r in RUNS]
    assert all(r["input_tokens"] == 0 and r["output_tokens"] == 0 for r in runs)  # lost: those two values only
    assert [r["turns"] for r in runs] == [len(r.turns) for r in RUNS]
    assert runs[0]["cost"] == pytest.approx(sum(t.cost or 0 for t in RUNS[0].turns))


def test_spans_with_times_that_are_not_numbers_are_skipped_and_counted(
    good_lines: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = json.loads(json.dumps(good_lines))
    chats = [s for d in damaged for s in _spans(d) if s["name"].startswith("chat ")]
    chats[0]["startTimeUnixNano"] = "yesterday"
    chats[1]["endTimeUnixNano"] = {"n": 1}
    code, out, err = report(["--from", str(_write(tmp_path / "t.jsonl", damaged)), "--format", "json"], capsys)
    assert code == 0, err
    document = json.loads(out)
    assert sum(r["turns"] for r in document["runs"]) == sum(len(r.turns) for r in RUNS) - 2
    assert any("skipped 2 malformed spans" in note for note in document["notes"])


def test_a_torn_last_line_is_skipped_with_a_count(
    good_lines: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torn = json.dumps(good_lines[0])[: len(json.dumps(good_lines[0])) // 2]  # a write cut short: no newline
    code, out, err = report(["--from", str(_write(tmp_path / "t.jsonl", good_lines, torn))], capsys)
    assert code == 0, err
    assert "skipped 1 torn last line" in out
    assert f"RUNS ({len(RUNS)})" in out
    # a bad line that is not the last one still rejects the file: it is not a torn write
    code, out, err = report(["--from", str(_write(tmp_path / "u.jsonl", good_lines, torn + "\n{}\n"))], capsys)
    assert code == 2 and out == ""
    one_line(err)


@pytest.mark.parametrize("url", ["not a url", "ftp://x", "http://", "http://host:99999", "http://h:port"])
def test_a_jaeger_url_that_is_not_one_is_one_line(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = report(["--jaeger", url], capsys)
    assert (code, out) == (2, "")
    one_line(err)
    assert "--jaeger" in err


def test_a_jaeger_answer_over_the_bound_is_refused_not_read(
    good_lines: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    trace = _write(tmp_path / "traces.otlp.jsonl", good_lines)
    answer = v3_answer(trace)
    monkeypatch.setattr(jaeger, "MAX_ANSWER_BYTES", len(json.dumps(answer)) - 1)
    with FakeJaeger({"/api/v3/traces": (200, answer)}) as fake:
        code, out, err = report(["--jaeger", fake.url, "--service", "agents"], capsys)
    assert (code, out) == (2, "")
    one_line(err)
    assert "is over" in err and "narrow it" in err


@pytest.mark.parametrize("option", ["--png", "--html"])
def test_output_into_a_missing_folder_is_one_line_and_creates_nothing(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_runs(tmp_path)
    target = tmp_path / "no-such-dir" / "out.file"
    code, out, err = report(["--from", str(tmp_path), "--no-list-prices", option, str(target)], capsys)
    assert (code, out) == (2, "")
    one_line(err)
    assert "no such folder" in err
    assert not target.parent.exists()


# --- the top-level CLI ------------------------------------------------------------------------------------------------
def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "otel_agent_tools.cli.main", *argv], capture_output=True, text=True, timeout=120
    )


def test_version_and_the_exit_codes_in_the_top_level_help() -> None:
    from otel_agent._version import VERSION

    done = cli("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"otel-agent {VERSION}")
    helped = cli("--help").stdout
    for code in ("0", "1", "2", "3", "4"):
        assert f"\n  {code}  " in helped


def test_an_unknown_report_option_prints_the_report_usage() -> None:
    done = cli("report", "--bogus")
    assert done.returncode == 2
    assert done.stderr.startswith("usage: otel-agent report ")
    assert "unrecognized arguments: --bogus" in done.stderr
    assert "Traceback" not in done.stderr


# --- demo --out: never delete what the demo did not write ------------------------------------------------------------
def test_demo_out_refuses_a_folder_with_telemetry_it_did_not_write(tmp_path: Path) -> None:
    theirs = tmp_path / "traces.otlp.jsonl"
    theirs.write_text("someone else's\n")
    (tmp_path / "app.otlp.jsonl").write_text("also theirs\n")
    with pytest.raises(OutFolderError, match="did not write"):
        prepare_out_folder(tmp_path)
    assert theirs.read_text() == "someone else's\n"
    assert not (tmp_path / MARKER).exists()


def test_demo_out_clears_only_its_own_files(tmp_path: Path) -> None:
    out = tmp_path / "new" / "telemetry"
    assert prepare_out_folder(out) == []  # new: created, nothing deleted
    assert (out / MARKER).is_file()
    (out / "traces.otlp.jsonl").write_text("ours\n")
    (out / "metrics.otlp.jsonl").write_text("ours\n")
    (out / "notes.txt").write_text("the user's\n")
    (out / "other.otlp.jsonl").write_text("the user's too\n")
    deleted = prepare_out_folder(out)
    assert sorted(p.name for p in deleted) == ["metrics.otlp.jsonl", "traces.otlp.jsonl"]
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "notes.txt", "other.otlp.jsonl"])


def test_demo_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "telemetry"
    file.write_text("x")
    with pytest.raises(OutFolderError, match="is a file"):
        prepare_out_folder(file)
    assert file.read_text() == "x"


def test_the_demo_checks_its_out_folder_before_it_starts(tmp_path: Path) -> None:
    theirs = tmp_path / "traces.otlp.jsonl"
    theirs.write_text("someone else's\n")
    done = cli("demo", "--out", str(tmp_path), "--quiet")
    assert done.returncode == 2
    assert done.stderr.startswith("otel-agent: --out ") and done.stderr.count("\n") == 1, done.stderr
    assert theirs.read_text() == "someone else's\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["traces.otlp.jsonl"]  # nothing created, nothing deleted


def test_captured_content_is_not_kept_in_memory(good_lines: list[dict[str, Any]], tmp_path: Path) -> None:
    """Memory grows with the spans, not with the bytes of prompts: what no report reads is not kept."""
    from otel_agent_tools.report.load import read_otlp_json_file

    with_content = json.loads(json.dumps(good_lines))
    for document in with_content:
        for span in _spans(document):
            span["attributes"] += [
                {"key": "gen_ai.input.messages", "value": {"stringValue": "x" * 100}},
                {"key": "otel_agent.big", "value": {"stringValue": "y" * 100_000}},
                {"key": "http.url", "value": {"stringValue": "https://example.test/"}},
            ]
            span.setdefault("events", []).append({"name": "gen_ai.content", "attributes": span["attributes"][:3]})
    rows = read_otlp_json_file(_write(tmp_path / "t.jsonl", with_content))
    assert len(rows) == sum(len(_spans(d)) for d in good_lines)
    for row in rows:
        assert {"gen_ai.input.messages", "otel_agent.big", "http.url"}.isdisjoint(row.attributes)
        assert all(not e.attributes for e in row.events if e.name == "gen_ai.content")
    assert any("gen_ai.usage.input_tokens" in row.attributes for row in rows)  # what the report reads stays


def test_a_folder_is_read_with_its_rotated_backups(
    good_lines: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The file exporter rotates ``traces.otlp.jsonl`` to ``traces.1.otlp.jsonl``, ...: a folder's runs are in all."""
    half = len(good_lines) // 2
    _write(tmp_path / "traces.2.otlp.jsonl", good_lines[:3])
    _write(tmp_path / "traces.1.otlp.jsonl", good_lines[3:half])
    _write(tmp_path / "traces.otlp.jsonl", good_lines[half:])
    _write(tmp_path / "traces.x.otlp.jsonl", [{"resourceSpans": 5}])  # not a backup: not read
    code, out, err = report(["--from", str(tmp_path), "--no-list-prices", "--format", "json"], capsys)
    assert code == 0, err
    assert [r["run_id"] for r in json.loads(out)["runs"]] == [r.run_id for r in RUNS]


def test_demo_out_clears_its_rotated_backups_too(tmp_path: Path) -> None:
    prepare_out_folder(tmp_path)
    for name in ("traces.otlp.jsonl", "traces.1.otlp.jsonl", "metrics.3.otlp.jsonl", "traces.old.otlp.jsonl"):
        (tmp_path / name).write_text("x\n")
    deleted = sorted(p.name for p in prepare_out_folder(tmp_path))
    assert deleted == ["metrics.3.otlp.jsonl", "traces.1.otlp.jsonl", "traces.otlp.jsonl"]
    assert (tmp_path / "traces.old.otlp.jsonl").exists()
