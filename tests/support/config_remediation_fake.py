"""AWS Config's remediation control plane for several accounts and regions, answered in front of moto.

moto 5.2.5 has no conformance packs, no remediation configurations, no compliance queries and no
StartRemediationExecution. `ConfigRemediationFake` answers the six calls `rdkpack remediate` makes
(DescribeConformancePacks, DescribeConformancePackCompliance, DescribeRemediationConfigurations,
GetComplianceDetailsByConfigRule, StartRemediationExecution, DescribeRemediationExecutionStatus) at botocore's
before-call, like botocore's Stubber, on every session the command uses: the caller's (`rdkpack.cli.caller_session`)
and each member account's (`rdkpack.account.org.assumed_session`, whose clients come from the one shared botocore
session). Every other call (STS, S3) goes on to moto. Each answer is checked against the operation's output shape in
botocore's model: types and required members (`validate_parameters`) and the model's lengths, ranges and enums.

What the fake holds to AWS's behaviour:
- a pack is deployed as Config names it: an organization pack's copy in a member account is
  `OrgConformsPack-<pack>-abc123`, and each rule in it `<RULE>-conformance-pack-xyz789`, with the
  RemediationConfiguration of the committed pack template (conformance-packs/<pack>.yaml) as Config holds it;
- the model's limits: ResourceKeys 1..100 a call, Limit within the model's range; pages as Config gives them
  (DescribeConformancePacks 20, GetComplianceDetailsByConfigRule 100, DescribeRemediationExecutionStatus 100),
  with an opaque NextToken;
- StartRemediationExecution runs the remediation as Config does: the parameters Config builds from the
  configuration (`automation_parameters(resource_id)`) go to the committed document, run by
  `rdkpack.automation.runner.Runner` with the member's own credentials (its step in a fresh Python 3.11 process,
  reaching moto at `endpoint_url`). One shortcut: the template's AutomationAssumeRole is a literal ARN in the
  management account; the fake swaps in the member account, so the automation acts on the member's resources in
  moto. A resource already being remediated is not started again (FailedItems);
- DescribeRemediationExecutionStatus answers IN_PROGRESS to the first read after the start (more with
  `simulate(..., in_progress_polls=...)`), then SUCCEEDED or FAILED with StepDetails[{Name, State, ErrorMessage}]
  from the execution's steps (the failed step's message is the script's, e.g. "RemediationError: ...").

What a test reads: `calls` (every call of the sessions, answered here or by moto, by operation), `starts` (each
StartRemediationExecution: account, region, rule, keys), `executions` (account, region, resource ID -> Execution),
`most_in_flight` ((account, region) -> the most executions started and not yet read as ended, at once).
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import boto3
from botocore.validate import validate_parameters
from moto.iam.models import get_account_id_from

from rdkpack import cli
from rdkpack.account import org
from rdkpack.automation.config_remediation import REMEDIATION_TYPE, RemediationConfiguration, pack_template
from rdkpack.automation.runbook import load_runbook
from rdkpack.automation.runner import Runner
from rdkpack.errors import AutomationRefused
from tests.support import request_constraints

PACK_SUFFIX, RULE_SUFFIX = "abc123", "xyz789"
ANSWERED = (
    "DescribeConformancePacks",
    "DescribeConformancePackCompliance",
    "DescribeRemediationConfigurations",
    "GetComplianceDetailsByConfigRule",
    "StartRemediationExecution",
    "DescribeRemediationExecutionStatus",
)
# Config's page sizes: the model's largest Limit, which is also what Config gives without one.
PAGES = {
    "DescribeConformancePacks": 20,
    "DescribeConformancePackCompliance": 1000,
    "GetComplianceDetailsByConfigRule": 100,
    "DescribeRemediationExecutionStatus": 100,
}
MAX_KEYS = 100  # StartRemediationExecution and DescribeRemediationExecutionStatus ResourceKeys
PARAMS_KEY = "config_remediation_fake_params"
BUCKET = "AWS::S3::Bucket"
STARTED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
_OUTPUT_CHECKS: dict = {}
_OUTPUT_CHECKS_LOCK = threading.Lock()


class ConfigError(Exception):
    """An error Config answers: code and message."""


@dataclass(frozen=True)
class Member:
    """Whose session a call comes from: the account and its credentials (a role's, or the caller's own)."""

    account: str
    keys: dict


@dataclass
class Deployment:
    """The pack in one account and region, as Config deployed it."""

    pack_name: str
    rules: dict[str, str]  # the project's rule name -> the deployed rule's name
    remediations: dict[str, dict]  # deployed rule name -> RemediationConfiguration, as Describe answers it
    evaluations: dict[str, list[dict]] = field(default_factory=dict)  # deployed rule name -> EvaluationResults


@dataclass
class Execution:
    """One resource's remediation: how it ends (State, StepDetails), and what ran."""

    account: str
    region: str
    rule_name: str
    key: dict
    state: str  # SUCCEEDED | FAILED: how it ends
    steps: list[dict]
    invoked: datetime
    in_progress_polls: int = 1  # reads that still see it IN_PROGRESS
    parameters: dict | None = None  # what Config sent the document (None when simulated)
    automation: dict | None = None  # the document's execution, in GetAutomationExecution's shape
    polls: int = 0
    reported_end: bool = False

    def status(self) -> dict:
        self.polls += 1
        running = self.polls <= self.in_progress_polls
        entry = {
            "ResourceKey": self.key,
            "State": "IN_PROGRESS" if running else self.state,
            "InvocationTime": self.invoked,
            "LastUpdatedTime": self.invoked + timedelta(seconds=self.polls),
        }
        if not running:
            entry["StepDetails"] = self.steps
        return entry


