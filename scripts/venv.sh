#!/usr/bin/env bash
# Create .venv (Python >= 3.12) and .venv/py311 (Python 3.11, the interpreter SSM runs remediation
# scripts on), and install the locked trees into them with uv, every file checked against its hash.
# Runs again only when a lock changes. `make lock` rewrites the locks from pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {  # find_python MINOR_MIN MINOR_MAX CANDIDATES...: the first interpreter 3.MIN to 3.MAX
  local low=$1 high=$2
  shift 2
  for candidate in "$@"; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c \
      "import sys; sys.exit(not ((3, $low) <= sys.version_info[:2] <= (3, $high)))" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  if ! python=$(find_python 12 99 "${PYTHON:-}" python3.12 python3.13 python3.14 python3); then
    echo "error: Python 3.12 or newer is required and none was found." >&2
    echo "       Install Python 3.12 (see .python-version), or set PYTHON=/path/to/python3.12." >&2
    exit 1
  fi
  echo "creating .venv with $python ($("$python" --version))"
  "$python" -m venv .venv
fi

stamp=".venv/.installed-$(cat pyproject.toml requirements/*.lock | sha256sum | cut -c1-16)"
[ -f "$stamp" ] && exit 0

if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
    -r requirements/bootstrap.lock
fi
uv=.venv/bin/uv
"$uv" pip sync --quiet --python .venv/bin/python --require-hashes requirements/dev.lock
"$uv" pip install --quiet --python .venv/bin/python --no-deps --no-build-isolation -e .

if [ ! -x .venv/py311/bin/python ]; then
  if ! python311=$(find_python 11 11 "${PYTHON311:-}" python3.11 /usr/bin/python3.11); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv >/dev/null 2>&1; then
      echo "installed the distribution's python3.11 (for the remediation tests)"
      python311=/usr/bin/python3.11
    elif "$uv" python install --quiet 3.11 >/dev/null 2>&1; then
      echo "installed Python 3.11 with uv (for the remediation tests)"
      python311=3.11
    else
      echo "error: Python 3.11 (the interpreter SSM runs remediation scripts on) was not found and could not be" >&2
      echo "       installed: install it (pyenv install 3.11, apt-get install python3.11, uv python install 3.11)," >&2
      echo "       or set PYTHON311=/path/to/python3.11." >&2
      exit 1
    fi
  fi
  "$uv" venv --quiet --python "$python311" .venv/py311
fi
"$uv" pip sync --quiet --python .venv/py311/bin/python --require-hashes requirements/remediations-py311.lock

rm -f .venv/.installed-*
touch "$stamp"
