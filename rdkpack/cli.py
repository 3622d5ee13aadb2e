"""Command line: argument parsing only; each subcommand calls one module."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rdkpack import documents


def project_root() -> Path:
    return Path.cwd()


def cmd_sync_scripts(args: argparse.Namespace) -> int:
    stale = documents.stale_documents(project_root(), write=not args.check)
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path}")
    return 1 if (args.check and stale) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rdkpack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync-scripts", help="embed each remediation's script.py in its SSM document")
    sync.add_argument("--check", action="store_true", help="fail if a document is stale; write nothing")
    sync.set_defaults(run=cmd_sync_scripts)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
