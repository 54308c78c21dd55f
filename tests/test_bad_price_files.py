"""Bad prices files: each is one warning line, drops only what is bad, and never turns off the bundled prices.

A file that cannot be read (a device, a FIFO, too large) is refused before any read: ``prices_file=/dev/zero``
must not hang `instrument()`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from otel_agent.config import Options
from otel_agent.cost.model import CostModel
from otel_agent.records import TurnRecord, TurnRequest, TurnResponse, Usage

GOOD = {"good-model": {"input": 1.0, "output": 2.0}}
USAGE = Usage(input_tokens=1_000_000, output_tokens=1_000_000)

# (name, file contents as text or bytes, whether the file's good entry survives)
BAD_FILES: list[tuple[str, str | bytes, bool]] = [
    ("not-json.json", "{oops", False),
    ("a-list.json", "[1, 2]", False),
    ("a-string.json", '"prices"', False),
    ("null.json", "null", False),
    ("entry-not-a-mapping.json", json.dumps({**GOOD, "m": 5}), True),
    ("unknown-key.json", json.dumps({**GOOD, "m": {"input": 1, "output": 1, "inptu": 2}}), True),
    ("negative.json", json.dumps({**GOOD, "m": {"input": -1, "output": 1}}), True),
    ("nan.json", '{"good-model": {"input": 1.0, "output": 2.0}, "m": {"input": NaN, "output": 1}}', True),
    ("infinite.json", '{"good-model": {"input": 1.0, "output": 2.0}, "m": {"input": 1, "output": Infinity}}', True),
    ("string-price.json", json.dumps({**GOOD, "m": {"input": "1", "output": 1}}), True),
    ("bool-price.json", json.dumps({**GOOD, "m": {"input": True, "output": 1}}), True),
    ("input-only.json", json.dumps({**GOOD, "m": {"input": 1}}), True),
    ("empty-name.json", json.dumps({**GOOD, " ": {"input": 1, "output": 1}}), True),
    ("negative-gpu-hour.json", json.dumps({**GOOD, "m": {"gpu_hour": -5}}), True),
    ("empty-currency.json", json.dumps({**GOOD, "m": {"input": 1, "output": 1, "currency": ""}}), True),
    ("bad-syntax.yaml", "good-model: {input: 1, output: 2\n  - [", False),
    ("scalar.yaml", "just text\n", False),
    ("deep.json", "[" * 200_000 + "]" * 200_000, False),
    ("not-utf8.json", b'{"good-model": {"input": 1, "output": 2}, "\xff\xfe": 1}', False),
    ("too-large.json", " " * (5 * 1024 * 1024) + json.dumps(GOOD), False),
]


def _record(model: str) -> TurnRecord:
    request = TurnRequest(
        provider="openai", operation="chat", model=model, server_address="api.openai.com", server_port=443, stream=False
    )
    return TurnRecord(request=request, response=TurnResponse(usage=USAGE), start_ns=0, end_ns=1_000_000_000)


def _priced(model: CostModel, name: str) -> Any:
    cost, unpriced = model.price(_record(name))
    return cost


def _one_warning(caplog: pytest.LogCaptureFixture) -> str:
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].exc_info is None
    message = lines[0].getMessage()
    assert "\n" not in message and len(message) < 400
    return message


def _load_guarded(path: str, caplog: pytest.LogCaptureFixture) -> CostModel:
    """CostModel.from_options in a thread: a hang fails the test instead of stalling the suite."""
    caplog.set_level(logging.WARNING)
    box: dict[str, Any] = {}

    def load() -> None:
        try:
            box["model"] = CostModel.from_options(Options(prices_file=path))
        except BaseException as exc:  # pragma: no cover - reported below
            box["error"] = exc

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), f"loading {path} hung"
    assert "error" not in box, box.get("error")
    model: CostModel = box["model"]
    return model


@pytest.mark.parametrize(("name", "content", "good_survives"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_prices_file_drops_only_what_is_bad(
    tmp_path: Path, name: str, content: str | bytes, good_survives: bool, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    model = _load_guarded(str(path), caplog)
    assert name in _one_warning(caplog)
    bundled = _priced(model, "gpt-4o")
    assert bundled is not None and bundled.price_source == "genai-prices"
    good = _priced(model, "good-model")
    if good_survives:
        assert good is not None and good.price_source == "user" and good.total == pytest.approx(3.0)
    else:
        assert good is None


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory", "missing"])
def test_an_unreadable_prices_path_is_refused_without_reading(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    if kind == "dev-zero":
        path = "/dev/zero"
    elif kind == "fifo":
        path = str(tmp_path / "prices.fifo")
        os.mkfifo(path)  # no writer: opening it for reading would block forever
    elif kind == "directory":
        path = str(tmp_path)
    else:
        path = str(tmp_path / "absent.json")
    model = _load_guarded(path, caplog)
    assert path in _one_warning(caplog)
    bundled = _priced(model, "gpt-4o")
    assert bundled is not None and bundled.price_source == "genai-prices"


def test_instrument_with_dev_zero_prices_returns_and_prices(caplog: pytest.LogCaptureFixture) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

    import otel_agent
    from otel_agent import runtime

    caplog.set_level(logging.WARNING)
    otel_agent.uninstrument()
    done = threading.Event()

    def start() -> None:
        otel_agent.instrument(
            tracer_provider=TracerProvider(), meter_provider=MeterProvider(), prices_file="/dev/zero", gpu="off"
        )
        done.set()

    threading.Thread(target=start, daemon=True).start()
    try:
        assert done.wait(60), "instrument(prices_file='/dev/zero') hung"
        live = runtime.current()
        assert live is not None and live.pipeline.cost is not None  # pricing stays on
        assert "/dev/zero" in _one_warning(caplog)
    finally:
        otel_agent.uninstrument()


def test_negative_gpu_hourly_price_is_one_line_and_local_calls_keep_pricing(caplog: pytest.LogCaptureFixture) -> None:
    from otel_agent.config import resolve_options

    caplog.set_level(logging.WARNING)
    options = resolve_options({}, {"OTEL_AGENT_GPU_HOURLY_PRICE": "-5"})
    assert "OTEL_AGENT_GPU_HOURLY_PRICE='-5'" in _one_warning(caplog)
    assert options.gpu_hourly_price is None
    model = CostModel.from_options(options)
    assert _priced(model, "gpt-4o") is not None
