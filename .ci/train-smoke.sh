#!/usr/bin/env bash
# Smoke path for training/: venv, tiny retriever + re-ranker training, graph export,
# PyTorch-vs-onnxruntime parity for every kind, parity fixtures, pytest. A few minutes on 2 cores.
# Needs the backbone (npm run models:fetch -- all-MiniLM-L6-v2) and ../shared/datasets/scifact.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
training/install.sh
PY="$ROOT/training/.venv/bin/python"
cd training
export ASIDE_THREADS=${ASIDE_THREADS:-2}
rm -rf runs/scifact-retriever-iaa-l-b0.5-s1-smoke runs/scifact-reranker-lora-b0.5-s1-smoke
"$PY" -m aside_training.train --collection scifact --role retriever --kind iaa-l --profile smoke --no-results
"$PY" -m aside_training.train --collection scifact --role reranker --kind lora --profile smoke --no-results
# every kind x role: export, random modules at two budgets + identity module vs bare backbone
"$PY" -m aside_training.parity --reexport
# the two smoke tasks through their graphs, and fixtures for the Node parity test
"$PY" -m aside_training.parity --task runs/scifact-retriever-iaa-l-b0.5-s1-smoke/task --task runs/scifact-reranker-lora-b0.5-s1-smoke/task
"$PY" -m aside_training.parity_fixture --task runs/scifact-retriever-iaa-l-b0.5-s1-smoke/task --out runs/smoke-fixtures/retriever.json
"$PY" -m aside_training.parity_fixture --task runs/scifact-reranker-lora-b0.5-s1-smoke/task --out runs/smoke-fixtures/reranker.json
"$PY" -m ruff check .
"$PY" -m pytest -q tests
echo "train-smoke: ok"
