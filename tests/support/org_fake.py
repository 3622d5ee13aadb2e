"""An organization's StackSets and organization conformance packs, answered in front of moto.

moto 5.2.5 lacks what an organization rollout depends on: a delegated administrator's view of the
organization (a member account sees no organization), StackSet auto-deployment, DependsOn, TemplateURL,
and organization conformance packs. `OrgControlPlane.attach(session)` answers those calls of the
admin session at before-call, like botocore's Stubber, and every answer is checked against the
operation's output shape in botocore's model. Everything else (S3, the admin account's stacks, STS)
goes to moto.

What the fake holds to AWS's behaviour:
- service-managed StackSets deploy to every active account under their OUs and child OUs, except the
  management account; auto-deployment adds instances for accounts that join a target OU (dependencies
  first, DependsOn) and removes them for accounts that leave it;
- a template given by TemplateURL is read from the admin account's bucket in moto (it must be staged);
  an instance whose template has a Lambda function or layer needs its code object in the artifact
  bucket of the instance's region, and its role must be created by an instance of another StackSet in
  that account, or the instance fails with CloudFormation's reason;
- an organization pack's member succeeds only where every rule's SourceIdentifier, resolved for that
  account and region, names a function a rule-functions instance created there, with a permission for
  config.amazonaws.com bound to the member account (SourceAccount); otherwise it fails with
  InsufficientPermissionsException, as PutConfigRule does. Member status is evaluated when read, so a
  member succeeds once its functions exist (the rollout issue's premise; see rdkpack.rollout.status).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlparse

import yaml
from botocore.validate import validate_parameters
from moto.organizations.models import organizations_backends

PAGE = 100
ACCOUNTS_PAGE = 20
CFN_OPERATIONS = (
    "CreateStackSet",
    "UpdateStackSet",
    "DeleteStackSet",
    "DescribeStackSet",
    "CreateStackInstances",
    "DeleteStackInstances",
    "ListStackInstances",
    "DescribeStackSetOperation",
    "ListStackSetOperationResults",
)
CONFIG_OPERATIONS = (
    "PutOrganizationConformancePack",
    "DescribeOrganizationConformancePacks",
    "DescribeOrganizationConformancePackStatuses",
    "GetOrganizationConformancePackDetailedStatus",
    "DeleteOrganizationConformancePack",
)
ORGANIZATION_OPERATIONS = (
    "DescribeOrganization",
    "ListRoots",
    "ListAccounts",
    "ListAccountsForParent",
    "ListOrganizationalUnitsForParent",
    "ListParents",
)
WRITES = {
    "CreateStackSet",
    "UpdateStackSet",
    "DeleteStackSet",
    "CreateStackInstances",
    "DeleteStackInstances",
    "PutOrganizationConformancePack",
    "DeleteOrganizationConformancePack",
    "CreateStack",
    "UpdateStack",
    "DeleteStack",
    "PutObject",
    "DeleteObject",
    "DeleteObjects",
    "CreateBucket",
}


class FakeClientError(Exception):
    pass


def _error(code: str, message: str, status: int = 400):
    return SimpleNamespace(status_code=status, headers={}), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


@functools.cache
def parsed(body: str) -> dict:
    """A generated template (plain YAML: no short-form tags), parsed once however many instances use it."""
    return yaml.load(body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


class OrgControlPlane:
    def __init__(self, management_session, admin_account: str):
        self.management = management_session
        self.organizations = management_session.client("organizations")
        self.admin_account = admin_account
        self.management_account = self.organizations.describe_organization()["Organization"]["MasterAccountId"]
        self.stack_sets: dict[str, dict] = {}
        self.operations: dict[str, dict] = {}
        self.packs: dict[tuple[str, str], dict] = {}
        self.calls: Counter = Counter()
        self.denied: dict[str, str] = {}  # account -> why every stack there fails (an SCP, say)
        self.redeployed: list[tuple[str, int]] = []  # (StackSet, instances) of each UpdateStackSet
        self.stale_status: dict[tuple[str, str], dict] = {}
        self.no_recorder: set[str] = set()  # accounts where AWS Config records nothing: their pack members fail
        self.members: dict[tuple[str, str], dict[str, dict]] = {}  # (region, pack) -> account -> member status
        self.clock = itertools.count()
        self._ids = itertools.count(1)

    # ---- wiring ----

    def attach(self, session) -> None:
        """Answer the admin session's StackSet, organization-pack and organization calls; count every call."""
        events = session.events
        for service, operations in (
            ("cloudformation", CFN_OPERATIONS),
            ("config-service", CONFIG_OPERATIONS),
            ("organizations", ORGANIZATION_OPERATIONS),
        ):
            for operation in operations:
                events.register(f"before-parameter-build.{service}.{operation}", self._keep_params)
                events.register_first(f"before-call.{service}.{operation}", self._respond)
        events.register("before-parameter-build", self._count)  # emitted for every call, answered here or not
        self.admin_session = session

    def _client(self, service: str, region: str):
        """The admin session's client of a service and region, made once (a client costs about 18 ms to make)."""
        clients = self.__dict__.setdefault("_clients", {})
        if (service, region) not in clients:
            clients[(service, region)] = self.admin_session.client(service, region_name=region)
        return clients[(service, region)]

    @staticmethod
    def _keep_params(params, context, **_):
        context["org_fake_params"] = dict(params)

    def _count(self, model, **_):
        """Every call the session makes, whoever answers it (moto, or this fake)."""
        self.calls[(model.service_model.service_name, model.name)] += 1

    def writes(self) -> Counter:
        return Counter({key: n for key, n in self.calls.items() if key[1] in WRITES})

    def _respond(self, model, context, **_):
        params = context.get("org_fake_params", {})
        self._current_region = context.get("client_region")
        handler = getattr(self, f"_{model.name}")
        try:
            answer = handler(params)
        except FakeClientError as error:
            code, message = error.args
            return _error(code, message)
        validate_parameters(answer, model.output_shape) if model.output_shape else None
        return SimpleNamespace(status_code=200, headers={}), answer

    # ---- the organization, as the management account sees it in moto ----

    def _DescribeOrganization(self, params):
        return _strip(self.organizations.describe_organization())

    def _ListRoots(self, params):
        return _strip(self.organizations.list_roots(**params))

    def _ListAccounts(self, params):
        return self._accounts_page(params, self.organizations.get_paginator("list_accounts").paginate())

    def _ListAccountsForParent(self, params):
        pages = self.organizations.get_paginator("list_accounts_for_parent").paginate(ParentId=params["ParentId"])
        return self._accounts_page(params, pages)

    @staticmethod
    def _accounts_page(params, pages) -> dict:
        """Organizations returns at most 20 accounts a page (MaxResults 1..20), whatever moto does."""
        accounts = [account for page in pages for account in page["Accounts"]]
        return _page(accounts, "Accounts", params, "MaxResults", ACCOUNTS_PAGE)

    def _ListOrganizationalUnitsForParent(self, params):
        return _strip(self.organizations.list_organizational_units_for_parent(**params))

    def _ListParents(self, params):
        return _strip(self.organizations.list_parents(**params))

    def _backend(self):
        """moto's organization, read in place: auto-deployment re-reads it on every call, as AWS would see it."""
        return organizations_backends[self.management_account]["aws"]

    def accounts_under(self, ous) -> set[str]:
        backend, found, pending = self._backend(), set(), list(ous)
        while pending:
            parent = pending.pop()
            found |= {a.id for a in backend.accounts if a.parent_id == parent and a.status == "ACTIVE"}
            pending += [ou.id for ou in backend.ou if ou.parent_id == parent]
        return found - {self.management_account}

    def active_accounts(self) -> set[str]:
        return {a.id for a in self._backend().accounts if a.status == "ACTIVE"} | {self.management_account}

    # ---- StackSets ----

    def _check_call_as(self, params):
        wanted = "SELF" if self.admin_account == self.management_account else "DELEGATED_ADMIN"
        if params.get("CallAs", "SELF") != wanted:
            raise FakeClientError("ValidationError", f"CallAs must be {wanted} from account {self.admin_account}")

    def _stack_set(self, name) -> dict:
        found = self.stack_sets.get(name)
        if not found or found["Status"] == "DELETED":
            raise FakeClientError("StackSetNotFoundException", f"StackSet {name} not found")
        return found

    def _template(self, params) -> str:
        if "TemplateBody" in params:
            return params["TemplateBody"]
        url = urlparse(params["TemplateURL"])
        bucket, region = url.hostname.split(".s3.")[0], url.hostname.split(".s3.")[1].split(".")[0]
        s3 = self._client("s3", region)
        try:
            return s3.get_object(Bucket=bucket, Key=url.path.lstrip("/"))["Body"].read().decode("utf-8")
        except Exception as error:
            raise FakeClientError(
                "ValidationError", f"TemplateURL {params['TemplateURL']} unreadable: {error}"
            ) from error

    def _CreateStackSet(self, params):
        self._check_call_as(params)
        name = params["StackSetName"]
        if name in self.stack_sets and self.stack_sets[name]["Status"] != "DELETED":
            raise FakeClientError("NameAlreadyExistsException", f"StackSet {name} already exists")
        stack_set_id = f"{name}:{next(self._ids):08d}-fake"
        self.stack_sets[name] = {
            "StackSetName": name,
            "StackSetId": stack_set_id,
            "StackSetARN": f"arn:aws:cloudformation:us-east-1:{self.admin_account}:stackset/{stack_set_id}",
            "Status": "ACTIVE",
            "TemplateBody": self._template(params),
            "Parameters": _with_defaults(self._template(params), params.get("Parameters", [])),
            "Capabilities": params.get("Capabilities", []),
            "AutoDeployment": params.get("AutoDeployment", {"Enabled": False}),
            "PermissionModel": params.get("PermissionModel", "SELF_MANAGED"),
            "OrganizationalUnitIds": [],
            "Regions": [],
            "instances": {},
        }
        return {"StackSetId": stack_set_id}

    def _DescribeStackSet(self, params):
        self._check_call_as(params)
        self.reconcile()
        found = self._stack_set(params["StackSetName"])
        return {"StackSet": {k: v for k, v in found.items() if k != "instances"}}

    def _UpdateStackSet(self, params):
        self._check_call_as(params)
        if "AutoDeployment" in params and ("DeploymentTargets" in params or "Regions" in params):
            raise FakeClientError(
                "ValidationError", "AutoDeployment cannot be specified with DeploymentTargets or Regions"
            )
        found = self._stack_set(params["StackSetName"])
        if ("TemplateBody" in params or "TemplateURL" in params) == bool(params.get("UsePreviousTemplate")):
            raise FakeClientError(
                "ValidationError", "give exactly one of TemplateBody, TemplateURL, UsePreviousTemplate"
            )
        if not params.get("UsePreviousTemplate"):
            found["TemplateBody"] = self._template(params)
        for key in ("Capabilities", "AutoDeployment"):
            if key in params:
                found[key] = params[key]
        if "Parameters" in params:
            previous = {p["ParameterKey"]: p["ParameterValue"] for p in found["Parameters"]}
            given = [
                {"ParameterKey": p["ParameterKey"], "ParameterValue": previous.get(p["ParameterKey"], "")}
                if p.get("UsePreviousValue")
                else p
                for p in params["Parameters"]
            ]
            found["Parameters"] = _with_defaults(found["TemplateBody"], given)
        # Without targets every instance; with them (service-managed: OUs, optionally intersected with accounts) only
        # those instances, in those regions.
        targets = params.get("DeploymentTargets")
        chosen = set(found["instances"])
        if targets:
            accounts = self.accounts_under(targets.get("OrganizationalUnitIds", []))
            if targets.get("AccountFilterType") == "INTERSECTION":
                accounts &= set(targets.get("Accounts", []))
            chosen = {(a, r) for a, r in chosen if a in accounts and r in params.get("Regions", [])}
        for key in chosen:
            found["instances"][key] = self._deploy(found, *key)
        self.redeployed.append((found["StackSetName"], len(chosen)))
        return {"OperationId": self._operation(found, "UPDATE", params)}

    def _CreateStackInstances(self, params):
        self._check_call_as(params)
        found = self._stack_set(params["StackSetName"])
        ous = params.get("DeploymentTargets", {}).get("OrganizationalUnitIds", [])
        if found["PermissionModel"] == "SERVICE_MANAGED" and not ous:
            raise FakeClientError("ValidationError", "service-managed StackSets target OrganizationalUnitIds")
        found["OrganizationalUnitIds"] = sorted(set(found["OrganizationalUnitIds"]) | set(ous))
        found["Regions"] = sorted(set(found["Regions"]) | set(params["Regions"]))
        self.reconcile(force=True)
        return {"OperationId": self._operation(found, "CREATE", params)}

    def _DeleteStackInstances(self, params):
        self._check_call_as(params)
        found = self._stack_set(params["StackSetName"])
        ous = set(params.get("DeploymentTargets", {}).get("OrganizationalUnitIds", []))
        regions = set(params["Regions"])
        accounts = self.accounts_under(ous)
        for key in [k for k in found["instances"] if k[0] in accounts and k[1] in regions]:
            del found["instances"][key]
        found["OrganizationalUnitIds"] = sorted(set(found["OrganizationalUnitIds"]) - ous)
        found["Regions"] = (
            sorted(set(found["Regions"]) - regions) if not found["OrganizationalUnitIds"] else found["Regions"]
        )
        return {"OperationId": self._operation(found, "DELETE", params)}

    def _DeleteStackSet(self, params):
        self._check_call_as(params)
        found = self._stack_set(params["StackSetName"])
        if found["instances"]:
            raise FakeClientError("StackSetNotEmptyException", f"StackSet {found['StackSetName']} has instances")
        found["Status"] = "DELETED"
        return {}

    def _ListStackInstances(self, params):
        self._check_call_as(params)
        self.reconcile()
        found = self._stack_set(params["StackSetName"])
        summaries = [
            {
                "StackSetId": found["StackSetId"],
                "Account": account,
                "Region": region,
                "Status": state["Status"],
                "StatusReason": state["StatusReason"],
                "StackInstanceStatus": {"DetailedStatus": state["DetailedStatus"]},
            }
            for (account, region), state in sorted(found["instances"].items())
        ]
        return _page(summaries, "Summaries", params, "MaxResults", PAGE)

    def _operation(self, stack_set: dict, action: str, params: dict) -> str:
        """An operation that fails only when more instances failed than FailureTolerancePercentage allows (0 by
        default); below that it SUCCEEDS, and its results still list the failed instances."""
        operation_id = f"op-{next(self._ids):06d}"
        failed = [(k, v) for k, v in stack_set["instances"].items() if v["DetailedStatus"] == "FAILED"]
        tolerance = params.get("OperationPreferences", {}).get("FailureTolerancePercentage", 0)
        total = max(len(stack_set["instances"]), 1)
        self.operations[operation_id] = {
            "StackSetName": stack_set["StackSetName"],
            "Action": action,
            "polls": 0,
            "Status": "FAILED" if len(failed) * 100 > tolerance * total else "SUCCEEDED",
            "failed": failed,
        }
        return operation_id

    def _DescribeStackSetOperation(self, params):
        self._check_call_as(params)
        operation = self.operations[params["OperationId"]]
        operation["polls"] += 1
        status = "RUNNING" if operation["polls"] == 1 else operation["Status"]  # one poll sees it still running
        now = datetime(2026, 12, 7, tzinfo=UTC) + timedelta(seconds=next(self.clock))
        return {
            "StackSetOperation": {
                "OperationId": params["OperationId"],
                "StackSetId": self.stack_sets[operation["StackSetName"]]["StackSetId"],
                "Action": operation["Action"],
                "Status": status,
                "CreationTimestamp": now,
            }
        }

    def _ListStackSetOperationResults(self, params):
        operation = self.operations[params["OperationId"]]
        return {
            "Summaries": [
                {"Account": a, "Region": r, "Status": "FAILED", "StatusReason": state["StatusReason"]}
                for (a, r), state in operation["failed"]
            ]
        }

    # ---- deployment, as CloudFormation in each account would do it ----

    def reconcile(self, force: bool = False) -> None:
        """Auto-deployment: instances follow the accounts under each StackSet's OUs, dependencies first. AWS Config
        deploys an organization pack to an account as it joins, before StackSets reach it: so here too."""
        self._members_of_new_accounts()
        for stack_set in self._dependency_order():
            if stack_set["Status"] == "DELETED" or not stack_set["OrganizationalUnitIds"]:
                continue
            if not (force or stack_set["AutoDeployment"].get("Enabled")):
                continue
            accounts = self.accounts_under(stack_set["OrganizationalUnitIds"])
            wanted = {(a, r) for a in accounts for r in stack_set["Regions"]}
            for key in sorted(wanted - set(stack_set["instances"])):
                stack_set["instances"][key] = self._deploy(stack_set, *key)
            for key in set(stack_set["instances"]) - wanted:
                del stack_set["instances"][key]

    def _dependency_order(self) -> list[dict]:
        by_arn = {s["StackSetARN"]: s for s in self.stack_sets.values()}
        ordered: list[dict] = []

        def visit(stack_set):
            for arn in stack_set["AutoDeployment"].get("DependsOn", []):
                if by_arn.get(arn) and by_arn[arn] not in ordered:
                    visit(by_arn[arn])
            if stack_set not in ordered:
                ordered.append(stack_set)

        for stack_set in self.stack_sets.values():
            visit(stack_set)
        return ordered

    def _deploy(self, stack_set: dict, account: str, region: str) -> dict:
        template = parsed(stack_set["TemplateBody"])
        problem = (
            self.denied.get(account, "")
            or self._missing_code(template, region)
            or self._missing_role(stack_set, template, account, region)
        )
        if problem:
            return {"Status": "OUTDATED", "DetailedStatus": "FAILED", "StatusReason": problem, "template": template}
        return {"Status": "CURRENT", "DetailedStatus": "SUCCEEDED", "StatusReason": "", "template": template}

    def _missing_code(self, template: dict, region: str) -> str:
        s3 = self._client("s3", region)
        present = self.__dict__.setdefault("_present_code", set())
        for logical, resource in (template.get("Resources") or {}).items():
            properties = resource.get("Properties") or {}
            code = properties.get("Code") or properties.get("Content")
            if resource.get("Type") not in ("AWS::Lambda::Function", "AWS::Lambda::LayerVersion") or not code:
                continue
            bucket = _substitute(code["S3Bucket"], "", region)
            if (bucket, code["S3Key"]) in present:  # staged keys are content-addressed: once there, the same bytes
                continue
            try:
                s3.head_object(Bucket=bucket, Key=code["S3Key"])
                present.add((bucket, code["S3Key"]))
            except Exception:
                return f"{logical}: Error occurred while GetObject. S3 Key {code['S3Key']} in bucket {bucket} not found"
        return ""

    def _missing_role(self, stack_set: dict, template: dict, account: str, region: str) -> str:
        roles = set()
        for other in self.stack_sets.values():
            if other is stack_set or other["Status"] == "DELETED":
                continue
            for (a, _), state in other["instances"].items():
                if a == account and state["DetailedStatus"] == "SUCCEEDED":
                    roles |= {
                        r["Properties"]["RoleName"]
                        for r in (state["template"].get("Resources") or {}).values()
                        if r.get("Type") == "AWS::IAM::Role"
                    }
        for logical, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") != "AWS::Lambda::Function":
                continue
            role = _substitute(resource["Properties"]["Role"], account, region).rsplit("/", 1)[-1]
            if role not in roles:
                return f"{logical}: The role defined for the function cannot be assumed by Lambda ({role} not found)"
        return ""

    def functions(self, account: str, region: str) -> dict[str, set[str]]:
        """Function name -> the accounts whose Config may invoke it, for functions deployed in account/region."""
        found: dict[str, set[str]] = {}
        for stack_set in self.stack_sets.values():
            state = stack_set["instances"].get((account, region)) if stack_set["Status"] != "DELETED" else None
            if not state or state["DetailedStatus"] != "SUCCEEDED":
                continue
            resources = state["template"].get("Resources") or {}
            for logical, resource in resources.items():
                if resource.get("Type") != "AWS::Lambda::Function":
                    continue
                invokers = {
                    _substitute(p["Properties"].get("SourceAccount", "*"), account, region)
                    for p in resources.values()
                    if p.get("Type") == "AWS::Lambda::Permission"
                    and p["Properties"]["FunctionName"] == {"Ref": logical}
                    and p["Properties"]["Principal"] == "config.amazonaws.com"
                }
                found[resource["Properties"]["FunctionName"]] = invokers
        if account == self.admin_account:
            found.update(self._admin_functions(region))
        return found

    def _admin_functions(self, region: str) -> dict[str, set[str]]:
        """Functions moto holds in the admin account (central mode deploys them as plain stacks), with the accounts
        their resource policies let AWS Config invoke them from."""
        client = self._client("lambda", region)
        found = {}
        for function in client.list_functions()["Functions"]:
            try:
                policy = json.loads(client.get_policy(FunctionName=function["FunctionName"])["Policy"])
            except client.exceptions.ResourceNotFoundException:
                policy = {"Statement": []}
            found[function["FunctionName"]] = {
                statement.get("Condition", {}).get("StringEquals", {}).get("AWS:SourceAccount", "*")
                for statement in policy["Statement"]
                if statement.get("Principal", {}).get("Service") == "config.amazonaws.com"
            }
        return found

    # ---- organization conformance packs ----

    def _PutOrganizationConformancePack(self, params):
        region = self._region(params)
        name = params["OrganizationConformancePackName"]
        body = params.get("TemplateBody") or self._s3_uri(params["TemplateS3Uri"], region)
        self.reconcile()
        if (region, name) in self.packs:
            self.stale_status[(region, name)] = self._pack_status(region, name)
        self.packs[(region, name)] = {
            "body": body,
            "ExcludedAccounts": params.get("ExcludedAccounts", []),
            "LastUpdateTime": datetime(2026, 12, 7, tzinfo=UTC) + timedelta(minutes=next(self.clock)),
        }
        self.members[(region, name)] = {}
        self._members_of_new_accounts()  # a put deploys to every member again
        arn = f"arn:aws:config:{region}:{self.admin_account}:organization-conformance-pack/{name}-fake"
        return {"OrganizationConformancePackArn": arn}

    def _s3_uri(self, uri: str, region: str) -> str:
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        return self._client("s3", region).get_object(Bucket=bucket, Key=key)["Body"].read().decode()

    def _region(self, params) -> str:
        return self._current_region

    def _pack(self, region: str, name: str) -> dict:
        if (region, name) not in self.packs:
            raise FakeClientError("NoSuchOrganizationConformancePackException", f"no pack {name} in {region}")
        return self.packs[(region, name)]

    def _DescribeOrganizationConformancePacks(self, params):
        region = self._region(params)
        answer = []
        for name in params.get("OrganizationConformancePackNames", []):
            pack = self._pack(region, name)
            answer.append(
                {
                    "OrganizationConformancePackName": name,
                    "OrganizationConformancePackArn": f"arn:aws:config:{region}:{self.admin_account}:"
                    f"organization-conformance-pack/{name}-fake",
                    "ExcludedAccounts": pack["ExcludedAccounts"],
                    "LastUpdateTime": pack["LastUpdateTime"],
                }
            )
        return {"OrganizationConformancePacks": answer}

    def _members_of_new_accounts(self) -> None:
        """Each member's status is decided when the pack reaches it (a put, or the account joining), and stays."""
        for (region, name), pack in self.packs.items():
            known = self.members.setdefault((region, name), {})
            template = parsed(pack["body"])
            for account in sorted(self.active_accounts() - set(pack["ExcludedAccounts"]) - set(known)):
                problem = self._uninvokable(template, account, region)
                code = "InsufficientPermissionsException"
                if account in self.no_recorder:
                    problem, code = (
                        "No configuration recorder is available",
                        "NoAvailableConfigurationRecorderException",
                    )
                status = {
                    "AccountId": account,
                    "ConformancePackName": f"OrgConformsPack-{name}-fake",
                    "Status": "CREATE_SUCCESSFUL",
                }
                if problem:
                    status.update(Status="CREATE_FAILED", ErrorCode=code, ErrorMessage=problem)
                known[account] = status

    def member_statuses(self, region: str, name: str) -> list[dict]:
        pack = self._pack(region, name)
        self.reconcile()
        members = self.members[(region, name)]
        return [members[a] for a in sorted(members) if a not in pack["ExcludedAccounts"]]

    def _uninvokable(self, template: dict, account: str, region: str) -> str:
        for resource in (template.get("Resources") or {}).values():
            if resource.get("Type") != "AWS::Config::ConfigRule":
                continue
            arn = _substitute(resource["Properties"]["Source"]["SourceIdentifier"], account, region)
            owner, function = arn.split(":")[4], arn.rsplit(":", 1)[-1]
            invokers = self.functions(owner, region).get(function)
            if invokers is None or account not in invokers:
                return (
                    f"The AWS Lambda function {arn} cannot be invoked. Check the specified function ARN, and check "
                    "the function's permissions"
                )
        return ""

    def _DescribeOrganizationConformancePackStatuses(self, params):
        region = self._region(params)
        answer = []
        for name in params.get("OrganizationConformancePackNames", []):
            if (region, name) in self.stale_status:  # the first read after a put may still show the last operation
                answer.append(self.stale_status.pop((region, name)))
                continue
            answer.append(self._pack_status(region, name))
        return {"OrganizationConformancePackStatuses": answer}

    def _pack_status(self, region: str, name: str) -> dict:
        failed = [m for m in self.member_statuses(region, name) if m["Status"] != "CREATE_SUCCESSFUL"]
        entry = {
            "OrganizationConformancePackName": name,
            "Status": "CREATE_FAILED" if failed else "CREATE_SUCCESSFUL",
            "LastUpdateTime": self._pack(region, name)["LastUpdateTime"],
        }
        if failed:
            entry.update(
                ErrorCode="OrganizationConformancePackFailed", ErrorMessage=f"{len(failed)} member account(s) failed"
            )
        return entry

    def _GetOrganizationConformancePackDetailedStatus(self, params):
        statuses = self.member_statuses(self._region(params), params["OrganizationConformancePackName"])
        return _page(statuses, "OrganizationConformancePackDetailedStatuses", params, "Limit", PAGE)

    def _DeleteOrganizationConformancePack(self, params):
        region = self._region(params)
        self._pack(region, params["OrganizationConformancePackName"])
        del self.packs[(region, params["OrganizationConformancePackName"])]
        self.members.pop((region, params["OrganizationConformancePackName"]), None)
        return {}


