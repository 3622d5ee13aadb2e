"""Command line: argument parsing only; each subcommand calls one module."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rdkpack import report
from rdkpack.account import org, scan
from rdkpack.automation.runbook import load_runbook
from rdkpack.automation.runner import Runner, document_outputs
from rdkpack.aws import NO_REGION, explain
from rdkpack.check import outputs as check_outputs
from rdkpack.check import run as check_run
from rdkpack.errors import INTERRUPTED, AwsError, FileError, RdkPackError, ScanError, UsageError
from rdkpack.packs import deploy, validate, write
from rdkpack.project import documents, kit
from rdkpack.project.config import check_rule_parameters, find_root, load_project
from rdkpack.project.kit import scaffold
from rdkpack.remediate import bulk
from rdkpack.report import remediation as remediation_report
from rdkpack.report import security_hub, stream

DESCRIPTION = (
    "Custom AWS Config rules with paired SSM Automation remediations, bundled into conformance packs: build and "
    "validate the packs, deploy them to an account or an organization, scan accounts, remediate, check templates."
)
SCALE_MAX = 1000
POSITIONAL = {"name": "NAME", "paths": "PATH"}  # positional arguments, by their dest
CONCURRENCY_MAX = 256  # threads, each with its own clients and connection pools
DEMO_REPORTS = (("demo-report.md", "markdown"), ("demo-report.html", "html"))
_project_option: str | None = None  # --project DIR, set by main() for this run

DEMO_EXTRA_HINT = (
    "rdkpack demo runs on an embedded moto account and needs the demo extra: "
    "pip install '.[demo]' in the repository (or run `make demo`)"
)


def project_root() -> Path:
    """--project DIR, else the nearest folder upward from the current one holding rdk-config.json."""
    if _project_option:
        return find_root(Path(_project_option), explicit=True)
    return find_root(Path.cwd())


def cmd_sync_scripts(args: argparse.Namespace) -> int:
    stale = documents.stale_documents(project_root(), write=not args.check)
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path}")
    return 1 if (args.check and stale) else 0


def report_stale(root: Path, stale: list[Path], check: bool, what: str, command: str, *, written=lambda _: "updated"):
    """List stale files (or, having written them, what was done); with --check, fail saying what to run."""
    for path in stale:
        print(f"{'stale' if check else written(path)}: {path.relative_to(root)}")
    if check and stale:
        print(f"{what} are stale: run `rdkpack {command}` and commit the result", file=sys.stderr)
        return 1
    return 0


def open_project(root):
    """The project, its rules' parameters checked by the rules themselves: what every command reads."""
    project = load_project(root)
    check_rule_parameters(project)
    return project


def cmd_sync_kit(args: argparse.Namespace) -> int:
    root = project_root()
    stale = kit.stale_copies(root, write=not args.check)
    return report_stale(root, stale, args.check, "rule kit copies", "sync-kit")


def cmd_new_rule(args: argparse.Namespace) -> int:
    root = project_root()
    for path in scaffold.new_rule(root, args.name, args.resource_type):
        print(f"wrote: {path.relative_to(root)}")
    print(
        "next: describe the rule, add it to a pack in rdk-config.json and its page to mkdocs.yml's nav "
        f"(rules/{args.name}.md), then run `rdkpack build` and `rdkpack docs`"
    )
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    root = project_root()
    open_project(root)  # a value a rule refuses stops the build before it writes anything
    stale = write.stale_files(root, write=not args.check)
    written = lambda path: "wrote" if path.exists() else "removed"  # noqa: E731
    return report_stale(root, stale, args.check, "generated files", "build", written=written)


def cmd_docs(args: argparse.Namespace) -> int:
    from rdkpack import docs  # noqa: PLC0415  (loads every rule module: only this command needs it)

    root = project_root()
    open_project(root)
    stale = docs.stale_pages(root, build_parser(), write=not args.check)
    written = lambda path: "wrote" if path.exists() else "removed"  # noqa: E731
    return report_stale(root, stale, args.check, "generated documentation pages", "docs", written=written)


def add_docs_command(commands) -> None:
    pages = commands.add_parser(
        "docs", help="generate the documentation site's pages: one per rule and per remediation, the CLI reference"
    )
    pages.add_argument("--check", action="store_true", help="fail if a committed generated page is stale")
    pages.set_defaults(run=cmd_docs)


def cmd_validate(args: argparse.Namespace) -> int:
    root = project_root()
    project = open_project(root)
    packs, others = write.committed_files(project)
    missing = [path for path in packs.values() if not path.is_file()]
    if missing:
        raise RdkPackError(f"{', '.join(map(str, missing))} missing: run `rdkpack build`")
    findings = [
        validate.Finding(
            "STALE", str(path), "(file)", "(content)", "not what rdk-config.json builds now: run `rdkpack build`"
        )
        for path in write.stale_files(root, write=False)
    ]
    findings += validate.validate_project(project, packs, others)
    for finding in findings:
        print(finding)
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity == "warning"]
    notes = len(findings) - len(errors) - len(warnings)
    print(
        f"{len(packs)} pack(s) and {len(others)} prerequisite template(s): {len(errors)} error(s), "
        f"{len(warnings)} warning(s)" + (f", {notes} note(s)" if notes else "")
    )
    return 1 if errors else 0


