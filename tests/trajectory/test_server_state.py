"""Server-side state continues the run of the response it names (issue 11, item 2).

The real SDKs over `httpx2.MockTransport`, the responses shaped like the providers' documented payloads:
- Anthropic `beta.messages.tool_runner` (the SDK's own loop, unmodified): each turn sends
  `thread: {"type": "continue", "previous_message_id": ...}` and only the tool result;
- OpenAI Responses `previous_response_id` with only the `function_call_output` items;
- OpenAI Responses `conversation`: the server holds the conversation, each request sends only the new input, and
  `gen_ai.conversation.id` is the provider's id on every span.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from typing import Any

import anthropic
import httpx2
import openai
from anthropic import beta_tool

from tests.instrumentation.payloads import response_object

from ._providers import ANTHROPIC_KEY, OPENAI_KEY, Reply, anthropic_body, call, text

_ids = itertools.count(1)
_lock = threading.Lock()


def _next() -> int:
    with _lock:
        return next(_ids)


# -- Anthropic tool_runner --------------------------------------------------------------------------------------------
def tool_runner_client(seen: list[dict[str, Any]]) -> anthropic.Anthropic:
    """Answers by the thread's turn: search, then lookup, then the answer (tokens differ per turn)."""
    turns: dict[str, int] = {}

    def handle(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        with _lock:
            seen.append(body)
            previous = (body.get("thread") or {}).get("previous_message_id")
            turn = turns.pop(previous, 0) + 1 if previous else 1
        replies = [
            Reply(text="I'll search.", calls=(("search", {"q": "lyon"}),), input_tokens=300, output_tokens=31),
            call("lookup", {"id": 7}, input_tokens=120, output_tokens=22),
            text("Lyon has 522,250 inhabitants.", input_tokens=160, output_tokens=13),
        ]
        payload = anthropic_body(replies[min(turn, 3) - 1], body["model"])
        with _lock:
            turns[payload["id"]] = turn
        return httpx2.Response(200, json=payload)

    return anthropic.Anthropic(
        api_key=ANTHROPIC_KEY, max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(handle))
    )


@beta_tool
def search(q: str) -> str:
    """Search the web."""
    return f"{q}: 522,250"


@beta_tool
def lookup(id: int) -> str:
    """Look a record up."""
    return f"record {id}"


def run_tool_runner(client: anthropic.Anthropic) -> list[Any]:
    runner = client.beta.messages.tool_runner(
        model="claude-sonnet-4-5",
        max_tokens=256,
        tools=[search, lookup],
        messages=[{"role": "user", "content": "How many people live in Lyon?"}],
    )
    return list(runner)


def check_one_run(harness: Any, response_ids: list[str], tokens: list[tuple[int, int]]) -> Any:
    turns = {t.span.attributes["gen_ai.response.id"]: t for t in harness.turns()}
    mine = [turns[i] for i in response_ids]
    assert len({t.run_id for t in mine}) == 1
    assert [t.index for t in mine] == [1, 2, 3]
    assert [
        (t.span.attributes["gen_ai.usage.input_tokens"], t.span.attributes["gen_ai.usage.output_tokens"]) for t in mine
    ] == tokens
    (run,) = [r for r in harness.runs() if r.attributes["otel_agent.run.id"] == mine[0].run_id]
    assert run.attributes["otel_agent.run.turns"] == 3
    tools = [s for s in harness.tools() if s.parent.span_id == run.context.span_id]
    assert sorted(s.attributes["gen_ai.tool.name"] for s in tools) == ["lookup", "search"]
    return run


def test_anthropic_tool_runner_is_one_run(traj: Any) -> None:
    harness = traj()
    seen: list[dict[str, Any]] = []
    messages = run_tool_runner(tool_runner_client(seen))
    harness.finish()
    assert [b["thread"]["type"] for b in seen] == ["create", "continue", "continue"]  # the SDK's own thread state
    assert all(len(b["messages"]) == 1 for b in seen)  # only the new turn's message is sent
    assert len(harness.turns()) == 3  # one inference span per call
    assert len(harness.runs()) == 1
    check_one_run(harness, [m.id for m in messages], [(300, 31), (120, 22), (160, 13)])


def test_concurrent_tool_runners_stay_apart(traj: Any) -> None:
    harness = traj()
    seen: list[dict[str, Any]] = []
    client = tool_runner_client(seen)
    results: dict[int, list[Any]] = {}

    def one(i: int) -> None:
        results[i] = run_tool_runner(client)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    harness.finish()
    assert len(harness.runs()) == 8
    for messages in results.values():
        check_one_run(harness, [m.id for m in messages], [(300, 31), (120, 22), (160, 13)])


