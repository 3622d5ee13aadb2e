"""One read-only view of many accounts and regions: through an AWS Config aggregator, or a role in each.

An aggregator holds every member's recorded items in one account: `scan_aggregator` evaluates them
with the same rule code and needs no role in the members, but only for rules that read nothing but
the item (their IAM_PERMISSIONS are empty). `scan_with_role` assumes a role in each account and scans
each region live, a bounded number of accounts at a time; an account that fails is reported and the
others go on.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError

from rdkpack import aws
from rdkpack.account.inventory import from_recorded, read_in_batches
from rdkpack.account.role_session import RoleSession
from rdkpack.account.scan import (
    ERROR,
    REPORT_FORMAT,
    Failure,
    Result,
    counts,
    evaluate_direct,
    excess_az_cost,
    pack_rules,
    rule_module,
    scan_account,
    scan_parameters,
)
from rdkpack.aws import aws_errors, explain
from rdkpack.errors import RdkPackError, ScanError
from rdkpack.project.config import Project

ACCOUNTS_AT_ONCE = 4  # Security Hub imports, an account at a time each
# Account x region pairs scanned at once (--concurrency). A pair's calls are bound by request latency, not CPU, and
# each pair has its own per-account, per-region API quotas (the code-signing sweep paces its Lambda calls within a
# pair); only AssumeRole, once per account, goes through the scanning account's STS.
DEFAULT_CONCURRENCY = 16
ALL_REGIONS = "all"  # --regions all: each account's enabled regions
ENABLED_REGIONS = {"opt-in-not-required", "opted-in"}  # DescribeRegions OptInStatus
ROLE_SESSION_NAME = "rdkpack-scan"
ACTIVE = "ACTIVE"  # an organization account's state (ListAccounts, DescribeAccount)
# Assumed-role credentials last an hour: a pair starting with less than this left gets new ones first.
CREDENTIALS_REFRESH = timedelta(minutes=15)


@dataclass
class OrgReport:
    """Results of every account and region, shaped like ScanReport so one renderer serves all."""

    pack: str
    source: str
    before: list[Result]
    failures: list[Failure] = field(default_factory=list)
    skipped_rules: dict[str, str] = field(default_factory=dict)  # rule -> why the source cannot evaluate it
    notes: list[str] = field(default_factory=list)  # what was left out on purpose (regions not enabled), said on stderr
    remediations: list = field(default_factory=list)
    after: list = field(default_factory=list)
    descriptions: dict = field(default_factory=dict)  # rule -> what it checks, for SARIF
    targets: list[tuple[str, str]] = field(default_factory=list)  # every (account, region) scanned, results or not

    def by_target(self) -> dict[tuple[str, str], list[Result]]:
        """Results per (account, region): every target scanned, one without resources or failed included with
        none; one pass over the results."""
        grouped: dict[tuple[str, str], list[Result]] = {target: [] for target in self.targets}
        grouped.update({(f.account, f.region): [] for f in self.failures})
        for result in self.before:
            grouped.setdefault((result.account, result.region), []).append(result)
        return dict(sorted(grouped.items()))

    def groups(self) -> list[dict]:
        """Per account and region: verdict counts and the monthly cost of endpoint AZs over the maximum."""
        return [group(account, region, results) for (account, region), results in self.by_target().items()]

    def totals(self, groups: list[dict] | None = None) -> dict:
        groups = self.groups() if groups is None else groups
        return {
            "accounts": len({g["account"] for g in groups}),
            "summary": counts(self.before),
            "endpoint_az_cost_per_month": round(sum(g["endpoint_az_cost_per_month"] for g in groups), 2),
            "failures": len(self.failures),
        }

    def as_dict(self) -> dict:
        grouped = self.by_target()
        groups = [group(account, region, results) for (account, region), results in grouped.items()]
        return {
            "format": REPORT_FORMAT,
            "pack": self.pack,
            "source": self.source,
            "totals": self.totals(groups),
            "accounts": [{**g, "results": [r.as_dict() for r in grouped[(g["account"], g["region"])]]} for g in groups],
            "failures": [failure.as_dict() for failure in self.failures],
            "skipped_rules": self.skipped_rules,
            "notes": self.notes,
        }


def group(account: str, region: str, results: list[Result]) -> dict:
    return {
        "account": account,
        "region": region,
        "summary": counts(results),
        "endpoint_az_cost_per_month": excess_az_cost(results),
    }


# ---- through an aggregator ----


def item_only_rules(project: Project, rules) -> tuple[list, dict[str, str]]:
    """Rules that judge the recorded item alone, and why each other one cannot run from an aggregator."""
    chosen, skipped = [], {}
    for rule in rules:
        if rule_module(project.root, rule.name).IAM_PERMISSIONS:
            skipped[rule.name] = "reads live APIs: scan it with --accounts or --org and --role-name"
        else:
            chosen.append(rule)
    return chosen, skipped


def aggregator_items(session, aggregator: str, resource_types) -> list[dict]:
    """Every member's recorded items of the given types, 100 per BatchGetAggregateResourceConfig."""
    client = aws.client(session, "config")
    items = []
    with aws_errors():
        for kind in resource_types:
            paginator = client.get_paginator("list_aggregate_discovered_resources")
            keys = [
                {key: found[key] for key in ("SourceAccountId", "SourceRegion", "ResourceId", "ResourceType")}
                for page in paginator.paginate(ConfigurationAggregatorName=aggregator, ResourceType=kind)
                for found in page["ResourceIdentifiers"]
            ]
            found = read_in_batches(
                lambda batch: client.batch_get_aggregate_resource_config(
                    ConfigurationAggregatorName=aggregator, ResourceIdentifiers=batch
                ),
                keys,
                ("BaseConfigurationItems", "UnprocessedResourceIdentifiers"),
            )
            items += [recorded_item(base) for base in found]
    return [item for item in items if item["configurationItemStatus"] in ("OK", "ResourceDiscovered")]