def cmd_deploy(args: argparse.Namespace) -> int:
    session = deploy.open_session(args.profile, args.region)
    plan = deploy.plan_deploy(open_project(project_root()), args.pack, args.org, session)
    print("\n".join(plan.lines()))
    if args.dry_run:
        print("dry run: nothing deployed")
        return 0
    deploy.put_pack(plan, session, args.template_bucket)
    print(f"submitted; waiting for {plan.pack} (up to {args.timeout} s)")
    print(f"{plan.pack}: {deploy.wait_for_pack(plan, session, timeout_seconds=args.timeout)}")
    return 0


def home_session(args: argparse.Namespace, project):
    """A session in the rollout's home region (StackSets live there; regional clients are made per region)."""
    if project.rollout is None:
        raise RdkPackError('rdk-config.json has no "rollout" section: add adminAccountId and homeRegion')
    try:
        return boto3.Session(profile_name=args.profile, region_name=project.rollout.home_region)
    except ProfileNotFound as error:
        raise UsageError(f"{error}: check --profile or AWS_PROFILE") from error


def rollout_session(args: argparse.Namespace, project):
    """The home-region session of a command that works on the whole organization (--org)."""
    if not args.org:
        raise UsageError(f"{args.command} works on the organization: pass --org")
    return home_session(args, project)


def cmd_stage(args: argparse.Namespace) -> int:
    from rdkpack.rollout import desired, stage  # noqa: PLC0415

    project = open_project(project_root())
    session = home_session(args, project)
    regions = args.regions or desired.regions_of(project)
    for staged in stage.stage(session, project, regions, dry_run=args.dry_run):
        verb = ("would upload" if args.dry_run else "uploaded") if staged.uploaded else "in place"
        print(f"{verb}: s3://{staged.bucket}/{staged.key} ({staged.size:,} bytes)")
    return 0


def cmd_rollout(args: argparse.Namespace) -> int:
    from rdkpack.rollout import run, status  # noqa: PLC0415

    project = open_project(project_root())
    session = rollout_session(args, project)
    plan = run.plan(session, project, ous=args.ous or (), regions=args.regions or (), retry_failed=args.retry_failed)
    print("\n".join(plan.lines()))
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    failed = run.apply(plan) if plan.writes() else []
    result = status.read(session, project, regions=args.regions or ())
    report.print_rollout_status(Console(), result)
    if failed:
        print(f"warning: {', '.join(failed)} failed in some accounts: listed above", file=sys.stderr)
    return 0 if result.in_sync and not failed else 1


def cmd_status(args: argparse.Namespace) -> int:
    from rdkpack.rollout import status  # noqa: PLC0415

    project = open_project(project_root())
    if args.pack and args.pack not in project.packs:
        raise UsageError(f"--pack {args.pack}: no such pack in rdk-config.json ({', '.join(project.packs)})")
    result = status.read(rollout_session(args, project), project, args.pack, regions=args.regions or ())
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        report.print_rollout_status(Console(), result)
    return 0 if result.in_sync else 1


def cmd_remove(args: argparse.Namespace) -> int:
    from rdkpack.rollout import remove  # noqa: PLC0415

    project = open_project(project_root())
    if not (args.dry_run or args.confirm):
        raise UsageError(
            "remove deletes the packs, StackSets and staged code everywhere: pass --dry-run to see what, "
            "then --confirm to do it"
        )
    _, steps = remove.steps(rollout_session(args, project), project)
    if args.dry_run:
        for description, present, _ in steps:
            print(f"{'would remove' if present() else 'already gone'}: {description}")
        print("dry run: nothing removed")
        return 0
    removed = remove.perform(steps)
    print(f"removed {removed} of {len(steps)} step(s); the rest were already gone")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("moto") is None:
        raise RdkPackError(DEMO_EXTRA_HINT)
    from rdkpack.account import demo  # noqa: PLC0415  (moto is an extra: only the demo imports it)

    outputs = report.plan_outputs(args.output, args.format)
    on_stdout = stdout_report(args, outputs)
    if args.scale > SCALE_WARNING:
        print(
            f"note: --scale {args.scale} seeds about {args.scale * DEMO_RESOURCES:,} resources in moto: about "
            f"{args.scale} s or more",
            file=sys.stderr,
        )
    result = demo.run_demo(open_project(project_root()), scale=args.scale, remediation=not args.no_remediate)
    reports = [report.Output(project_root() / "reports" / name, kind) for name, kind in DEMO_REPORTS] + outputs
    for output in reports:
        output.write(result, "rdk guardrails demo")
    if on_stdout:
        return 0
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        console = Console()
        report.print_demo(console, result)
        console.print("reports: " + escape(", ".join(str(shown_path(output.path)) for output in reports)))
    return 0


def stdout_report(args: argparse.Namespace, outputs) -> bool:
    """Whether a report goes to standard output (--output -): then it is all that does, not the tables or --json."""
    on_stdout = any(output.to_stdout for output in outputs)
    if on_stdout and args.json:
        raise UsageError("--output - and --json both write to standard output: give one")
    return on_stdout


