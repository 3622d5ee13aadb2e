"""The `rdkpack` command's entry point: it imports the CLI itself, so Ctrl-C during that import (boto3, rich and
the report modules take most of a second) is one line and the shell's exit code too, not a traceback."""

from __future__ import annotations

import importlib
import sys

from rdkpack.errors import INTERRUPTED


def main() -> int:
    try:
        cli = importlib.import_module("rdkpack.cli")
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return INTERRUPTED
    return cli.main()
