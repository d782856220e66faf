#!/usr/bin/env bash
# Create/refresh training/.venv from the pinned requirements (offline: local wheels / file indexes).
# Idempotent: does nothing when the venv already satisfies requirements.txt.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if .venv/bin/python - <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
bad = []
for line in open("requirements.txt"):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    try:
        if version(name) != want:
            bad.append(line)
    except PackageNotFoundError:
        bad.append(line)
sys.exit(1 if bad else 0)
PYEOF
then
  echo "training/.venv is up to date"
  exit 0
fi
# PIP_INDEX_URL etc. may be set by the caller; the defaults are this machine's offline mirrors.
EXTRA=()
[ -d /opt/pypi/simple ] && EXTRA+=(--index-url file:///opt/pypi/simple)
[ -d /opt/pypi-more/simple ] && EXTRA+=(--extra-index-url file:///opt/pypi-more/simple)
[ -d /opt/wheels ] && EXTRA+=(--find-links /opt/wheels)
# torch is the CPU build (+cpu local version); from a public index use
#   --extra-index-url https://download.pytorch.org/whl/cpu
.venv/bin/pip install --disable-pip-version-check -q "${EXTRA[@]}" -r requirements.txt
echo "training/.venv ready"