def shown_path(path: Path) -> Path:
    """A report path as the user would type it: relative to the current folder when under it."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def add_output_options(command: argparse.ArgumentParser, extra: str = "") -> None:
    command.add_argument(
        "--output",
        "--report",
        action="append",
        default=[],
        metavar="FILE",
        help=f"also write a report (repeatable){extra}; the suffix picks the format: .sarif (SARIF 2.1.0), "
        ".xml (JUnit), .json, .jsonl (a line per row; an --accounts or --org scan writes it as it goes), "
        ".html or .htm (web page), .md (Markdown)",
    )
    command.add_argument(
        "--format", choices=tuple(report.FORMATS), help="the format of a single --output file, whatever its suffix"
    )


def progress_bar(enabled: bool, label: str = "evaluating"):
    """A callback factory for scan: given the count (items, or accounts), returns a tick (rich, on stderr)."""
    if not enabled:
        return None
    bar = Progress(console=Console(stderr=True), transient=True)

    def start(total: int):
        bar.start()
        task = bar.add_task(label, total=total)
        return lambda: bar.advance(task) if not bar.finished else bar.stop()

    return start


def pair_progress(enabled: bool):
    """An organization scan's progress bar (rich, on stderr), or None when it would not be seen."""
    return PairProgress(Console(stderr=True)) if enabled else None


