"""A short agent script run in a subprocess by the lifecycle tests: two chat turns of one inferred run, then exit.

Usage: ``python -m tests.lifecycle._child MODE FOLDER`` where MODE is

* ``app-first``: the application creates and sets its own tracer provider (an OTLP-JSON file exporter on FOLDER)
  after ``import otel_agent`` and before ``instrument()``; nothing is shut down by hand;
* ``app-shutdown``: as ``app-first``, and the script ends with ``provider.shutdown()`` itself;
* ``owned``: otel-agent sets up the providers itself (``OTEL_AGENT_FILE_PATH`` = FOLDER), the README's one line;
* ``fork``: ``owned``, then ``os.fork()`` with the run open; parent and child each make one more turn;
* ``fork-explicit``: the same inside an ``agent_run("job")`` block, which both processes then leave;
* ``reinstrument``: ``owned``, then ``uninstrument()`` and ``instrument()`` again before the two turns;
* ``auto``: no ``instrument()`` call at all: run under ``opentelemetry-instrument``, whose entry points instrument
  (otel-agent then sets up the providers, from the ``OTEL_AGENT_*`` variables).

The model is `httpx.MockTransport` inside the script (a stand-in for the provider: no network).
"""

from __future__ import annotations

import json
import os
import sys
import time

import otel_agent  # first, as the README shows: before the application creates any provider


def _client() -> object:
    import httpx
    import openai

    counter = {"n": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        counter["n"] += 1
        body = {
            "id": f"chatcmpl-{os.getpid()}-{counter['n']}",
            "object": "chat.completion",
            "created": 1741569952,
            "model": "gpt-5.4-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": f"answer {counter['n']}"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
        return httpx.Response(200, json=body)

    return openai.OpenAI(api_key="sk-test", http_client=httpx.Client(transport=httpx.MockTransport(handle)))


_TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}


def _turn(client: object, history: list[dict[str, str]], text: str) -> None:
    history.append({"role": "user", "content": text})
    # the requests offer a tool: an agent loop, whose run span parents every turn from the first (a call that offers
    # none is a one-shot call until a second turn joins it: docs/architecture.md, deferred run span)
    reply = client.chat.completions.create(  # type: ignore[attr-defined]
        model="gpt-5.4-mini", messages=history, tools=[_TOOL]
    )
    history.append({"role": "assistant", "content": reply.choices[0].message.content})


def main() -> None:
    mode, folder = sys.argv[1], sys.argv[2]
    options = {"cost": False, "gpu": "off", "providers": ("openai",), "run_idle_timeout_s": 600.0}
    provider = None
    if mode.startswith("app"):
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from otel_agent.export import OtlpJsonFileSpanExporter

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(OtlpJsonFileSpanExporter(folder)))
        trace.set_tracer_provider(provider)
    else:
        options["file_path"] = folder
    if mode != "auto":
        otel_agent.instrument(**options)
    if mode == "reinstrument":
        otel_agent.uninstrument()
        otel_agent.instrument(**options)
    client = _client()
    history: list[dict[str, str]] = []
    if mode == "fork-explicit":
        with otel_agent.agent_run("job"):
            _turn(client, history, "first question")
            pid = os.fork()
            _turn(client, history, "child question" if pid == 0 else "parent question")
        if pid == 0:
            sys.exit(0)
        os.waitpid(pid, 0)
        return
    _turn(client, history, "first question")
    if mode == "fork":
        pid = os.fork()
        _turn(client, history, "child question" if pid == 0 else "parent question")
        if pid == 0:
            sys.stdout.write(json.dumps({"child": os.getpid()}) + "\n")
            sys.stdout.flush()
            sys.exit(0)  # a normal exit: atexit handlers run in the child too
        os.waitpid(pid, 0)
    else:
        _turn(client, history, "second question")
    if mode == "app-shutdown" and provider is not None:
        provider.shutdown()
    sys.stdout.write(json.dumps({"exiting_at": time.time()}) + "\n")  # the tests time the exit from here
    sys.stdout.flush()
    # no uninstrument(), no flush: the run is still open when the script ends


if __name__ == "__main__":
    main()
