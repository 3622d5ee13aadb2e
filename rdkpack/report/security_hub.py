"""A scan's verdicts imported into AWS Security Hub as ASFF findings: `rdkpack scan --security-hub`.

This is the only write a scan makes, and only with the flag: BatchImportFindings, 100 findings a call
(the API's limit). botocore's standard retry mode (rdkpack.aws.BOTO_CONFIG) retries throttling; findings
an answer lists under FailedFindings are sent again, FAILED_ATTEMPTS times at most with a growing pause,
unless the refusal is final (NOT_RETRIED), and those still refused are returned, never dropped.

Who imports: Security Hub takes a finding through an account's default product
(`arn:<partition>:securityhub:<region>:<account>:product/<account>/default`) only from the account named
in its AwsAccountId. So a single-account scan imports with the scanning session and a role scan with the
role assumed in each account; an aggregator scan cannot import at all.

One finding per evaluation. Its Id depends only on the region, account, rule, resource type and resource
id, so a re-scan updates the finding instead of adding another:

    Config verdict   Compliance.Status  RecordState  Workflow.Status  Severity.Label
    NON_COMPLIANT    FAILED             ACTIVE       NEW              MEDIUM
    COMPLIANT        PASSED             ARCHIVED     RESOLVED         INFORMATIONAL
    NOT_APPLICABLE   NOT_AVAILABLE      ARCHIVED     RESOLVED         INFORMATIONAL
    ERROR            NOT_AVAILABLE      ACTIVE       NEW              INFORMATIONAL

COMPLIANT and NOT_APPLICABLE are sent too, archived, so that a resource that was fixed (or left the rule's
scope) closes the finding an earlier scan opened. ERROR (the scan could not read or judge the resource)
is NOT_AVAILABLE, which the API reference reserves for a check that an API error stopped, and stays
active until a scan can judge it. Security Hub takes Workflow only when it creates a finding; afterwards
it reopens the finding itself (NEW) when it goes from ARCHIVED to ACTIVE or from PASSED to FAILED.

Severity and Types go both at the top level (read when Security Hub creates a finding) and in
FindingProviderFields (the only place a provider may change them later), so a fixed resource's finding
drops to INFORMATIONAL. CreatedAt and UpdatedAt are both the import's time: Security Hub ignores an update
whose UpdatedAt is not later than the stored one, and the scan keeps no state that would tell when a
resource first failed, so CreatedAt is the time of the import that sent this version of the finding.
"""

from __future__ import annotations

import hashlib
import time
import unicodedata
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from rdkpack import aws
from rdkpack.account import org
from rdkpack.account.scan import ERROR, Result
from rdkpack.aws import aws_errors, error_code, explain
from rdkpack.errors import SecurityHubError

SCHEMA_VERSION = "2018-10-08"
BATCH_SIZE = 100  # BatchImportFindings takes 1 to 100 findings a call
FAILED_ATTEMPTS = 5  # a finding listed under FailedFindings is sent this often at most
# Refusals the same finding would meet again: a malformed finding, and (the user guide's answer when Security Hub or
# the product is not enabled for the account) InvalidAccess.
NOT_RETRIED = frozenset({"InvalidInput", "InvalidAccess"})
FINDING_TYPE = "Software and Configuration Checks/AWS Config Analysis"
# Lengths in characters, from AwsSecurityFinding in the Security Hub API reference (botocore checks none).
TITLE_MAX, DESCRIPTION_MAX, PRODUCT_FIELD_MAX, ORIGINAL_SEVERITY_MAX = 256, 1024, 2048, 64
RULE_MAX = 128  # AWS Config's limit on a rule's name: keeps the finding Id within its 512 characters
# Resources[].Id has no documented limit: this cap keeps a malformed id from filling the 240 KB a finding may hold.
RESOURCE_ID_MAX = 2048
UNREADABLE = frozenset({"Cc", "Cf", "Cs"})  # control, format (bidi overrides, zero-width) and lone surrogates

