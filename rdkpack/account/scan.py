"""Run the rules' own code over configuration items and collect the verdicts.

Two ways in: `evaluate_direct` calls the rule class with read-only clients from a session (what
`rdkpack scan` does: it never calls PutEvaluations), and `evaluate_with_handler` wraps each item in a
real Config event and calls the rule's `lambda_handler` (what the demo does, with resultToken TESTMODE).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from botocore.exceptions import ClientError
from rdklib import InvalidParametersError

from rdkpack import aws
from rdkpack.account.inventory import ERROR_KEY, collect
from rdkpack.aws import aws_errors, explain, is_credential_problem
from rdkpack.errors import ScanError
from rdkpack.project.config import Pack, Project
from rdkpack.project.loader import rule_module

ROLE_PARAMETERS = ("ExecutionRoleName", "AssumeRoleMode", "ExecutionRoleRegion")
ERROR = "ERROR"  # the verdict of a resource the scan could not read or evaluate
# The JSON shape of `scan --json` and `--report x.json` (rdkpack/project/schemas/scan-report.schema.json):
# the version changes when a field changes meaning or goes away; new fields may be added within one.
REPORT_FORMAT = "rdkpack-scan-report/1"
# The endpoint rule's annotation states the monthly cost of the AZs over the maximum.
ENDPOINT_COST = re.compile(r"cost about \$([\d,]+\.\d\d) a month")
# A resource exempt by a dated waiver (the rule kit's Exemption.reason): "Exempt until D: the R carries tag X (value)."
EXEMPT_UNTIL = re.compile(r"Exempt until ([0-9]{4}-[0-9]{2}-[0-9]{2}): the .+? carries tag (.+?)(?: \(.*)?\.?")


@dataclass(frozen=True)
class Result:
    rule: str
    resource_type: str
    resource_id: str
    compliance: str
    annotation: str
    account: str = ""  # set by organization-wide scans
    region: str = ""

    def as_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value or key not in ("account", "region")}


@dataclass(frozen=True)
class Failure:
    """What could not be scanned in an account and region: all of it, or only `rules` (an API they need failed)."""

    account: str
    region: str
    reason: str
    rules: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        found = {"account": self.account, "region": self.region, "reason": self.reason}
        return {**found, "rules": list(self.rules)} if self.rules else found


@dataclass
class ScanReport:
    """Results of one scan, shaped like the demo's report so one renderer serves both."""

    pack: str
    source: str
    before: list[Result]
    remediations: list = field(default_factory=list)
    after: list = field(default_factory=list)
    descriptions: dict = field(default_factory=dict)  # rule -> what it checks (parameters.json), for SARIF
    warnings: list = field(default_factory=list)  # what the reader could not see (a type the recorder skips)
    failures: list[Failure] = field(default_factory=list)  # rules not evaluated: an API they need failed

    def as_dict(self) -> dict:
        return {
            "format": REPORT_FORMAT,
            "pack": self.pack,
            "source": self.source,
            "summary": counts(self.before),
            "results": [r.as_dict() for r in self.before],
            **({"failures": [f.as_dict() for f in self.failures]} if self.failures else {}),
        }


def counts(results: list[Result]) -> dict[str, int]:
    """Evaluations per verdict; ERROR (a resource that could not be read or evaluated) only when there is one."""
    tally = Counter(result.compliance for result in results)
    verdicts = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE") + ((ERROR,) if tally[ERROR] else ())
    return {kind: tally.get(kind, 0) for kind in verdicts}


def excess_az_cost(results: list[Result]) -> float:
    """The monthly cost of endpoint AZs over the maximum, from the endpoint rule's NON_COMPLIANT annotations."""
    found = (ENDPOINT_COST.search(r.annotation) for r in results if r.compliance == "NON_COMPLIANT")
    return round(sum(float(match.group(1).replace(",", "")) for match in found if match), 2)


WAIVER_SOON_DAYS = 30  # scan and check list waivers that end within this many days


