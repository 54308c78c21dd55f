"""One agent across providers, through the real SDKs: Gemini (google-genai), Anthropic and OpenAI, each over its own
mock transport serving documented payloads (stand-ins for the three APIs, unreachable here). Spans go through the
real OpenTelemetry SDK into otel-agent's OTLP-JSON file, and `otel-agent report` reads that file.

The workload is the price reversal that motivates the project: Gemini 3 Flash is listed far cheaper than GPT-5.2,
but its thinking tokens and failed runs make a successful run cost more. A third kind of run starts on a small
Gemini model and escalates to Claude inside one inferred run (no `agent_run`: the Claude request carries Gemini's
answer), which the trajectory layer must see as one run with an upward escalation across providers.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_agent
from otel_agent.export import OtlpJsonFileSpanExporter
from otel_agent_tools.cli.report import add_parser, run
from tests.instrumentation import gemini_payloads as g
from tests.instrumentation import payloads as p

FLASH = "gemini-3-flash-preview"
SMALL = "gemini-2.5-flash-lite"
GPT = "gpt-5.2"
CLAUDE = "claude-sonnet-4-5"
QUESTION = "Which city had the larger population growth between 2010 and 2020, Lyon or Toulouse?"


@pytest.fixture
def traced(tmp_path: Path) -> Any:
    otel_agent.uninstrument()
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OtlpJsonFileSpanExporter(tmp_path)))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    otel_agent.instrument(tracer_provider=provider, cost=True, gpu="off", providers=("openai", "anthropic", "gemini"))
    yield tmp_path, memory
    otel_agent.uninstrument()
    provider.shutdown()


def _gemini(model: str, thoughts: int, text: str = "Toulouse grew more.") -> Any:
    reply = g.generate_response(
        [{"text": text}],
        usage=g.usage_metadata(prompt=2000, candidates=200, thoughts=thoughts, cached=None),
        model=model,
    )
    return g.client(g.Server([reply]))


def _openai() -> Any:
    body = p.chat_completion(
        "Toulouse grew more.", usage=p.chat_usage(prompt=2000, completion=300, cached=0, reasoning=0)
    )
    body["model"] = GPT
    return p.openai_client(p.openai_server(chat=body))


def _claude() -> Any:
    message = p.anthropic_message()
    message["model"] = CLAUDE
    return p.anthropic_client(p.anthropic_server(message=message))


def _flash_run(succeeded: bool) -> None:
    client = _gemini(FLASH, thoughts=6000)
    with otel_agent.agent_run("researcher") as run:
        for _ in range(3):
            client.models.generate_content(model=FLASH, contents=QUESTION)
        run.set_outcome(success=succeeded)


def _gpt_run() -> None:
    client = _openai()
    with otel_agent.agent_run("researcher") as run:
        for _ in range(2):
            client.chat.completions.create(model=GPT, messages=[{"role": "user", "content": QUESTION}])
        run.set_outcome(success=True)


def _escalating_inferred_run() -> None:
    """Small Gemini first; its answer goes into the Claude request, which is how the run is inferred to go on."""
    first = _gemini(SMALL, thoughts=0, text="Lyon, I think.").models.generate_content(model=SMALL, contents=QUESTION)
    _claude().messages.create(
        model=CLAUDE,
        max_tokens=1024,
        messages=[
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": first.text},
            {"role": "user", "content": "Check that against the census figures."},
        ],
    )


def _report(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    parser = argparse.ArgumentParser(prog="otel-agent")
    add_parser(parser.add_subparsers(dest="command"))
    assert run(parser.parse_args(["report", *argv])) == 0
    return capsys.readouterr().out


def test_escalation_across_providers_and_the_price_reversal_report(
    traced: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, memory = traced
    for succeeded in (True, False, True, False):
        _flash_run(succeeded)
    for _ in range(2):
        _gpt_run()
    _escalating_inferred_run()
    otel_agent.uninstrument()  # ends the inferred run and flushes

    spans = memory.get_finished_spans()
    inference = [s for s in spans if s.attributes.get("gen_ai.operation.name") == "chat"]
    providers = {s.attributes["gen_ai.provider.name"] for s in inference}
    assert providers == {"gcp.gemini", "openai", "anthropic"}
    claude = next(s for s in inference if s.attributes["gen_ai.request.model"] == CLAUDE)
    small = next(s for s in inference if s.attributes["gen_ai.request.model"] == SMALL)
    # one inferred run across two providers, with the escalation on the Claude turn
    assert claude.attributes["otel_agent.run.id"] == small.attributes["otel_agent.run.id"]
    assert claude.attributes["otel_agent.turn.index"] == 2
    (escalation,) = [e for e in claude.events if e.name == "otel_agent.escalation"]
    assert escalation.attributes["otel_agent.escalation.from_model"] == SMALL
    assert escalation.attributes["otel_agent.escalation.to_model"] == CLAUDE
    assert escalation.attributes["otel_agent.escalation.direction"] == "up"
    # Gemini's thinking is priced (as output, by genai-prices) on every Flash turn
    flash = [s for s in inference if s.attributes["gen_ai.request.model"] == FLASH]
    assert len(flash) == 12 and all(s.attributes["otel_agent.cost.reasoning"] > 0 for s in flash)

    out = _report(["--from", str(folder)], capsys)
    assert f"PRICE REVERSAL (researcher): {FLASH} is listed 77% cheaper than {GPT} but costs" in out
    # the excess is what the spans' own costs say: 4 Flash runs (2 succeeded) against 2 GPT runs (both succeeded)
    cost = {
        model: sum(
            s.attributes["gen_ai.usage.cost.amount"] for s in inference if s.attributes["gen_ai.request.model"] == model
        )
        for model in (FLASH, GPT)
    }
    excess = (cost[FLASH] / 2) / (cost[GPT] / 2) - 1
    assert f"costs {excess * 100:.0f}% more" in out
    models = out.split("MODELS")[1]
    assert any(FLASH in line and "YES" in line for line in models.splitlines())