# Config resource type -> ASFF Resources[].Type. ASFF has AwsEc2VpcEndpointService (an endpoint *service*)
# but no type for an endpoint, which is therefore "Other", like any type not listed here.
ASFF_TYPES = {"AWS::Lambda::Function": "AwsLambdaFunction", "AWS::S3::Bucket": "AwsS3Bucket"}
ARN_FORMATS = {
    "AWS::Lambda::Function": "arn:{partition}:lambda:{region}:{account}:function:{id}",
    "AWS::S3::Bucket": "arn:{partition}:s3:::{id}",
    "AWS::EC2::VPCEndpoint": "arn:{partition}:ec2:{region}:{account}:vpc-endpoint/{id}",
}


@dataclass(frozen=True)
class Verdict:
    compliance: str
    record_state: str
    workflow: str
    severity: str


VERDICTS = {
    "NON_COMPLIANT": Verdict("FAILED", "ACTIVE", "NEW", "MEDIUM"),
    "COMPLIANT": Verdict("PASSED", "ARCHIVED", "RESOLVED", "INFORMATIONAL"),
    "NOT_APPLICABLE": Verdict("NOT_AVAILABLE", "ARCHIVED", "RESOLVED", "INFORMATIONAL"),
    ERROR: Verdict("NOT_AVAILABLE", "ACTIVE", "NEW", "INFORMATIONAL"),
}


@dataclass(frozen=True)
class Target:
    """The account that owns (and imports) a set of findings, and its region and partition."""

    account: str
    region: str
    partition: str

    @property
    def product_arn(self) -> str:
        """The default product, through which an account imports its own findings."""
        return f"arn:{self.partition}:securityhub:{self.region}:{self.account}:product/{self.account}/default"


@dataclass(frozen=True)
class Refusal:
    """Findings Security Hub did not take: where, how many, an Id (none when it refused the account) and why."""

    account: str
    region: str
    count: int
    reason: str
    finding_id: str = ""


@dataclass
class ImportSummary:
    """What an import did: how many findings Security Hub took, and those it did not take, with why."""

    imported: int = 0
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(refusal.count for refusal in self.refusals)

    def add(self, other: ImportSummary) -> ImportSummary:
        self.imported += other.imported
        self.refusals += other.refusals
        return self

    def line(self) -> str:
        return f"security hub: imported {self.imported} finding(s) ({self.failed} failed)"

    def warning(self) -> str:
        first = self.refusals[0]
        where = f"{first.account} {first.region}" + (f" {first.finding_id}" if first.finding_id else "")
        return (
            f"{self.failed} finding(s) were not imported into Security Hub (first: {where}: {first.reason}); "
            "run the scan again to send them again"
        )


# ---- one evaluation as one ASFF finding ----


def clean(text: str, limit: int) -> str:
    """Text without control, format or surrogate characters, whitespace runs as one space, at most limit long."""
    kept = " ".join("".join(" " if unicodedata.category(c) in UNREADABLE else c for c in text).split())
    return kept if len(kept) <= limit else kept[: limit - 1] + "…"


def finding_id(target: Target, result: Result) -> str:
    """Stable across scans; the resource part is hashed, so any resource id gives a short, safe Id."""
    resource = f"{result.resource_type}|{result.resource_id}".encode("utf-8", "surrogatepass")
    rule = clean(result.rule, RULE_MAX).replace(" ", "_")
    return f"rdkpack/{target.region}/{target.account}/{rule}/{hashlib.sha256(resource).hexdigest()}"


def resource(target: Target, result: Result) -> dict:
    """The evaluated resource: its ASFF type, and its ARN where one can be built from the id."""
    shown = clean(result.resource_id, RESOURCE_ID_MAX) or "(no id)"
    arn = ARN_FORMATS.get(result.resource_type)
    ident = {"partition": target.partition, "region": target.region, "account": target.account, "id": shown}
    return {
        "Type": ASFF_TYPES.get(result.resource_type, "Other"),
        "Id": clean(arn.format(**ident), RESOURCE_ID_MAX) if arn else shown,
        "Partition": target.partition,
        "Region": target.region,
    }