# -- OpenAI Responses -------------------------------------------------------------------------------------------------
def function_call_response(name: str, arguments: dict[str, Any], rid: str, tokens: tuple[int, int]) -> dict[str, Any]:
    body = response_object(rid=rid, reasoning=False)
    body["output"] = [
        {
            "id": f"fc_{_next():06d}67ccd2bf17f0819081ff3bb2cf",
            "type": "function_call",
            "status": "completed",
            "call_id": f"call_{_next():06d}MtYmCc8pU0U0JYD9",
            "name": name,
            "arguments": json.dumps(arguments),
        }
    ]
    body["usage"] = {**body["usage"], "input_tokens": tokens[0], "output_tokens": tokens[1]}
    return body


def responses_client(seen: list[dict[str, Any]]) -> openai.OpenAI:
    """Answers by how many turns the named chain (previous_response_id or conversation) has had."""
    depth: dict[str, int] = {}

    def handle(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        rid = f"resp_{_next():06d}ccd2bed1ec8190b14f964abc0542670bb"
        with _lock:
            seen.append(body)
            chain = body.get("previous_response_id") or body.get("conversation")
            turn = depth.get(chain, 0) + 1 if chain else 1
            depth[rid] = turn
            if body.get("conversation"):
                depth[body["conversation"]] = turn
        tokens = (200 + turn, 10 + turn)
        if turn == 1:
            payload = function_call_response("search", {"q": "lyon"}, rid, tokens)
        elif turn == 2:
            payload = function_call_response("lookup", {"id": 7}, rid, tokens)
        else:
            payload = copy.deepcopy(response_object("Lyon has 522,250 inhabitants.", rid=rid, reasoning=False))
            payload["usage"] = {**payload["usage"], "input_tokens": tokens[0], "output_tokens": tokens[1]}
        return httpx2.Response(200, json=payload)

    return openai.OpenAI(
        api_key=OPENAI_KEY, max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(handle))
    )


def responses_loop(client: openai.OpenAI, **state: Any) -> list[str]:
    """A tool loop over server-held state: `previous_response_id` (default) or `conversation=...`."""
    tools = [
        {"type": "function", "name": n, "parameters": {"type": "object", "properties": {}}}
        for n in ("search", "lookup")
    ]
    response = client.responses.create(model="gpt-5-mini", input="How many people live in Lyon?", tools=tools, **state)
    ids = [response.id]
    for _ in range(2):
        outputs = [
            {"type": "function_call_output", "call_id": item.call_id, "output": "ok"}
            for item in response.output
            if item.type == "function_call"
        ]
        chained = state if state else {"previous_response_id": response.id}
        response = client.responses.create(model="gpt-5-mini", input=outputs, tools=tools, **chained)
        ids.append(response.id)
    return ids


def test_responses_previous_response_id_is_one_run(traj: Any) -> None:
    harness = traj()
    seen: list[dict[str, Any]] = []
    ids = responses_loop(responses_client(seen))
    harness.finish()
    assert [b.get("previous_response_id") for b in seen] == [None, ids[0], ids[1]]
    assert len(harness.turns()) == 3 and len(harness.runs()) == 1
    run = check_one_run(harness, ids, [(201, 11), (202, 12), (203, 13)])
    assert "gen_ai.conversation.id" not in run.attributes  # none invented
    assert all("gen_ai.conversation.id" not in t.span.attributes for t in harness.turns())


def test_concurrent_previous_response_id_loops_stay_apart(traj: Any) -> None:
    harness = traj()
    client = responses_client([])
    results: dict[int, list[str]] = {}
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, responses_loop(client))) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    harness.finish()
    assert len(harness.runs()) == 8
    for ids in results.values():
        check_one_run(harness, ids, [(201, 11), (202, 12), (203, 13)])


def test_responses_conversation_is_one_run_with_its_id(traj: Any) -> None:
    harness = traj()
    ids = responses_loop(responses_client([]), conversation="conv_689667905b048191b4740501625afd940c7533ace33a2dab")
    harness.finish()
    run = check_one_run(harness, ids, [(201, 11), (202, 12), (203, 13)])
    conversation = "conv_689667905b048191b4740501625afd940c7533ace33a2dab"
    assert run.attributes["gen_ai.conversation.id"] == conversation
    assert all(t.span.attributes["gen_ai.conversation.id"] == conversation for t in harness.turns())
    assert all(s.attributes["gen_ai.conversation.id"] == conversation for s in harness.tools())
