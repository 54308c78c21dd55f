"""The one redaction every recorded text goes through: exception messages and stacktraces, error types, span status
descriptions, captured content, log lines about bad input.

Two jobs, kept apart:

* `redact(text)`: mask what looks like a credential (provider API keys, bearer tokens, cloud keys, ``key=value``
  secrets in URLs) wherever free text is recorded.
* `error_label(text)`: a bounded, sanitised form for values that become metric labels or `error.type`
  (low cardinality matters there): only ``[A-Za-z0-9_.:<>-]``, at most `LABEL_MAX` characters;
  anything that does not fit (or looked like a secret) becomes ``_OTHER``.
"""

from __future__ import annotations

import re
import traceback

REDACTED = "[REDACTED]"
OTHER = "_OTHER"
LABEL_MAX = 64
TEXT_MAX = 8192  # exception messages and stacktraces are cut here (after masking)

# Secrets that could sit inside recorded text. Each alternative is a credential shape, not a word list:
# OpenAI/Anthropic-style keys (sk-..., sk-ant-..., sk-proj-...), bearer tokens, AWS access key ids, Slack tokens,
# Google API keys, GitHub tokens, and ``api_key=...``/``token=...`` query or header values.
_SECRET = re.compile(
    r"(?:"
    r"sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{8,}"
    r"|[Bb]earer\s+[A-Za-z0-9._\-+/=]{8,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|xox[baprs]-[A-Za-z0-9\-]{8,}"
    r"|AIza[0-9A-Za-z_\-]{30,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|(?<=[?&;\s\"'{,])(?:api[_-]?key|apikey|access[_-]?token|token|secret|password|x-api-key)"
    r"[\"']?\s*[=:]\s*[\"']?[^\s&\"',;}]{6,}"
    r")",
    re.IGNORECASE,
)
_LABEL = re.compile(r"[A-Za-z0-9_.:<>\-]{1,%d}" % LABEL_MAX)


def redact(text: str) -> str:
    """`text` with every credential-shaped substring replaced by ``[REDACTED]``."""
    return _SECRET.sub(REDACTED, text)


def redact_bounded(text: str, limit: int = TEXT_MAX) -> str:
    """Redacted and cut at `limit` characters (a marker says it was cut)."""
    masked = redact(text)
    if len(masked) > limit:
        return masked[: max(limit - 14, 0)] + "...[truncated]"
    return masked


def error_label(value: object) -> str:
    """A safe `error.type` / metric-label value: short, plain characters, never a secret."""
    if not isinstance(value, str):
        return OTHER
    if _SECRET.search(value) is not None:
        return OTHER
    return value if _LABEL.fullmatch(value) else OTHER


def exception_attributes(error: BaseException) -> dict[str, str]:
    """``exception.*`` attributes for `span.record_exception`, message and stacktrace masked and bounded."""
    try:
        message = str(error)
    except Exception:
        message = ""
    try:
        stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    except Exception:
        stack = ""
    return {
        "exception.type": error_label(type(error).__qualname__),
        "exception.message": redact_bounded(message),
        "exception.stacktrace": redact_bounded(stack),
    }


def record_exception(span: object, error: BaseException) -> None:
    """The exception event on `span`, through the redaction (the SDK's own would record the raw message)."""
    span.record_exception(error, attributes=exception_attributes(error))  # type: ignore[attr-defined]


def status_description(value: object) -> str:
    """A span status description: the sanitised error label (a status is shown in every trace view)."""
    return error_label(value)