def expiring_waivers(results: list[Result], today: date, days: int = WAIVER_SOON_DAYS) -> list[str]:
    """Resources exempt by an ExemptionTag that expires within `days` of `today` (both included), soonest first:
    "<rule> <resource id> (<account> <region>): exempt until D (tag X)", the parenthesis only when the scan set them."""
    found = []
    for result in results:
        match = EXEMPT_UNTIL.fullmatch(result.annotation) if result.compliance == "NOT_APPLICABLE" else None
        try:
            until = date.fromisoformat(match.group(1)) if match else None
        except ValueError:  # a report edited by hand
            continue
        if until is None or not today <= until <= today + timedelta(days=days):
            continue
        where = " ".join(part for part in (result.account, result.region) if part)
        line = (
            f"{result.rule} {result.resource_id}{f' ({where})' if where else ''}: exempt until {until} (tag {match[2]})"
        )
        found.append((until, result.rule, result.resource_id, where, line))
    return [line for *_, line in sorted(found)]


class SessionClientFactory:
    """rdklib's ClientFactory interface over a boto3 session: no role assumption, standard retries, and
    the session's one client per service and region (the inventory's too)."""

    def __init__(self, session):
        self.session = session

    def build_client(self, service, region=None, *args, **kwargs):
        return aws.client(self.session, service, region)


def scan_parameters(pack_rule) -> dict:
    """The pack's parameters minus rdklib's role settings: a scan uses the caller's own credentials."""
    return {k: v for k, v in pack_rule.parameters.items() if k not in ROLE_PARAMETERS}


def applicable(resource_types, items: list[dict]) -> list[dict]:
    return [item for item in items if item["resourceType"] in resource_types]


def loaded_rule(root: Path, rule_name: str, raw_parameters: dict):
    """(the rule's module, an instance, its parsed parameters); a ScanError naming the rule for bad parameters."""
    module = rule_module(root, rule_name)
    rule = getattr(module, rule_name)()
    try:
        return module, rule, rule.evaluate_parameters(raw_parameters)
    except InvalidParametersError as error:
        raise ScanError(f"{rule_name}: {error}") from error


def evaluate_direct(root: Path, rule_name: str, raw_parameters: dict, items: list[dict], factory, *, on_item=None):
    module, rule, parameters = loaded_rule(root, rule_name, raw_parameters)
    chosen = applicable(module.APPLICABLE_RESOURCES, items)
    if hasattr(rule, "evaluate_items"):  # a rule that judges many items from account-wide lists
        return evaluate_batch(rule, rule_name, chosen, factory, parameters, on_item=on_item)
    results = []
    for item in chosen:
        results += evaluate_item(rule, rule_name, item, factory, parameters)
        if on_item:
            on_item()
    return results


def error_result(rule_name: str, item: dict, text: str) -> Result:
    return Result(rule_name, item["resourceType"], item["resourceId"], ERROR, text)


def evaluate_batch(rule, rule_name: str, items: list[dict], factory, parameters, *, on_item=None) -> list[Result]:
    """The rule's evaluate_items over every readable item at once (its lists instead of per-item calls)."""
    readable = [item for item in items if ERROR_KEY not in item]
    try:
        evaluations = rule.evaluate_items(factory, readable, parameters) if readable else []
    except ClientError as error:
        if is_credential_problem(error):
            raise
        evaluations, failure = None, explain(error)
    results = [error_result(rule_name, item, item[ERROR_KEY]) for item in items if ERROR_KEY in item]
    for index, item in enumerate(readable):
        if evaluations is None:
            results.append(error_result(rule_name, item, failure))
        else:
            e = evaluations[index]
            results.append(Result(rule_name, item["resourceType"], item["resourceId"], e.complianceType, e.annotation))
    for _ in items if on_item else ():
        on_item()
    return results


def evaluate_item(rule, rule_name: str, item: dict, factory, parameters) -> list[Result]:
    """The rule's verdicts on one item, or one ERROR result when the item or the rule's own calls failed."""
    if ERROR_KEY in item:
        return [Result(rule_name, item["resourceType"], item["resourceId"], ERROR, item[ERROR_KEY])]
    try:
        evaluations = rule.evaluate_change({}, factory, item, parameters)
    except ClientError as error:
        if is_credential_problem(error):
            raise
        # A denial on one resource (a resource policy, a tag condition) must not stop the scan.
        return [Result(rule_name, item["resourceType"], item["resourceId"], ERROR, explain(error))]
    return [
        Result(
            rule_name,
            item["resourceType"],
            e.complianceResourceId or item["resourceId"],
            e.complianceType,
            e.annotation,
        )
        for e in evaluations
    ]


