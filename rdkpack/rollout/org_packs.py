"""Organization conformance packs: what is deployed, what differs, put, member status, delete.

AWS Config returns an organization pack's name, ExcludedAccounts and LastUpdateTime, not its template.
So rollout keeps a record beside the staged code, `rollout/<pack>.json` in the region's artifact
bucket: the SHA-256 of the template it put, of the SSM documents template at the time (a document
update re-puts the pack, so members run the new version), the excluded accounts, and the pack's
LastUpdateTime after the put. A pack updated since by anyone else shows as drift.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from rdkpack.errors import RolloutError
from rdkpack.packs import artifacts
from rdkpack.rollout.context import Reach, aws_call, is_not_found, poll
from rdkpack.rollout.desired import OrgPack

NO_PACK = ("NoSuchOrganizationConformancePackException",)
DONE = {"CREATE_SUCCESSFUL", "UPDATE_SUCCESSFUL"}
FAILED = {"CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED"}
MEMBER_PAGE = 100  # GetOrganizationConformancePackDetailedStatus: at most 100 a page
OPERATIONS = (
    ("config", "DescribeOrganizationConformancePacks"),
    ("config", "PutOrganizationConformancePack"),
    ("config", "DescribeOrganizationConformancePackStatuses"),
    ("config", "GetOrganizationConformancePackDetailedStatus"),
    ("config", "DeleteOrganizationConformancePack"),
    ("s3", "GetObject"),
    ("s3", "PutObject"),
    ("s3", "DeleteObject"),
)


def record_key(pack: str) -> str:
    return f"rollout/{pack}.json"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class PackChange:
    pack: OrgPack
    region: str
    put: bool = False
    reasons: list[str] = field(default_factory=list)
    failed_members: list[dict] = field(default_factory=list)
    members: list[dict] = field(default_factory=list)  # every member's status, when read
    exists: bool = True

    @property
    def in_sync(self) -> bool:
        return not self.put


def describe(target: Reach, name: str, region: str) -> dict | None:
    try:
        with aws_call():
            found = target.client("config", region).describe_organization_conformance_packs(
                OrganizationConformancePackNames=[name]
            )["OrganizationConformancePacks"]
    except ClientError as error:
        if is_not_found(error, *NO_PACK):
            return None
        raise
    return found[0] if found else None


def read_record(target: Reach, name: str, region: str) -> dict:
    try:
        with aws_call():
            body = target.client("s3", region).get_object(Bucket=target.bucket(region), Key=record_key(name))["Body"]
            return json.loads(body.read())
    except ClientError as error:
        if is_not_found(error, "NoSuchKey", "404", "NoSuchBucket"):
            return {}
        raise
    except ValueError:
        return {}


def members(target: Reach, name: str, region: str) -> list[dict]:
    """Every member account's status of the pack (all pages)."""
    found, token = [], None
    config = target.client("config", region)
    with aws_call():
        while True:
            page = config.get_organization_conformance_pack_detailed_status(
                OrganizationConformancePackName=name, Limit=MEMBER_PAGE, **({"NextToken": token} if token else {})
            )
            found += page.get("OrganizationConformancePackDetailedStatuses", [])
            token = page.get("NextToken")
            if not token:
                return found


def change(
    target: Reach, pack: OrgPack, region: str, documents_sha256: str, *, accounts=(), ready=lambda _account: True
) -> PackChange:
    """What differs from what rollout put last, and the members that failed; a failed member triggers a put only
    where `ready(account)` (its rule functions exist now): a failure rollout cannot fix (no recorder, an SCP) would
    otherwise re-put the pack organization-wide on every run."""
    result = PackChange(pack, region)
    found = describe(target, pack.name, region)
    if found is None:
        result.put, result.reasons, result.exists = True, ["does not exist"], False
        return result
    record = read_record(target, pack.name, region)
    if record.get("templateSha256") != digest(pack.body):
        result.reasons.append("template differs from `rdkpack build`" if record else "no rollout record")
    if record and record.get("documentsSha256") != documents_sha256:
        result.reasons.append("the SSM documents changed since the pack was put")
    if sorted(found.get("ExcludedAccounts", [])) != list(pack.excluded_accounts):
        result.reasons.append(
            f"excluded accounts {sorted(found.get('ExcludedAccounts', []))} are not {list(pack.excluded_accounts)}"
        )
    updated = found.get("LastUpdateTime")
    if record and updated is not None and record.get("lastUpdateTime") != updated.isoformat():
        result.reasons.append(f"updated at {updated.isoformat()}, outside rollout")
    result.members = members(target, pack.name, region)
    result.failed_members = [
        m for m in result.members if m.get("Status") in FAILED and (not accounts or m["AccountId"] in accounts)
    ]
    # Failed at the last put with the functions already there: a cause a put cannot fix (no recorder, an SCP).
    hopeless = {account for account, was_ready in (record.get("failedAtPut") or {}).items() if was_ready}
    fixable = [m for m in result.failed_members if ready(m["AccountId"]) and m["AccountId"] not in hopeless]
    if fixable:
        result.reasons.append(f"{len(fixable)} member account(s) failed where the rule functions now exist")
    result.put = bool(result.reasons)
    return result


