"""AWS Bedrock through the real boto3 client against a loopback fake of the Bedrock Runtime API (bedrock_fake: the
stand-in for AWS, which cannot be reached here; it speaks the real HTTP and event-stream wire formats)."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import genai_prices
import pytest
from botocore.exceptions import ClientError
from opentelemetry.trace import StatusCode

from . import bedrock_fake as b

PROVIDERS = ("openai", "anthropic", "bedrock")
MESSAGES = [{"role": "user", "content": [{"text": "Capital of France?"}]}]
ANTHROPIC_BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 512,
    "system": "Answer briefly.",
    "messages": [{"role": "user", "content": "Capital of France?"}],
}


@pytest.fixture
def fake() -> Iterator[b.Fake]:
    with b.serve() as fake:
        yield fake


def _start(instrument_with: Any, **options: Any) -> Any:
    return instrument_with(providers=PROVIDERS, **options)


def test_converse(instrument_with: Any, fake: b.Fake) -> None:
    telemetry = _start(instrument_with)
    result = b.client(fake).converse(
        modelId=b.MODEL,
        messages=MESSAGES,
        system=[{"text": "Answer briefly."}],
        inferenceConfig={"maxTokens": 512, "temperature": 0.3, "topP": 0.9},
        toolConfig={"tools": [{"toolSpec": {"name": "lookup", "inputSchema": {"json": {"type": "object"}}}}]},
    )
    assert result["output"]["message"]["content"][0]["text"] == "The capital of France is Paris."
    a = telemetry.one_span().attributes
    assert a["gen_ai.provider.name"] == "aws.bedrock"
    assert a["gen_ai.request.model"] == b.MODEL
    assert a["server.address"] == "127.0.0.1"
    assert a["gen_ai.request.max_tokens"] == 512 and a["gen_ai.request.temperature"] == 0.3
    assert a["gen_ai.response.finish_reasons"] == ("end_turn",)
    # Bedrock's inputTokens leaves the cache out; the conventions' input includes it
    assert a["gen_ai.usage.input_tokens"] == 320 + 1536 + 128
    assert a["gen_ai.usage.cache_read.input_tokens"] == 1536
    assert a["gen_ai.usage.cache_creation.input_tokens"] == 128
    assert a["gen_ai.usage.output_tokens"] == 96
    assert a["gen_ai.response.id"] == "4b2a1c3e-5f6d-4e7a-9b8c-0d1e2f3a4b5c"


def test_converse_cost_matches_genai_prices(instrument_with: Any, fake: b.Fake, monkeypatch: Any) -> None:
    # The fake listens on loopback, which otel-agent prices by GPU time as a local endpoint: the span is given AWS's
    # host so that it is priced as the call it stands in for.
    from otel_agent.providers.bedrock import adapter

    monkeypatch.setattr(adapter, "_server", lambda url: ("bedrock-runtime.us-east-1.amazonaws.com", 443))
    telemetry = _start(instrument_with, cost=True)
    b.client(fake).converse(modelId=b.MODEL, messages=MESSAGES)
    a = telemetry.one_span().attributes
    expected = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=1984, cache_read_tokens=1536, cache_write_tokens=128, output_tokens=96),
        model_ref=b.MODEL,
        provider_id="aws",
    ).total_price
    assert Decimal(str(a["gen_ai.usage.cost.amount"])).quantize(Decimal("1e-12")) == expected.quantize(Decimal("1e-12"))


def test_other_services_and_operations_pass_through(instrument_with: Any, fake: b.Fake) -> None:
    import boto3

    telemetry = _start(instrument_with)
    s3 = boto3.client(
        "s3", region_name="us-east-1", endpoint_url=fake.url, aws_access_key_id="x", aws_secret_access_key="y"
    )
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket="nothing")  # the fake answers 501 to HEAD: not an inference call either way
    assert telemetry.inference_spans() == []


def test_converse_error(instrument_with: Any, fake: b.Fake) -> None:
    telemetry = _start(instrument_with)
    fake.status = 429
    fake.error = {"__type": "ThrottlingException", "message": "Too many requests, please wait before trying again."}
    with pytest.raises(ClientError) as raised:
        b.client(fake).converse(modelId=b.MODEL, messages=MESSAGES)
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    span = telemetry.one_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"]


def test_invoke_model_anthropic_body(instrument_with: Any, fake: b.Fake) -> None:
    telemetry = _start(instrument_with)
    result = b.client(fake).invoke_model(modelId=b.MODEL, body=json.dumps(ANTHROPIC_BODY))
    # the application still reads the whole body, once
    assert json.loads(result["body"].read())["content"][0]["text"] == "The capital of France is Paris."
    a = telemetry.one_span().attributes
    assert a["gen_ai.request.max_tokens"] == 512
    assert a["gen_ai.response.model"] == "claude-3-5-sonnet-20240620"
    assert a["gen_ai.usage.input_tokens"] == 125 and a["gen_ai.usage.output_tokens"] == 11
    assert a["gen_ai.response.finish_reasons"] == ("end_turn",)


def test_invoke_model_unknown_body_is_recorded_without_reading_it(instrument_with: Any, fake: b.Fake) -> None:
    telemetry = _start(instrument_with)
    fake.invoke = {"results": [{"outputText": "Paris"}]}
    result = b.client(fake).invoke_model(modelId="amazon.titan-text-express-v1", body=json.dumps({"inputText": "hi"}))
    assert json.loads(result["body"].read()) == {"results": [{"outputText": "Paris"}]}
    a = telemetry.one_span().attributes
    assert a["gen_ai.request.model"] == "amazon.titan-text-express-v1"
    assert "gen_ai.usage.input_tokens" not in a


# -- streams -------------------------------------------------------------------------------------------------------
def _ended(telemetry: Any, how: str) -> Any:
    span = telemetry.one_span()
    telemetry.assert_each_ended_once()
    assert span.attributes["otel_agent.stream.end"] == how
    return span


def test_converse_stream_exhaustion(instrument_with: Any, fake: b.Fake) -> None:
    telemetry = _start(instrument_with)
    result = b.client(fake).converse_stream(modelId=b.MODEL, messages=MESSAGES)
    events = list(result["stream"])
    assert len(events) == len(b.converse_stream_events())
    a = _ended(telemetry, "completed").attributes
    assert a["gen_ai.request.stream"] is True
    assert a["gen_ai.usage.input_tokens"] == 1984 and a["gen_ai.usage.output_tokens"] == 96
    assert a["gen_ai.response.finish_reasons"] == ("tool_use",)


def test_converse_stream_tool_call_reaches_the_record(instrument_with: Any, fake: b.Fake) -> None:
    telemetry = _start(instrument_with, capture_content="SPAN_ONLY")
    list(b.client(fake).converse_stream(modelId=b.MODEL, messages=MESSAGES)["stream"])
    output = telemetry.one_span().attributes["gen_ai.output.messages"]
    assert "lookup" in output and "Paris" in output


def test_converse_stream_break_then_close(instrument_with: Any, fake: b.Fake) -> None:
    telemetry = _start(instrument_with)
    stream = b.client(fake).converse_stream(modelId=b.MODEL, messages=MESSAGES)["stream"]
    for index, _ in enumerate(stream):
        if index == 1:
            break
    assert telemetry.inference_spans() == []
    stream.close()
    stream.close()
    assert _ended(telemetry, "closed_early").attributes["otel_agent.response.chunk_count"] == 2


def test_converse_stream_user_exception_then_gc(instrument_with: Any, fake: b.Fake) -> None:
    telemetry = _start(instrument_with)
    with pytest.raises(LookupError):
        for _ in b.client(fake).converse_stream(modelId=b.MODEL, messages=MESSAGES)["stream"]:
            raise LookupError("user bug")
    gc.collect()
    _ended(telemetry, "garbage_collected")


def test_converse_stream_garbage_collected(instrument_with: Any, fake: b.Fake) -> None:
    telemetry = _start(instrument_with)
    result = b.client(fake).converse_stream(modelId=b.MODEL, messages=MESSAGES)
    next(iter(result["stream"]))
    del result
    gc.collect()
    _ended(telemetry, "garbage_collected")


def test_invoke_model_with_response_stream_anthropic(instrument_with: Any, fake: b.Fake) -> None:
    telemetry = _start(instrument_with)
    result = b.client(fake).invoke_model_with_response_stream(modelId=b.MODEL, body=json.dumps(ANTHROPIC_BODY))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in result["body"]]
    assert chunks[-1] == {"type": "message_stop"}
    a = _ended(telemetry, "completed").attributes
    assert a["gen_ai.usage.input_tokens"] == 25 and a["gen_ai.usage.output_tokens"] == 11
    assert a["gen_ai.response.model"] == "claude-3-5-sonnet-20240620"


def test_instrument_does_not_import_botocore_until_the_application_does() -> None:
    import subprocess
    import sys

    code = (
        "import sys, otel_agent\n"
        "otel_agent.instrument(exporter='none', trajectories=False, cost=False, gpu='off')\n"
        "assert 'botocore' not in sys.modules, 'imported at instrument()'\n"
        "import boto3\n"
        "from botocore.client import BaseClient\n"
        "assert getattr(BaseClient._make_api_call, '__wrapped__', None) is not None, 'not hooked on import'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