def config_event(item: dict, raw_parameters: dict, rule_name: str, account: str = "123456789012") -> dict:
    invoking = {
        "configurationItem": item,
        "notificationCreationTime": item["configurationItemCaptureTime"],
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3",
    }
    return {
        "version": "1.0",
        "invokingEvent": json.dumps(invoking, default=str),
        "ruleParameters": json.dumps(raw_parameters),
        "resultToken": "TESTMODE",
        "eventLeftScope": False,
        "executionRoleArn": f"arn:aws:iam::{account}:role/config-recorder-role",
        "configRuleArn": f"arn:aws:config:us-east-1:{account}:config-rule/config-rule-{rule_name.lower()}",
        "configRuleName": rule_name,
        "configRuleId": f"config-rule-{rule_name.lower()}",
        "accountId": account,
    }


def evaluate_with_handler(root: Path, rule_name: str, raw_parameters: dict, items: list[dict]) -> list[Result]:
    module = rule_module(root, rule_name)
    results = []
    for item in applicable(module.APPLICABLE_RESOURCES, items):
        response = module.lambda_handler(config_event(item, raw_parameters, rule_name), None)
        if isinstance(response, dict):
            raise ScanError(f"{rule_name} returned an error for {item['resourceId']}: {response}")
        results += [
            Result(
                rule_name,
                e["ComplianceResourceType"],
                e["ComplianceResourceId"],
                e["ComplianceType"],
                e.get("Annotation", ""),
            )
            for e in response
        ]
    return results


def pack_rules(project: Project, pack: Pack, only: list[str] | None):
    chosen = [rule for rule in pack.rules if not only or rule.name in only]
    unknown = sorted(set(only or ()) - {rule.name for rule in pack.rules})
    if unknown:
        raise ScanError(
            f"pack {pack.name} has no rule {', '.join(unknown)}; it has {', '.join(r.name for r in pack.rules)}"
        )
    return chosen


def tagged_types(project: Project, rules) -> set[str]:
    """Resource types whose rules use an ExemptionTag: only those need a tag look-up."""
    return {
        kind
        for rule in rules
        if rule.parameters.get("ExemptionTag")
        for kind in project.rules[rule.name].resource_types
    }


def scan_account(
    project: Project, pack_name: str, session, *, only=None, source="auto", progress=None, partial=False
) -> ScanReport:
    """Evaluate live resources with the pack's rules and parameters; read-only. With `partial` (one of many accounts
    and regions), a resource type that cannot be read loses only its rules (report.failures); without, the scan
    stops with why."""
    pack = project.packs.get(pack_name)
    if pack is None:
        raise ScanError(f"no pack {pack_name!r} in rdk-config.json; packs: {', '.join(project.packs)}")
    rules = pack_rules(project, pack, only)
    for rule in rules:  # a rule that cannot load fails the scan before it reads the account
        rule_module(project.root, rule.name)
    kinds = sorted({kind for rule in rules for kind in project.rules[rule.name].resource_types})
    warnings: list[str] = []
    lost: dict[str, str] | None = {} if partial else None
    items, used = collect(session, kinds, source, frozenset(tagged_types(project, rules)), warnings=warnings, lost=lost)
    failures = lost_rules(project, rules, lost or {}, session.region_name)
    rules = [rule for rule in rules if not any(rule.name in f.rules for f in failures)]
    factory = SessionClientFactory(session)
    total = sum(len(applicable(project.rules[rule.name].resource_types, items)) for rule in rules)
    tick = progress(total) if progress else None
    results = []
    for rule in rules:
        with aws_errors():
            results += evaluate_direct(project.root, rule.name, scan_parameters(rule), items, factory, on_item=tick)
    descriptions = {rule.name: project.rules[rule.name].description for rule in rules}
    return ScanReport(pack.name, used, results, descriptions=descriptions, warnings=warnings, failures=failures)


def lost_rules(project: Project, rules, lost: dict[str, str], region: str) -> list[Failure]:
    """One failure per resource type that could not be read, naming the rules it leaves unevaluated (a rule with
    one of its types unread is not evaluated at all: its verdicts would be partial)."""
    failures = []
    for kind, reason in sorted(lost.items()):
        names = tuple(rule.name for rule in rules if kind in project.rules[rule.name].resource_types)
        failures.append(Failure("", region, f"{', '.join(names)} not evaluated: reading {kind}: {reason}", names))
    return failures
