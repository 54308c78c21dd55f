"""`BaseInstrumentor` subclasses, registered as `opentelemetry_instrumentor` entry points.

Under `opentelemetry-instrument` each one is instrumented with no arguments: they share one runtime, started from
the `OTEL_AGENT_*` variables and the providers the auto-instrumentation set up.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Collection
from typing import Any

import wrapt
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.utils import unwrap
from wrapt import register_post_import_hook, wrap_function_wrapper

from . import runtime
from .capture.hook import RequestHook
from .capture.method import MethodHook
from .config import resolve_options

_MARK = "_otel_agent_hook"
log = logging.getLogger("otel_agent")
_PROXY: Any = getattr(wrapt, "BaseObjectProxy", wrapt.ObjectProxy)  # wrapt 2: FunctionWrapper's base


def _ensure_runtime(kwargs: dict[str, Any]) -> None:
    if runtime.current() is None:
        runtime.start(
            resolve_options({}),
            kwargs.get("tracer_provider"),
            kwargs.get("meter_provider"),
            kwargs.get("logger_provider"),
        )


def _already_hooked(owner: Any, name: str) -> bool:
    """True when our hook is anywhere in the chain of wrappers around `owner.name` (never wrap twice)."""
    func = getattr(owner, name, None)
    depth = 0
    while func is not None and depth < 16:
        if getattr(func, _MARK, False) or getattr(getattr(func, "_self_wrapper", None), _MARK, False):
            return True
        func = getattr(func, "__wrapped__", None)
        depth += 1
    return False


def _owners(base: type, name: str) -> list[type]:
    """`base` and every subclass that holds its own `name` (OpenInference wraps `openai.OpenAI.request`, which then
    shadows the base class's method for every OpenAI client)."""
    owners: list[type] = [base]
    stack: list[type] = list(base.__subclasses__())
    seen = {base}
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if name in cls.__dict__:
            owners.append(cls)
        stack.extend(cls.__subclasses__())
    return owners


def _hook_innermost(owner: type, name: str, wrapper: Any) -> None:
    """Our wrapper directly around the SDK's own function, under any wrapper another library put there before us:
    a request()-level instrumentation (OpenInference) is then outside ours, its span already open when our hook
    starts, and we join it (`telemetry.coexist`) instead of opening a second one."""
    current = owner.__dict__.get(name)
    if not isinstance(current, _PROXY):
        wrap_function_wrapper(owner, name, wrapper)
        return
    inner = current
    for _ in range(16):
        below = inner.__wrapped__
        if not isinstance(below, _PROXY):
            inner.__wrapped__ = wrapt.FunctionWrapper(below, wrapper)
            return
        inner = below
    wrap_function_wrapper(owner, name, wrapper)  # an absurdly deep chain: outermost, as before


def _hook_clients(module: str, adapter: Any) -> None:
    hook = RequestHook(adapter, runtime.current_pipeline)
    for cls_name, method, wrapper in (
        ("SyncAPIClient", "request", hook.sync),
        ("AsyncAPIClient", "request", hook.async_),
        ("SyncAPIClient", "_process_response", RequestHook.process_sync),
        ("AsyncAPIClient", "_process_response", RequestHook.process_async),
    ):
        base = __import__(f"{module}._base_client", fromlist=[cls_name])
        setattr(getattr(wrapper, "__func__", wrapper), _MARK, True)
        for owner in _owners(getattr(base, cls_name), method):
            if method in owner.__dict__ and not _already_hooked(owner, method):
                _hook_innermost(owner, method, wrapper)


def sdk_patched(module: str) -> bool:
    """Whether our hook wraps the `request()` of `module`'s sync and async clients (`openai`, `anthropic`)."""
    base = __import__(f"{module}._base_client", fromlist=["SyncAPIClient"])
    return all(_already_hooked(getattr(base, c), "request") for c in ("SyncAPIClient", "AsyncAPIClient"))


def _is_ours(func: Any) -> bool:
    return bool(getattr(getattr(func, "_self_wrapper", None), _MARK, False))


def _remove_hook(owner: Any, name: str) -> None:
    """Take our wrapper out of the chain around `owner.name`, leaving wrappers other libraries added after us."""
    func = owner.__dict__.get(name)
    if _is_ours(func):
        unwrap(owner, name)
        return
    outer = func
    while outer is not None:
        inner = getattr(outer, "__wrapped__", None)
        if inner is not None and _is_ours(inner):
            outer.__wrapped__ = inner.__wrapped__  # splice ours out; the outer library's wrapper stays in place
            return
        outer = inner


def _unhook_clients(module: str) -> None:
    base = __import__(f"{module}._base_client", fromlist=["SyncAPIClient"])
    for cls_name in ("SyncAPIClient", "AsyncAPIClient"):
        for method in ("request", "_process_response"):
            for owner in _owners(getattr(base, cls_name), method):
                _remove_hook(owner, method)


class OpenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    def instrumentation_dependencies(self) -> Collection[str]:
        return ("openai >= 1.40",)

    def _instrument(self, **kwargs: Any) -> None:
        _ensure_runtime(kwargs)
        from .providers.openai.adapter import OpenAIAdapter

        _hook_clients("openai", OpenAIAdapter())

    def _uninstrument(self, **kwargs: Any) -> None:
        _unhook_clients("openai")


class AnthropicInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    def instrumentation_dependencies(self) -> Collection[str]:
        return ("anthropic >= 0.40",)

    def _instrument(self, **kwargs: Any) -> None:
        _ensure_runtime(kwargs)
        from .providers.anthropic.adapter import AnthropicAdapter

        _hook_clients("anthropic", AnthropicAdapter())

    def _uninstrument(self, **kwargs: Any) -> None:
        _unhook_clients("anthropic")


class MCPInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    def instrumentation_dependencies(self) -> Collection[str]:
        return ("mcp >= 1.0",)

    def _instrument(self, **kwargs: Any) -> None:
        _ensure_runtime(kwargs)
        from .trajectory import mcp_hook

        mcp_hook.instrument()

    def _uninstrument(self, **kwargs: Any) -> None:
        from .trajectory import mcp_hook

        mcp_hook.uninstrument()


# -- SDKs hooked at one method each (capture/method.py), patched when their module is first imported ------------------
# (owner class path in the module, method name, "sync" | "async")
_Seam = tuple[str, str, str]


class _LazyInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Hooks `module` when it is imported (at once when it already is): instrumenting costs nothing for an SDK the
    application never imports. Subclasses name the module and how to hook and unhook it."""

    module = ""
    dependencies: tuple[str, ...] = ()
    _generation = 0  # bumped by uninstrument: a post-import hook registered before it does nothing

    def instrumentation_dependencies(self) -> Collection[str]:
        return self.dependencies

    def hook(self, module: Any) -> None:
        raise NotImplementedError

    def unhook(self, module: Any) -> None:
        raise NotImplementedError

    def _instrument(self, **kwargs: Any) -> None:
        _ensure_runtime(kwargs)
        cls = type(self)
        generation = cls._generation

        def on_import(module: Any) -> None:
            if cls._generation != generation:
                return
            try:
                self.hook(module)
            except Exception:
                log.warning("otel-agent: could not instrument %s", cls.module, exc_info=True)

        register_post_import_hook(on_import, cls.module)

    def _uninstrument(self, **kwargs: Any) -> None:
        cls = type(self)
        cls._generation += 1
        module = sys.modules.get(cls.module)
        if module is not None:
            self.unhook(module)


class _LazyMethodInstrumentor(_LazyInstrumentor):
    """Hooks one method per seam with `MethodHook` and the subclass's adapter."""

    seams: tuple[_Seam, ...] = ()

    def adapter(self) -> Any:
        raise NotImplementedError

    def hook(self, module: Any) -> None:
        _hook_methods(module, self.seams, MethodHook(self.adapter(), runtime.current_pipeline))

    def unhook(self, module: Any) -> None:
        for owner_path, name, _ in self.seams:
            _remove_hook(_owner(module, owner_path), name)


def _owner(module: Any, path: str) -> Any:
    owner = module
    for part in path.split(".") if path else ():
        owner = getattr(owner, part)
    return owner


def _hook_methods(module: Any, seams: tuple[_Seam, ...], hook: MethodHook) -> None:
    for owner_path, name, kind in seams:
        owner = _owner(module, owner_path)
        if _already_hooked(owner, name):
            continue

        def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any, _sync: bool = kind == "sync") -> Any:
            return (hook.sync if _sync else hook.async_)(wrapped, instance, args, kwargs)

        setattr(wrapper, _MARK, True)
        wrap_function_wrapper(owner, name, wrapper)


