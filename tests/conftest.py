"""Shared fixtures. The real local model server fixture lives in tests/_model_server_fixture.py."""

from __future__ import annotations

import os

# The anthropic SDK reads this when a client is created; tests decide per case, so start from its default.
os.environ.pop("ANTHROPIC_OPEN_TELEMETRY", None)

pytest_plugins = ["tests._model_server_fixture"]
