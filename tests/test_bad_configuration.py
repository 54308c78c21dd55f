"""Every option of docs/configuration.md fed bad values, as a variable and as an argument.

The table of bad values is generated from the page's "accepts" column (not from the code), so a new option needs
only its row: the test then feeds it values outside what the row says it accepts. Each bad value must give ONE
warning line naming the option, the value and what is used instead, and change nothing else.
"""

from __future__ import annotations

import logging
import math
import os
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

import otel_agent
from otel_agent import runtime
from otel_agent.config import OPTIONS, Options, resolve_options

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| `(?P<name>\w+)` \| `(?P<env>\w+)` \| (?P<accepts>.+?) \| (?P<meaning>.+) \|$", re.M)
ROWS = [m.groupdict() for m in ROW.finditer(DOC)]


class _Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


def _bounds(accepts: str) -> tuple[float | None, bool, float | None]:
    low = re.search(r"(>|≥) (-?[\d.]+)", accepts)
    high = re.search(r"≤ (-?[\d.]+)", accepts)
    return (
        float(low.group(2)) if low else None,
        bool(low and low.group(1) == ">"),
        float(high.group(1)) if high else None,
    )


def bad_values(accepts: str) -> tuple[list[str], list[Any]]:
    """(bad variable texts, bad argument values) for what a row says it accepts."""
    # text accepts any text: only its blank value is bad as a variable
    env: list[str] = [] if accepts == "text" else ["\u2603 snowman", "sk-ant-api03-SECRETSECRETSECRET"]
    args: list[Any] = [_Opaque(), b"bytes", {"a": {"b": 1}}]
    if accepts.startswith("boolean, or one of"):
        env += ["maybe", "SPAN", "2"]
        args += [3, "maybe", 1.5]
    elif accepts.startswith("boolean"):
        env += ["maybe", "2", "tru e", "-1"]
        args += ["maybe", 2, 1.5, [], None]
    elif accepts.startswith(("integer", "number")):
        low, exclusive, high = _bounds(accepts)
        env += ["abc", "nan", "inf", "-inf", "1,5", "0x10"]
        args += [math.nan, math.inf, True, "abc", []]
        if accepts.startswith("integer"):
            env += ["1.5", "1e3"]
            args += [1.5]
        if low is not None:
            below = low if exclusive else low - 1
            env += [_num(below), _num(below - 1000)]
            args += [below, below - 0.5]
        if high is not None:
            env += [_num(high + 1)]
            args += [high + 1]
    elif accepts.startswith("one of"):
        env += ["bogus", "console2", "on off"]
        args += ["bogus", 3, None, ["auto"]]
    elif accepts.startswith("comma list of"):
        env += ["bogus", "openai,bogus", "-1", "openai;anthropic"]
        args += [123, ["openai", 5], "bogus", ("openai", None)]
    elif accepts.startswith("`model=tier`"):
        env += ["a", "a=x", "a=nan", "=1", "a=1,b", "a=inf"]
        args += [{"a": "x"}, ["a"], {"a": math.inf}, {"": 1}, {1: 1}, {"a": True}, 3]
    elif accepts == "text":
        env += ["   "]
        args += [123, "", "  ", ["x"], "a\x00b"]
    else:  # pragma: no cover - a new kind of row must get bad values here
        raise AssertionError(f"no bad values for a row that accepts {accepts!r}")
    return env, args


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _cases() -> list[Any]:
    cases = []
    for row in ROWS:
        env_values, arg_values = bad_values(row["accepts"])
        for value in env_values:
            cases.append(pytest.param(row, "env", value, id=f"{row['env']}={value!r}"))
        for value in arg_values:
            cases.append(pytest.param(row, "arg", value, id=f"{row['name']}({value!r})"))
    return cases


def test_the_page_lists_every_option_with_what_the_code_accepts() -> None:
    assert [row["name"] for row in ROWS] == [o.name for o in OPTIONS]
    assert {o.name for o in OPTIONS} == {f.name for f in fields(Options)}
    for row, option in zip(ROWS, OPTIONS, strict=True):
        assert row["env"] == option.env
        assert row["accepts"] == option.kind.accepts, option.name