class GeminiInstrumentor(_LazyMethodInstrumentor):
    module = "google.genai._api_client"
    dependencies = ("google-genai >= 1.0",)
    seams = (
        ("BaseApiClient", "request", "sync"),
        ("BaseApiClient", "request_streamed", "sync"),
        ("BaseApiClient", "async_request", "async"),
        ("BaseApiClient", "async_request_streamed", "async"),
    )

    def adapter(self) -> Any:
        from .providers.gemini.adapter import GeminiAdapter

        return GeminiAdapter()


class BedrockInstrumentor(_LazyMethodInstrumentor):
    module = "botocore.client"
    dependencies = ("botocore >= 1.34",)
    seams = (("BaseClient", "_make_api_call", "sync"),)

    def adapter(self) -> Any:
        from .providers.bedrock.adapter import BedrockAdapter

        return BedrockAdapter()


class OllamaInstrumentor(_LazyMethodInstrumentor):
    module = "ollama._client"
    dependencies = ("ollama >= 0.4",)
    seams = (("Client", "_request", "sync"), ("AsyncClient", "_request", "async"))

    def adapter(self) -> Any:
        from .providers.ollama.adapter import OllamaAdapter

        return OllamaAdapter()


class LiteLLMInstrumentor(_LazyMethodInstrumentor):
    """`litellm.completion` / `acompletion` as the application calls them (`litellm.completion(...)`; a name imported
    with `from litellm import completion` before `instrument()` keeps the unwrapped function)."""

    module = "litellm"
    dependencies = ("litellm >= 1.40",)
    seams = (("", "completion", "sync"), ("", "acompletion", "async"))

    def adapter(self) -> Any:
        from .providers.litellm.adapter import LiteLLMAdapter

        return LiteLLMAdapter()


