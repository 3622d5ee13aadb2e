"""Deploy a conformance pack with boto3: plan first, then put, then wait for the final status.

The only module that calls AWS Config (and S3, for templates over the TemplateBody limit). It takes a
boto3 session, so tests hand in one whose clients are stubbed.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from botocore.config import Config

from rdkpack.build import build_pack, render
from rdkpack.config import Project
from rdkpack.errors import DeployError
from rdkpack.validate import TEMPLATE_BODY_MAX

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
ACCOUNT_DONE = {"CREATE_COMPLETE"}
ACCOUNT_FAILED = {"CREATE_FAILED", "DELETE_FAILED"}
ORG_DONE = {"CREATE_SUCCESSFUL", "UPDATE_SUCCESSFUL"}
ORG_FAILED = {"CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED"}


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
    pack = project.packs.get(pack_name)
    if pack is None:
        raise DeployError(f"no pack {pack_name!r} in rdk-config.json; packs: {', '.join(project.packs)}")
    if organization != (pack.scope == "organization"):
        flag = "with --org" if pack.scope == "organization" else "without --org"
        raise DeployError(f"pack {pack_name} has scope {pack.scope}: deploy it {flag}")
    if organization:
        target = "every account of the organization" + (
            f" but {len(pack.excluded_accounts)}" if pack.excluded_accounts else ""
        )
        body = render(build_pack(project, pack))
    else:
        account = session.client("sts", config=BOTO_CONFIG).get_caller_identity()["Account"]
        target = f"account {account}"
        body = render(build_pack(project, pack, account_id=account))
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


def template_argument(plan: Plan, session, bucket: str | None) -> dict:
    if not plan.via_s3:
        return {"TemplateBody": plan.body}
    if not bucket:
        raise DeployError(
            f"pack {plan.pack} is {plan.template_bytes} bytes, over the {TEMPLATE_BODY_MAX}-byte TemplateBody limit: "
            "pass --template-bucket so it can go through S3"
        )
    key = f"rdkpack/{plan.pack}-{hashlib.sha256(plan.body.encode()).hexdigest()[:16]}.yaml"
    session.client("s3", config=BOTO_CONFIG).put_object(Bucket=bucket, Key=key, Body=plan.body.encode("utf-8"))
    return {"TemplateS3Uri": f"s3://{bucket}/{key}"}


def put_pack(plan: Plan, session, bucket: str | None = None) -> None:
    config = session.client("config", config=BOTO_CONFIG)
    template = template_argument(plan, session, bucket)
    if plan.scope == "organization":
        config.put_organization_conformance_pack(
            OrganizationConformancePackName=plan.pack, ExcludedAccounts=list(plan.excluded_accounts), **template
        )
    else:
        config.put_conformance_pack(ConformancePackName=plan.pack, **template)


def pack_status(plan: Plan, session) -> tuple[str, str]:
    config = session.client("config", config=BOTO_CONFIG)
    if plan.scope == "organization":
        found = config.describe_organization_conformance_pack_statuses(OrganizationConformancePackNames=[plan.pack])
        status = found["OrganizationConformancePackStatuses"][0]
        return status["Status"], status.get("ErrorMessage", "")
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
