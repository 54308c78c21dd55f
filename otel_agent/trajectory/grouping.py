"""Grouping ids on every span of a run: conversation, user, session, and the agent definition.

`session(conversation_id=, user_id=, session_id=)` (sync or async context manager) and
`agent_run(..., conversation_id=, user_id=, session_id=, agent_id=)` put these ids on the run span, its inference spans
and its tool spans, by the conventions' names (`gen_ai.conversation.id`, `user.id`, `session.id`, `gen_ai.agent.id`),
so that a backend can group by them. Runs inferred inside a `session` get its ids too; an inferred run whose request
names the provider's conversation (OpenAI Responses `conversation`) gets that id. Ids are only ever the application's
or the provider's own: none is invented. `gen_ai.agent.id` names the agent's definition (semconv-genai #546); the
per-run id stays `otel_agent.run.id`.
"""

from __future__ import annotations

import contextvars
from typing import Any

from ..telemetry import names as n

CONVERSATION_ID = "gen_ai.conversation.id"
NAMES = {
    "conversation_id": CONVERSATION_ID,
    "user_id": n.USER_ID,
    "session_id": n.SESSION_ID,
    "agent_id": "gen_ai.agent.id",
}
_ATTRIBUTES = frozenset(NAMES.values())
_MAX_CHARS = 256

_current: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("otel_agent_session", default=None)


def attributes(**ids: Any) -> dict[str, str]:
    """The given ids (None left out) by their attribute names; values are strings, cut to 256 characters."""
    found: dict[str, str] = {}
    for key, value in ids.items():
        if value is None or key not in NAMES:
            continue
        text = str(value)[:_MAX_CHARS]
        if text:
            found[NAMES[key]] = text
    return found


def current() -> dict[str, str]:
    """The ids of the enclosing `session`s (inner ones win)."""
    return dict(_current.get() or {})


def of(run_attributes: dict[str, Any]) -> dict[str, str]:
    """The grouping ids among a run's attributes."""
    return {key: value for key, value in run_attributes.items() if key in _ATTRIBUTES and isinstance(value, str)}


def for_inferred(conversation_id: str | None) -> dict[str, str]:
    """An inferred run's ids: the enclosing session's, and the provider's conversation id of its first request."""
    ids = current()
    ids.pop("gen_ai.agent.id", None)  # an agent definition is named by `agent_run`, not by a session
    if conversation_id:
        ids[CONVERSATION_ID] = conversation_id[:_MAX_CHARS]
    return ids


class session:
    """``with otel_agent.session(user_id="u-42", session_id="s-7"):`` (also ``async with``): every run inside, explicit
    or inferred, carries these ids on all of its spans."""

    def __init__(
        self, *, conversation_id: str | None = None, user_id: str | None = None, session_id: str | None = None
    ) -> None:
        self._ids = attributes(conversation_id=conversation_id, user_id=user_id, session_id=session_id)
        self._token: contextvars.Token[dict[str, str] | None] | None = None

    def __enter__(self) -> session:
        self._token = _current.set({**current(), **self._ids})
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._token is not None:
            try:
                _current.reset(self._token)
            except ValueError:  # exited in another context than it was entered: leave the other context alone
                pass
            self._token = None

    async def __aenter__(self) -> session:
        return self.__enter__()

    async def __aexit__(self, *exc: Any) -> None:
        self.__exit__(*exc)