def recorded_item(base: dict) -> dict:
    """An aggregate BaseConfigurationItem as a change notification's item, with its account and region."""
    item = from_recorded(base, {})
    item.update(accountId=base.get("accountId", ""), awsRegion=base.get("awsRegion", ""))
    return item


def scan_aggregator(project: Project, pack_name: str, session, aggregator: str, *, only=None) -> OrgReport:
    pack = project.packs.get(pack_name)
    if pack is None:
        raise ScanError(f"no pack {pack_name!r} in rdk-config.json; packs: {', '.join(project.packs)}")
    rules, skipped = item_only_rules(project, pack_rules(project, pack, only))
    if not rules:
        raise ScanError(f"no rule of pack {pack.name} can run from an aggregator: {', '.join(skipped)} read live APIs")
    kinds = sorted({kind for rule in rules for kind in project.rules[rule.name].resource_types})
    items = aggregator_items(session, aggregator, kinds)
    results = []
    for target in sorted({(item["accountId"], item["awsRegion"]) for item in items}):
        chosen = [item for item in items if (item["accountId"], item["awsRegion"]) == target]
        for rule in rules:
            found = evaluate_direct(project.root, rule.name, scan_parameters(rule), chosen, factory=None)
            results += [replace(result, account=target[0], region=target[1]) for result in found]
    descriptions = {rule.name: project.rules[rule.name].description for rule in rules}
    return OrgReport(pack.name, f"aggregator {aggregator}", results, skipped_rules=skipped, descriptions=descriptions)


# ---- with a role in each account ----


def organization_accounts(session, notes: list[str] | None = None) -> list[str]:
    """The organization's active accounts (ListAccounts: the management or a delegated administrator account); one
    line in `notes` for each account left out because it is not active (suspended, or being closed)."""
    client = aws.client(session, "organizations")
    with aws_errors():
        pages = client.get_paginator("list_accounts").paginate()
        listed = {a["Id"]: account_state(a) for page in pages for a in page["Accounts"]}
    for account, state in sorted(listed.items()):
        if state != ACTIVE and notes is not None:
            notes.append(f"account {account} is {state} in the organization: not scanned")
    return sorted(account for account, state in listed.items() if state == ACTIVE)


def account_state(account: dict) -> str:
    # State replaces Status (retired September 2026); an answer with neither is taken as active.
    return account.get("State", account.get("Status", ACTIVE))


def inactive_state(organizations, account: str) -> str | None:
    """The account's state in the organization when it is not active (organizations:DescribeAccount, asked only
    after AWS refused its role); None when active or when the scanner may not ask."""
    try:
        found = organizations.describe_account(AccountId=account)["Account"]
    except (ClientError, BotoCoreError):
        return None
    state = account_state(found)
    return None if state == ACTIVE else state


def role_arn(project: Project, account: str, role_name: str) -> str:
    return f"arn:{project.partition}:iam::{account}:role/{role_name}"


def assumed_session(credentials: dict, region: str) -> RoleSession:
    """What the scan uses of a boto3 Session, with an assumed role's temporary credentials, in one region."""
    return RoleSession(credentials, region)


