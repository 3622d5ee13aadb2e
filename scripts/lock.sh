#!/usr/bin/env bash
# Rewrite the lock files from pyproject.toml and requirements/*.in: every package of the tree, pinned,
# with the hashes of every file of it on the index (`make lock`; commit the result).
set -euo pipefail
cd "$(dirname "$0")/.."
uv=.venv/bin/uv
[ -x "$uv" ] || { echo "error: $uv is missing: run \`make venv\` first" >&2; exit 1; }
compile() { "$uv" pip compile --quiet --universal --generate-hashes --custom-compile-command "make lock" "$@"; }
compile pyproject.toml --extra dev --python-version 3.12 -o requirements/dev.lock
compile requirements/remediations-py311.in --python-version 3.11 -o requirements/remediations-py311.lock
compile requirements/bootstrap.in --python-version 3.12 -o requirements/bootstrap.lock
echo "locked: requirements/dev.lock, requirements/remediations-py311.lock, requirements/bootstrap.lock"
