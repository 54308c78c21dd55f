"""Streams without usage (issue 11, item 5): LangChain and llama-index stream Chat Completions without
`stream_options.include_usage`, so the provider reports no tokens. The counts are estimated from the request and the
streamed text, marked `otel_agent.usage.estimated`, priced as such, and the request is not changed.

The stream is the documented Chat Completions SSE without the usage chunk, served to the real openai SDK over
`httpx2.MockTransport`; then the same through LangChain's ChatOpenAI (real, installed) streaming.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest

from otel_agent.cost.estimate import text_tokens

from ._providers import OPENAI_KEY

ANSWER = "Lyon is the third-largest city of France, with about 522,250 inhabitants in the city proper."
QUESTION = "How many people live in Lyon? Answer in one sentence."


def sse_without_usage(text: str) -> bytes:
    base = {"id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion.chunk", "created": 1741569952,
            "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_06737a9306"}  # fmt: skip
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    for word in text.split(" "):
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]})
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return ("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n").encode()


class Server:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(request.content))
        return httpx2.Response(200, content=sse_without_usage(ANSWER), headers={"content-type": "text/event-stream"})

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(
            api_key=OPENAI_KEY, max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(self.handle))
        )


def expected_output() -> int:
    return text_tokens("".join(word + " " for word in ANSWER.split(" ")))  # the text as streamed


def check_estimated(harness: Any) -> Any:
    (turn,) = harness.turns()
    a = turn.span.attributes
    assert a["otel_agent.usage.estimated"] is True
    assert a["otel_agent.usage.missing"] is True  # the provider still sent none
    assert a["gen_ai.usage.output_tokens"] == expected_output()
    assert 3 + 3 + text_tokens(QUESTION) <= a["gen_ai.usage.input_tokens"] <= 40
    return a


def test_stream_without_usage_is_estimated_and_priced(traj: Any) -> None:
    harness = traj(cost=True)
    server = Server()
    stream = server.client().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.strip() == ANSWER  # the stream behaves as unwrapped
    harness.finish()
    assert "stream_options" not in server.bodies[0]  # the request is not changed
    a = check_estimated(harness)
    assert a["gen_ai.usage.cost.amount"] > 0  # priced from the estimate (gpt-4o-mini has a list price)
    estimated = harness.counter("otel_agent.tokens", otel_agent__usage__estimated=True)
    assert estimated == a["gen_ai.usage.input_tokens"] + a["gen_ai.usage.output_tokens"]
    assert harness.counter("otel_agent.cost", otel_agent__usage__estimated=True) == pytest.approx(
        a["gen_ai.usage.cost.amount"]
    )


def test_reported_usage_is_not_estimated(traj: Any) -> None:
    from ._providers import Reply, Script

    harness = traj()
    script = Script(Reply(text=ANSWER, input_tokens=17, output_tokens=21))
    stream = script.client("openai").chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for _chunk in stream:
        pass
    harness.finish()
    (turn,) = harness.turns()
    a = turn.span.attributes
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (17, 21)
    assert "otel_agent.usage.estimated" not in a and "otel_agent.usage.missing" not in a
    assert harness.counter("otel_agent.tokens", otel_agent__usage__estimated=True) == 0


def test_langchain_stream_is_estimated(traj: Any) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    harness = traj()
    server = Server()
    model = langchain_openai.ChatOpenAI(
        model="gpt-4o-mini",
        api_key=OPENAI_KEY,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(server.handle)),
    )
    text = "".join(str(chunk.content) for chunk in model.stream(QUESTION))
    assert text.strip() == ANSWER
    harness.finish()
    assert server.bodies[0]["stream"] is True and "stream_options" not in server.bodies[0]  # LangChain's own shape
    check_estimated(harness)


def test_estimate_counts_non_ascii_per_character() -> None:
    assert text_tokens("") == 0
    assert text_tokens("abcd" * 10) == 10
    assert text_tokens("東京都") == 3
    assert text_tokens("café") == 1 + 1  # 3 ASCII characters (one token), one accented
