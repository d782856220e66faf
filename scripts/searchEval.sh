#!/usr/bin/env bash
# Regenerates docs/search-results.md: every candidate/re-rank combination through the search pipeline
# (the code path of POST /v1/search) on a BEIR collection, with a real local Elasticsearch for BM25.
# Usage: bash scripts/searchEval.sh <BEIR dir> [reranker task] [retriever task]
set -euo pipefail
cd "$(dirname "$0")/.."
COLLECTION=${1:?usage: scripts/searchEval.sh <BEIR dir> [reranker task] [retriever task]}
RERANK=${2:-}
TASK=${3:-}
OUT=docs/search-eval.jsonl
npm run -s es -- start >/dev/null
npm run -s es -- index --collection "$COLLECTION"
run() { npm run -s eval -- --collection "$COLLECTION" --out "$OUT" "$@" | tail -n 1; }
run --candidates elasticsearch
run --candidates dense ${TASK:+--task "$TASK"}
run --candidates hybrid ${TASK:+--task "$TASK"}
if [ -n "$RERANK" ]; then
  run --candidates elasticsearch --rerank "$RERANK"
  run --candidates hybrid ${TASK:+--task "$TASK"} --rerank "$RERANK"
fi
npx tsx scripts/searchTable.ts "$OUT" docs/search-results.md  # keeps the page's hand-written part
