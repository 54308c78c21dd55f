"""Reading request message lists into neutral `Message`s: shared by both providers' adapters."""

from __future__ import annotations

from typing import Any

from ._read import get


def text_of(content: Any) -> str:
    """Concatenated text of a message content: a string, or a list of parts with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        pieces = []
        for part in content:
            if isinstance(part, str):
                pieces.append(part)
                continue
            text = get(part, "text")
            if isinstance(text, str):
                pieces.append(text)
        return "".join(pieces)
    return ""
