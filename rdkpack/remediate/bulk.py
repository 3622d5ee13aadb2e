"""Start AWS Config's remediation for one pack rule's NON_COMPLIANT resources in many accounts and regions, and
follow each execution to its end.

In each account and region: find the pack as Config deployed it (`<pack>`, or `OrgConformsPack-<pack>-<suffix>` for
an organization pack) and the rule inside it (`<RULE>-conformance-pack-<suffix>`), its remediation configuration,
and its NON_COMPLIANT resources; then StartRemediationExecution at most 100 resources a call, with no more than
IN_FLIGHT automations of ours running at once in that account and region (Systems Manager runs 100 concurrent
automations an account and region and queues the rest, shared with everything else there), and
DescribeRemediationExecutionStatus until each ends (a status invoked before our start is an earlier execution's, and
is waited past). A remediation whose script refused to act (its RemediationRefused, raised before any write: an
expiring lifecycle rule without IncludeExpiringRules, a deletion without ApproveDeletion) is REFUSED, with the
script's reason; any other failure is FAILED.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError

from rdkpack import aws
from rdkpack.account import org
from rdkpack.automation.config_remediation import RemediationConfiguration
from rdkpack.errors import RdkPackError
from rdkpack.remediate.config_reads import (
    deployed_pack,
    deployed_rule,
    noncompliant,
    remediation_of,
    selected,
    server_time,
)
from rdkpack.remediate.outcomes import (
    FAILED,
    NOT_STARTED,
    REFUSED,
    REMEDIATED,
    RUNNING,
    WOULD_START,
    Outcome,
    PairFailure,
    RemediationReport,
)

CLOCK_SLACK = timedelta(seconds=1)  # the Date header has whole seconds
START_BATCH = 100  # StartRemediationExecution and DescribeRemediationExecutionStatus: at most 100 resource keys
IN_FLIGHT = 50  # half of Systems Manager's 100 concurrent automations an account and region: the rest is theirs
POLL_SECONDS = 10.0
FOLLOW_SECONDS = 900.0  # an aws:executeScript step runs at most 600 s; Config may queue the execution before it
# The scripts raise RemediationRefused only before any write; the failure's last exception line names the class.
REFUSAL = "RemediationRefused"
EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*): ", re.MULTILINE)
ROLE_SESSION_NAME = "rdkpack-remediate"
WRITES = (("config", "StartRemediationExecution"),)
READS = (
    ("config", "DescribeConformancePacks"),
    ("config", "DescribeConformancePackCompliance"),
    ("config", "DescribeRemediationConfigurations"),
    ("config", "GetComplianceDetailsByConfigRule"),
    ("config", "DescribeRemediationExecutionStatus"),
)


@dataclass(frozen=True)
class Request:
    """What to remediate: the pack and rule, the role to assume in each account (None: the caller's own account),
    only these resource IDs (None: every NON_COMPLIANT one), and whether only to say what would start."""

    pack: str
    rule: str
    role_name: str | None = None
    resources: tuple[str, ...] | None = None
    dry_run: bool = False
    poll_seconds: float = POLL_SECONDS
    follow_seconds: float = FOLLOW_SECONDS
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class StarterRoles(org.RoleScan):
    """The role rdkpack assumes in each account to start and follow remediations: not the read-only scan role, so
    a refusal names what this role needs, and CloudTrail shows the session as a remediation's."""

    def credentials(self, sts, account: str) -> dict:
        arn = org.role_arn(self.project, account, self.role_name)
        return sts.assume_role(RoleArn=arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]

    def refusal(self, error: ClientError, account: str, state: str | None = None) -> str:
        if state or not aws.is_access_denied(error):
            return super().refusal(error, account, state)
        return (
            f"cannot assume {self.role_name}: access denied for sts:AssumeRole on "
            f"{org.role_arn(self.project, account, self.role_name)}: in account {account}, the role is missing or "
            "does not trust the account rdkpack runs in; or the identity rdkpack runs as may not call sts:AssumeRole "
            f"on it (the role needs {', '.join(f'{service}:{operation}' for service, operation in READS + WRITES)})"
        )


def explained(error: Exception, request: Request, account: str) -> str:
    """An AWS error in a member account as one line: a permission missing there is the assumed role's to grant."""
    role = request.role_name
    grantee = f"role {role} in account {account}" if role else "the identity rdkpack runs as"
    return " ".join(aws.explain(error, grantee=grantee).split())


def refusal_or_failure(message: str) -> str:
    """REFUSED when the script's final exception is its RemediationRefused (nothing written); FAILED otherwise."""
    raised = EXCEPTION_LINE.findall(message)
    return REFUSED if raised and raised[-1].rsplit(".", 1)[-1] == REFUSAL else FAILED


class Pair:
    """One account and region: plan, start in batches under IN_FLIGHT, follow to the end."""

    def __init__(self, request: Request, session, account: str, region: str):
        self.request, self.account, self.region = request, account, region
        self.config = aws.client(session, "config", region)
        self.started: dict[tuple[str, str], datetime] = {}

    def outcome(self, key: tuple[str, str], outcome: str, message: str = "") -> Outcome:
        return Outcome(self.account, self.region, self.request.rule, key[0], key[1], outcome, message)

    def run(self) -> tuple[list[Outcome], set[str]]:
        """The outcomes, and which of the requested resource IDs (--resources) are NON_COMPLIANT here."""
        pack_name = deployed_pack(self.config, self.request.pack)
        if pack_name is None:
            raise RdkPackError(f"pack {self.request.pack} is not deployed in account {self.account} {self.region}")
        rule_name = deployed_rule(self.config, pack_name, self.request.rule)
        if rule_name is None:
            raise RdkPackError(f"pack {pack_name} in account {self.account} {self.region} has no {self.request.rule}")
        remediation = remediation_of(self.config, rule_name, self.request.pack, self.request.rule)
        if remediation is None:
            raise RdkPackError(f"{rule_name} in account {self.account} {self.region} has no remediation configured")
        keys = noncompliant(self.config, rule_name)
        found: set[str] = set()
        if self.request.resources is not None:
            wanted = []
            for key in keys:
                matched = {s for s in self.request.resources if selected(s, self.account, self.region, key[1])}
                found |= matched
                wanted += [key] if matched else []
            keys = wanted
        if self.request.dry_run:
            return [self.would_start(key, remediation) for key in keys], found
        return self.start_and_follow(rule_name, keys), found

    def would_start(self, key: tuple[str, str], remediation: RemediationConfiguration) -> Outcome:
        try:
            sent = remediation.automation_parameters(key[1])
        except RdkPackError as error:
            return self.outcome(key, NOT_STARTED, str(error))
        shown = ", ".join(f"{name}={','.join(values)}" for name, values in sent.items())
        return self.outcome(key, WOULD_START, f"{remediation.document} with {shown}")

    def start_and_follow(self, rule_name: str, keys: list[tuple[str, str]]) -> list[Outcome]:
        """Start in batches, never more than IN_FLIGHT of ours running, and follow each to its end. Following stops
        `follow_seconds` after the last start: what still runs is STILL_RUNNING, what waits for room NOT_STARTED.
        A start AWS refuses leaves the rest NOT_STARTED, with AWS's reason, and what runs is still followed; a status
        read AWS refuses ends the following (what already started keeps its row: it may have changed the resource)."""
        done: dict[tuple[str, str], Outcome] = {}
        waiting = list(keys)
        running: list[tuple[str, str]] = []
        deadline = time.monotonic() + self.request.follow_seconds
        while waiting or running:
            room = min(START_BATCH, IN_FLIGHT - len(running))
            if waiting and room > 0:
                batch, waiting = waiting[:room], waiting[room:]
                try:
                    running += self.start(rule_name, batch, done)
                    deadline = time.monotonic() + self.request.follow_seconds
                except (ClientError, BotoCoreError) as error:
                    self.give_up([], batch + waiting, done, self.explain(error))
                    waiting = []
            if not running:
                continue
            self.request.sleep(self.request.poll_seconds)
            try:
                running = self.poll(rule_name, running, done)
            except (ClientError, BotoCoreError) as error:
                self.give_up(running, waiting, done, self.explain(error))
                break
            if running and time.monotonic() > deadline:
                self.give_up(
                    running, waiting, done, f"rdkpack stopped following it after {self.request.follow_seconds:g} s"
                )
                break
        return [done[key] for key in keys]

    def explain(self, error: Exception) -> str:
        return explained(error, self.request, self.account)

    def give_up(self, running: list, waiting: list, done: dict, reason: str) -> None:
        """What runs is STILL_RUNNING and what waits NOT_STARTED, for this reason."""
        for key in running:
            done[key] = self.outcome(key, RUNNING, f"still running: {reason}")
        for key in waiting:
            done[key] = self.outcome(key, NOT_STARTED, f"not started: {reason}")

    def start(self, rule_name: str, batch: list[tuple[str, str]], done: dict) -> list[tuple[str, str]]:
        answer = self.config.start_remediation_execution(
            ConfigRuleName=rule_name, ResourceKeys=[{"resourceType": t, "resourceId": i} for t, i in batch]
        )
        failed = {(item["resourceType"], item["resourceId"]) for item in answer.get("FailedItems", [])}
        started = server_time(answer)
        if started is not None:
            self.started.update({key: started - CLOCK_SLACK for key in batch})
        for key in failed:
            done[key] = self.outcome(key, NOT_STARTED, answer.get("FailureMessage") or "Config did not start it")
        return [key for key in batch if key not in failed]

    def stale(self, key: tuple[str, str], status: dict) -> bool:
        invoked, started = status.get("InvocationTime"), self.started.get(key)
        return isinstance(invoked, datetime) and started is not None and invoked < started

    def poll(self, rule_name: str, running: list[tuple[str, str]], done: dict) -> list[tuple[str, str]]:
        still = []
        for start in range(0, len(running), START_BATCH):
            chunk = running[start : start + START_BATCH]
            answer = self.config.describe_remediation_execution_status(
                ConfigRuleName=rule_name, ResourceKeys=[{"resourceType": t, "resourceId": i} for t, i in chunk]
            )
            states = {
                (item["ResourceKey"]["resourceType"], item["ResourceKey"]["resourceId"]): item
                for item in answer.get("RemediationExecutionStatuses", [])
            }
            for key in chunk:
                status = states.get(key)
                if (
                    status is None
                    or status.get("State") in ("QUEUED", "IN_PROGRESS", "UNKNOWN")
                    or self.stale(key, status)
                ):
                    still.append(key)
                elif status["State"] == "SUCCEEDED":
                    done[key] = self.outcome(key, REMEDIATED)
                else:
                    message = "; ".join(
                        step.get("ErrorMessage", "")
                        for step in status.get("StepDetails", [])
                        if step.get("ErrorMessage")
                    )
                    done[key] = self.outcome(key, refusal_or_failure(message), message or "the remediation failed")
        return still


def remediate(
    request: Request,
    session,
    accounts: list[str] | None,
    regions: list[str],
    *,
    project=None,
    concurrency: int = org.DEFAULT_CONCURRENCY,
    progress: Callable[[int], Callable[[bool], None]] | None = None,
) -> RemediationReport:
    """Each account (None: the caller's own) x region, `concurrency` pairs at once; the report in the order given."""
    report = RemediationReport(request.pack, request.rule, request.dry_run)
    # None: the caller's own account; an empty list (an organization with no account left to remediate): none.
    pairs = [(account, region) for account in ([None] if accounts is None else accounts) for region in regions]
    credentials = None
    if accounts is not None:
        plan = StarterRoles(project, request.pack, request.role_name, tuple(regions))
        credentials = org.AccountCredentials(plan, session)
    tick = progress(len(pairs)) if progress else None

    def one(pair) -> tuple[list[Outcome], set[str], PairFailure | None]:
        account, region = pair
        result = run_pair(request, session, credentials, account, region)
        if tick:
            tick(result[2] is not None)
        return result

    found: set[str] = set()
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(pairs)))) as pool:
        for outcomes, found_here, failure in pool.map(one, pairs):
            report.outcomes += outcomes
            found |= found_here
            if failure:
                report.failures.append(failure)
    missing = [resource for resource in dict.fromkeys(request.resources or ()) if resource not in found]
    if missing:  # once for the run: a resource ID is not expected in every account and region
        read = "account and region read" if report.failures else "account and region"
        report.notes.append(f"not NON_COMPLIANT in Config in any {read}, left alone: {', '.join(missing)}")
    return report


def run_pair(request: Request, session, credentials, account: str | None, region: str):
    where = account
    if credentials is None:
        try:
            where = aws.client(session, "sts").get_caller_identity()["Account"]
        except (ClientError, BotoCoreError) as error:
            return [], set(), PairFailure("(this account)", region, explained(error, request, "(this account)"))
    else:
        found = credentials.of(account)
        if isinstance(found, str):
            return [], set(), PairFailure(account, region, found)
        session = org.assumed_session(found, region)
    try:
        outcomes, found_here = Pair(request, session, where, region).run()
    except RdkPackError as error:
        return [], set(), PairFailure(where, region, str(error))
    except (ClientError, BotoCoreError) as error:
        return [], set(), PairFailure(where, region, explained(error, request, where))
    return [replace(outcome, account=where) for outcome in outcomes], found_here, None