@dataclass(frozen=True)
class RoleScan:
    """What to scan in each account: the pack, the role to assume there, the regions and the scan options."""

    project: Project
    pack: str
    role_name: str
    regions: tuple[str, ...]
    only: tuple[str, ...] | None = None
    source: str = "auto"
    fallback_regions: tuple[str, ...] = ()  # --regions all, where an account's regions cannot be listed

    def credentials(self, sts, account: str) -> dict:
        """The role's temporary credentials in one account (STS AssumeRole); a ClientError when refused."""
        return sts.assume_role(
            RoleArn=role_arn(self.project, account, self.role_name), RoleSessionName=ROLE_SESSION_NAME
        )["Credentials"]

    def refusal(self, error: ClientError, account: str, state: str | None = None) -> str:
        """Why AssumeRole was refused, naming who must act: the organization (an account not active), the member
        account's role, or the scanner."""
        if state:
            return (
                f"cannot assume {self.role_name}: account {account} is {state} in the organization, and AWS refuses "
                "its roles until it is reinstated: nothing to fix in the role (leave it out of --accounts)"
            )
        if not aws.is_access_denied(error):
            return f"cannot assume {self.role_name}: {explain(error)}"
        return (
            f"cannot assume {self.role_name}: access denied for sts:AssumeRole on "
            f"{role_arn(self.project, account, self.role_name)}: in account {account}, the role is missing or does "
            "not trust the scanning account (deploy it there with `rdkpack rollout --org` and rollout.scanRole, "
            "prerequisites/scan-role.yaml); or the scanning identity may not call sts:AssumeRole on it"
        )

    def region(self, credentials: dict, account: str, region: str) -> tuple[list[Result], list[Failure], list[str]]:
        """One account and region: its results, or its failure (with the region's own reason where it is not
        enabled), the rules an API they need left unevaluated, and notes (a type the recorder skips)."""
        session = assumed_session(credentials, region)
        try:
            found = scan_account(self.project, self.pack, session, only=self.only, source=self.source, partial=True)
        except (RdkPackError, ClientError, BotoCoreError) as error:
            reason = str(error) if isinstance(error, RdkPackError) else explain(error)
            if "credentials are invalid" in reason:  # a token the region does not know: an opt-in region not enabled
                reason = (
                    f"region {region} does not accept the role's credentials: it is most likely an opt-in region "
                    f"not enabled in account {account} (enable it, or leave it out of --regions)"
                )
            return [], [Failure(account, region, self.blame(reason, account))], []
        notes = [f"account {account} {region}: {self.blame(warning, account)}" for warning in found.warnings]
        failures = [replace(f, account=account, reason=self.blame(f.reason, account)) for f in found.failures]
        results = [
            replace(r, account=account, region=region, annotation=self.blame(r.annotation, account))
            if r.compliance == ERROR
            else replace(r, account=account, region=region)
            for r in found.before
        ]
        return results, failures, notes

    def blame(self, reason: str, account: str) -> str:
        """A permission the scan lacked in a member account is the member role's to grant, not the scanner's."""
        grantee = f"role {self.role_name} in account {account} (prerequisites/scan-role.yaml grants every scan action)"
        return reason.replace(aws.SCANNER, grantee)


def scan_with_role(
    plan: RoleScan,
    session,
    accounts,
    *,
    progress=None,
    concurrency=DEFAULT_CONCURRENCY,
    finished: dict | None = None,
    on_pair=None,
) -> OrgReport:
    """Assume the role once in each account and scan its regions, `concurrency` account x region pairs at a time;
    read-only. The report is in the order of the accounts and regions given, whatever the concurrency.

    `finished` holds pairs already scanned (account, region) -> (results, failures, notes), taken as they are;
    `on_pair(account, region, rows)` is called as each other pair finishes, from its thread; `progress(pairs,
    finished)` returns a tick(pair, failed) called as each pair finishes.
    """
    pack = plan.project.packs.get(plan.pack)
    if pack is None:
        raise ScanError(f"no pack {plan.pack!r} in rdk-config.json; packs: {', '.join(plan.project.packs)}")
    rules = pack_rules(plan.project, pack, plan.only)
    for rule in rules:  # load once, before the threads
        rule_module(plan.project.root, rule.name)
    descriptions = {rule.name: plan.project.rules[rule.name].description for rule in rules}
    report = OrgReport(pack.name, f"role {plan.role_name}", [], descriptions=descriptions)
    credentials = AccountCredentials(plan, session)
    finished = finished or {}
    accounts = list(dict.fromkeys(accounts))  # an account named twice is scanned once
    pairs = report.targets = target_pairs(plan, credentials, accounts, concurrency, report.notes)
    tick = progress(pairs, [pair for pair in pairs if pair in finished]) if progress else None

    stopping = threading.Event()  # interrupted: no pair starts any more

    def one(pair):
        if pair in finished:
            return finished[pair]
        if stopping.is_set():
            return None
        account, region = pair
        try:
            granted = credentials.of(account)
            if isinstance(granted, str):
                rows = [], [Failure(account, region, granted)], []
            else:
                rows = plan.region(granted, account, region)
        except Exception as error:  # one pair's surprise must not lose the others' results
            rows = [], [Failure(account, region, f"scan stopped: {type(error).__name__}: {error}")], []
        except BaseException:
            stopping.set()
            raise
        if on_pair:
            on_pair(account, region, rows)
        if tick:
            tick(pair, bool(rows[1]))
        return rows

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    try:
        for results, failures, notes in pool.map(one, pairs):
            report.before += results
            report.failures += failures
            report.notes += notes
    except BaseException:  # Ctrl-C: the pairs under way finish (and reach on_pair), the queued ones never start
        stopping.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return report