class MistralInstrumentor(_LazyInstrumentor):
    module = "mistralai.client.chat"
    dependencies = ("mistralai >= 1.0",)
    seams = (
        ("Chat", "complete", False, "sync"),
        ("Chat", "complete_async", False, "async"),
        ("Chat", "stream", True, "sync"),
        ("Chat", "stream_async", True, "async"),
    )

    def hook(self, module: Any) -> None:
        from .providers.mistral.adapter import MistralAdapter

        for owner, name, stream, kind in self.seams:
            _hook_methods(module, ((owner, name, kind),), MethodHook(MistralAdapter(stream), runtime.current_pipeline))

    def unhook(self, module: Any) -> None:
        for owner, name, _, _ in self.seams:
            _remove_hook(_owner(module, owner), name)


class GroqInstrumentor(_LazyInstrumentor):
    """groq is generated like openai: the same `request()` hook, with groq's routes."""

    module = "groq._base_client"
    dependencies = ("groq >= 0.9",)

    def hook(self, module: Any) -> None:
        from .providers.groq.adapter import GroqAdapter

        _hook_clients("groq", GroqAdapter())

    def unhook(self, module: Any) -> None:
        _unhook_clients("groq")


INSTRUMENTORS: dict[str, type[BaseInstrumentor]] = {
    "openai": OpenAIInstrumentor,
    "anthropic": AnthropicInstrumentor,
    "mcp": MCPInstrumentor,
    "gemini": GeminiInstrumentor,
    "bedrock": BedrockInstrumentor,
    "groq": GroqInstrumentor,
    "ollama": OllamaInstrumentor,
    "litellm": LiteLLMInstrumentor,
    "mistral": MistralInstrumentor,
}

# The module whose presence says a provider is installed (`instrument()` skips the others).
MODULES: dict[str, str] = {
    "gemini": "google.genai",
    "bedrock": "botocore",
    "groq": "groq",
    "ollama": "ollama",
    "litellm": "litellm",
    "mistral": "mistralai.client",
}
