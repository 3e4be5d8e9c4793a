#!/usr/bin/env bash
# The main job, offline: classify the bundled example digits with the published LeNet-5 weights.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash tools/setup_env.sh)
exec "$python" -m zoo predict lenet5 examples/digits/*.png --top-k 2
