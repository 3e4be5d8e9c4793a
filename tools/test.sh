#!/usr/bin/env bash
# Run the whole default test suite (installs what it needs into .venv first).
# Extra arguments go to pytest, e.g. `bash tools/test.sh -k hub` or `bash tools/test.sh -m slow`.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash tools/setup_env.sh test,optimize)
exec "$python" -m pytest -q -p no:cacheprovider "$@"
