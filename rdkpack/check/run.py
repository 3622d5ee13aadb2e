"""rdkpack check: find the templates under the given paths, read each with its format's reader, judge every
resource with the pack's rules, and apply the waivers."""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from rdkpack.account.scan import WAIVER_SOON_DAYS, Result, expiring_waivers, scan_parameters
from rdkpack.check import cloudformation, terraform
from rdkpack.check.judge import LIVE_ONLY, UNKNOWN, Judgement, RuleJudge, TemplateClients, TemplateLambda
from rdkpack.check.model import LAMBDA_FUNCTION, TemplateError, TemplateResource
from rdkpack.check.waivers import ACTIVE, EXPIRED, INVALID, FileWaiver, expires_soon, read_waivers_file, status
from rdkpack.errors import FileError, RdkPackError
from rdkpack.project.config import Project
from rdkpack.project.files import decode, nesting

SUFFIXES = (".yaml", ".yml", ".json", ".template")
SKIPPED_FOLDERS = {
    ".git",
    ".terraform",
    "node_modules",
    ".venv",
    "__pycache__",
    ".aws-sam",
}  # .aws-sam: sam build's copy
CLOUDFORMATION_HINT = re.compile(
    r'(^\s*(Resources|AWSTemplateFormatVersion)\s*:)|("(Resources|AWSTemplateFormatVersion)"\s*:)', re.MULTILINE
)
NESTING_MAX = 500  # deeper than any template; libyaml and the JSON parser recurse
FORMAT = "rdkpack-check-report/1"
CLIENTS = functools.cache(TemplateClients)  # one Lambda client for every file of the run (and the process)


class CheckError(RdkPackError):
    """A template or path that cannot be checked: the message names the file and the line."""


@dataclass(frozen=True)
class Row:
    file: str
    line: int
    resource: str  # logical ID or Terraform address
    construct_path: str | None
    resource_type: str
    rule: str
    compliance: str  # COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, UNKNOWN, WAIVER
    message: str
    waiver: str | None = None  # active, expired, invalid
    waiver_note: str = ""

    def fails(self, strict: bool) -> bool:
        if self.waiver == ACTIVE:
            return False
        if self.waiver in (EXPIRED, INVALID) and self.compliance in ("NON_COMPLIANT", "WAIVER"):
            return True
        return self.compliance == "NON_COMPLIANT" or (strict and self.compliance == UNKNOWN)


@dataclass
class CheckReport:
    pack: str
    strict: bool = False
    files: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def findings(self) -> list[Row]:
        return [row for row in self.rows if row.fails(self.strict)]

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for row in self.rows:
            key = "WAIVED" if row.waiver == ACTIVE else row.compliance
            found[key] = found.get(key, 0) + 1
        return found

    def as_dict(self) -> dict:
        return {
            "format": FORMAT,
            "pack": self.pack,
            "strict": self.strict,
            "files": self.files,
            "summary": {**self.counts(), "findings": len(self.findings())},
            "results": [asdict(row) for row in self.rows],
            "notes": self.notes,
        }


def template_files(paths: list[Path]) -> list[tuple[Path, bool]]:
    """(file, named by the user) for each path: a file as given, a folder searched for template-like files."""
    found = []
    for path in paths:
        if path.is_file():
            found.append((path, True))
        elif path.is_dir():
            for candidate in sorted(path.rglob("*")):
                parts = set(candidate.relative_to(path).parts[:-1])
                if candidate.is_file() and candidate.suffix.lower() in SUFFIXES and not parts & SKIPPED_FOLDERS:
                    found.append((candidate, False))
        else:
            raise CheckError(f"{path}: no such file or folder")
    return found


def shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def read_resources(path: Path, named: bool) -> list[TemplateResource] | None:
    """The file's resources; None for a file that is neither a template nor a plan (a YAML or JSON file of another
    tool, as pre-commit hands over every such file; in a folder, one that is not UTF-8 too). A file that cannot be
    parsed, or a named one that cannot be read, stops the check."""
    where = shown(path)
    try:
        text = decode(path.read_bytes(), where)
    except (OSError, FileError) as error:
        if not named:
            return None
        reason = error if isinstance(error, FileError) else f"{where}: cannot be read: {error.strerror or error}"
        raise CheckError(str(reason)) from error
    if nesting(text) > NESTING_MAX:
        raise CheckError(f"{where}: nested more than {NESTING_MAX} levels deep: not a template rdkpack reads")
    try:
        if '"planned_values"' in text and path.suffix.lower() == ".json":
            data = terraform.parse_plan(text, where)
            return terraform.plan_resources(data, text, where) if terraform.is_plan(data) else None
        if named or CLOUDFORMATION_HINT.search(text):
            data = cloudformation.parse_template(text, where)
            return cloudformation.template_resources(data, where) if cloudformation.is_template(data) else None
    except TemplateError as error:
        raise CheckError(str(error)) from error
    except ValueError as error:
        raise CheckError(f"{where}: {error}") from error
    return None