def deployed_rule_name(rule: str) -> str:
    return f"{rule}-conformance-pack-{RULE_SUFFIX}"


def member_role(arn: str, account: str) -> str:
    """The role ARN with its account replaced by the member's."""
    return re.sub(r"^(arn:[\w-]+:iam::)\d{12}(:)", rf"\g<1>{account}\2", arn)


def output_violations(model, answer: dict) -> list[str]:
    """The model's lengths, ranges and enums an answer breaks (botocore checks none of them)."""
    service = model.service_model.service_name
    with _OUTPUT_CHECKS_LOCK:
        key = (service, model.name)
        if key not in _OUTPUT_CHECKS:
            memo = _OUTPUT_CHECKS.setdefault((service, "shapes"), {})
            _OUTPUT_CHECKS[key] = request_constraints._build(service, model.output_shape, memo)
    found: list[tuple[str, str]] = []
    if _OUTPUT_CHECKS[key] is not None:
        request_constraints._walk(_OUTPUT_CHECKS[key], answer, model.name, found)
    return [message for _, message in found]


def error_response(code: str, message: str, status: int = 400):
    return SimpleNamespace(status_code=status, headers={}), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


class ConfigRemediationFake:
    def __init__(self, root, pack: str, *, endpoint_url: str | None = None):
        self.root, self.pack, self.endpoint_url = root, pack, endpoint_url
        self.template = pack_template(root, pack)
        self.deployments: dict[tuple[str, str], Deployment] = {}
        self.other_packs: dict[tuple[str, str], list[str]] = {}
        self.executions: dict[tuple[str, str, str], Execution] = {}
        self.starts: list[tuple[str, str, str, list[dict]]] = []
        self.calls: Counter = Counter()
        self.in_flight: Counter = Counter()
        self.most_in_flight: Counter = Counter()
        self.denied: set[str] = set()  # accounts whose role cannot be assumed
        self.decided: dict[str, tuple[str, str]] = {}  # resource ID -> (State, ErrorMessage), no document run
        self.simulated: dict[tuple[str, str], object] = {}  # pair -> in_progress_polls(resource ID): no document run
        self.sleeps: list[float] = []
        self.refusals: dict[str, tuple[int, str, str]] = {}  # operation -> (calls answered first, code, message)
        self.answered: Counter = Counter()
        self.lock = threading.Lock()
        self._clock = itertools.count()

    # ---- what the test sets up ----

    def deploy(self, account: str, region: str, *, organization: bool = True) -> Deployment:
        """The pack in this account and region: an organization pack's copy, or the account's own pack."""
        name = f"OrgConformsPack-{self.pack}-{PACK_SUFFIX}" if organization else self.pack
        resources = (self.template.get("Resources") or {}).values()
        rules = {
            str(r["Properties"]["ConfigRuleName"]): deployed_rule_name(str(r["Properties"]["ConfigRuleName"]))
            for r in resources
            if r.get("Type") == "AWS::Config::ConfigRule"
        }
        remediations = {}
        for resource in resources:
            if resource.get("Type") != REMEDIATION_TYPE:
                continue
            properties = copy.deepcopy(resource["Properties"])
            rule_name = rules[str(properties["ConfigRuleName"])]
            properties["ConfigRuleName"] = rule_name
            properties["Arn"] = f"arn:aws:config:{region}:{account}:remediation-configuration/{rule_name}/fake"
            properties["CreatedByService"] = "config-conforms.amazonaws.com"
            remediations[rule_name] = properties
        deployment = Deployment(name, rules, remediations, {rule_name: [] for rule_name in rules.values()})
        self.deployments[(account, region)] = deployment
        return deployment

    def add_other_packs(self, account: str, region: str, names: list[str]) -> None:
        """Packs deployed before ours (listed first): ours is then on a later page."""
        self.other_packs[(account, region)] = list(names)

    def evaluate(self, account, region, rule, resource_ids, *, compliance="NON_COMPLIANT", resource_type=BUCKET):
        """Config's evaluations of the deployed rule, in the order Config lists them."""
        deployment = self.deployments[(account, region)]
        rule_name = deployment.rules[rule]
        for resource_id in resource_ids:
            when = STARTED + timedelta(seconds=next(self._clock))
            deployment.evaluations[rule_name].append(
                {
                    "EvaluationResultIdentifier": {
                        "EvaluationResultQualifier": {
                            "ConfigRuleName": rule_name,
                            "ResourceType": resource_type,
                            "ResourceId": resource_id,
                            "EvaluationMode": "DETECTIVE",
                        },
                        "OrderingTimestamp": when,
                    },
                    "ComplianceType": compliance,
                    "ResultRecordedTime": when,
                    "ConfigRuleInvokedTime": when,
                }
            )

    def decide(self, resource_id: str, state: str, message: str = "") -> None:
        """This resource's remediation ends so, without running the document."""
        self.decided[resource_id] = (state, message)

    def simulate(self, account: str, region: str, in_progress_polls=lambda resource_id: 1) -> None:
        """Every remediation in this pair SUCCEEDS without running the document, after that many IN_PROGRESS reads."""
        self.simulated[(account, region)] = in_progress_polls

    def refuse(self, operation: str, code: str, message: str, *, after: int = 0) -> None:
        """Answer the operation with this error once it has been answered `after` times."""
        self.refusals[operation] = (after, code, message)

    def sleep(self, seconds: float) -> None:
        """The poll pause, for rdkpack: recorded, not slept."""
        self.sleeps.append(seconds)

    # ---- wiring ----

    def install(self, monkeypatch) -> None:
        """Answer the calls of the caller's session (rdkpack.cli.caller_session) and of every member session
        (rdkpack.account.org.assumed_session); AssumeRole into a denied account is refused."""
        made_caller = cli.caller_session
        made_member = org.assumed_session

        def caller_session(args):
            session = made_caller(args)
            frozen = session.get_credentials().get_frozen_credentials()
            keys = {"AccessKeyId": frozen.access_key, "SecretAccessKey": frozen.secret_key}
            if frozen.token:
                keys["SessionToken"] = frozen.token
            self.attach(session, Member(get_account_id_from(frozen.access_key), keys))
            session.events.register_first("before-call.sts.AssumeRole", self._assume_role)
            return session

        def assumed_session(credentials, region):
            session = made_member(credentials, region)
            self.attach(session, Member(get_account_id_from(credentials["AccessKeyId"]), dict(credentials)))
            return session

        monkeypatch.setattr(cli, "caller_session", caller_session)
        monkeypatch.setattr(org, "assumed_session", assumed_session)

    def attach(self, session, member: Member) -> None:
        """Answer this session's Config remediation calls as `member`'s account; count every call it makes."""
        session.events.register("before-parameter-build", self._keep)
        for operation in ANSWERED:
            session.events.register_first(
                f"before-call.config-service.{operation}", functools.partial(self._respond, member)
            )

    def _keep(self, params, model, context, **_):
        context[PARAMS_KEY] = dict(params)
        with self.lock:
            self.calls[model.name] += 1

    def _assume_role(self, context, **_):
        arn = context.get(PARAMS_KEY, {}).get("RoleArn", "")
        account = arn.split(":")[4] if arn.count(":") >= 5 else ""
        if account in self.denied:
            message = f"User is not authorized to perform: sts:AssumeRole on resource: {arn}"
            return error_response("AccessDenied", message, 403)
        return None

    def _respond(self, member: Member, model, context, **_):
        params = context.get(PARAMS_KEY, {})
        region = context.get("client_region")
        with self.lock:
            self.answered[model.name] += 1
            refused = self.refusals.get(model.name)
            if refused and self.answered[model.name] > refused[0]:
                return error_response(refused[1], refused[2])
        try:
            answer = getattr(self, f"_{model.name}")(member, region, params)
        except ConfigError as error:
            return error_response(*error.args)
        validate_parameters(answer, model.output_shape)
        broken = output_violations(model, answer)
        assert not broken, f"the fake's {model.name} answer breaks the model: {broken}"
        return SimpleNamespace(status_code=200, headers={}), answer

    # ---- answers ----

    def _deployment(self, member: Member, region: str) -> Deployment | None:
        return self.deployments.get((member.account, region))

    def _rule(self, member: Member, region: str, rule_name: str) -> Deployment:
        deployment = self._deployment(member, region)
        if deployment is None or rule_name not in deployment.evaluations:
            raise ConfigError(
                "NoSuchConfigRuleException", f"The ConfigRule '{rule_name}' provided in the request is invalid."
            )
        return deployment

    @staticmethod
    def _limit(params: dict, operation: str) -> int:
        largest = PAGES[operation]
        limit = params.get("Limit", 0)
        if not 0 <= limit <= largest:
            raise ConfigError("InvalidLimitException", f"Limit {limit}: 0 to {largest}")
        return limit or largest

    @staticmethod
    def _page(items: list, key: str, params: dict, size: int) -> dict:
        token = params.get("NextToken")
        if token and not re.fullmatch(r"page-\d+", token):
            raise ConfigError("InvalidNextTokenException", "The nextToken provided is invalid")
        start = int(token.removeprefix("page-")) if token else 0
        answer = {key: items[start : start + size]}
        if start + size < len(items):
            answer["NextToken"] = f"page-{start + size}"
        return answer

    def _DescribeConformancePacks(self, member: Member, region: str, params: dict) -> dict:
        names = list(self.other_packs.get((member.account, region), []))
        deployment = self._deployment(member, region)
        if deployment:
            names.append(deployment.pack_name)
        wanted = params.get("ConformancePackNames") or names
        missing = [name for name in wanted if name not in names]
        if missing:
            raise ConfigError("NoSuchConformancePackException", f"Conformance pack {missing[0]} does not exist")
        details = [
            {
                "ConformancePackName": name,
                "ConformancePackArn": f"arn:aws:config:{region}:{member.account}:conformance-pack/{name}/"
                f"conformance-pack-{index:08d}",
                "ConformancePackId": f"conformance-pack-{index:08d}",
                "ConformancePackInputParameters": [],
                "LastUpdateRequestedTime": STARTED,
            }
            for index, name in enumerate(wanted)
        ]
        return self._page(details, "ConformancePackDetails", params, self._limit(params, "DescribeConformancePacks"))

    def _DescribeConformancePackCompliance(self, member: Member, region: str, params: dict) -> dict:
        deployment = self._deployment(member, region)
        name = params["ConformancePackName"]
        if deployment is None or deployment.pack_name != name:
            raise ConfigError("NoSuchConformancePackException", f"Conformance pack {name} does not exist")
        rules = [
            {
                "ConfigRuleName": rule_name,
                "ComplianceType": "NON_COMPLIANT"
                if any(e["ComplianceType"] == "NON_COMPLIANT" for e in evaluations)
                else "COMPLIANT",
                "Controls": [],
            }
            for rule_name, evaluations in deployment.evaluations.items()
        ]
        size = self._limit(params, "DescribeConformancePackCompliance")
        return {"ConformancePackName": name, **self._page(rules, "ConformancePackRuleComplianceList", params, size)}

    def _DescribeRemediationConfigurations(self, member: Member, region: str, params: dict) -> dict:
        deployment = self._deployment(member, region)
        found = deployment.remediations if deployment else {}
        names = params.get("ConfigRuleNames", [])
        return {"RemediationConfigurations": [copy.deepcopy(found[name]) for name in names if name in found]}

    def _GetComplianceDetailsByConfigRule(self, member: Member, region: str, params: dict) -> dict:
        rule_name = params["ConfigRuleName"]
        deployment = self._rule(member, region, rule_name)
        kinds = params.get("ComplianceTypes") or ["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"]
        results = [e for e in deployment.evaluations[rule_name] if e["ComplianceType"] in kinds]
        size = self._limit(params, "GetComplianceDetailsByConfigRule")
        return self._page(results, "EvaluationResults", params, size)

    def _remediation(self, member: Member, region: str, rule_name: str) -> dict:
        deployment = self._rule(member, region, rule_name)
        if rule_name not in deployment.remediations:
            raise ConfigError(
                "NoSuchRemediationConfigurationException", f"No RemediationConfiguration for rule {rule_name} exists."
            )
        return deployment.remediations[rule_name]

    @staticmethod
    def _keys(params: dict, required: bool) -> list[dict]:
        keys = params.get("ResourceKeys")
        if keys is None and not required:
            return []
        if not 1 <= len(keys or []) <= MAX_KEYS:
            raise ConfigError(
                "InvalidParameterValueException", f"ResourceKeys: 1 to {MAX_KEYS} keys, got {len(keys or [])}"
            )
        return keys

    def _StartRemediationExecution(self, member: Member, region: str, params: dict) -> dict:
        rule_name = params["ConfigRuleName"]
        remediation = self._remediation(member, region, rule_name)
        keys = self._keys(params, required=True)
        pair = (member.account, region)
        failed, started = [], []
        with self.lock:
            self.starts.append((member.account, region, rule_name, [dict(key) for key in keys]))
            for key in keys:
                known = self.executions.get((*pair, key["resourceId"]))
                if known is not None and not known.reported_end:
                    failed.append(key)
                    continue
                started.append(key)
            self.in_flight[pair] += len(started)
            self.most_in_flight[pair] = max(self.most_in_flight[pair], self.in_flight[pair])
        for key in started:  # Config starts them; each runs while rdkpack polls
            execution = self._run(member, region, rule_name, remediation, key)
            with self.lock:
                self.executions[(*pair, key["resourceId"])] = execution
        if not failed:
            return {}
        return {"FailedItems": failed, "FailureMessage": "A remediation of these resources is already in progress."}

    def _run(self, member: Member, region: str, rule_name: str, remediation: dict, key: dict) -> Execution:
        invoked = STARTED + timedelta(minutes=next(self._clock))
        execution = Execution(member.account, region, rule_name, dict(key), "SUCCEEDED", [], invoked)
        step = {"Name": remediation["TargetId"], "StartTime": invoked, "StopTime": invoked + timedelta(seconds=5)}
        polls = self.simulated.get((member.account, region))
        if key["resourceId"] in self.decided:
            execution.state, message = self.decided[key["resourceId"]]
            execution.steps = [{**step, "State": execution.state, **({"ErrorMessage": message} if message else {})}]
            return execution
        if polls is not None:
            execution.in_progress_polls = polls(key["resourceId"])
            execution.steps = [{**step, "State": "SUCCEEDED"}]
            return execution
        configuration = RemediationConfiguration(
            self.pack, rule_name, remediation["TargetId"], remediation.get("Parameters") or {}, False
        )
        sent = configuration.automation_parameters(key["resourceId"])
        if "AutomationAssumeRole" in sent:
            sent["AutomationAssumeRole"] = [member_role(sent["AutomationAssumeRole"][0], member.account)]
        execution.parameters = sent
        session = boto3.Session(
            aws_access_key_id=member.keys["AccessKeyId"],
            aws_secret_access_key=member.keys["SecretAccessKey"],
            aws_session_token=member.keys.get("SessionToken"),
            region_name=region,
        )
        runner = Runner(session, region, endpoint_url=self.endpoint_url, project_root=self.root)
        try:
            automation = runner.start(load_runbook(self.root, remediation["TargetId"]), sent)
        except AutomationRefused as error:  # StartAutomationExecution refused the parameters: no step ran
            execution.state = "FAILED"
            execution.steps = [{**step, "State": "FAILED", "ErrorMessage": str(error)}]
            return execution
        execution.automation = automation
        execution.state = "SUCCEEDED" if automation["AutomationExecutionStatus"] == "Success" else "FAILED"
        execution.steps = [
            {
                "Name": ran["StepName"],
                "State": "SUCCEEDED" if ran["StepStatus"] == "Success" else "FAILED",
                "StartTime": ran["ExecutionStartTime"],
                "StopTime": ran["ExecutionEndTime"],
                **({"ErrorMessage": ran["FailureMessage"]} if ran.get("FailureMessage") else {}),
            }
            for ran in automation["StepExecutions"]
        ]
        if execution.state == "FAILED" and not execution.steps:  # the role could not be assumed: no step ran
            execution.steps = [{**step, "State": "FAILED", "ErrorMessage": automation.get("FailureMessage", "")}]
        return execution

    def _DescribeRemediationExecutionStatus(self, member: Member, region: str, params: dict) -> dict:
        rule_name = params["ConfigRuleName"]
        self._remediation(member, region, rule_name)
        keys = self._keys(params, required=False)
        pair = (member.account, region)
        with self.lock:
            ours = [e for e in self.executions.values() if (e.account, e.region, e.rule_name) == (*pair, rule_name)]
            if keys:
                wanted = {(key["resourceType"], key["resourceId"]) for key in keys}
                ours = [e for e in ours if (e.key["resourceType"], e.key["resourceId"]) in wanted]
            page = self._page(
                ours, "RemediationExecutionStatuses", params, self._limit(params, "DescribeRemediationExecutionStatus")
            )
            statuses = []
            for execution in page["RemediationExecutionStatuses"]:
                status = execution.status()
                if status["State"] in ("SUCCEEDED", "FAILED") and not execution.reported_end:
                    execution.reported_end = True
                    self.in_flight[pair] -= 1
                statuses.append(status)
        return {**page, "RemediationExecutionStatuses": statuses}
