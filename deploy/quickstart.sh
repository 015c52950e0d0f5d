#!/usr/bin/env bash
# Fresh machine to a running bot on the embedded defaults: installs, indexes the sample
# knowledge base, asks two questions, then opens the terminal chat (when run interactively).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install.sh
export FIRSTLINE_DATA_DIR=${FIRSTLINE_DATA_DIR:-./data}
.venv/bin/firstline index
.venv/bin/firstline ask "How do I reset my VPN password?"
.venv/bin/firstline ask "経費精算の締め切りはいつですか?"
if [ -t 0 ] && [ -t 1 ]; then
  exec .venv/bin/firstline chat
fi
