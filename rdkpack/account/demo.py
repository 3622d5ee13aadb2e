"""The whole loop on the embedded account: seed, evaluate, remediate (plan, then apply), evaluate again."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from rdkpack.account import demo_account, local_endpoint
from rdkpack.account.inventory import collect
from rdkpack.account.scan import Result, counts, evaluate_with_handler, tagged_types
from rdkpack.automation.config_remediation import RemediationConfiguration, remediation_configurations
from rdkpack.automation.runbook import load_runbook
from rdkpack.automation.runner import Runner, document_outputs
from rdkpack.project.config import Pack, Project

DEMO_PACK = "rdk-guardrails-sandbox"
REMEDIATION_WORKERS = 4


@dataclass(frozen=True)
class RemediationRun:
    rule: str
    document: str
    resource_id: str
    plan: str
    status: str
    message: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()


# The JSON shape of `demo --json` (before and after remediation): not a scan report, so a marker of its own.
DEMO_FORMAT = "rdkpack-demo-report/1"


@dataclass
class DemoReport:
    pack: str
    scale: int
    resources: int = 0
    before: list[Result] = field(default_factory=list)
    remediations: list[RemediationRun] = field(default_factory=list)
    after: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "format": DEMO_FORMAT,
            "pack": self.pack,
            "scale": self.scale,
            "resources": self.resources,
            "seconds": round(self.seconds, 2),
            "summary": {"before": counts(self.before), "after": counts(self.after) if self.after else None},
            "before": [r.as_dict() for r in self.before],
            "remediations": [r.as_dict() for r in self.remediations],
            "after": [r.as_dict() for r in self.after],
        }


def evaluate_pack(project: Project, pack: Pack, session) -> list[Result]:
    kinds = sorted({kind for rule in pack.rules for kind in project.rules[rule.name].resource_types})
    items, _ = collect(session, kinds, source="api", tagged_types=frozenset(tagged_types(project, pack.rules)))
    return [
        result
        for rule in pack.rules
        for result in evaluate_with_handler(project.root, rule.name, rule.parameters, items)
    ]


@dataclass
class Remediator:
    """Runs each remediation as Config and Systems Manager would: the parameters Config builds from the pack's
    RemediationConfiguration, through the committed document, its steps in a fresh Python 3.11 process that
    reaches the embedded account over HTTP. The pack's role is its own account's, so the demo makes that role
    in the embedded account and passes its ARN there."""

    project: Project
    pack: Pack
    runner: Runner
    role_arn: str
    configurations: dict[str, RemediationConfiguration]

    def run(self, result: Result) -> RemediationRun | None:
        pack_rule = next(rule for rule in self.pack.rules if rule.name == result.rule)
        configuration = self.configurations.get(result.rule)
        if not pack_rule.remediation.attach or configuration is None:
            return None
        runbook = load_runbook(self.project.root, configuration.document)
        sent = configuration.automation_parameters(result.resource_id)
        sent["AutomationAssumeRole"] = [self.role_arn]
        plan = self.runner.start(runbook, {**sent, "DryRun": ["true"]})
        if plan["AutomationExecutionStatus"] != "Success":
            message = failure_of(plan)
            return RemediationRun(result.rule, runbook.name, result.resource_id, "refused", "FAILED", message)
        applied = self.runner.start(runbook, sent)
        if applied["AutomationExecutionStatus"] != "Success":
            message = failure_of(applied)
            return RemediationRun(result.rule, runbook.name, result.resource_id, summary(plan), "FAILED", message)
        output = output_of(applied)
        return RemediationRun(
            result.rule, runbook.name, result.resource_id, summary(plan), output["Status"], summary(applied)
        )


def output_of(execution: dict) -> dict:
    """The remediation's StringMap output (each document has one)."""
    return next(iter(document_outputs(execution).values()), {})


def summary(execution: dict) -> str:
    output = output_of(execution)
    return output.get("Message") or output.get("Status", "")


def failure_of(execution: dict) -> str:
    """The failure as the step reported it, without the exception's class name."""
    message = execution.get("FailureMessage", execution["AutomationExecutionStatus"])
    return message.removeprefix("RemediationRefused: ").removeprefix("RemediationError: ")


def remediate_all(project: Project, pack: Pack, session, results: list[Result]) -> list[RemediationRun]:
    configurations = remediation_configurations(project.root, pack.name)
    roles = {
        parameter["StaticValue"]["Values"][0]
        for configuration in configurations.values()
        for name, parameter in configuration.parameters.items()
        if name == "AutomationAssumeRole"
    }
    role_arn = demo_account.remediation_role(session, roles.pop()) if roles else ""
    with local_endpoint.serve(demo_account.ROUTES) as endpoint:
        runner = Runner(session, demo_account.REGION, endpoint_url=endpoint, project_root=project.root)
        remediator = Remediator(project, pack, runner, role_arn, configurations)
        # Each execution's step is a process of its own. Different resources are remediated side by side, as Config
        # starts them (SsmControls.ConcurrentExecutionRatePercentage); one resource's remediations run in turn.
        by_resource: dict[str, list[Result]] = {}
        for result in results:
            if result.compliance == "NON_COMPLIANT":
                by_resource.setdefault(result.resource_id, []).append(result)
        with ThreadPoolExecutor(max_workers=REMEDIATION_WORKERS) as pool:
            groups = list(pool.map(lambda group: [remediator.run(r) for r in group], by_resource.values()))
    runs = {
        id(result): run
        for group, ran in zip(by_resource.values(), groups, strict=True)
        for result, run in zip(group, ran, strict=True)
    }
    return [runs[id(result)] for result in results if runs.get(id(result))]


def run_demo(project: Project, scale: int = 1, remediation: bool = True) -> DemoReport:
    started = time.perf_counter()
    pack = project.packs[DEMO_PACK]
    report = DemoReport(pack=pack.name, scale=scale)
    with demo_account.embedded_aws() as session:
        report.resources = demo_account.seed(session, scale).total()
        demo_account.put_shared_values(session, project.shared_values)
        report.before = evaluate_pack(project, pack, session)
        if remediation:
            report.remediations = remediate_all(project, pack, session, report.before)
            report.after = evaluate_pack(project, pack, session)
    report.seconds = time.perf_counter() - started
    return report