def target_pairs(plan: RoleScan, credentials: AccountCredentials, accounts, concurrency: int, notes: list) -> list:
    """Every (account, region) to scan: the plan's regions, or with --regions all each account's enabled ones
    (listed `concurrency` accounts at a time, with a note where some are not enabled)."""
    if plan.regions != (ALL_REGIONS,):
        return [(account, region) for account in accounts for region in plan.regions]
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        listed = list(pool.map(lambda account: enabled_regions(credentials, account, plan), accounts))
    notes += [note for _, note in listed if note]
    return [(account, region) for account, (regions, _) in zip(accounts, listed, strict=True) for region in regions]


def enabled_regions(credentials: AccountCredentials, account: str, plan: RoleScan) -> tuple[list[str], str]:
    """The regions enabled in an account (ec2:DescribeRegions with AllRegions, through its role), and a note naming
    those that are not. An account whose role cannot be assumed gets one pair, which then fails with why; one whose
    regions cannot be read gets the pack's regions, and a note that says why and what to grant."""
    granted = credentials.of(account)
    fallback = list(plan.fallback_regions) or [credentials.home]
    if isinstance(granted, str):
        return fallback[:1], ""
    try:
        with aws_errors():
            listed = aws.client(assumed_session(granted, credentials.home), "ec2").describe_regions(AllRegions=True)
    except (RdkPackError, ClientError, BotoCoreError) as error:
        reason = str(error) if isinstance(error, RdkPackError) else explain(error)
        return fallback, (
            f"account {account}: cannot list its enabled regions ({plan.blame(reason, account)}): scanned the "
            f"pack's regions instead: {', '.join(fallback)}"
        )
    found = listed["Regions"]
    enabled = sorted(r["RegionName"] for r in found if r.get("OptInStatus", "opt-in-not-required") in ENABLED_REGIONS)
    disabled = sorted(r["RegionName"] for r in found if r["RegionName"] not in enabled)
    note = (
        f"account {account}: {len(disabled)} region(s) not enabled, skipped: {', '.join(disabled)}" if disabled else ""
    )
    return enabled, note


class AccountCredentials:
    """Each account's assumed-role credentials, asked for once however many of its regions run at once, and asked
    for again when they come within CREDENTIALS_REFRESH of their expiry (a role session lasts an hour, a scan of a
    large organization may last longer); a refusal is kept as its reason (a str)."""

    def __init__(self, plan: RoleScan, session):
        self.plan, self.session, self.home = plan, session, session.region_name
        self.sts = aws.client(session, "sts")
        self.organizations = None  # made on the first refusal, under the guard: sessions are not thread-safe
        self.found: dict[str, dict | str] = {}
        self.locks: dict[str, threading.Lock] = {}
        self.guard = threading.Lock()

    def of(self, account: str) -> dict | str:
        with self.guard:
            lock = self.locks.setdefault(account, threading.Lock())
        with lock:
            if account not in self.found or expiring(self.found[account]):
                try:
                    self.found[account] = self.plan.credentials(self.sts, account)
                except ClientError as error:
                    state = self.inactive_state(account) if aws.is_access_denied(error) else None
                    self.found[account] = self.plan.refusal(error, account, state)
                except BotoCoreError as error:  # the network, on the scanning account's side
                    self.found[account] = f"cannot assume {self.plan.role_name}: {explain(error)}"
            return self.found[account]

    def inactive_state(self, account: str) -> str | None:
        with self.guard:
            if self.organizations is None:
                self.organizations = aws.client(self.session, "organizations")
        return inactive_state(self.organizations, account)


def expiring(credentials: dict | str) -> bool:
    if isinstance(credentials, str) or not isinstance(credentials.get("Expiration"), datetime):
        return False
    return credentials["Expiration"] - datetime.now(UTC) < CREDENTIALS_REFRESH
