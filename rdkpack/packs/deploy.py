"""Deploy a conformance pack with boto3: check, plan, then put, then wait for the final status.

The only module that calls AWS Config write APIs (and S3, for templates over the TemplateBody limit).
Before any write it checks what it is about to deploy: the committed pack is what rdk-config.json
builds, the project validates, an account pack goes to the account rdk-config.json names, and no
other pack of the project is deployed there. It takes a boto3 session, so tests hand in one whose
clients are stubbed.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from dataclasses import dataclass, field

import boto3
from botocore.exceptions import ProfileNotFound

from rdkpack import aws
from rdkpack.errors import DeployError
from rdkpack.packs import validate, write
from rdkpack.packs.build import build_pack, render
from rdkpack.packs.limits import TEMPLATE_BODY_MAX
from rdkpack.project import files
from rdkpack.project.config import Pack, Project

ACCOUNT_DONE = {"CREATE_COMPLETE"}
ACCOUNT_FAILED = {"CREATE_FAILED", "DELETE_FAILED"}
ORG_DONE = {"CREATE_SUCCESSFUL", "UPDATE_SUCCESSFUL"}
ORG_FAILED = {"CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED"}
# AWS Config names the copy of an organization pack in each member account OrgConformsPack-<name>-<suffix>.
ORG_PACK_PREFIX = "OrgConformsPack-"
SHOWN_FINDINGS = 5
# Every (service, operation) a deployment calls: the deploying identity needs each one's IAM action.
OPERATIONS = (
    ("sts", "GetCallerIdentity"),
    ("config", "DescribeConformancePacks"),
    ("config", "PutConformancePack"),
    ("config", "DescribeConformancePackStatus"),
    ("config", "PutOrganizationConformancePack"),
    ("config", "DescribeOrganizationConformancePackStatuses"),
    ("s3", "PutObject"),
    # Not called by rdkpack: AWS Config checks with it that a delegated administrator is registered, so the caller of
    # PutOrganizationConformancePack from a delegated administrator account needs the action.
    ("organizations", "ListDelegatedAdministrators"),
)
# Credentials, region and permission problems end the deployment with one line naming the IAM action.
aws_call = functools.partial(aws.aws_errors, DeployError, "the deploying identity")


def open_session(profile: str | None, region: str | None):
    """A session for the deployment; a pack is regional, so the region must be said, never guessed."""
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as error:
        raise DeployError(
            f"{error}: check --profile or AWS_PROFILE (`aws configure list-profiles` lists them)"
        ) from error
    if not session.region_name:
        raise DeployError(aws.NO_REGION)
    return session


@dataclass(frozen=True)
class Plan:
    pack: str
    scope: str
    target: str
    rules: tuple[str, ...]
    automatic_remediations: tuple[str, ...]
    manual_remediations: tuple[str, ...]
    template_bytes: int
    via_s3: bool
    excluded_accounts: tuple[str, ...] = ()
    body: str = field(default="", repr=False)

    def lines(self) -> list[str]:
        lines = [
            f"pack {self.pack} ({self.scope}) -> {self.target}",
            f"  rules: {', '.join(self.rules)}",
            f"  automatic remediation: {', '.join(self.automatic_remediations) or 'none'}",
            f"  manual remediation: {', '.join(self.manual_remediations) or 'none'}",
            f"  template: {self.template_bytes} bytes, sent {'through S3' if self.via_s3 else 'as TemplateBody'}",
        ]
        if self.excluded_accounts:
            lines.append(f"  excluded accounts: {', '.join(self.excluded_accounts)}")
        return lines


def plan_deploy(project: Project, pack_name: str, organization: bool, session) -> Plan:
    """The deployment, once every check passed; raises DeployError saying what to run instead."""
    pack = project.packs.get(pack_name)
    if pack is None:
        raise DeployError(f"no pack {pack_name!r} in rdk-config.json; packs: {', '.join(project.packs)}")
    if organization != (pack.scope == "organization"):
        flag = "with --org" if pack.scope == "organization" else "without --org"
        raise DeployError(f"pack {pack_name} has scope {pack.scope}: deploy it {flag}")
    if pack.regions and session.region_name not in pack.regions:
        raise DeployError(
            f"pack {pack_name} lists the regions {', '.join(pack.regions)} (rdk-config.json), not "
            f"{session.region_name}: add it to the pack's regions (validate then checks the pack travels there, and "
            "the shared values need a value for it), or deploy to one of those"
        )
    body = committed_body(project, pack)
    check_validates(project)
    with aws_call():
        account = aws.client(session, "sts").get_caller_identity()["Account"]
    if organization:
        target = "every account of the organization" + (
            f" but {len(pack.excluded_accounts)}" if pack.excluded_accounts else ""
        )
    else:
        if account != pack.account_id:
            raise DeployError(
                f"pack {pack.name} is for account {pack.account_id} (rdk-config.json), but these credentials are "
                f"for account {account}: use credentials for {pack.account_id}, or give this account its own pack "
                "in rdk-config.json and run `rdkpack build`"
            )
        target = f"account {account}"
    if not (organization and account in pack.excluded_accounts):
        check_no_other_pack(project, pack, account, session)
    size = len(body.encode("utf-8"))
    attached = [rule for rule in pack.rules if rule.remediation.attach]
    return Plan(
        pack=pack.name,
        scope=pack.scope,
        target=target,
        rules=tuple(rule.name for rule in pack.rules),
        automatic_remediations=tuple(rule.name for rule in attached if rule.remediation.automatic),
        manual_remediations=tuple(rule.name for rule in attached if not rule.remediation.automatic),
        template_bytes=size,
        via_s3=size > TEMPLATE_BODY_MAX,
        excluded_accounts=pack.excluded_accounts if organization else (),
        body=body,
    )


def committed_body(project: Project, pack: Pack) -> str:
    """The committed pack file, refused unless it is exactly what rdk-config.json builds now."""
    path = write.committed_files(project)[0][pack.name]
    if not path.is_file():
        raise DeployError(f"{path} is missing: run `rdkpack build`, review and commit it, then deploy")
    committed = render(build_pack(project, pack))
    if not files.holds(path, committed):
        raise DeployError(
            f"{path} is not what rdk-config.json builds now: run `rdkpack build`, review the change and commit it, "
            "then deploy"
        )
    return committed


def check_validates(project: Project) -> None:
    """The same checks as `rdkpack validate`; any error stops the deployment."""
    errors = [f for f in validate.validate_project(project, *write.committed_files(project)) if f.severity == "error"]
    if errors:
        shown = "; ".join(str(f).removeprefix("error: ") for f in errors[:SHOWN_FINDINGS])
        more = f" (+{len(errors) - SHOWN_FINDINGS} more)" if len(errors) > SHOWN_FINDINGS else ""
        raise DeployError(f"the project does not validate: {shown}{more}. Run `rdkpack validate`, fix, then deploy")


def deployed_pack_names(session) -> list[str]:
    config = aws.client(session, "config")
    names, token = [], None
    with aws_call():
        while True:
            page = config.describe_conformance_packs(**({"NextToken": token} if token else {}))
            names += [detail["ConformancePackName"] for detail in page.get("ConformancePackDetails", [])]
            token = page.get("NextToken")
            if not token:
                return names


def is_member_copy(deployed: str, organization_pack: str) -> bool:
    """Whether a member account's pack is AWS Config's copy of organization_pack (its suffix has no hyphen)."""
    return re.fullmatch(f"{re.escape(ORG_PACK_PREFIX + organization_pack)}-[A-Za-z0-9]+", deployed) is not None


def check_no_other_pack(project: Project, pack: Pack, account: str, session) -> None:
    """One account holds one of the project's packs: their rules and settings would contradict each other."""
    others = [name for name in project.packs if name != pack.name]
    for deployed in deployed_pack_names(session):
        clash = next((o for o in others if deployed == o or is_member_copy(deployed, o)), None)
        if clash:
            instead = (
                f"add {account} to excludedAccounts of {clash} in rdk-config.json and redeploy it first"
                if project.packs[clash].scope == "organization"
                else f"delete {deployed} from account {account} first (aws configservice delete-conformance-pack)"
            )
            raise DeployError(
                f"account {account} already has pack {clash} (as {deployed}); it must not hold {pack.name} too: "
                f"{instead}"
            )


