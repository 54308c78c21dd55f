"""docs/configuration.md lists every option, and every option really reads its variable."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from otel_agent.config import OPTIONS, Options, resolve_options
from otel_agent.telemetry.content import ContentMode

DOC = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
SAMPLES = {
    "service_name": "svc",
    "capture_content": "SPAN_ONLY",
    "content_max_chars": "99",
    "providers": "openai",
    "suppress_anthropic_native_spans": "false",
    "join_inference_spans": "false",
    "exporter": "console",
    "file_path": "/tmp/x",
    "trajectories": "false",
    "run_idle_timeout_s": "2.5",
    "run_memory_turns": "7",
    "max_inferred_runs": "3",
    "stagnation_window": "4",
    "model_tiers": "a=1,b=3",
    "cost": "false",
    "prices_file": "/tmp/p.yaml",
    "gpu": "on",
    "gpu_sample_hz": "5",
    "gpu_devices": "0,1",
    "gpu_hourly_price": "2.5",
    "exit_timeout_s": "0.5",
    "file_max_bytes": "1000",
    "file_backups": "1",
}


def test_every_option_is_documented_and_has_a_variable() -> None:
    assert {o.name for o in OPTIONS} == {f.name for f in fields(Options)}
    for option in OPTIONS:
        assert f"`{option.env}`" in DOC and f"`{option.name}`" in DOC


def test_every_variable_changes_its_option() -> None:
    default = Options()
    env = {o.env: SAMPLES[o.name] for o in OPTIONS}
    resolved = resolve_options({}, env)
    for option in OPTIONS:
        assert getattr(resolved, option.name) != getattr(default, option.name), option.name
    assert resolved.capture_content is ContentMode.SPAN_ONLY
    assert resolved.model_tiers == {"a": 1, "b": 3}


def test_arguments_win_over_variables_and_bad_values_are_ignored() -> None:
    resolved = resolve_options(
        {"service_name": "arg"}, {"OTEL_AGENT_SERVICE_NAME": "env", "OTEL_AGENT_RUN_IDLE_TIMEOUT": "soon"}
    )
    assert resolved.service_name == "arg"
    assert resolved.run_idle_timeout_s == Options().run_idle_timeout_s