class PairProgress:
    """Called with the account x region pairs and those already done (resumed), it shows a bar of pairs done, the
    accounts done (every region of theirs), the pairs failed and the pairs done a second, and returns the
    tick(pair, failed) each finished pair calls, from any thread."""

    def __init__(self, console: Console):
        self.bar = Progress(
            TextColumn("account x region"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[accounts]} accounts done"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.lock, self.failed = threading.Lock(), 0
        self.left: dict[str, int] = {}  # account -> its pairs not done yet

    def stop(self) -> None:
        """Give the terminal back (cursor, output) however the scan ended."""
        self.bar.stop()

    def accounts(self) -> str:
        return f"{sum(not left for left in self.left.values())}/{len(self.left)}"

    def __call__(self, pairs: list, done: list):
        for account, _ in pairs:
            self.left[account] = self.left.get(account, 0) + 1
        for account, _ in done:
            self.left[account] -= 1
        self.bar.start()
        fields = {"failed": 0, "rate": "", "accounts": self.accounts()}
        task = self.bar.add_task("scan", total=len(pairs), completed=len(done), **fields)
        if len(done) >= len(pairs):
            self.bar.stop()

        def tick(pair: tuple[str, str], failed: bool) -> None:
            with self.lock:
                self.failed += failed
                self.left[pair[0]] -= 1
                self.bar.advance(task)
                speed = self.bar.tasks[0].speed
                rate = f"{speed:.1f} pairs/s" if speed else ""
                self.bar.update(task, failed=self.failed, rate=rate, accounts=self.accounts())
                if self.bar.finished:
                    self.bar.stop()

        return tick


def cmd_scan(args: argparse.Namespace) -> int:
    outputs = report.plan_outputs(args.output, args.format)  # before any AWS call
    on_stdout = stdout_report(args, outputs)
    project = open_project(project_root())
    session = caller_session(args)
    show_progress = not args.json and sys.stderr.isatty()
    pack = args.pack or next(iter(project.packs))
    plan = None
    if args.resume and not (args.accounts or args.org):
        raise UsageError("--resume continues a scan with --accounts or --org from its --output FILE.jsonl")
    if args.aggregator or args.accounts or args.org:
        result, plan = scan_many(args, project, pack, session, show_progress=show_progress, outputs=outputs)
    else:
        result = scan.scan_account(
            project, pack, session, only=args.rules, source=args.source, progress=progress_bar(show_progress)
        )
    for output in outputs:
        if not (plan and output.format == STREAM and not output.to_stdout):  # a role scan's is written as it goes
            output.write(result, f"rdk guardrails scan of {args.profile or 'default credentials'}")
    show_scan(args, result, on_stdout)
    for line in scan.expiring_waivers(result.before, datetime.now(UTC).date()):
        print(f"note: waiver ends within {scan.WAIVER_SOON_DAYS} days: {line}", file=sys.stderr)
    imported = import_findings(args, result, session, plan) if args.security_hub else 0
    return max(scan_exit_code(args, result), imported)


def show_scan(args: argparse.Namespace, result, on_stdout: bool) -> None:
    """Notes and warnings on stderr; the results on stdout as tables or --json, unless a report went there."""
    for note in getattr(result, "notes", ()):
        print(f"note: {note}", file=sys.stderr)
    for warning in getattr(result, "warnings", ()):
        print(f"warning: {warning}", file=sys.stderr)
    if on_stdout:
        return
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    elif isinstance(result, org.OrgReport):
        report.print_org(Console(), result)
    else:
        report.print_scan(Console(), result.before, result.source)


def import_findings(args: argparse.Namespace, result, session, plan) -> int:
    """--security-hub: each account imports its own findings (through the role scan's role, or with the scanning
    session); 1, with a warning line, when some finding was not imported."""
    if plan:
        imported = security_hub.import_role_scan(result, plan, session)
    else:
        imported = security_hub.import_account_scan(result, session)
    print(imported.line(), file=sys.stderr if args.json else sys.stdout)
    if imported.failed:
        print(f"warning: {imported.warning()}", file=sys.stderr)
    return 1 if imported.failed else 0


def scan_exit_code(args: argparse.Namespace, result) -> int:
    """1, with a warning line, when an account, a region or a resource could not be scanned; 1 for NON_COMPLIANT
    with --fail-on-noncompliant; else 0."""
    if isinstance(result, org.OrgReport) and result.failures:
        print(f"warning: {len(result.failures)} account/region(s) not (fully) scanned: see Failures", file=sys.stderr)
        return 1
    for failure in getattr(result, "failures", ()):
        print(f"warning: {failure.reason}", file=sys.stderr)
    if getattr(result, "failures", None):
        return 1
    summary = scan.counts(result.before)
    if summary.get(scan.ERROR):
        print(f"warning: {summary[scan.ERROR]} evaluation(s) could not run: see the ERROR rows", file=sys.stderr)
        return 1
    return 1 if args.fail_on_noncompliant and summary["NON_COMPLIANT"] else 0


def scan_many(args: argparse.Namespace, project, pack: str, session, *, show_progress: bool, outputs):
    """An aggregator's accounts, or a role assumed in each listed (or every active) account and region; with the
    role scan's plan (None for an aggregator). A role scan appends each account and region to its .jsonl outputs
    as it finishes; with --resume, it first takes the pairs that one holds complete."""
    if args.aggregator and (args.accounts or args.org):
        raise UsageError("--aggregator reads every member from one account: give it without --accounts or --org")
    if args.aggregator and args.security_hub:
        raise UsageError(
            "--security-hub cannot import an --aggregator scan: Security Hub takes a finding through an account's "
            "default product only from that account, and the aggregator account would be importing its members' "
            "findings; scan with --accounts or --org and --role-name to import each account's findings there"
        )
    if args.aggregator:
        return org.scan_aggregator(project, pack, session, args.aggregator, only=args.rules), None
    if not args.role_name:
        raise UsageError("--accounts and --org need --role-name, the role to assume in each account")
    if args.accounts and args.org:
        raise UsageError("give --accounts or --org, not both")
    if args.regions and org.ALL_REGIONS in args.regions and len(args.regions) > 1:
        raise UsageError("--regions all stands alone: it scans each account's enabled regions")
    # The pack's excluded accounts, and the management account, where service-managed StackSets create no roles.
    excluded = set(project.packs[pack].excluded_accounts) if pack in project.packs else set()
    excluded |= {project.management_account_id} if project.management_account_id else set()
    notes: list[str] = []
    accounts = args.accounts or [a for a in org.organization_accounts(session, notes) if a not in excluded]
    pack_regions = list(project.packs[pack].regions if pack in project.packs else ()) or [session.region_name]
    regions = list(dict.fromkeys(args.regions or pack_regions))  # a region named twice is scanned once
    only = tuple(args.rules) if args.rules else None
    plan = org.RoleScan(project, pack, args.role_name, tuple(regions), only, args.source, tuple(pack_regions))
    streams = [output for output in outputs if output.format == STREAM and not output.to_stdout]
    first_line = stream.header(pack, f"role {args.role_name}", stream_plan(project, plan))
    finished, keep = resumed_pairs(args, streams, first_line)
    writers = [stream.StreamWriter(output.path, first_line, keep=keep) for output in streams]
    progress = pair_progress(show_progress)
    try:
        result = org.scan_with_role(
            plan,
            session,
            accounts,
            progress=progress,
            concurrency=args.concurrency,
            finished=finished,
            on_pair=lambda account, region, rows: [writer.pair(account, region, rows) for writer in writers],
        )
    except KeyboardInterrupt:
        kept = (
            f"the finished account and region pairs are in {streams[0].path}: run the same command with --resume "
            "to scan only the rest"
            if streams
            else "nothing was kept (with --output FILE.jsonl a scan keeps each pair as it finishes)"
        )
        raise ScanError(f"interrupted: {kept}") from None
    finally:
        for writer in writers:
            writer.close()
        if progress:
            progress.stop()
    result.notes[:0] = notes
    return result, plan


def stream_plan(project, plan: org.RoleScan) -> dict:
    """What a stream's rows depend on, so --resume refuses another scan's file: role, source, rules, parameters."""
    rules = scan.pack_rules(project, project.packs[plan.pack], plan.only) if plan.pack in project.packs else []
    return {
        "role": plan.role_name,
        "source": plan.source,
        "rules": {rule.name: scan.scan_parameters(rule) for rule in rules},
    }


def resumed_pairs(args: argparse.Namespace, streams, first_line: dict) -> tuple[dict, int | None]:
    """--resume: the pairs the one .jsonl output holds complete, and where its last complete pair ends (None: a new
    file; also when it does not exist yet, said in a note)."""
    if not args.resume:
        return {}, None
    if len(streams) != 1:
        raise UsageError(f"--resume needs exactly one --output FILE.jsonl to continue, got {len(streams)}")
    (output,) = streams
    if not output.path.exists():
        print(f"note: --resume: {output.path} does not exist yet: scanning every account and region", file=sys.stderr)
        return {}, None
    finished, keep = stream.read_stream(output.path, first_line)
    print(f"note: --resume: {len(finished)} account/region pair(s) complete in {output.path}", file=sys.stderr)
    return finished, keep


STREAM = "jsonl"  # the output format a role scan writes as it goes
ERROR_LINE_MAX = 1_000  # characters of an error line; the middle of a longer one is left out
SCALE_WARNING = 50  # demo --scale past this takes minutes: said first
DEMO_RESOURCES = 40  # about what one --scale seeds
TIMEOUT_MAX = 86_400  # deploy --timeout: a day
# AWS region names, as rdk-config.json's schema has them: us-east-1, us-gov-west-1, eu-isoe-west-1, eusc-de-east-1.
REGION_NAME = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}")
# A Config aggregator name (PutConfigurationAggregator's pattern and length).
AGGREGATOR_NAME = re.compile(r"[\w\-]{1,256}")


