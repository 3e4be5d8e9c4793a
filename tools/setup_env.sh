#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv and install zoo into it.
# Usage: source-free; prints the python path on its last line. Extras: $1 (e.g. "test").
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null 2>&1 || py=python3
if [[ ! -x .venv/bin/python ]]; then
  "$py" -m venv .venv
fi
spec="."
[[ -n "$extras" ]] && spec=".[${extras}]"
stamp=".venv/.zoo-installed-$(sha256sum pyproject.toml | cut -c1-16)-${extras:-base}"
if [[ ! -f "$stamp" ]]; then
  echo "installing zoo${extras:+[$extras]} and its dependencies into .venv (first run takes a few minutes) ..." >&2
  .venv/bin/python -m pip install --quiet --upgrade pip >&2
  .venv/bin/python -m pip install --quiet -e "$spec" >&2
  touch "$stamp"
fi
echo "$PWD/.venv/bin/python"
