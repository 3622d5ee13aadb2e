"""StackSets and admin-account stacks: read what is deployed, say what differs, apply it, wait, delete.

Every write is preceded by a read, so a second rollout with nothing changed writes nothing. StackSet
operations are awaited (DescribeStackSetOperation) and a failed one names its failing accounts and
regions with CloudFormation's reason (ListStackSetOperationResults).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from rdkpack.errors import RolloutError
from rdkpack.packs import artifacts
from rdkpack.project.documents import load_yaml
from rdkpack.rollout.context import Reach, aws_call, is_not_found, poll
from rdkpack.rollout.desired import Component

OPERATION_DONE = {"SUCCEEDED"}
RETRIED = {"FAILED", "CANCELLED"}  # instance states a rollout retries (not pending, running or suspended ones)
OPERATION_FAILED = {"FAILED", "STOPPED"}
STACK_DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
STACK_FAILED_SUFFIXES = ("_FAILED", "ROLLBACK_COMPLETE")
NO_STACK_SET = ("StackSetNotFoundException",)
# Every CloudFormation call rollout, status and remove make (the caller needs each one's IAM action).
OPERATIONS = tuple(
    ("cloudformation", name)
    for name in (
        "DescribeStackSet",
        "CreateStackSet",
        "UpdateStackSet",
        "DeleteStackSet",
        "CreateStackInstances",
        "DeleteStackInstances",
        "ListStackInstances",
        "DescribeStackSetOperation",
        "ListStackSetOperationResults",
        "DescribeStacks",
        "GetTemplate",
        "CreateStack",
        "UpdateStack",
        "DeleteStack",
    )
)


@dataclass
class Change:
    """What a rollout would do to one component: nothing, or a list of writes with their reasons."""

    component: Component
    actions: list[str] = field(default_factory=list)  # create | update | add-targets | create-stack | update-stack
    reasons: list[str] = field(default_factory=list)
    missing_regions: tuple[str, ...] = ()  # stacks: regions where the stack does not exist yet
    instances: list[dict] = field(default_factory=list)  # StackSets: every instance, as ListStackInstances gave it
    recreate: tuple[str, ...] = ()  # stacks: regions where a failed first create must be deleted before a new one
    failed: list[dict] = field(default_factory=list)  # StackSets: failed instances of the active target accounts

    @property
    def in_sync(self) -> bool:
        return not self.actions


def template_defaults(body: str) -> dict[str, str]:
    """The template's parameter defaults: DescribeStackSet may list a parameter nobody set with its default."""
    parameters = (load_yaml(body) or {}).get("Parameters") or {}
    return {name: str(spec["Default"]) for name, spec in parameters.items() if "Default" in spec}


def wanted_parameters(component: Component) -> list[dict]:
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in component.parameters]