def template_argument(plan: Plan, session, bucket: str | None) -> dict:
    if not plan.via_s3:
        return {"TemplateBody": plan.body}
    if not bucket:
        raise DeployError(
            f"pack {plan.pack} is {plan.template_bytes} bytes, over the {TEMPLATE_BODY_MAX}-byte TemplateBody limit: "
            "pass --template-bucket so it can go through S3"
        )
    key = f"rdkpack/{plan.pack}-{hashlib.sha256(plan.body.encode()).hexdigest()[:16]}.yaml"
    with aws_call():
        aws.client(session, "s3").put_object(Bucket=bucket, Key=key, Body=plan.body.encode("utf-8"))
    return {"TemplateS3Uri": f"s3://{bucket}/{key}"}


def put_pack(plan: Plan, session, bucket: str | None = None) -> None:
    config = aws.client(session, "config")
    template = template_argument(plan, session, bucket)
    if plan.scope == "organization":
        with aws_call():
            config.put_organization_conformance_pack(
                OrganizationConformancePackName=plan.pack, ExcludedAccounts=list(plan.excluded_accounts), **template
            )
    else:
        with aws_call():
            config.put_conformance_pack(ConformancePackName=plan.pack, **template)


def pack_status(plan: Plan, session) -> tuple[str, str]:
    config = aws.client(session, "config")
    if plan.scope == "organization":
        with aws_call():
            found = config.describe_organization_conformance_pack_statuses(OrganizationConformancePackNames=[plan.pack])
        status = found["OrganizationConformancePackStatuses"][0]
        return status["Status"], status.get("ErrorMessage", "")
    with aws_call():
        found = config.describe_conformance_pack_status(ConformancePackNames=[plan.pack])
    status = found["ConformancePackStatusDetails"][0]
    return status["ConformancePackState"], status.get("ConformancePackStatusReason", "")


def wait_for_pack(
    plan: Plan, session, timeout_seconds: float = 1800, poll_seconds: float = 15, sleep=time.sleep
) -> str:
    """The final status; raises DeployError when the pack fails or the wait times out."""
    done, failed = (ORG_DONE, ORG_FAILED) if plan.scope == "organization" else (ACCOUNT_DONE, ACCOUNT_FAILED)
    waited = 0.0
    while True:
        status, reason = pack_status(plan, session)
        if status in done:
            return status
        if status in failed:
            raise DeployError(f"pack {plan.pack} ended in {status}: {reason or 'no reason given'}")
        if waited >= timeout_seconds:
            raise DeployError(f"pack {plan.pack} still {status} after {timeout_seconds:.0f} s")
        sleep(poll_seconds)
        waited += poll_seconds
