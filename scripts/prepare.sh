#!/usr/bin/env bash
# Everything `npm start` and `npm test` need beyond node_modules, idempotent (a second run is quick):
# the default backbone and its int8 twin from Maven Central, verified against the catalog's sha256.
# No Python: task modules run on the committed graph templates (models/graphs/), bound to the backbone at load.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx src/cli.ts models:fetch all-MiniLM-L6-v2 all-MiniLM-L6-v2-q
