#!/usr/bin/env bash
# The main job, offline: upscale the bundled CC0 photo 4x with the published xunit_sr_x4 weights.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash tools/setup_env.sh)
mkdir -p demo_output
"$python" -m zoo upscale examples/coffee_300x200.png demo_output/coffee_x4.png --model xunit_sr_x4
"$python" -m zoo predict lenet5 examples/digits/*.png --top-k 1
