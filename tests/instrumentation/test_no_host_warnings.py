"""Content capture never emits warnings into the host: the SDKs build models from malformed payloads without
validation, and pydantic's `model_dump` would warn about each unexpected value (run here with warnings as errors)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from . import payloads as p

MALFORMED = [
    pytest.param({"content": 42}, id="int-content"),
    pytest.param({"content": ["a", {"b": 1}]}, id="list-content"),
    pytest.param({"refusal": 3.5}, id="float-refusal"),
    pytest.param(
        {"tool_calls": [{"id": 7, "type": "function", "function": {"name": 1, "arguments": {"x": 1}}}]},
        id="bad-tool-call",
    ),
    pytest.param({"role": None, "annotations": "none"}, id="bad-role"),
]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("message_fields", MALFORMED)
@pytest.mark.parametrize("mode", ["SPAN_ONLY", "SPAN_AND_EVENT"])
def test_content_capture_of_a_malformed_response_never_warns(
    instrument_with: Any, mode: str, message_fields: dict[str, Any]
) -> None:
    telemetry = instrument_with(capture_content=mode)
    body = p.chat_completion()
    body["choices"][0]["message"].update(message_fields)
    client = p.openai_client(p.openai_server(chat=body), max_retries=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    assert result.id == body["id"]
    assert [str(w.message) for w in caught] == []
    span = telemetry.one_span()
    assert "gen_ai.output.messages" in (span.attributes or {})
