"""The `model_server` fixture: one real local model server (llama.cpp + SmolLM2-135M, see otel_agent_tools.local_model)
for the whole test session. Loaded by tests/conftest.py as a plugin.

Missing packages fail the tests that use it, loudly, with the install command; they are never skipped.
`OTEL_AGENT_TEST_MODEL_THREADS` sets the server's CPU threads (default 2); `OTEL_AGENT_TEST_MODEL_LOG` a file that
keeps the server's log (by default it goes with the server's temporary folder).

Requests can take 10-80 s on a busy 2-core machine: keep calls few and small, and create clients with
`**MODEL_CLIENT_KWARGS` (generous timeout; retries on, because the server drops keep-alive connections idle for
5 s and a request racing that close fails with APIConnectionError, see otel_agent_tools/local_model/recipes.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from otel_agent_tools.local_model import LocalModelServer, ModelServerError, ModelServerUnavailable

MODEL_CLIENT_TIMEOUT = 300.0
MODEL_CLIENT_KWARGS = {"api_key": "x", "timeout": MODEL_CLIENT_TIMEOUT, "max_retries": 2}


@pytest.fixture(scope="session")
def model_server() -> Iterator[LocalModelServer]:
    threads = int(os.environ.get("OTEL_AGENT_TEST_MODEL_THREADS", "2"))
    log_path = os.environ.get("OTEL_AGENT_TEST_MODEL_LOG") or None
    server = LocalModelServer(threads=threads, startup_timeout=180.0, log_path=log_path)
    try:
        server.start()
    except ModelServerUnavailable as exc:
        pytest.fail(f"the real local model server is required: {exc}", pytrace=False)
    except ModelServerError as exc:
        pytest.fail(f"the real local model server did not start: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()