def _page(items: list, key: str, params: dict, size_parameter: str, largest: int) -> dict:
    """One page of items, at most `largest` whatever the caller asks, with a NextToken while more remain."""
    start, size = int(params.get("NextToken", 0)), min(params.get(size_parameter, largest), largest)
    answer = {key: items[start : start + size]}
    if start + size < len(items):
        answer["NextToken"] = str(start + size)
    return answer


def _with_defaults(body: str, given: list[dict]) -> list[dict]:
    """A StackSet's parameters as DescribeStackSet lists them: each template parameter, set or defaulted."""
    values = {p["ParameterKey"]: p["ParameterValue"] for p in given}
    declared = parsed(body).get("Parameters") or {}
    for name, spec in declared.items():
        if name not in values and "Default" in spec:
            values[name] = str(spec["Default"])
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(values.items())]


def _strip(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def _substitute(value, account: str, region: str) -> str:
    """A template string, Fn::Sub or Ref of a pseudo parameter, for one account and region."""
    if isinstance(value, dict) and "Ref" in value:
        return {"AWS::AccountId": account, "AWS::Region": region, "AWS::Partition": "aws"}[value["Ref"]]
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    return re.sub(
        r"\$\{AWS::(\w+)\}", lambda m: {"AccountId": account, "Region": region, "Partition": "aws"}[m.group(1)], text
    )
