#!/usr/bin/env bash
# Creates .venv and installs firstline into it. Idempotent; pip's wheel cache keeps the
# llama-cpp-python build (about 10 minutes on 2 cores the first time).
#   EXTRAS=dev bash deploy/install.sh     # also the test tools
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "firstline needs Python 3.11+"'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip wheel setuptools
# CPU build of torch for sentence-transformers. Set TORCH_SPEC to pin another build, and
# PIP_EXTRA_INDEX_URL to a CPU-only index on machines where PyPI's default is the CUDA build.
"${PIP[@]}" install "${TORCH_SPEC:-torch==2.13.0}"
"${PIP[@]}" install -e ".${EXTRAS:+[$EXTRAS]}"
echo "firstline installed in .venv ($(.venv/bin/python -c 'import bot; print(bot.__version__)'))"