def to_finding(target: Target, result: Result, pack: str, now: str) -> dict:
    """One evaluation as an ASFF finding, every string cleaned and cut to its limit (see the module's table)."""
    verdict = VERDICTS.get(result.compliance, VERDICTS[ERROR])
    severity = {"Label": verdict.severity, "Original": clean(result.compliance, ORIGINAL_SEVERITY_MAX)}
    subject = f"{result.resource_type} {result.resource_id}"
    description = clean(result.annotation, DESCRIPTION_MAX) or clean(f"{subject}: {result.compliance}", DESCRIPTION_MAX)
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(target, result),
        "ProductArn": target.product_arn,
        "GeneratorId": f"rdkpack/{clean(result.rule, RULE_MAX)}",
        "AwsAccountId": target.account,
        "Types": [FINDING_TYPE],
        "CreatedAt": now,
        "UpdatedAt": now,
        "Severity": severity,
        "FindingProviderFields": {"Severity": severity, "Types": [FINDING_TYPE]},
        # Rule and verdict first: a long resource id is what gets cut.
        "Title": clean(f"{result.rule} {result.compliance}: {subject}", TITLE_MAX),
        "Description": description,
        "Resources": [resource(target, result)],
        "Compliance": {"Status": verdict.compliance},
        "RecordState": verdict.record_state,
        "Workflow": {"Status": verdict.workflow},
        "ProductFields": {
            key: clean(value, PRODUCT_FIELD_MAX) or "-"
            for key, value in (
                ("rdkpack/Rule", result.rule),
                ("rdkpack/Pack", pack),
                ("rdkpack/Verdict", result.compliance),
                ("rdkpack/ResourceType", result.resource_type),
            )
        },
    }


def timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as Security Hub shows its own."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ---- sending ----


def send_batch(send, batch: list[dict], *, sleep=None) -> tuple[int, list[dict]]:
    """send(findings) until Security Hub takes every finding of one batch, FAILED_ATTEMPTS times at most, with a
    growing pause; returns how many it took and its last FailedFindings entry for each it never took."""
    imported, refused, pending = 0, [], batch
    for attempt in range(FAILED_ATTEMPTS):
        if attempt:
            (sleep or time.sleep)(0.2 * 2 ** (attempt - 1))
        try:
            answer = send(pending)
        except (ClientError, BotoCoreError) as error:
            if not attempt:
                raise  # nothing of this batch was taken: the caller decides (a refused account stops there)
            # Some of the batch was taken already: count it, and report the rest with the error, never as dropped.
            code = error_code(error) if isinstance(error, ClientError) else type(error).__name__
            return imported, refused + [
                {"Id": finding["Id"], "ErrorCode": code, "ErrorMessage": str(error)} for finding in pending
            ]
        failed = {entry["Id"]: entry for entry in answer.get("FailedFindings", [])}
        answers = [failed[finding["Id"]] for finding in pending if finding["Id"] in failed]
        imported += len(pending) - len(answers)
        refused += [answer for answer in answers if answer["ErrorCode"] in NOT_RETRIED]
        pending = [finding for finding in pending if finding["Id"] in failed]
        pending = [finding for finding in pending if failed[finding["Id"]]["ErrorCode"] not in NOT_RETRIED]
        if not pending:
            break
    return imported, refused + [failed[finding["Id"]] for finding in pending]


def refusal_reason(error: Exception, target: Target, grantee: str) -> str:
    if isinstance(error, ClientError) and error_code(error) == "InvalidAccessException":
        message = error.response.get("Error", {}).get("Message", "")
        return (
            f"Security Hub is not enabled for account {target.account} in {target.region} ({message}): "
            "enable it there, or scan without --security-hub"
        )
    return explain(error, grantee)