def test_the_bad_value_table_is_not_empty() -> None:
    assert len(_cases()) > 200


@pytest.mark.parametrize(("row", "where", "value"), _cases())
def test_a_bad_value_is_one_warning_and_changes_nothing_else(
    row: dict[str, str], where: str, value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # a valid setting of another option must survive the bad one
    other = "OTEL_AGENT_SERVICE_NAME" if row["name"] != "service_name" else "OTEL_AGENT_FILE_PATH"
    environ = {other: "kept"}
    expected = resolve_options({}, environ)
    caplog.set_level(logging.DEBUG, logger="otel_agent")
    caplog.clear()
    if where == "env":
        environ = {**environ, row["env"]: value}
        resolved = resolve_options({}, environ)
    else:
        resolved = resolve_options({row["name"]: value}, environ)
    assert resolved == expected
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    message = lines[0].getMessage()
    assert "\n" not in message
    assert (row["env"] if where == "env" else f"instrument({row['name']}=") in message
    assert "using" in message and "(the default)" in message
    default = getattr(Options(), row["name"])
    assert repr(default)[:40] in message
    assert "SECRETSECRET" not in message


def test_a_bad_argument_falls_back_to_the_variable(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="otel_agent")
    resolved = resolve_options({"stagnation_window": 0}, {"OTEL_AGENT_STAGNATION_WINDOW": "5"})
    assert resolved.stagnation_window == 5
    (record,) = caplog.records
    assert "instrument(stagnation_window=0)" in record.getMessage()
    assert "using 5 (from OTEL_AGENT_STAGNATION_WINDOW)" in record.getMessage()


@pytest.mark.parametrize("text", ["false", "FALSE", "0", "no", "off", " False "])
def test_false_strings_read_as_false(text: str) -> None:
    resolved = resolve_options({"cost": text, "trajectories": text, "suppress_anthropic_native_spans": text}, {})
    assert resolved.cost is False and resolved.trajectories is False
    assert resolved.suppress_anthropic_native_spans is False


def test_unknown_argument_is_one_line_not_a_raise(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="otel_agent")
    assert resolve_options({"stagnaton_window": 3}, {}) == Options()
    (record,) = caplog.records
    assert "stagnaton_window" in record.getMessage()


def test_providers_match_the_instrumentors() -> None:
    from otel_agent.config import PROVIDER_NAMES
    from otel_agent.instrumentors import INSTRUMENTORS

    assert set(PROVIDER_NAMES) == set(INSTRUMENTORS)


@pytest.mark.parametrize("bad", [123, "openai;anthropic", ["openai", None], object()])
def test_bad_providers_never_leave_instrument_half_on(bad: Any, caplog: pytest.LogCaptureFixture) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

    caplog.set_level(logging.WARNING, logger="otel_agent")
    otel_agent.uninstrument()
    try:
        otel_agent.instrument(
            tracer_provider=TracerProvider(), meter_provider=MeterProvider(), providers=bad, gpu="off", cost=False
        )
        live = runtime.current()
        assert live is not None and live.options.providers == Options().providers
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "otel" in r.name]
        assert len(warnings) == 1 and "providers" in warnings[0]
    finally:
        otel_agent.uninstrument()


def test_a_process_with_every_variable_bad_starts_with_one_line_each(tmp_path: Path) -> None:
    """A real process (stderr as the user sees it): every option's variable set to a bad value at once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    bad = {row["env"]: bad_values(row["accepts"])[0][-1] for row in ROWS}
    env.update(bad)
    env["OTEL_TRACES_EXPORTER"] = "none"
    env["OTEL_METRICS_EXPORTER"] = "none"
    code = "import otel_agent; otel_agent.instrument(); print('started', otel_agent.is_instrumented())"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "started True"
    # (the SDK's own "shutdown can only be called once" at exit is the exit-order work's, not a configuration line)
    lines = [line for line in done.stderr.splitlines() if line != "shutdown can only be called once"]
    assert len(lines) == len(bad), done.stderr
    for variable in bad:
        assert sum(variable + "=" in line for line in lines) == 1, (variable, done.stderr)
    assert "Traceback" not in done.stderr
