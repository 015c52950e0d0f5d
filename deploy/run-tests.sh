#!/usr/bin/env bash
# Installs what the tests need (system packages included, when run as root) and runs them:
# unit and integration tests on the real engines (Chroma, the embedding model, the GGUF via
# llama-cpp-python, llama_cpp.server, PostgreSQL). Benchmarks live in tests/bench/ and are not run.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=dev bash deploy/install.sh
# the Python 3.11 documentation sources: the hard evaluation sets' reference manuals
if [ ! -d /usr/share/doc/python3.11/html/_sources ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11-doc >/dev/null
fi
# chromium and its driver: the admin console's browser tests (tests/admin, Selenium)
if ! command -v chromedriver >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
bash deploy/test-services.sh || echo "note: PostgreSQL not available; its ledger tests will skip"
if [ -f .test-services.env ]; then . ./.test-services.env; fi
.venv/bin/ruff check bot knowledge adapters tests
.venv/bin/mypy
.venv/bin/lint-imports
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