def auto_deployment(target: Reach, component: Component, arns: dict[str, str]) -> dict:
    setting = {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    depends = [arns[name] for name in component.depends_on if name in arns]
    if depends:
        setting["DependsOn"] = depends
    return setting


def template_argument(target: Reach, component: Component) -> dict:
    """TemplateBody when it fits; otherwise the staged copy's URL in the home region's artifact bucket."""
    if not component.via_s3:
        return {"TemplateBody": component.body}
    key = artifacts.template_key(component.template, component.body)
    bucket, region = target.bucket(target.home), target.home
    return {"TemplateURL": f"https://{bucket}.s3.{region}.amazonaws.com/{key}"}


def describe(target: Reach, name: str) -> dict | None:
    try:
        with aws_call():
            return target.client("cloudformation").describe_stack_set(StackSetName=name, CallAs=target.call_as)[
                "StackSet"
            ]
    except ClientError as error:
        if is_not_found(error, *NO_STACK_SET):
            return None
        raise


def stack_set_change(
    target: Reach, component: Component, found: dict | None, arns: dict[str, str], accounts, *, retry_failed=False
) -> Change:
    """What differs from `rdkpack build`, and which instances of the active accounts under the targets are missing
    or failed (a failure within the operation's tolerance leaves the operation SUCCEEDED: the next run retries)."""
    change = Change(component)
    if found is None or found.get("Status") == "DELETED":
        change.actions, change.reasons = ["create", "add-targets"], ["does not exist"]
        return change
    defaults = template_defaults(component.body)
    deployed = {**defaults, **{p["ParameterKey"]: p.get("ParameterValue", "") for p in found.get("Parameters", [])}}
    wanted = {**defaults, **dict(component.parameters)}
    if found.get("TemplateBody") != component.body:
        change.reasons.append("template differs from `rdkpack build`")
    if deployed != wanted:
        change.reasons.append(f"parameters {sorted(deployed.items())} differ from {sorted(wanted.items())}")
    if set(found.get("Capabilities", [])) != set(component.capabilities):
        change.reasons.append("capabilities differ")
    wanted_auto = auto_deployment(target, component, arns)
    found_auto = found.get("AutoDeployment") or {}
    if {k: found_auto.get(k) for k in wanted_auto} != wanted_auto:
        change.reasons.append(f"auto-deployment {found_auto} is not {wanted_auto}")
    if change.reasons:
        change.actions.append("update")
    missing_ous = sorted(set(target.ous) - set(found.get("OrganizationalUnitIds", [])))
    missing_regions = sorted(set(component.regions) - set(found.get("Regions", [])))
    if missing_ous or missing_regions:
        change.actions.append("add-targets")
        change.reasons.append(f"not yet deployed to {', '.join(missing_ous + missing_regions)}")
    change.instances = instances(target, component.name)
    change.failed = [i for i in change.instances if i["Account"] in accounts and detailed_status(i) in RETRIED]
    if change.failed and retry_failed and "update" not in change.actions:  # an update redeploys them anyway
        change.actions.append("retry")
    return change


def detailed_status(instance: dict) -> str:
    return (instance.get("StackInstanceStatus") or {}).get("DetailedStatus", "")


def component_regions(target: Reach, component: Component) -> tuple[str, ...]:
    """Every region of the component, whatever --regions says: a StackSet has one template for all its instances
    (an update reaches each of them, so each region needs its staged code), and --regions limits the packs only."""
    return component.regions


def preferences(target: Reach) -> dict:
    rollout = target.project.rollout
    return {
        "RegionConcurrencyType": rollout.region_concurrency,
        "MaxConcurrentPercentage": rollout.max_concurrent_percentage,
        "FailureTolerancePercentage": rollout.failure_tolerance_percentage,
        # STRICT would cap concurrency at the failure tolerance + 1 accounts, whatever MaxConcurrentPercentage says.
        "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
    }


def apply_stack_set(target: Reach, change: Change, arns: dict[str, str], wait) -> None:
    component, cloudformation = change.component, target.client("cloudformation")
    common = {"StackSetName": component.name, "CallAs": target.call_as}
    settings = {
        **template_argument(target, component),
        "Parameters": wanted_parameters(component),
        "Capabilities": list(component.capabilities),
        "AutoDeployment": auto_deployment(target, component, arns),
    }
    regions = list(component_regions(target, component))
    with aws_call():
        if "create" in change.actions:
            made = cloudformation.create_stack_set(
                **common, **settings, PermissionModel="SERVICE_MANAGED", ManagedExecution={"Active": True}
            )
            arns[component.name] = stack_set_arn(target, component.name, made.get("StackSetId", ""))
        if "update" in change.actions:
            # No DeploymentTargets or Regions: the update reaches every instance, and AWS refuses AutoDeployment
            # beside either of them.
            operation = cloudformation.update_stack_set(**common, **settings, OperationPreferences=preferences(target))
            wait(target, component.name, operation["OperationId"])
        if "retry" in change.actions:
            # Only the failed instances, with the template they have: a template or parameters in the call would mark
            # every instance OUTDATED and redeploy the organization.
            found = describe(target, component.name) or {}
            operation = cloudformation.update_stack_set(
                **common,
                UsePreviousTemplate=True,
                Parameters=[
                    {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in found.get("Parameters", [])
                ],
                Capabilities=list(component.capabilities),
                DeploymentTargets={
                    "OrganizationalUnitIds": found.get("OrganizationalUnitIds") or list(target.ous),
                    "Accounts": sorted({i["Account"] for i in change.failed}),
                    "AccountFilterType": "INTERSECTION",
                },
                Regions=sorted({i["Region"] for i in change.failed}),
                OperationPreferences=preferences(target),
            )
            wait(target, component.name, operation["OperationId"])
        if "add-targets" in change.actions:
            operation = cloudformation.create_stack_instances(
                **common,
                DeploymentTargets={"OrganizationalUnitIds": list(target.ous)},
                Regions=regions,
                OperationPreferences=preferences(target),
            )
            wait(target, component.name, operation["OperationId"])


def stack_set_arn(target: Reach, name: str, stack_set_id: str) -> str:
    found = describe(target, name)
    return (found or {}).get("StackSetARN", stack_set_id)


def wait_for_operation(
    target: Reach,
    name: str,
    operation_id: str,
    *,
    timeout_seconds: float = 3600,
    poll_seconds: float = 10,
    sleep=time.sleep,
) -> None:
    """Until the StackSet operation ends; a failed one names each failing account and region and why."""
    cloudformation = target.client("cloudformation")

    def read() -> str:
        with aws_call():
            return cloudformation.describe_stack_set_operation(
                StackSetName=name, OperationId=operation_id, CallAs=target.call_as
            )["StackSetOperation"]["Status"]

    def settled(status: str) -> bool:
        if status in OPERATION_FAILED:
            reasons = failed_instances(target, name, operation_id)
            raise RolloutError(f"StackSet {name}: operation {operation_id} {status}: {reasons}")
        return status in OPERATION_DONE

    what = f"StackSet {name} operation {operation_id}"
    poll(read, settled, what, timeout_seconds=timeout_seconds, poll_seconds=poll_seconds, sleep=sleep)


def failed_instances(target: Reach, name: str, operation_id: str) -> str:
    results = []
    with aws_call():
        pages = target.client("cloudformation").get_paginator("list_stack_set_operation_results")
        for page in pages.paginate(StackSetName=name, OperationId=operation_id, CallAs=target.call_as):
            results += [r for r in page["Summaries"] if r.get("Status") != "SUCCEEDED"]
    # The failures first, then the cancelled; by account and region, so the same failures read the same.
    results.sort(key=lambda r: (r.get("Status") != "FAILED", r.get("Account", ""), r.get("Region", "")))
    shown = [f"{r.get('Account')}/{r.get('Region')}: {r.get('StatusReason') or r.get('Status')}" for r in results[:10]]
    more = f" (+{len(results) - 10} more)" if len(results) > 10 else ""
    return "; ".join(shown) + more or "CloudFormation gave no failing instance"


def instances(target: Reach, name: str) -> list[dict]:
    """Every stack instance of a StackSet (all pages)."""
    found = []
    with aws_call():
        pages = target.client("cloudformation").get_paginator("list_stack_instances")
        for page in pages.paginate(StackSetName=name, CallAs=target.call_as):
            found += page["Summaries"]
    return found


def delete_stack_set(target: Reach, name: str, wait) -> bool:
    """Its instances, then the StackSet; False when there was none."""
    found = describe(target, name)
    if found is None or found.get("Status") == "DELETED":
        return False
    cloudformation = target.client("cloudformation")
    with aws_call():
        if instances(target, name):
            operation = cloudformation.delete_stack_instances(
                StackSetName=name,
                CallAs=target.call_as,
                DeploymentTargets={"OrganizationalUnitIds": found.get("OrganizationalUnitIds") or list(target.ous)},
                Regions=found.get("Regions") or list(target.regions),
                RetainStacks=False,
                OperationPreferences=preferences(target),
            )
            wait(target, name, operation["OperationId"])
        cloudformation.delete_stack_set(StackSetName=name, CallAs=target.call_as)
    return True


# ---- plain stacks in the admin account (artifact buckets, central rule functions) ----


def stack(target: Reach, name: str, region: str) -> dict | None:
    try:
        with aws_call():
            stacks = target.client("cloudformation", region).describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if aws_error_says_missing(error):
            return None
        raise
    return stacks[0] if stacks and stacks[0].get("StackStatus") != "DELETE_COMPLETE" else None


def aws_error_says_missing(error: ClientError) -> bool:
    return "does not exist" in error.response.get("Error", {}).get("Message", "")


def stack_change(target: Reach, component: Component) -> Change:
    change = Change(component)
    missing = []
    for region in component_regions(target, component):
        found = stack(target, component.name, region)
        if found is None:
            missing.append(region)
            continue
        if found["StackStatus"] == "ROLLBACK_COMPLETE" or found["StackStatus"].endswith("_FAILED"):
            # A failed first create can only be deleted; a failed update is retried by updating again.
            reason = found.get("StackStatusReason", "see the stack's events")
            change.reasons.append(f"{region}: template: {found['StackStatus']} ({reason})")
            if found["StackStatus"] in ("ROLLBACK_COMPLETE", "CREATE_FAILED"):
                missing.append(region)
                change.recreate += (region,)
            continue
        with aws_call():
            body = target.client("cloudformation", region).get_template(StackName=component.name)["TemplateBody"]
        deployed = {p["ParameterKey"]: p.get("ParameterValue", "") for p in found.get("Parameters", [])}
        if body != component.body or deployed != dict(component.parameters):
            change.reasons.append(f"{region}: template or parameters differ")
    change.missing_regions = tuple(missing)
    if missing:
        change.actions.append("create-stack")
        change.reasons.append(f"missing in {', '.join(missing)}")
    if any(": template" in reason and reason.split(":")[0] not in change.recreate for reason in change.reasons):
        change.actions.append("update-stack")
    return change


def apply_stack(target: Reach, change: Change, sleep=time.sleep) -> None:
    component = change.component
    for region in component_regions(target, component):
        cloudformation = target.client("cloudformation", region)
        arguments = {
            "StackName": component.name,
            "TemplateBody": component.body,
            "Parameters": wanted_parameters(component),
            "Capabilities": list(component.capabilities),
        }
        if region in change.recreate:
            delete_stack(target, component.name, region, sleep=sleep)
        with aws_call():
            if region in change.missing_regions:
                cloudformation.create_stack(**arguments)
            elif any(reason.startswith(f"{region}: ") for reason in change.reasons):
                cloudformation.update_stack(**arguments)
            else:
                continue
        wait_for_stack(target, component.name, region, sleep=sleep)


def wait_for_stack(target: Reach, name: str, region: str, *, timeout_seconds=1800, poll_seconds=5, sleep=time.sleep):
    """The stack's final status (DELETE_COMPLETE once it is gone); a failed one raises with CloudFormation's reason."""

    def read() -> tuple[str, str]:
        found = stack(target, name, region) or {}
        return found.get("StackStatus", "DELETE_COMPLETE"), found.get("StackStatusReason", "see the stack's events")

    def settled(found: tuple[str, str]) -> bool:
        status, reason = found
        if status.endswith(STACK_FAILED_SUFFIXES):
            raise RolloutError(f"stack {name} in {region}: {status}: {reason}")
        return status in STACK_DONE or status == "DELETE_COMPLETE"

    what = f"stack {name} in {region}"
    return poll(read, settled, what, timeout_seconds=timeout_seconds, poll_seconds=poll_seconds, sleep=sleep)[0]


def delete_stack(target: Reach, name: str, region: str, sleep=time.sleep) -> bool:
    if stack(target, name, region) is None:
        return False
    with aws_call():
        target.client("cloudformation", region).delete_stack(StackName=name)
    wait_for_stack(target, name, region, sleep=sleep)
    return True
