#!/usr/bin/env bash
# Installs what the tests need (system packages included, when run as root) and runs them:
# unit and integration tests on the real engines (Chroma, the embedding model, the GGUF via
# llama-cpp-python, llama_cpp.server, PostgreSQL). Benchmarks live in tests/bench/ and are not run.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=dev bash deploy/install.sh
bash deploy/test-services.sh || echo "note: PostgreSQL not available; its ledger tests will skip"
if [ -f .test-services.env ]; then . ./.test-services.env; fi
.venv/bin/ruff check bot knowledge adapters tests
.venv/bin/mypy
.venv/bin/lint-imports
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
