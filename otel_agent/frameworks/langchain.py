"""LangChain and LangGraph: a callback handler every invocation picks up names the run and marks its boundaries.

The handler is a LangChain configure hook (a context variable whose default is the handler), so every chain and graph
invocation has it without the application passing `callbacks=`. A root invocation (a chain or graph with no parent)
is one run, named after it (`create_react_agent(name=...)`, a graph's name, else the chain's class), ended with it;
LangGraph's `thread_id` (from `config["configurable"]`, which LangGraph copies into the run's metadata) is
`gen_ai.conversation.id`. Model calls find their run through LangChain's current runnable config: its callback
manager's parent run, walked up to the root. A model invoked outside any chain is left to inference. LangChain makes
no OpenTelemetry spans of its own (LangSmith tracing is separate), so none is made twice.
"""

from __future__ import annotations

import contextvars
import threading
from collections import OrderedDict
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables.config import var_child_runnable_config
from langchain_core.tracers.context import register_configure_hook

from ..safety import guarded
from ..trajectory.context import add_run_source
from ..trajectory.run import RunState
from ._runs import FrameworkRuns

_runs = FrameworkRuns("langchain")
_PARENTS = 65536  # LangChain runs in flight remembered (child -> parent)
_DEPTH = 64  # levels walked up to the root


class _Handler(BaseCallbackHandler):
    run_inline = True  # called in the caller's thread and order, also under async callback managers

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parents: OrderedDict[UUID, UUID | None] = OrderedDict()

    # -- the tree of LangChain runs ---------------------------------------------------------------------------------
    def _started(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        with self._lock:
            self._parents[run_id] = parent_run_id
            while len(self._parents) > _PARENTS:
                self._parents.popitem(last=False)

    def _ended(self, run_id: UUID) -> None:
        with self._lock:
            self._parents.pop(run_id, None)

    def root_of(self, run_id: UUID | None) -> RunState | None:
        for _ in range(_DEPTH):
            if run_id is None:
                return None
            run = _runs.get(str(run_id))
            if run is not None:
                return run
            run_id = self._parents.get(run_id)
        return None

    # -- chains: a root one is a run --------------------------------------------------------------------------------
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._started(run_id, parent_run_id)
        if parent_run_id is not None:
            return
        name = kwargs.get("name") or (serialized or {}).get("name") or "chain"
        thread = (metadata or {}).get("thread_id")
        conversation = str(thread) if isinstance(thread, (str, int)) and not isinstance(thread, bool) else None
        guarded(lambda: _runs.open(str(run_id), str(name), conversation_id=conversation))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        self._ended(run_id)
        if parent_run_id is None:
            guarded(_runs.close, str(run_id))

    def on_chain_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._ended(run_id)
        if parent_run_id is None:
            guarded(_runs.close, str(run_id), error)

    # -- the rest only keeps the tree -------------------------------------------------------------------------------
    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._started(run_id, parent_run_id)

    def on_llm_start(
        self, serialized: Any, prompts: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._started(run_id, parent_run_id)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._ended(run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._ended(run_id)

    def on_tool_start(
        self, serialized: Any, input_str: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        self._started(run_id, parent_run_id)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._ended(run_id)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._ended(run_id)


_handler = _Handler()
_hook: contextvars.ContextVar[BaseCallbackHandler | None] = contextvars.ContextVar(
    "otel_agent_langchain", default=_handler
)
_installed = False


def _current() -> RunState | None:
    config = var_child_runnable_config.get()
    if not config:
        return None
    manager = config.get("callbacks")
    return _handler.root_of(getattr(manager, "parent_run_id", None))


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    register_configure_hook(_hook, inheritable=True)
    add_run_source(_current)
