"""One bad field loses that field only: a property test through the real SDKs.

Each example takes a valid payload (Chat Completions, Responses, Anthropic Messages; whole bodies and SSE streams),
replaces ONE value at a random path by a malformed one (a bool, a float where a list is expected, a deeply nested
JSON text where tool arguments are expected, a huge or negative number, ...), serves it over `httpx2.MockTransport`
(a stand-in for a malformed provider answer) inside an `agent_run`, and asserts:

* the span still carries its run id and turn index;
* when the SDK call succeeded, every tracked attribute whose source fields were not touched has the value it had
  for the unmodified payload (the id survives a bad `choices`, usage survives `"output": true`, ...).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import otel_agent

from . import conftest
from . import payloads as p

SETTINGS = settings(
    max_examples=240,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DEEP = "[" * 50_000 + "]" * 50_000  # JSON text nested past any recursion limit (tool arguments are JSON text)
BAD_VALUES = [None, True, False, 1.5, -7, 2**70, "", "x", [], {}, [1, "a"], {"k": 1}, DEEP]

Path = tuple[Any, ...]


def _paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*prefix, index)
            yield from _paths(inner, (*prefix, index))


def _replace(value: Any, path: Path, new: Any) -> Any:
    copy = json.loads(json.dumps(value))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


def _touches(mutated: Path, source: Path) -> bool:
    """The mutation replaced the source field, something inside it, or something that contains it."""
    n = min(len(mutated), len(source))
    return all(m == s or s == "*" for m, s in zip(mutated[:n], source[:n], strict=True))


# -- payloads and where each tracked attribute comes from --------------------------------------------------------------
def _chat_body() -> Any:
    return p.chat_completion(
        finish_reason="tool_calls",
        tool_calls=[
            {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"city": "Paris"}'}}
        ],
    )


def _anthropic_body() -> Any:
    body = p.anthropic_message()
    body["content"].append({"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"city": "Paris"}})
    body["stop_reason"] = "tool_use"
    return body


PAYLOADS: dict[str, tuple[Callable[[], Any], dict[str, list[Path]]]] = {
    "openai.chat": (
        _chat_body,
        {
            "gen_ai.response.id": [("id",)],
            "gen_ai.response.model": [("model",)],
            "gen_ai.usage.input_tokens": [("usage", "prompt_tokens")],
            "gen_ai.usage.output_tokens": [("usage", "completion_tokens")],
            "gen_ai.response.finish_reasons": [("choices",)],
        },
    ),
    "openai.chat.stream": (
        p.chat_chunks,
        {
            "gen_ai.response.id": [("*", "id")],
            "gen_ai.response.model": [("*", "model")],
            "gen_ai.usage.input_tokens": [("*", "usage")],
            "gen_ai.usage.output_tokens": [("*", "usage")],
            "gen_ai.response.finish_reasons": [("*", "choices")],
        },
    ),
    "openai.responses": (
        p.response_object,
        {
            "gen_ai.response.id": [("id",)],
            "gen_ai.response.model": [("model",)],
            "gen_ai.usage.input_tokens": [("usage", "input_tokens")],
            "gen_ai.usage.output_tokens": [("usage", "output_tokens")],
            "gen_ai.response.finish_reasons": [("status",), ("output",), ("incomplete_details",)],
        },
    ),
    "anthropic.messages": (
        _anthropic_body,
        {
            "gen_ai.response.id": [("id",)],
            "gen_ai.response.model": [("model",)],
            "gen_ai.usage.input_tokens": [
                ("usage", "input_tokens"),
                ("usage", "cache_read_input_tokens"),
                ("usage", "cache_creation_input_tokens"),
            ],
            "gen_ai.usage.output_tokens": [("usage", "output_tokens")],
            "gen_ai.response.finish_reasons": [("stop_reason",)],
        },
    ),
}


def _events(make: Callable[[], list[tuple[str, Any]]]) -> tuple[list[str], Callable[[], list[Any]]]:
    """A named-SSE stream as (its event names, a maker of its data list): only the data is mutated."""
    names = [name for name, _ in make()]
    return names, lambda: [data for _, data in make()]


RESPONSE_EVENTS, _response_events = _events(p.response_events)
ANTHROPIC_EVENTS, _anthropic_events = _events(p.anthropic_events)
PAYLOADS["openai.responses.stream"] = (
    _response_events,
    {
        "gen_ai.response.id": [("*", "response", "id"), ("*", "type")],
        "gen_ai.response.model": [("*", "response", "model"), ("*", "type")],
        "gen_ai.usage.input_tokens": [("*", "response", "usage"), ("*", "type")],
        "gen_ai.usage.output_tokens": [("*", "response", "usage"), ("*", "type")],
        "gen_ai.response.finish_reasons": [("*", "response"), ("*", "type")],
    },
)
PAYLOADS["anthropic.stream"] = (
    _anthropic_events,
    {
        "gen_ai.response.id": [("*", "message", "id"), ("*", "type")],
        "gen_ai.response.model": [("*", "message", "model"), ("*", "type")],
        "gen_ai.usage.input_tokens": [("*", "message", "usage"), ("*", "usage"), ("*", "type")],
        "gen_ai.usage.output_tokens": [("*", "message", "usage"), ("*", "usage"), ("*", "type")],
        "gen_ai.response.finish_reasons": [("*", "delta"), ("*", "type")],
    },
)


def _named(names: list[str], data: list[Any]) -> bytes:
    return p.named_sse(zip(names, data, strict=True))


def _call(api: str, payload: Any) -> Callable[[], Any]:
    if api == "openai.responses.stream":
        client = p.openai_client(p.openai_server(responses_stream=_named(RESPONSE_EVENTS, payload)), max_retries=0)
        return lambda: list(client.responses.create(model=p.OPENAI_MODEL, input="hi", stream=True))
    if api == "anthropic.stream":
        client = p.anthropic_client(p.anthropic_server(stream=_named(ANTHROPIC_EVENTS, payload)), max_retries=0)
        return lambda: list(
            client.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES, stream=True)
        )
    if api == "openai.chat":
        client = p.openai_client(p.openai_server(chat=payload), max_retries=0)
        return lambda: client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    if api == "openai.chat.stream":
        client = p.openai_client(p.openai_server(chat_stream=p.openai_sse(payload)), max_retries=0)

        def stream() -> Any:
            return list(
                client.chat.completions.create(
                    model=p.OPENAI_MODEL,
                    messages=p.USER_MESSAGES,
                    stream=True,
                    stream_options={"include_usage": True},
                )
            )

        return stream
    if api == "openai.responses":
        client = p.openai_client(p.openai_server(responses=payload), max_retries=0)
        return lambda: client.responses.create(model=p.OPENAI_MODEL, input="hi")
    client = p.anthropic_client(p.anthropic_server(message=payload), max_retries=0)
    return lambda: client.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES)


@pytest.fixture(scope="module")
def traced() -> Iterator[Any]:
    telemetry = conftest._start(trajectories=True, cost=True, capture_content="SPAN_AND_EVENT")
    yield telemetry
    conftest._stop(telemetry)


def _run(telemetry: Any, api: str, payload: Any) -> tuple[bool, dict[str, Any]]:
    telemetry.clear()
    ok = True
    with otel_agent.agent_run("fuzz"):
        try:
            _call(api, payload)()
        except Exception:
            ok = False  # the SDK's own verdict on the payload (the never-breaks tests compare it to uninstrumented)
    spans = [s for s in telemetry.inference_spans() if s.attributes.get("gen_ai.operation.name") == "chat"]
    assert len(spans) == 1, [s.name for s in telemetry.spans()]
    telemetry.assert_each_ended_once()
    return ok, dict(spans[0].attributes or {})


_BASELINES: dict[str, dict[str, Any]] = {}


def _baseline(telemetry: Any, api: str) -> dict[str, Any]:
    if api not in _BASELINES:
        ok, attributes = _run(telemetry, api, PAYLOADS[api][0]())
        assert ok
        for name in PAYLOADS[api][1]:
            assert name in attributes, (api, name)
        _BASELINES[api] = attributes
    return _BASELINES[api]


@SETTINGS
@given(data=st.data())
def test_one_bad_field_loses_that_field_only(traced: Any, data: st.DataObject) -> None:
    api = data.draw(st.sampled_from(sorted(PAYLOADS)), label="api")
    make, sources = PAYLOADS[api]
    baseline = _baseline(traced, api)
    original = make()
    path = data.draw(st.sampled_from(list(_paths(original))), label="path")
    bad = data.draw(st.sampled_from(BAD_VALUES), label="bad value")
    ok, attributes = _run(traced, api, _replace(original, path, bad))
    assert attributes.get("otel_agent.run.id"), "the span lost its run"
    assert "otel_agent.turn.index" in attributes, "the span lost its turn index"
    if not ok:
        return
    lost = {
        name: (baseline[name], attributes.get(name))
        for name, paths in sources.items()
        if not any(_touches(path, source) for source in paths) and attributes.get(name) != baseline[name]
    }
    assert not lost, f"{api}: replacing {path} by {str(bad)[:20]!r} lost {lost}"