def import_target(
    session, target: Target, results: list[Result], pack: str, grantee: str, *, now: str = "", sleep=None
) -> ImportSummary:
    """One account and region's findings, imported with that account's own session. When Security Hub refuses the
    account itself (access denied, not enabled) the rest is one Refusal without a finding Id."""
    client = aws.client(session, "securityhub", target.region)
    now = now or timestamp()
    # One finding per Id: two evaluations of one resource by one rule would overwrite each other anyway.
    findings = list({f["Id"]: f for f in (to_finding(target, r, pack, now) for r in results)}.values())
    summary = ImportSummary()
    for start in range(0, len(findings), BATCH_SIZE):
        try:
            imported, refused = send_batch(
                lambda batch: client.batch_import_findings(Findings=batch),
                findings[start : start + BATCH_SIZE],
                sleep=sleep,
            )
        except (ClientError, BotoCoreError) as error:
            reason = refusal_reason(error, target, grantee)
            summary.refusals.append(Refusal(target.account, target.region, len(findings) - start, reason))
            return summary
        summary.imported += imported
        summary.refusals += [
            Refusal(target.account, target.region, 1, f"{entry['ErrorCode']}: {entry['ErrorMessage']}", entry["Id"])
            for entry in refused
        ]
    return summary


def caller_target(session) -> Target:
    """The scanning session's own account (STS GetCallerIdentity), region and partition."""
    with aws_errors():
        identity = aws.client(session, "sts").get_caller_identity()
    return Target(identity["Account"], session.region_name, identity["Arn"].split(":")[1])


def import_account_scan(report, session, **options) -> ImportSummary:
    """A single-account scan's findings, imported by the scanning session; a SecurityHubError when Security Hub
    refuses the account (nothing else can be imported then)."""
    grantee = "the scanning identity (the one write --security-hub makes)"
    summary = import_target(session, caller_target(session), report.before, report.pack, grantee, **options)
    stopped = next((refusal for refusal in summary.refusals if not refusal.finding_id), None)
    if stopped:
        before = f"; {summary.imported} finding(s) were imported before" if summary.imported else ""
        raise SecurityHubError(f"security hub: {stopped.reason}{before}")
    return summary


def import_role_scan(report, plan: org.RoleScan, session, **options) -> ImportSummary:
    """A role scan's findings, each account's imported by that account through the role the scan assumed there,
    org.ACCOUNTS_AT_ONCE accounts at a time; an account or region Security Hub refuses is a Refusal."""
    targets: dict[str, dict[str, list[Result]]] = defaultdict(lambda: defaultdict(list))
    for result in report.before:
        targets[result.account][result.region].append(result)
    sts = aws.client(session, "sts")
    options.setdefault("now", timestamp())  # one time for the whole import

    def one(account: str) -> ImportSummary:
        regions, summary = targets[account], ImportSummary()
        try:
            credentials = plan.credentials(sts, account)
        except (ClientError, BotoCoreError) as error:
            refused = isinstance(error, ClientError)  # the member's role, the scanner, or the network: named
            reason = plan.refusal(error, account) if refused else f"cannot assume {plan.role_name}: {explain(error)}"
            summary.refusals += [Refusal(account, region, len(found), reason) for region, found in regions.items()]
            return summary
        grantee = f"role {plan.role_name} in account {account}"
        for region, found in regions.items():
            target = Target(account, region, plan.project.partition)
            session_there = org.assumed_session(credentials, region)
            summary.add(import_target(session_there, target, found, report.pack, grantee, **options))
        return summary

    total = ImportSummary()
    with ThreadPoolExecutor(max_workers=org.ACCOUNTS_AT_ONCE) as pool:
        for summary in pool.map(one, sorted(targets)):
            total.add(summary)
    return total
