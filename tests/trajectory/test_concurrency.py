"""Many runs at once: every turn lands in its own run, inferred and explicit, asyncio tasks and threads.

Half the conversations share their text word for word (only the tool-call ids, unique per answer, tell them apart),
and every run starts with the same tool call: a turn in the wrong run would show up as a wrong index, a wrong run id,
or a `repeated_tool_call` where none was made.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import pytest

import otel_agent

from ._providers import PROVIDERS, Agent, Reply, Script, call, text

RUNS = 200
THREADS = 8
RUNS_PER_THREAD = 12


def respond(body: dict[str, Any]) -> Reply:
    messages = body["messages"]
    turn = 1 + sum(1 for m in messages if m["role"] == "assistant")
    task = next(m["content"] for m in messages if m["role"] == "user")
    if turn == 1:
        return call("search", {"q": "lyon"})
    if turn == 2:
        return call("search", {"q": "lyon"}) if "[repeat]" in task else call("lookup", {"id": 1})
    return text("done")


def task_text(i: int) -> str:
    plan = "[repeat]" if i % 2 == 0 else "[lookup]"
    return f"task {i}: find the population of Lyon {plan}" if i % 4 < 2 else f"shared task {plan}"


def expected_reasons(i: int) -> list[tuple[int, tuple[str, ...]]]:
    return [(1, ()), (2, ("repeated_tool_call",) if i % 2 == 0 else ()), (3, ())]


def check(harness: Any, answers: dict[int, tuple[str | None, list[str]]]) -> None:
    """`answers`: run number -> (explicit run id or None, the response ids that run received)."""
    by_response = {t.span.attributes["gen_ai.response.id"]: t for t in harness.turns()}
    assert len(by_response) == 3 * len(answers)
    run_ids = set()
    for i, (explicit_id, response_ids) in answers.items():
        turns = [by_response[r] for r in response_ids]
        ids = {t.run_id for t in turns}
        assert len(ids) == 1, (i, [(t.run_id, t.index) for t in turns])
        run_id = ids.pop()
        if explicit_id is not None:
            assert run_id == explicit_id
        assert [(t.index, t.reasons) for t in turns] == expected_reasons(i), i
        run_ids.add(run_id)
    assert len(run_ids) == len(answers)
    runs = {r.attributes["otel_agent.run.id"]: r for r in harness.runs()}
    assert set(runs) == run_ids
    for i, (_, response_ids) in answers.items():
        run = runs[by_response[response_ids[0]].run_id]
        assert run.attributes["otel_agent.run.turns"] == 3
        assert run.attributes["otel_agent.run.wasted_turns"] == (1 if i % 2 == 0 else 0)
        assert all(by_response[r].span.parent.span_id == run.context.span_id for r in response_ids)


async def one_run(provider: str, client: Any, i: int, explicit: bool) -> tuple[str | None, list[str]]:
    agent = Agent(provider, client, task=task_text(i))
    received: list[str] = []

    async def conversation() -> None:
        for _ in range(3):
            answer = await agent.aask("small")
            received.append(answer.id)
            await asyncio.sleep(random.random() * 0.003)  # the tools run: other runs' turns interleave
            agent.results(*[(cid, "Lyon: 522,250", False) for cid, _n, _a in answer.calls])

    if explicit:
        async with otel_agent.agent_run("worker") as run:
            await conversation()
        return run.id, received
    await conversation()
    return None, received


@pytest.mark.parametrize("explicit", [False, True], ids=["inferred", "explicit"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_concurrent_asyncio_runs(traj: Any, provider: str, explicit: bool) -> None:
    harness = traj()
    rng = random.Random(7)
    script = Script(respond=respond, delay=lambda body: rng.random() * 0.004)
    client = script.client(provider, is_async=True)

    async def main() -> list[tuple[str | None, list[str]]]:
        return await asyncio.gather(*(one_run(provider, client, i, explicit) for i in range(RUNS)))

    results = asyncio.run(main())
    harness.finish()
    check(harness, dict(enumerate(results)))


@pytest.mark.parametrize("explicit", [False, True], ids=["inferred", "explicit"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_runs_on_threads(traj: Any, provider: str, explicit: bool) -> None:
    harness = traj()
    rng = random.Random(11)
    lock = threading.Lock()

    def delay(_: Any) -> float:
        with lock:
            return rng.random() * 0.002

    client = Script(respond=respond, delay=delay).client(provider)
    answers: dict[int, tuple[str | None, list[str]]] = {}
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(thread: int) -> None:
        try:
            barrier.wait()
            for k in range(RUNS_PER_THREAD):
                i = thread * RUNS_PER_THREAD + k
                agent = Agent(provider, client, task=task_text(i))
                received: list[str] = []
                run_id = None

                def conversation() -> None:
                    for _ in range(3):
                        answer = agent.ask("small")
                        received.append(answer.id)
                        time.sleep(delay(answer.id))  # the tools run
                        agent.results(*[(cid, "Lyon: 522,250", False) for cid, _n, _a in answer.calls])

                if explicit:
                    with otel_agent.agent_run("worker") as run:
                        conversation()
                    run_id = run.id
                else:
                    conversation()
                with lock:
                    answers[i] = (run_id, received)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    harness.finish()
    check(harness, answers)