def account_id(text: str) -> str:
    if not re.fullmatch(r"\d{12}", text):
        raise argparse.ArgumentTypeError(f"expected a 12-digit account ID, got {text!r}")
    return text


def region_name(text: str) -> str:
    if not REGION_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected an AWS region name such as us-east-1, got {text!r}")
    return text


def region_or_all(text: str) -> str:
    return text if text == org.ALL_REGIONS else region_name(text)


def aggregator_name(text: str) -> str:
    if not AGGREGATOR_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"expected an AWS Config aggregator name (1 to 256 letters, digits, _ or -), got {text!r}"
        )
    return text


def timeout_seconds(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= TIMEOUT_MAX:
        raise argparse.ArgumentTypeError(f"expected whole seconds from 1 to {TIMEOUT_MAX}, got {text!r}")
    return int(text)


def concurrency(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= CONCURRENCY_MAX:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {CONCURRENCY_MAX}, got {text!r}")
    return int(text)


def scale(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= SCALE_MAX:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {SCALE_MAX}, got {text!r}")
    return value


class Parser(argparse.ArgumentParser):
    """argparse with errors as one `error:` line (main prints it) instead of usage text and an exit."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


PROJECT_HELP = "project folder holding rdk-config.json (default: the nearest one upward from here)"
SCAN_EXIT_CODES = (
    "exit codes: 0 scanned; 1 some resource could not be read or evaluated (ERROR rows), "
    "--fail-on-noncompliant and something is NON_COMPLIANT, or --security-hub and some finding was not "
    "imported; 2 the scan could not run (arguments, project files, credentials, region, or a whole-account "
    "access denied, Security Hub's included)"
)


def add_many_accounts_options(command: argparse.ArgumentParser) -> None:
    many = command.add_argument_group("many accounts and regions")
    many.add_argument(
        "--aggregator",
        metavar="NAME",
        type=aggregator_name,
        help="evaluate every member's recorded items in this AWS Config aggregator",
    )
    many.add_argument("--accounts", nargs="+", type=account_id, metavar="ID", help="assume --role-name in these")
    many.add_argument("--org", action="store_true", help="assume --role-name in every active account of the org")
    many.add_argument(
        "--role-name",
        metavar="ROLE",
        help="role to assume in each account: read-only, plus securityhub:BatchImportFindings for --security-hub",
    )
    many.add_argument(
        "--regions",
        nargs="+",
        type=region_or_all,
        metavar="REGION",
        help="regions to scan (default: the pack's regions); `all`: each account's enabled regions",
    )
    many.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted --accounts or --org scan from its --output FILE.jsonl: the account and region "
        "pairs it holds complete are not scanned again (nor are failed ones kept)",
    )
    many.add_argument(
        "--concurrency",
        type=concurrency,
        default=org.DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"account x region pairs scanned at once with --accounts or --org (default {org.DEFAULT_CONCURRENCY}); "
        "the results are the same for any N",
    )


def cmd_remediate(args: argparse.Namespace) -> int:
    return remediate_local(args) if args.local else remediate_many(args)


def caller_session(args: argparse.Namespace):
    """The caller's session in --region (or the profile's); refused by name without one."""
    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
    except ProfileNotFound as error:
        raise UsageError(f"{error}: check --profile or AWS_PROFILE") from error
    if not session.region_name:
        raise UsageError(NO_REGION)
    return session


def parameter_values(pairs: list[str]) -> dict[str, list[str]]:
    """--parameter Name=Value, repeated: a name given twice is a list (a StringList takes each)."""
    given: dict[str, list[str]] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise UsageError(f"--parameter {pair!r}: expected Name=Value")
        given.setdefault(name, []).append(value)
    return given


def remediate_local(args: argparse.Namespace) -> int:
    """One committed document run here, against the account the credentials reach: 0 Success, 1 the run failed
    (its step and message on stderr), 2 refused before any step."""
    if not args.document or args.pack or args.rule or args.accounts or args.org or args.resources:
        raise UsageError(
            "--local runs one --document with --parameter values; --pack, --rule, --accounts, --org "
            "and --resources are for remediation through AWS Config"
        )
    # Ignored, these would mislead: --dry-run would still change the resource, --output write no report.
    ignored = [
        option
        for option, given in (
            ("--dry-run", args.dry_run),
            ("--role-name", args.role_name),
            ("--regions", args.regions),
            ("--output", args.output),
            ("--format", args.format),
        )
        if given
    ]
    if ignored:
        dry_run = " (a document's own dry run is --parameter DryRun=true)" if args.dry_run else ""
        raise UsageError(
            f"{', '.join(ignored)}: not for --local, which runs the document once here and prints it (--json for "
            f"the whole execution){dry_run}"
        )
    root = project_root()
    runbook = load_runbook(root, args.document)
    session = caller_session(args)
    runner = Runner(session, session.region_name, project_root=root, as_caller=args.as_caller)
    execution = runner.start(runbook, parameter_values(args.parameter))
    for note in runner.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:  # timestamps in ISO 8601, as `aws ssm get-automation-execution` prints them
        print(json.dumps(execution, indent=2, default=iso_8601))
    else:
        print(f"{runbook.name} {execution['AutomationExecutionId']}: {execution['AutomationExecutionStatus']}")
        for step in execution["StepExecutions"]:
            print(f"  step {step['StepName']}: {step['StepStatus']}")
        for name, value in document_outputs(execution, runbook).items():
            print(f"{name}: {json.dumps(value, indent=2)}")
    if execution["AutomationExecutionStatus"] == "Success":
        return 0
    failed = [step["StepName"] for step in execution["StepExecutions"] if step["StepStatus"] != "Success"]
    where = f"step {failed[-1]}" if failed else "before any step"
    message = " ".join(execution.get("FailureMessage", "").split())  # one line, whatever the script raised
    print(f"error: {runbook.name} {where}: {message}", file=sys.stderr)
    return 1


def iso_8601(value) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def check_remediate_many(args: argparse.Namespace) -> None:
    """The options of remediation through AWS Config that go together, before anything is read."""
    if args.document or args.parameter or args.wait or args.as_caller:
        raise UsageError(
            "--document, --parameter, --wait and --as-caller go with --local; through AWS Config give --pack and "
            "--rule (it always follows each remediation to its end)"
        )
    if not args.rule:
        raise UsageError("give --rule (and --pack), or --local --document to run one document here")
    if (args.accounts or args.org) and not args.role_name:
        raise UsageError("--accounts and --org need --role-name, the role to assume in each account")
    if args.role_name and not (args.accounts or args.org):  # a forgotten --accounts must not mean this account
        raise UsageError(
            "--role-name is the role to assume in --accounts or --org: without them remediate works in the caller's "
            "own account"
        )
    if args.accounts and args.org:
        raise UsageError("give --accounts or --org, not both")


def remediate_many(args: argparse.Namespace) -> int:
    """Config's remediation of a pack rule's NON_COMPLIANT resources in this account, or --accounts/--org."""
    check_remediate_many(args)
    outputs = report.plan_outputs(args.output, args.format)
    remediation_report.check_formats(outputs)
    on_stdout = stdout_report(args, outputs)
    project = open_project(project_root())
    pack_name = args.pack or next(iter(project.packs))
    pack = project.packs.get(pack_name)
    if pack is None:
        raise UsageError(f"--pack {pack_name}: not a pack of rdk-config.json ({', '.join(project.packs)})")
    rules = {rule.name: rule for rule in pack.rules}
    if args.rule not in rules or not rules[args.rule].remediation.attach:
        raise UsageError(f"--rule {args.rule}: pack {pack_name} has no remediation for it")
    session = caller_session(args)
    notes: list[str] = []
    accounts = args.accounts
    if args.org:
        excluded = set(pack.excluded_accounts) | ({project.management_account_id} - {None})
        accounts = [a for a in org.organization_accounts(session, notes) if a not in excluded]
    regions = list(
        dict.fromkeys(args.regions or ([args.region] if args.region else list(pack.regions)) or [session.region_name])
    )
    where = f"{len(accounts)} account(s)" if accounts is not None else "this account"
    print(f"remediating {args.rule} of {pack_name} in {where} x {', '.join(regions)}", file=sys.stderr)
    request = bulk.Request(
        pack_name, args.rule, args.role_name, tuple(args.resources) if args.resources else None, args.dry_run
    )
    started = progress_bar(not args.json and sys.stderr.isatty(), "remediating")
    progress = bulk_progress(started) if started else None
    result = bulk.remediate(
        request, session, accounts, regions, project=project, concurrency=args.concurrency, progress=progress
    )
    result.notes[:0] = notes
    title = f"rdk guardrails remediation of {args.rule}"
    for output in outputs:
        remediation_report.write(output, result, title)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if not on_stdout:
        if args.json:
            print(json.dumps(result.as_dict(), indent=2))
        else:
            remediation_report.print_remediation(Console(), result)
    counts = result.counts()
    trouble = counts[bulk.FAILED] + counts[bulk.NOT_STARTED] + counts[bulk.RUNNING] + len(result.failures)
    return 1 if trouble else 0


def bulk_progress(started):
    """The progress bar's tick, without the failed flag bulk remediation passes."""

    def begin(total: int):
        tick = started(total)
        return lambda _failed: tick()

    return begin


REMEDIATE_EXIT_CODES = (
    "exit codes: 0 every remediation ran, or refused to act with its reason (REFUSED: it changed nothing), or "
    "--dry-run; 1 a remediation failed, did not start or was still running, or an account or region could not "
    "be remediated; with --local, 0 the run succeeded, 1 it failed (its step and message), 2 refused before "
    "any step (a parameter, the document) or a usage error"
)


def cmd_check(args: argparse.Namespace) -> int:
    """Templates judged by the pack's rules: 0 nothing found, 1 findings, 2 the check could not run."""
    outputs = report.plan_outputs(args.output, args.format)
    check_outputs.check_formats(outputs)
    on_stdout = stdout_report(args, outputs)
    project = open_project(project_root())
    pack_name = args.pack or next(iter(project.packs))
    result = check_run.check(project, pack_name, [Path(path) for path in args.paths], strict=args.strict)
    descriptions = {name: rule.description for name, rule in project.rules.items()}
    for output in outputs:
        check_outputs.write(output, result, f"rdk guardrails check with {pack_name}", descriptions)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if not on_stdout:
        if args.json:
            print(json.dumps(result.as_dict(), indent=2))
        else:
            check_outputs.print_check(Console(), result)
    return 1 if result.findings() else 0


def add_check_command(commands) -> None:
    check = commands.add_parser(
        "check",
        help="judge CloudFormation, SAM, CDK output and Terraform plans with a pack's rules, before deployment",
        epilog="exit codes: 0 nothing found; 1 findings (NON_COMPLIANT, an expired or incomplete waiver, and with "
        "--strict a verdict unknown until deployment); 2 the check could not run (a path, an unreadable or invalid "
        "template: one line naming the file and line)",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="template files, or folders searched for them")
    check.add_argument("--pack", help="the pack whose rules and parameters judge (default: the first)")
    check.add_argument("--strict", action="store_true", help="a verdict unknown until deployment is a finding")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    add_output_options(check, "; check writes .sarif, .json, .md and .xml")
    check.set_defaults(run=cmd_check)


def add_remediate_command(commands) -> None:
    fix = commands.add_parser(
        "remediate",
        help="start Config's remediation of a pack rule's NON_COMPLIANT resources, or run one document --local",
        epilog=REMEDIATE_EXIT_CODES,
    )
    fix.add_argument("--profile", help="AWS profile")
    fix.add_argument("--region", type=region_name, help="AWS region")
    local = fix.add_argument_group("one document, run here (no deployment needed)")
    local.add_argument("--local", action="store_true", help="run --document here as Systems Manager would")
    local.add_argument("--document", metavar="NAME", help="a document under remediations/")
    local.add_argument(
        "--parameter", action="append", default=[], metavar="NAME=VALUE", help="a parameter (repeat a name for a list)"
    )
    local.add_argument("--wait", action="store_true", help="wait for the run to end (a local run always does)")
    local.add_argument(
        "--as-caller",
        action="store_true",
        help="run the steps with your own credentials instead of assuming AutomationAssumeRole (as SSM would): the "
        "project's remediation role trusts only ssm.amazonaws.com",
    )
    through = fix.add_argument_group("through AWS Config (StartRemediationExecution)")
    through.add_argument("--pack", help="the pack (default: the first in rdk-config.json)")
    through.add_argument("--rule", help="the rule whose NON_COMPLIANT resources to remediate")
    through.add_argument(
        "--resources",
        nargs="+",
        metavar="ID",
        help="only these resource IDs (ACCOUNT:REGION:ID for one account and region)",
    )
    through.add_argument("--dry-run", action="store_true", help="list what would start, with its parameters")
    through.add_argument("--accounts", nargs="+", type=account_id, metavar="ID", help="assume --role-name in these")
    through.add_argument("--org", action="store_true", help="assume --role-name in every active account of the org")
    through.add_argument("--role-name", metavar="ROLE", help="role to assume in each account")
    through.add_argument(
        "--regions", nargs="+", type=region_name, metavar="REGION", help="default: --region, else the pack's regions"
    )
    through.add_argument(
        "--concurrency",
        type=concurrency,
        default=org.DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"account x region pairs at once (default {org.DEFAULT_CONCURRENCY})",
    )
    fix.add_argument("--json", action="store_true", help="print the results as JSON")
    add_output_options(fix, "; remediate writes .json, .jsonl, .md and .xml")
    fix.set_defaults(run=cmd_remediate)


def add_rollout_commands(commands) -> None:
    staging = commands.add_parser("stage", help="upload rule code, the rdklib layer and large templates to each region")
    staging.add_argument(
        "--regions", nargs="+", type=region_name, metavar="REGION", help="default: every organization pack's regions"
    )
    staging.add_argument("--dry-run", action="store_true", help="say what would be uploaded; upload nothing")
    staging.add_argument("--profile", help="AWS profile (the admin account)")
    staging.set_defaults(run=cmd_stage)
    for name, run, text in (
        ("rollout", cmd_rollout, "deploy every prerequisite StackSet, then the organization packs"),
        ("status", cmd_status, "every account and region's StackSet instances, pack members and drift"),
        ("remove", cmd_remove, "remove the packs, then the StackSets, then the staged code"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--org", action="store_true", help="the organization (from its delegated administrator)")
        if name != "remove":  # a StackSet is removed from every region at once: no half removal
            command.add_argument(
                "--regions", nargs="+", type=region_name, metavar="REGION", help="only these of the packs' regions"
            )
        command.add_argument("--profile", help="AWS profile (the admin account)")
        command.set_defaults(run=run)
        if name == "rollout":
            command.add_argument(
                "--ous",
                nargs="+",
                metavar="OU",
                help="add these target OUs to those deployed (first rollout: default the organization root)",
            )
        if name in ("rollout", "remove"):
            command.add_argument("--dry-run", action="store_true", help="print the plan; write nothing")
        if name == "rollout":
            command.add_argument(
                "--retry-failed",
                action="store_true",
                help="deploy again the StackSet instances that failed (only those), once their cause is fixed",
            )
        if name == "remove":
            command.add_argument("--confirm", action="store_true", help="really remove")
        if name == "status":
            command.add_argument("--pack", help="only this organization pack")
            command.add_argument("--json", action="store_true", help="print the status as JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="rdkpack", description=DESCRIPTION)
    parser.add_argument("--project", metavar="DIR", help=PROJECT_HELP)
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync-scripts", help="embed each remediation's script.py in its SSM document")
    sync.add_argument("--check", action="store_true", help="fail if a document is stale; write nothing")
    sync.set_defaults(run=cmd_sync_scripts)
    kit_sync = commands.add_parser("sync-kit", help="write the canonical rule kit into every rule folder")
    kit_sync.add_argument("--check", action="store_true", help="fail if a rule folder's copy is stale; write nothing")
    kit_sync.set_defaults(run=cmd_sync_kit)
    scaffold_rule = commands.add_parser("new-rule", help="scaffold rules/<NAME>/ in the project's shape")
    scaffold_rule.add_argument("name", metavar="NAME", help="UPPER_SNAKE rule name")
    scaffold_rule.add_argument("--resource-type", required=True, metavar="T", help="e.g. AWS::S3::Bucket")
    scaffold_rule.set_defaults(run=cmd_new_rule)
    build = commands.add_parser("build", help="generate conformance packs and prerequisites from rdk-config.json")
    build.add_argument("--check", action="store_true", help="fail if a committed generated file is stale")
    build.set_defaults(run=cmd_build)
    add_docs_command(commands)
    check = commands.add_parser("validate", help="check packs against AWS Config limits, documents and cfn-lint")
    check.set_defaults(run=cmd_validate)
    put = commands.add_parser("deploy", help="deploy a pack to this account, or with --org to the organization")
    put.add_argument("--pack", required=True, help="pack name from rdk-config.json")
    put.add_argument("--org", action="store_true", help="deploy as an organization conformance pack")
    put.add_argument("--dry-run", action="store_true", help="show the plan; deploy nothing")
    put.add_argument("--template-bucket", help="S3 bucket for templates over the 51,200-byte TemplateBody limit")
    put.add_argument(
        "--timeout", type=timeout_seconds, default=1800, help="seconds to wait for the pack (default 1800)"
    )
    put.add_argument("--profile", help="AWS profile")
    put.add_argument("--region", type=region_name, help="AWS region")
    put.set_defaults(run=cmd_deploy)
    add_rollout_commands(commands)
    show = commands.add_parser("demo", help="run the guardrails on an embedded (moto) account: no AWS needed")
    show.add_argument("--json", action="store_true", help="print the results as JSON")
    show.add_argument("--no-remediate", action="store_true", help="evaluate only; run no remediation")
    show.add_argument(
        "--scale", type=scale, default=1, help=f"seed N times as many resources, 1 to {SCALE_MAX} (default 1)"
    )
    add_output_options(show, " beside reports/demo-report.md and .html")
    show.set_defaults(run=cmd_demo)
    read = commands.add_parser(
        "scan", help="evaluate a real account with a pack's rules, read-only", epilog=SCAN_EXIT_CODES
    )
    read.add_argument("--profile", help="AWS profile")
    read.add_argument("--region", type=region_name, help="AWS region")
    read.add_argument("--pack", help="pack whose rules and parameters to use (default: the first in rdk-config.json)")
    read.add_argument("--rules", nargs="+", metavar="RULE", help="only these rules")
    read.add_argument(
        "--source",
        choices=("auto", "config", "api"),
        default="auto",
        help="configuration items from the Config recorder, the service APIs, or auto (recorder if on)",
    )
    read.add_argument("--json", action="store_true", help="print the results as JSON")
    add_output_options(read)
    read.add_argument("--fail-on-noncompliant", action="store_true", help="exit 1 when anything is NON_COMPLIANT")
    read.add_argument(
        "--security-hub",
        action="store_true",
        help="also import every evaluation into AWS Security Hub as an ASFF finding, each account its own "
        "(securityhub:BatchImportFindings: the scan's only write); not with --aggregator",
    )
    add_many_accounts_options(read)
    read.set_defaults(run=cmd_scan)
    add_remediate_command(commands)
    add_check_command(commands)
    for command in commands.choices.values():  # also after the subcommand; SUPPRESS keeps a top-level value
        command.add_argument("--project", metavar="DIR", default=argparse.SUPPRESS, help=PROJECT_HELP)
    return parser


def main(argv: list[str] | None = None) -> int:
    global _project_option  # noqa: PLW0603 - one run's --project, read by project_root()
    _project_option = None
    try:
        args = build_parser().parse_args(argv)
        refuse_blank_values(args)
        _project_option = args.project
        return run_command(args)
    except RdkPackError as error:
        return fail(str(error))
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return INTERRUPTED


def refuse_blank_values(args: argparse.Namespace) -> None:
    """No option means anything by an empty value or one holding a NUL (no path, name or ID can): refused by name
    before the command starts, instead of an empty path quietly meaning the current folder."""
    for dest, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and (not item.strip() or "\x00" in item):
                name = POSITIONAL.get(dest) or "--" + dest.replace("_", "-")
                raise UsageError(f"argument {name}: expected a value, got {item!r}")


def run_command(args: argparse.Namespace) -> int:
    """Run one command; the failures no command explains itself become RdkPackErrors naming the file or call."""
    try:
        return args.run(args)
    except (BotoCoreError, ClientError) as error:
        raise AwsError(explain(error, grantee="the identity rdkpack runs as")) from error
    except OSError as error:
        raise FileError(error.filename or "(file)", error.strerror or str(error)) from error


def fail(message: str) -> int:
    """A user error: one line on stderr, exit code 2; a message that quotes a huge value keeps its two ends."""
    line = " ".join(message.split())
    if len(line) > ERROR_LINE_MAX:
        cut = len(line) - ERROR_LINE_MAX + 40
        line = f"{line[: ERROR_LINE_MAX // 2]}...({cut:,} characters)...{line[-(ERROR_LINE_MAX // 2 - 40) :]}"
    print("error: " + line, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
