#!/usr/bin/env bash
# The study queue: each line is resumable and skipped once finished, so re-running this
# script continues where a cut-off run stopped. Log: training/runs/study.log
set -u
cd "$(dirname "$0")"
PY=.venv/bin/python
run() { echo "== $(date -u +%FT%TZ) $*"; $PY -m aside_training.train "$@" || echo "!! failed: $*"; }
for kind in zero-shot iaa-l lora adapter bitfit full iaa-s iaa-m prefix mam; do
  run --collection scifact --role retriever --kind "$kind" --profile study --seed 1
done
run --collection scifact --role reranker --kind iaa-l --profile study --seed 1
run --collection scifact --role reranker --kind lora --profile study --seed 1
for kind in iaa-l full lora; do
  run --collection scifact --role retriever --kind "$kind" --profile study --seed 2
done
run --collection nfcorpus --role retriever --kind zero-shot --profile study --seed 1
run --collection nfcorpus --role retriever --kind iaa-l --profile study --seed 1
