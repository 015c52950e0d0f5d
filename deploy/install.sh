#!/usr/bin/env bash
# Creates .venv and installs firstline into it. Idempotent. llama-cpp-python is compiled once
# (about 10 minutes on 2 cores) into ~/.cache/firstline/wheels, keyed by its version and build
# flags, and reused from there.
#   EXTRAS=dev bash deploy/install.sh     # also the test tools
# LLAMA_CMAKE_ARGS: llama.cpp's build flags. The default is a portable AVX2 (x86-64-v3) build: a
# native build (-DGGML_NATIVE=ON) on a CPU with AMX tiles crashed in llama.cpp's matrix kernels
# inside a VM (segmentation fault on any prompt of two or more tokens).
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
install_llama_cpp() {
  local version=${LLAMA_CPP_VERSION:-0.3.36}
  local flags=${LLAMA_CMAKE_ARGS:-"-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"}
  local key; key=$(printf '%s|%s' "$version" "$flags" | sha256sum | cut -c1-16)
  local wheels="${XDG_CACHE_HOME:-$HOME/.cache}/firstline/wheels/llama-cpp-$key"
  if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $version ($flags); about 10 minutes on 2 cores" >&2
    rm -rf "$wheels.tmp"
    CMAKE_ARGS="$flags" "${PIP[@]}" wheel --no-cache-dir --no-deps -w "$wheels.tmp" \
      "llama-cpp-python==$version"
    mv "$wheels.tmp" "$wheels"
  fi
  if [ "$(cat .venv/.llama-cpp-build 2>/dev/null)" != "$key" ]; then
    "${PIP[@]}" install --no-deps --force-reinstall "$wheels"/llama_cpp_python-*.whl
    echo "$key" > .venv/.llama-cpp-build
  fi
}
install_llama_cpp
"${PIP[@]}" install -e ".${EXTRAS:+[$EXTRAS]}"
echo "firstline installed in .venv ($(.venv/bin/python -c 'import bot; print(bot.__version__)'))"
