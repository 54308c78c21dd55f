#!/usr/bin/env bash
# Creates the virtual environments of the anchors that benchmarks/overhead.py compares otel-agent with.
# Never touches the project's .venv. Both venvs sit under benchmarks/.venv/ (ignored by git):
#   benchmarks/.venv/anchors  official GenAI instrumentations 1.3b0 + OpenLLMetry 0.62.x on the same
#                             openai 3.x / anthropic 2.x / httpx2 as the project (requirements-anchors.txt)
#   benchmarks/.venv/openlit  OpenLIT 1.45, which requires openai<3 and anthropic<1: it gets openai 2.x and
#                             anthropic 0.x (over httpx), and overhead.py measures its own uninstrumented baseline
#                             there. OpenLIT's contrib dependencies must all come from one opentelemetry-contrib
#                             release (0.66b1) or pip cannot resolve them.
# Usage: bash benchmarks/setup_anchors.sh   (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
venvs="$here/.venv"
mkdir -p "$venvs"

make_venv() {  # name, then pip arguments
  local name="$1"; shift
  local target="$venvs/$name"
  if [ ! -x "$target/bin/python" ]; then
    "$python" -m venv "$target"
  fi
  if "$target/bin/pip" install --quiet --disable-pip-version-check "$@"; then
    echo "$name: ready ($target)"
  else
    echo "$name: install failed; overhead.py will skip it" >&2
    return 1
  fi
}

status=0
make_venv anchors -r "$here/requirements-anchors.txt" || status=1
make_venv openlit "openlit==1.45.0" "openai>=2,<3" "anthropic<1" \
  "opentelemetry-api==1.45.1" "opentelemetry-sdk==1.45.1" \
  "opentelemetry-instrumentation==0.66b1" "opentelemetry-semantic-conventions==0.66b1" || status=1
exit "$status"
