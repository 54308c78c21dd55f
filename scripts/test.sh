#!/usr/bin/env bash
# The test command of the README: every test, the real local model server and (when built) the real stack included.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
