"""Command line: argument parsing only; each subcommand calls one module."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import boto3

from rdkpack import deploy, documents, generate, validate
from rdkpack.config import load_project
from rdkpack.errors import RdkPackError


def project_root() -> Path:
    return Path.cwd()


def cmd_sync_scripts(args: argparse.Namespace) -> int:
    stale = documents.stale_documents(project_root(), write=not args.check)
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path}")
    return 1 if (args.check and stale) else 0


def cmd_build(args: argparse.Namespace) -> int:
    stale = generate.stale_files(project_root(), write=not args.check)
    for path in stale:
        action = "stale" if args.check else ("wrote" if path.exists() else "removed")
        print(f"{action}: {path.relative_to(project_root())}")
    if args.check and stale:
        print("generated files are stale: run `rdkpack build` and commit the result", file=sys.stderr)
        return 1
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    root = project_root()
    project = load_project(root)
    packs = {name: root / generate.OUTPUT_DIR / f"{name}.yaml" for name in project.packs}
    missing = [path for path in packs.values() if not path.is_file()]
    if missing:
        print(f"error: {', '.join(map(str, missing))} missing: run `rdkpack build`", file=sys.stderr)
        return 1
    others = sorted((root / generate.OUTPUT_DIR / "prerequisites").glob("*.yaml"))
    findings = validate.validate_project(project, packs, others)
    for finding in findings:
        print(finding)
    errors = [f for f in findings if f.severity == "error"]
    print(
        f"{len(packs)} pack(s) and {len(others)} prerequisite template(s): {len(errors)} error(s), "
        f"{len(findings) - len(errors)} warning(s)"
    )
    return 1 if errors else 0


def cmd_deploy(args: argparse.Namespace) -> int:
    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    plan = deploy.plan_deploy(load_project(project_root()), args.pack, args.org, session)
    print("\n".join(plan.lines()))
    if args.dry_run:
        print("dry run: nothing deployed")
        return 0
    deploy.put_pack(plan, session, args.template_bucket)
    print(f"submitted; waiting for {plan.pack} (up to {args.timeout} s)")
    print(f"{plan.pack}: {deploy.wait_for_pack(plan, session, timeout_seconds=args.timeout)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rdkpack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync-scripts", help="embed each remediation's script.py in its SSM document")
    sync.add_argument("--check", action="store_true", help="fail if a document is stale; write nothing")
    sync.set_defaults(run=cmd_sync_scripts)
    build = commands.add_parser("build", help="generate conformance packs and prerequisites from rdk-config.json")
    build.add_argument("--check", action="store_true", help="fail if a committed generated file is stale")
    build.set_defaults(run=cmd_build)
    check = commands.add_parser("validate", help="check packs against AWS Config limits, documents and cfn-lint")
    check.set_defaults(run=cmd_validate)
    put = commands.add_parser("deploy", help="deploy a pack to this account, or with --org to the organization")
    put.add_argument("--pack", required=True, help="pack name from rdk-config.json")
    put.add_argument("--org", action="store_true", help="deploy as an organization conformance pack")
    put.add_argument("--dry-run", action="store_true", help="show the plan; deploy nothing")
    put.add_argument("--template-bucket", help="S3 bucket for templates over the 51,200-byte TemplateBody limit")
    put.add_argument("--timeout", type=int, default=1800, help="seconds to wait for the pack (default 1800)")
    put.add_argument("--profile", help="AWS profile")
    put.add_argument("--region", help="AWS region")
    put.set_defaults(run=cmd_deploy)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except RdkPackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
