"""User prices: file (JSON, YAML) and variable, exact and glob matches, precedence, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from otel_agent.cost.overrides import PriceOverridesError, load_overrides
from otel_agent.cost.pricing import Pricer
from otel_agent.records import Usage

MILLION_EACH = Usage(
    input_tokens=1_000_000,
    cache_read_tokens=200_000,
    cache_write_tokens=100_000,
    output_tokens=1_000_000,
    reasoning_tokens=400_000,
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_json_file_prices_a_custom_model(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "prices.json",
        json.dumps(
            {
                "acme-ft-v2": {"input": 2.0, "output": 6.0, "cache_read": 0.5, "cache_write": 2.5, "reasoning": 3.0},
            }
        ),
    )
    pricer = Pricer(load_overrides(path, environ={}))
    result = pricer.price("openai", "acme-ft-v2", MILLION_EACH)
    cost = result.cost
    assert cost is not None and not result.unpriced
    assert cost.input == pytest.approx(1.4)  # 700,000 uncached x $2/M
    assert cost.cache_read == pytest.approx(0.1)  # 200,000 x $0.50/M
    assert cost.cache_write == pytest.approx(0.25)  # 100,000 x $2.50/M
    assert cost.output == pytest.approx(3.6)  # 600,000 visible x $6/M
    assert cost.reasoning == pytest.approx(1.2)  # 400,000 x $3/M
    assert cost.total == pytest.approx(6.55)
    assert cost.price_source == "user" and result.matched_model == "acme-ft-v2"


def test_defaults_cache_at_input_and_reasoning_at_output(tmp_path: Path) -> None:
    path = _write(tmp_path, "prices.yaml", "acme-ft-v2:\n  input: 2\n  output: 6\n")
    cost = Pricer(load_overrides(path, environ={})).price("openai", "acme-ft-v2", MILLION_EACH).cost
    assert cost is not None
    assert cost.cache_read == pytest.approx(0.4)  # 200,000 x $2/M (input)
    assert cost.cache_write == pytest.approx(0.2)  # 100,000 x $2/M (input)
    assert cost.reasoning == pytest.approx(2.4)  # 400,000 x $6/M (output)
    assert cost.total == pytest.approx(1.4 + 0.4 + 0.2 + 3.6 + 2.4)


def test_yaml_glob_and_exact_before_glob(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "prices.yml",
        """
"acme-*":
  input: 1
  output: 1
acme-special:
  input: 10
  output: 10
""",
    )
    overrides = load_overrides(path, environ={})
    usage = Usage(input_tokens=1_000_000, output_tokens=0)
    pricer = Pricer(overrides)
    glob = pricer.price("openai", "ACME-small-7b", usage)
    exact = pricer.price("openai", "acme-special", usage)
    assert glob.cost is not None and glob.cost.total == pytest.approx(1.0) and glob.matched_model == "acme-*"
    assert exact.cost is not None and exact.cost.total == pytest.approx(10.0)
    assert pricer.price("openai", "other-model", usage).unpriced


def test_variable_wins_over_file_and_provider_filter(tmp_path: Path) -> None:
    path = _write(tmp_path, "prices.json", json.dumps({"acme": {"input": 1, "output": 1}}))
    env = {
        "OTEL_AGENT_PRICES_FILE": str(path),
        "OTEL_AGENT_PRICES": json.dumps({"acme": {"input": 3, "output": 3, "provider": "anthropic"}}),
    }
    pricer = Pricer(load_overrides(environ=env))
    usage = Usage(input_tokens=1_000_000, output_tokens=0)
    via_anthropic = pricer.price("anthropic", "acme", usage).cost
    via_openai = pricer.price("openai", "acme", usage).cost
    assert via_anthropic is not None and via_anthropic.total == pytest.approx(3.0)  # the variable's entry
    assert via_openai is not None and via_openai.total == pytest.approx(1.0)  # provider filter: the file's


def test_overrides_price_models_on_local_endpoints() -> None:
    overrides = load_overrides(environ={"OTEL_AGENT_PRICES": '{"qwen*": {"input": 0.1, "output": 0.2}}'})
    result = Pricer(overrides).price(
        "openai", "qwen2.5-7b", Usage(input_tokens=1_000_000, output_tokens=1_000_000), server_address="localhost"
    )
    assert result.cost is not None and result.cost.total == pytest.approx(0.3)


def test_gpu_hour_only_entry_is_not_a_token_price() -> None:
    overrides = load_overrides(environ={"OTEL_AGENT_PRICES": '{"llama-*": {"gpu_hour": 2.5}}'})
    entry = overrides.match("openai", "llama-3-8b")
    assert entry is not None and entry.gpu_hour == 2.5 and entry.rates is None
    assert Pricer(overrides).price("openai", "llama-3-8b", Usage(input_tokens=10, output_tokens=10)).unpriced


def test_nothing_configured_is_empty() -> None:
    assert not load_overrides(environ={})


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ("{not json", ".json", "not valid JSON"),
        ("a: [1, 2", ".yaml", "not valid YAML"),
        ('["a", "b"]', ".json", "expected a mapping of model name to prices, got list"),
        ('{"m": {"input": 1}}', ".json", "model 'm': 'output' is required"),
        ('{"m": {"input": "cheap", "output": 1}}', ".json", "model 'm': 'input' must be a number, got 'cheap'"),
        ('{"m": {"input": -1, "output": 1}}', ".json", "model 'm': 'input' must be a finite non-negative number"),
        ('{"m": {"input": true, "output": 1}}', ".json", "'input' must be a number, got True"),
        ('{"m": {"inptu": 1, "output": 1}}', ".json", "model 'm': unknown key 'inptu'"),
        ('{"m": {}}', ".json", "model 'm': give 'input' and 'output'"),
        ('{"m": {"cache_read": 1, "gpu_hour": 2}}', ".json", "model 'm': 'input' and 'output' are required"),
        ('{"m": 3}', ".json", "model 'm': expected a mapping of prices, got int"),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path: Path, content: str, suffix: str, message: str) -> None:
    path = _write(tmp_path, f"prices{suffix}", content)
    with pytest.raises(PriceOverridesError) as info:
        load_overrides(path, environ={})
    text = str(info.value)
    assert message in text
    assert text.startswith(str(path))
    assert "\n" not in text


def test_bad_variable_and_missing_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PriceOverridesError, match=r"^OTEL_AGENT_PRICES: not valid JSON \(.* line 1 column 2\)$"):
        load_overrides(environ={"OTEL_AGENT_PRICES": "{oops}"})
    missing = tmp_path / "nope.json"
    with pytest.raises(PriceOverridesError, match="cannot read prices file"):
        load_overrides(environ={"OTEL_AGENT_PRICES_FILE": str(missing)})
