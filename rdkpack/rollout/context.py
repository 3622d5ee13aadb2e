"""Who runs the rollout and where it reaches: the admin account, the organization, the target OUs and regions."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from botocore.exceptions import ClientError

from rdkpack import aws
from rdkpack.errors import RolloutError
from rdkpack.project.config import Project
from rdkpack.rollout import desired

GRANTEE = "the identity rollout runs as (in the delegated administrator account)"
aws_call = functools.partial(aws.aws_errors, RolloutError, GRANTEE)
# Every organization read a rollout, status or removal makes (the caller needs each one's IAM action).
ORGANIZATION_OPERATIONS = (
    ("sts", "GetCallerIdentity"),
    ("organizations", "DescribeOrganization"),
    ("organizations", "ListRoots"),
    ("organizations", "ListAccounts"),
    ("organizations", "ListOrganizationalUnitsForParent"),
    ("organizations", "ListAccountsForParent"),
    ("organizations", "ListDelegatedAdministrators"),
)


@dataclass
class Reach:
    """The rollout's caller and targets, read once per command."""

    session: object
    project: Project
    account: str
    organization_id: str
    management_account: str
    root_id: str
    ous: tuple[str, ...]  # deployment targets of every StackSet: the root unless --ous
    regions: tuple[str, ...]

    @property
    def call_as(self) -> str:
        """StackSets are called as SELF from the management account, else as its delegated administrator."""
        return "SELF" if self.account == self.management_account else "DELEGATED_ADMIN"

    @property
    def home(self) -> str:
        return self.project.rollout.home_region

    def client(self, service: str, region: str | None = None):
        return aws.client(self.session, service, region or self.home)

    def bucket(self, region: str) -> str:
        return self.project.rollout.artifact_bucket(region)

    def whole_organization(self) -> bool:
        return self.ous == (self.root_id,)


def reach(session, project: Project, ous: tuple[str, ...] = (), regions: tuple[str, ...] = ()) -> Reach:
    """Read the caller and the organization; refuse an account that is not the configured admin account."""
    rollout = project.rollout
    if rollout is None:
        raise RolloutError('rdk-config.json has no "rollout" section: add adminAccountId and homeRegion')
    with aws_call():
        account = aws.client(session, "sts", rollout.home_region).get_caller_identity()["Account"]
    if account != rollout.admin_account_id:
        raise RolloutError(
            f"these credentials are for account {account}, but rollout.adminAccountId in rdk-config.json is "
            f"{rollout.admin_account_id}: use credentials for the delegated administrator account"
        )
    organizations = aws.client(session, "organizations", rollout.home_region)
    with aws_call():
        organization = organizations.describe_organization()["Organization"]
        roots = organizations.list_roots()["Roots"]
    # Targets only grow: an earlier rollout's OUs stay, so a run for one OU never drops the guardrails from another.
    deployed = deployed_targets(session, project, account != organization["MasterAccountId"])
    if deployed == ("",) and not ous:
        raise RolloutError(
            f"StackSet {project.rollout.stack_set_prefix}-iam-roles exists with no target OUs (an earlier rollout "
            "stopped after creating it): pass --ous with the OUs it was for, or the root to cover the organization"
        )
    ous = tuple(dict.fromkeys((*(d for d in deployed if d), *ous))) or (roots[0]["Id"],)
    known = desired.regions_of(project)
    unknown = sorted(set(regions) - set(known))
    if unknown:
        raise RolloutError(
            f"--regions {' '.join(unknown)}: no organization pack lists it in rdk-config.json (packs go to "
            f"{', '.join(known)}); add it to a pack's regions first"
        )
    return Reach(
        session=session,
        project=project,
        account=account,
        organization_id=organization["Id"],
        management_account=organization["MasterAccountId"],
        root_id=roots[0]["Id"],
        ous=tuple(ous),
        regions=tuple(regions) or known,
    )


def deployed_targets(session, project: Project, delegated: bool) -> tuple[str, ...]:
    """The OUs an earlier rollout targeted (its IAM roles StackSet's), so status and later rollouts keep them until
    --ous says otherwise; empty before the first rollout."""
    name = f"{project.rollout.stack_set_prefix}-iam-roles"
    cloudformation = aws.client(session, "cloudformation", project.rollout.home_region)
    try:
        with aws_call():
            found = cloudformation.describe_stack_set(
                StackSetName=name, CallAs="DELEGATED_ADMIN" if delegated else "SELF"
            )["StackSet"]
    except ClientError as error:
        if is_not_found(error, "StackSetNotFoundException"):
            return ()
        raise
    if found.get("Status") == "DELETED":
        return ()
    return tuple(found.get("OrganizationalUnitIds") or ("",))  # ("",): it exists, targeting nothing yet


def accounts_under(target: Reach) -> dict[str, str]:
    """Active accounts (id -> name) under the target OUs and their children; every active account for the root."""
    organizations = target.client("organizations")
    found: dict[str, str] = {}
    with aws_call():
        if target.whole_organization():
            for page in organizations.get_paginator("list_accounts").paginate():
                found.update({a["Id"]: a["Name"] for a in page["Accounts"] if active(a)})
            return found
        pending = list(target.ous)
        while pending:
            parent = pending.pop()
            for page in organizations.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
                found.update({a["Id"]: a["Name"] for a in page["Accounts"] if active(a)})
            for page in organizations.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent):
                pending += [ou["Id"] for ou in page["OrganizationalUnits"]]
    return found


def active(account: dict) -> bool:
    """Organizations' `State` (since September 2026; `Status`, retired then, before): suspended and closing accounts
    get no StackSet instance (SKIPPED_SUSPENDED_ACCOUNT) and need none."""
    return account.get("State", account.get("Status", "ACTIVE")) == "ACTIVE"


def is_not_found(error: ClientError, *codes: str) -> bool:
    return aws.error_code(error) in codes


def poll(read, settled, what: str, *, timeout_seconds: float, poll_seconds: float, sleep):
    """Call read() until settled(value) is true and return that value; RolloutError naming `what` on timeout.

    settled may itself raise (a failed operation). CloudFormation and AWS Config report progress only by
    status reads: there is no event to wait on.
    """
    waited = 0.0
    while True:
        value = read()
        if settled(value):
            return value
        if waited >= timeout_seconds:
            raise RolloutError(f"{what}: not finished after {timeout_seconds:.0f} s (last seen: {value})")
        sleep(poll_seconds)
        waited += poll_seconds
