#!/usr/bin/env bash
# The training step of CI: venv, committed graph templates and Node test fixtures against a fresh export,
# tiny retriever + re-ranker training, PyTorch-vs-onnxruntime parity for every kind, pytest, and the
# TypeScript tests that need Python (benchmark peers). About ten minutes on 2 cores.
# Needs ../shared/datasets/scifact; fetches the fp32 catalog backbones the templates reference.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
training/install.sh
npx tsx src/cli.ts models:fetch all-MiniLM-L6-v2 all-MiniLM-L6-v2-q bge-small-en-v1.5 e5-small-v2
PY="$ROOT/training/.venv/bin/python"
cd training
export ASIDE_THREADS=${ASIDE_THREADS:-2}
# the committed templates (models/graphs/) and the fixtures npm test compares against (test/fixtures/)
"$PY" -m aside_training.templates --check
"$PY" -m aside_training.node_fixtures --check
rm -rf runs/scifact-retriever-iaa-l-b0.5-s1-smoke runs/scifact-reranker-lora-b0.5-s1-smoke
"$PY" -m aside_training.train --collection scifact --role retriever --kind iaa-l --profile smoke --no-results
"$PY" -m aside_training.train --collection scifact --role reranker --kind lora --profile smoke --no-results
# every kind x role: export, random modules at two budgets + identity module vs bare backbone
"$PY" -m aside_training.parity --reexport
# the two smoke tasks through their graphs
"$PY" -m aside_training.parity --task runs/scifact-retriever-iaa-l-b0.5-s1-smoke/task --task runs/scifact-reranker-lora-b0.5-s1-smoke/task
"$PY" -m ruff check .
"$PY" -m pytest -q tests
cd "$ROOT"
npm run test:python
echo "train-smoke: ok"