def check(
    project: Project, pack_name: str, paths: list[Path], *, strict: bool = False, today: date | None = None
) -> CheckReport:
    today = today or datetime.now(UTC).date()  # the rules judge expiry by the UTC date too
    pack = project.packs.get(pack_name)
    if pack is None:
        raise CheckError(f"--pack {pack_name}: not a pack of rdk-config.json ({', '.join(project.packs)})")
    report = CheckReport(pack_name, strict)
    judges = []
    for pack_rule in pack.rules:
        if pack_rule.name in LIVE_ONLY:
            report.notes.append(f"{pack_rule.name} is not applicable here: {LIVE_ONLY[pack_rule.name]}")
            continue
        judges.append(RuleJudge.load(project.root, pack_rule.name, scan_parameters(pack_rule)))
    file_waivers = read_waivers_file(project.root)
    for path, named in template_files(paths):
        resources = read_resources(path, named)
        if resources is None:
            if named:
                report.notes.append(f"{shown(path)}: not a CloudFormation template or Terraform plan: skipped")
            continue
        report.files.append(shown(path))
        relative = relative_to(path, project.root)
        report.rows += judge_file(resources, judges, file_waivers, relative, today=today, notes=report.notes)
    if not report.files:
        named = ", ".join(str(path) for path in paths)
        raise CheckError(
            f"{named}: no CloudFormation template or Terraform plan found (expected .yaml, .json, .template)"
        )
    tagged = [
        Result(r.rule, r.resource_type, f"{r.file}:{r.line} {r.resource}", r.compliance, r.message) for r in report.rows
    ]
    report.notes += [f"waiver ends within {WAIVER_SOON_DAYS} days: {line}" for line in expiring_waivers(tagged, today)]
    if any(r.resource_type == LAMBDA_FUNCTION and r.rule == "LAMBDA_CODE_SIGNING_CHECK" for r in report.rows):
        report.notes.append(
            "LAMBDA_CODE_SIGNING_CHECK judges the attached config here; a layer's signature exists only once it is "
            "published, so layers are checked in the account"
        )
    return report


def relative_to(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return shown(path)


def judge_file(resources, judges, file_waivers: list[FileWaiver], relative: str, *, today: date, notes: list) -> list:
    lam = TemplateLambda(resources)
    clients = CLIENTS()
    clients.lam = lam
    rows = []
    for resource in resources:
        waivers = list(resource.waivers) + [w.waiver for w in file_waivers if w.covers(resource, relative)]
        for judge in judges:
            if judge.applies_to(resource):
                rows.append(with_waiver(row_of(judge.judge(resource, lam, clients)), waivers, today, notes))
        rows += [waiver_finding(resource, waiver, today) for waiver in waivers if status(waiver, today)[0] == INVALID]
        known = {judge.name for judge in judges} | set(LIVE_ONLY)
        rows += [no_such_rule(resource, waiver) for waiver in waivers if waiver.rule not in known]
    return rows


def row_of(judgement: Judgement) -> Row:
    resource = judgement.resource
    return Row(
        resource.file,
        resource.line_of(judgement.prop),
        resource.logical_id,
        resource.construct_path,
        resource.type,
        judgement.rule,
        judgement.compliance,
        judgement.message,
    )


def with_waiver(row: Row, waivers, today: date, notes: list) -> Row:
    """The row as its rule's waivers leave it: an active waiver (any of them: one renewed in the waivers file wins
    over an expired one in Metadata) suppresses a finding; else an expired one says so in the finding."""
    found: dict[str, str] = {}
    for waiver in waivers:
        if waiver.rule != row.rule:
            continue
        state, text = status(waiver, today)
        if state == ACTIVE and expires_soon(waiver, today):
            notes.append(f"{row.file}:{row.line} {row.resource}: the waiver of {row.rule} expires on {waiver.expires}")
        found.setdefault(state, text)
    if ACTIVE in found and row.compliance in ("NON_COMPLIANT", UNKNOWN):
        return Row(**{**asdict(row), "waiver": ACTIVE, "waiver_note": found[ACTIVE]})
    if ACTIVE not in found and EXPIRED in found and row.compliance == "NON_COMPLIANT":
        text = found[EXPIRED]
        return Row(**{**asdict(row), "message": f"{row.message} ({text})", "waiver": EXPIRED, "waiver_note": text})
    return row


def no_such_rule(resource: TemplateResource, waiver) -> Row:
    """A waiver of a rule the pack does not have (a typo) waives nothing: it says so instead of staying silent."""
    return waiver_row(
        resource, waiver, f"waiver of {waiver.rule} ({waiver.where}) names no rule of this pack: it waives nothing"
    )


def waiver_finding(resource: TemplateResource, waiver, today: date) -> Row:
    return waiver_row(resource, waiver, status(waiver, today)[1])


def waiver_row(resource: TemplateResource, waiver, text: str) -> Row:
    """A waiver that is itself a finding (RDK_WAIVER), at its resource."""
    place = (resource.file, resource.line, resource.logical_id, resource.construct_path, resource.type)
    return Row(*place, waiver.rule, "WAIVER", text, INVALID, text)