def template_argument(target: Reach, pack: OrgPack, region: str) -> dict:
    if not pack.via_s3:
        return {"TemplateBody": pack.body}
    key = artifacts.template_key(f"{pack.name}.yaml", pack.body)
    return {"TemplateS3Uri": f"s3://{target.bucket(region)}/{key}"}


def put(
    target: Reach, pack: OrgPack, region: str, documents_sha256: str, *, ready=lambda _account: True, sleep=time.sleep
) -> tuple[str, str]:
    """Put the pack, wait for its final status, then write the record; returns the status and AWS's reason. The
    record keeps the members that failed and whether their functions existed then: a member that fails although
    they did is not worth another organization-wide put until something else changes."""
    config = target.client("config", region)
    before = (status(target, pack.name, region) or (None, None, None))[2]
    with aws_call():
        config.put_organization_conformance_pack(
            OrganizationConformancePackName=pack.name,
            ExcludedAccounts=list(pack.excluded_accounts),
            **template_argument(target, pack, region),
        )
    outcome = wait(target, pack.name, region, before=before, sleep=sleep)
    found = describe(target, pack.name, region) or {}
    updated = found.get("LastUpdateTime")
    record = {
        "templateSha256": digest(pack.body),
        "documentsSha256": documents_sha256,
        "excludedAccounts": list(pack.excluded_accounts),
        "lastUpdateTime": updated.isoformat() if updated else None,
        "failedAtPut": {
            m["AccountId"]: ready(m["AccountId"])
            for m in members(target, pack.name, region)
            if m.get("Status") in FAILED
        },
    }
    with aws_call():
        target.client("s3", region).put_object(
            Bucket=target.bucket(region),
            Key=record_key(pack.name),
            Body=json.dumps(record, indent=2).encode("utf-8"),
            ServerSideEncryption="AES256",
        )
    return outcome


def status(target: Reach, name: str, region: str) -> tuple[str, str, object] | None:
    """(status, AWS's reason, LastUpdateTime), or None when there is no such pack."""
    try:
        with aws_call():
            found = target.client("config", region).describe_organization_conformance_pack_statuses(
                OrganizationConformancePackNames=[name]
            )["OrganizationConformancePackStatuses"]
    except ClientError as error:
        if is_not_found(error, *NO_PACK):
            return None
        raise
    return (found[0]["Status"], found[0].get("ErrorMessage", ""), found[0].get("LastUpdateTime")) if found else None


def wait(
    target: Reach,
    name: str,
    region: str,
    *,
    deleting=False,
    before=None,
    timeout_seconds=3600,
    poll_seconds=15,
    sleep=time.sleep,
):
    """The pack's final (status, reason): done, failed, or gone after a delete. Right after a put, a pack not listed
    yet is still on its way, and a final status as old as the one read before the put (`before`, its
    LastUpdateTime) is the previous operation's, not this one's."""
    gone = ("DELETE_SUCCESSFUL", "", None) if deleting else ("CREATE_IN_PROGRESS", "", None)

    def settled(found) -> bool:
        state, _, updated = found
        fresh = before is None or updated is None or updated != before
        return (state in DONE | FAILED and fresh) or state == "DELETE_SUCCESSFUL"

    state, reason, _ = poll(
        lambda: status(target, name, region) or gone,
        settled,
        f"pack {name} in {region}",
        timeout_seconds=timeout_seconds,
        poll_seconds=poll_seconds,
        sleep=sleep,
    )
    return state, reason


def delete(target: Reach, name: str, region: str, sleep=time.sleep) -> bool:
    if describe(target, name, region) is None:
        return False
    with aws_call():
        target.client("config", region).delete_organization_conformance_pack(OrganizationConformancePackName=name)
    state, reason = wait(target, name, region, deleting=True, sleep=sleep)
    if state in FAILED:
        raise RolloutError(f"pack {name} in {region}: {state}: {reason or 'no reason given'}")
    with aws_call():
        target.client("s3", region).delete_object(Bucket=target.bucket(region), Key=record_key(name))
    return True
