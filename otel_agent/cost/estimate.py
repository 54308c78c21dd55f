"""Token counts estimated from text, for calls whose response carried no usage (LangChain and llama-index stream
without `stream_options.include_usage`, so those turns would have no tokens and no cost).

No tokenizer library fits offline: tiktoken downloads its encoding files on first use (no network here, nor in many
deployments), and a model's own tokenizer is not at hand for every provider. The estimate is the documented rule of
thumb for BPE tokenizers on English text, about 4 characters a token, with each non-ASCII character counted as one
token (CJK text runs near one token per character), plus the chat format's overhead of 3 tokens per message and 3
for the reply (OpenAI's published counting for chat models). It is within about 10-20 % for English prose and code;
estimated counts are marked `otel_agent.usage.estimated` on the span and the `otel_agent.tokens` counter, and priced
as they are. O(request) per estimated call: only calls with no usage pay it.
"""

from __future__ import annotations

import math

from ..records import TurnRecord, Usage

_CHARS_PER_TOKEN = 4.0
_PER_MESSAGE = 3
_REPLY = 3


def text_tokens(text: str) -> int:
    if not text:
        return 0
    ascii_chars = sum(1 for char in text if char < "\x80") if not text.isascii() else len(text)
    return math.ceil(ascii_chars / _CHARS_PER_TOKEN) + (len(text) - ascii_chars)


def needs_estimate(record: TurnRecord) -> bool:
    """A streamed chat call that finished with an answer and no usage counts (a non-streamed response without usage
    is a malformed one: it stays `otel_agent.usage.missing`, unestimated)."""
    response = record.response
    if response is None or record.error_type is not None or record.request.operation != "chat":
        return False
    if record.stream is None and not record.request.stream:
        return False
    usage = response.usage
    if usage is not None and usage.input_tokens is not None and usage.output_tokens is not None:
        return False
    return bool(response.text or response.tool_calls)


def estimate(record: TurnRecord) -> Usage:
    """Input from the request's system text and messages, output from the answer's text and tool calls."""
    request, response = record.request, record.response
    given = response.usage if response is not None else None
    input_tokens = given.input_tokens if given is not None else None
    output_tokens = given.output_tokens if given is not None else None
    if input_tokens is None:
        input_tokens = _REPLY + (text_tokens(request.system) + _PER_MESSAGE if request.system else 0)
        for message in request.messages:
            input_tokens += _PER_MESSAGE + text_tokens(message.text)
            for call in message.tool_calls:
                input_tokens += text_tokens(call.name) + text_tokens(call.arguments)
            for result in message.tool_results:
                input_tokens += text_tokens(result.content)
    if output_tokens is None and response is not None:
        output_tokens = text_tokens(response.text)
        for call in response.tool_calls:
            output_tokens += text_tokens(call.name) + text_tokens(call.arguments)
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens)
