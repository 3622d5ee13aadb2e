"""Load rdk-config.json, the rules' parameters.json and the remediation documents into typed models."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jsonschema

from rdkpack.errors import ConfigError
from rdkpack.project import documents, files
from rdkpack.project.loader import rule_module

CONFIG_FILE = "rdk-config.json"
PACKS_DIR = "conformance-packs"  # the generated pack templates, <pack>.yaml, as deployed
RULE_PARAMETERS_SHAPE = '{"Version": "1.0", "Parameters": {"RuleName": ..., "SourceEvents": ...}}, as RDK writes it'


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    resource_types: tuple[str, ...]
    periodic: str | None  # MaximumExecutionFrequency, or None for change-only rules
    input_parameters: dict = field(default_factory=dict)  # parameters.json's InputParameters, as `rdk deploy` sends


@dataclass(frozen=True)
class Document:
    name: str
    parameters: dict  # name -> SSM parameter spec

    def required(self) -> set[str]:
        return {name for name, spec in self.parameters.items() if "default" not in spec}


@dataclass(frozen=True)
class SharedValue:
    """A value kept in SSM Parameter Store in each account and region (see sharedValues in rdk-config.json)."""

    name: str
    parameter_name: str  # sharedValues.parameterPath + name
    description: str
    varies: str  # region | account
    by_region: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Remediation:
    attach: bool
    document: str
    resource_id_parameter: str
    automatic: bool = False
    maximum_automatic_attempts: int | None = None
    retry_attempt_seconds: int | None = None
    concurrent_execution_rate_percentage: int | None = None
    error_percentage: int | None = None
    parameters: dict = field(default_factory=dict)  # document parameter -> static value
    shared: dict = field(default_factory=dict)  # document parameter -> shared value name (read where it runs)


@dataclass(frozen=True)
class PackRule:
    name: str
    parameters: dict
    remediation: Remediation

    def listed(self, name: str) -> list[str]:
        """A comma-separated parameter's values, blanks dropped."""
        return [part.strip() for part in str(self.parameters.get(name, "")).split(",") if part.strip()]

    def exemption_tag(self) -> tuple[str, str] | None:
        """The ExemptionTag parameter as (key, value), value '' for a key-only tag; None without one."""
        tag = str(self.parameters.get("ExemptionTag", "")).strip()
        if not tag:
            return None
        key, _, value = tag.partition("=")
        return key.strip(), value.strip()


@dataclass(frozen=True)
class Pack:
    name: str
    scope: str  # account | organization
    description: str
    account_id: str | None
    excluded_accounts: tuple[str, ...]
    rules: tuple[PackRule, ...]
    regions: tuple[str, ...] = ()  # empty: the one region it is deployed from
    preventive: dict = field(default_factory=dict)  # scp, requireCodeSigningOnCreate, guardHook

    def spans_regions(self) -> bool:
        return self.scope == "organization" or len(self.regions) > 1


@dataclass(frozen=True)
class Rollout:
    """Where `rdkpack rollout --org` runs and what it deploys besides the packs (rollout in rdk-config.json)."""

    admin_account_id: str
    home_region: str
    stack_set_prefix: str = "rdk-guardrails"
    artifact_bucket_prefix: str = "rdk-guardrails-artifacts"
    recorder_bucket: str | None = None  # deploy the Config recorder, delivering to this bucket
    scan_role_name: str | None = None
    scanning_account_id: str | None = None
    region_concurrency: str = "PARALLEL"
    max_concurrent_percentage: int = 25
    failure_tolerance_percentage: int = 10

    def artifact_bucket(self, region: str) -> str:
        return f"{self.artifact_bucket_prefix}-{self.admin_account_id}-{region}"


@dataclass(frozen=True)
class Project:
    root: Path
    partition: str
    lambda_location: str
    central_account_id: str | None
    lambda_role_name: str | None
    invoker_account_ids: tuple[str, ...]
    remediation_role_name: str
    execution_role_name: str
    management_account_id: str | None
    packs: dict[str, Pack]
    rules: dict[str, Rule]
    documents: dict[str, Document]
    shared_values: dict[str, SharedValue] = field(default_factory=dict)
    shared_value_path: str = ""
    rollout: Rollout | None = None

    def organization_regions(self) -> tuple[str, ...]:
        """Every region an organization pack goes to, in first-mention order."""
        regions = [r for pack in self.packs.values() if pack.scope == "organization" for r in pack.regions]
        return tuple(dict.fromkeys(regions))


def schema() -> dict:
    return json.loads(resources.files("rdkpack.project.schemas").joinpath("rdk-config.schema.json").read_text())


def validate_against_schema(data: dict, path: str) -> None:
    errors = sorted(jsonschema.Draft202012Validator(schema()).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise ConfigError(path, where, error.message, expected=_expected(error))


def _expected(error: jsonschema.ValidationError) -> str | None:
    if error.validator in ("enum", "const"):
        return f"one of {error.validator_value}" if error.validator == "enum" else repr(error.validator_value)
    if error.validator in ("pattern", "type", "minimum", "maximum", "maxItems", "maxLength", "required"):
        return f"{error.validator} {error.validator_value}"
    return None


def rule_parameters(folder: Path) -> dict:
    """The "Parameters" object of rules/<RULE>/parameters.json, checked for what rdkpack and RDK read."""
    path = folder / "parameters.json"
    data = files.read_json(path)
    body = data.get("Parameters") if isinstance(data, dict) else None
    if not isinstance(body, dict):
        raise ConfigError(str(path), "Parameters", "missing or not an object", expected=RULE_PARAMETERS_SHAPE)
    if body.get("RuleName") != folder.name:
        found, wanted = body.get("RuleName"), f"{folder.name!r}, the folder name"
        raise ConfigError(str(path), "Parameters/RuleName", f"is {found!r}", expected=wanted)
    for key in ("SourceEvents", "SourcePeriodic", "Description"):
        if not isinstance(body.get(key, ""), str):
            raise ConfigError(str(path), f"Parameters/{key}", "is not a string", expected="a string")
    if not (body.get("SourceEvents") or body.get("SourcePeriodic")):
        raise ConfigError(str(path), "Parameters", "no trigger", expected="SourceEvents and/or SourcePeriodic")
    return body


def input_parameters(body: dict, path: Path) -> dict:
    """RDK's InputParameters (a JSON object in a string, or an object), which `rdk deploy` gives the rule as is."""
    found = body.get("InputParameters", "{}")
    expected = 'a JSON object in a string, such as "{"LayerArn": "arn:..."}"'
    if isinstance(found, str):
        try:
            found = json.loads(found or "{}")
        except json.JSONDecodeError as error:
            raise ConfigError(str(path), "Parameters/InputParameters", f"not JSON: {error.msg}", expected) from error
    if not isinstance(found, dict):
        raise ConfigError(str(path), "Parameters/InputParameters", "not a JSON object", expected)
    return found


def load_rule(folder: Path) -> Rule:
    body = rule_parameters(folder)
    module = folder / f"{folder.name}.py"
    if not module.is_file():
        raise ConfigError(str(module), "(file)", "not found", expected="the rule's module next to its parameters.json")
    events = body.get("SourceEvents", "")
    return Rule(
        name=body["RuleName"],
        description=body.get("Description", body["RuleName"]),
        resource_types=tuple(t.strip() for t in events.split(",") if t.strip()),
        periodic=body.get("SourcePeriodic"),
        input_parameters=input_parameters(body, folder / "parameters.json"),
    )


def load_rules(root: Path) -> dict[str, Rule]:
    if not (root / "rules").is_dir():
        raise ConfigError(str(root / "rules"), "(folder)", "not found", expected="a folder per rule, as RDK creates")
    folders = sorted(d for d in (root / "rules").iterdir() if (d / "parameters.json").is_file())
    return {folder.name: load_rule(folder) for folder in folders}


def load_documents(root: Path) -> dict[str, Document]:
    return {
        folder.name: Document(folder.name, documents.load_document(folder)["parameters"])
        for folder in documents.remediation_dirs(root)
    }


# Remediation parameters that approve losing data or access to it (deleting an endpoint, expiring objects, archiving
# them where a read needs a restore first): a person gives them for one run after reading its DryRun, so no pack
# may set them for every run.
DATA_LOSS_APPROVALS = ("ApproveDeletion", "IncludeExpiringRules", "IncludeRestoreRequiredTransitions")


def _remediation(rule: str, spec: dict, pairing: dict | None, path: str, shared_path: str, *, key: str) -> Remediation:
    if spec["attach"] and pairing is None:
        raise ConfigError(
            path, f"remediations/{rule}", "a pack attaches a remediation, but none is paired with this rule"
        )
    for name in DATA_LOSS_APPROVALS:
        if str(spec.get("parameters", {}).get(name, "")).strip().lower() == "true":
            raise ConfigError(
                path,
                f"{key}/parameters/{name}",
                "approves losing data (or access to it) for every run; leave it unset, and let a person pass it to one "
                "run after "
                "reviewing that run's DryRun",
            )
    return Remediation(
        attach=spec["attach"],
        document=(pairing or {}).get("document", ""),
        resource_id_parameter=(pairing or {}).get("resourceIdParameter", ""),
        automatic=spec.get("automatic", False),
        maximum_automatic_attempts=spec.get("maximumAutomaticAttempts"),
        retry_attempt_seconds=spec.get("retryAttemptSeconds"),
        concurrent_execution_rate_percentage=spec.get("concurrentExecutionRatePercentage"),
        error_percentage=spec.get("errorPercentage"),
        parameters={
            f"{name}ParameterName" if isinstance(value, dict) else name: (
                shared_path + value["fromParameterStore"] if isinstance(value, dict) else value
            )
            for name, value in spec.get("parameters", {}).items()
        },
        shared={
            f"{name}ParameterName": value["fromParameterStore"]
            for name, value in spec.get("parameters", {}).items()
            if isinstance(value, dict)
        },
    )


def _pack(name: str, spec: dict, data: dict, path: str) -> Pack:
    rules = tuple(
        PackRule(
            rule,
            dict(rule_spec["parameters"]),
            _remediation(
                rule,
                rule_spec["remediation"],
                data["remediations"].get(rule),
                path,
                shared_path(data),
                key=f"packs/{name}/rules/{rule}/remediation",
            ),
        )
        for rule, rule_spec in spec["rules"].items()
    )
    return Pack(
        name=name,
        scope=spec["scope"],
        description=spec["description"],
        account_id=spec.get("accountId"),
        excluded_accounts=tuple(spec.get("excludedAccounts", ())),
        rules=rules,
        regions=tuple(spec.get("regions", ())),
        preventive=dict(spec.get("preventive", {})),
    )


def shared_path(data: dict) -> str:
    return (data.get("sharedValues") or {}).get("parameterPath", "")


def _shared_values(data: dict) -> dict[str, SharedValue]:
    values = (data.get("sharedValues") or {}).get("values", {})
    return {
        name: SharedValue(name, shared_path(data) + name, spec["description"], spec["varies"], spec.get("byRegion", {}))
        for name, spec in values.items()
    }


def _rollout(data: dict) -> Rollout | None:
    spec = data.get("rollout")
    if not spec:
        return None
    preferences = spec.get("operationPreferences", {})
    return Rollout(
        admin_account_id=spec["adminAccountId"],
        home_region=spec["homeRegion"],
        stack_set_prefix=spec.get("stackSetPrefix", "rdk-guardrails"),
        artifact_bucket_prefix=spec.get("artifactBucketPrefix", "rdk-guardrails-artifacts"),
        recorder_bucket=(spec.get("recorder") or {}).get("deliveryBucketName"),
        scan_role_name=(spec.get("scanRole") or {}).get("roleName"),
        scanning_account_id=(spec.get("scanRole") or {}).get("scanningAccountId"),
        region_concurrency=preferences.get("regionConcurrencyType", "PARALLEL"),
        max_concurrent_percentage=preferences.get("maxConcurrentPercentage", 25),
        failure_tolerance_percentage=preferences.get("failureTolerancePercentage", 10),
    )


def check_references(project: Project, path: str) -> None:
    """Meaning across fields, after the shape is known to be right."""
    account_packs: dict[str, str] = {}
    for pack in (p for p in project.packs.values() if p.scope == "account"):
        if pack.account_id in account_packs:
            raise ConfigError(
                path,
                f"packs/{pack.name}/accountId",
                f"account {pack.account_id} already gets pack {account_packs[pack.account_id]}",
                expected="one pack per account",
            )
        account_packs[pack.account_id] = pack.name
    for pack in project.packs.values():
        if pack.scope == "organization" and not project.management_account_id:
            raise ConfigError(path, f"packs/{pack.name}", "an organization pack needs organization.managementAccountId")
        covered = sorted(set(account_packs) - set(pack.excluded_accounts)) if pack.scope == "organization" else []
        if covered:
            raise ConfigError(
                path,
                f"packs/{pack.name}/excludedAccounts",
                f"account {covered[0]} gets pack {account_packs[covered[0]]} and would get this one too; "
                "an account must hold only one of the packs",
                expected=f"{covered[0]} in excludedAccounts",
            )
        for rule in pack.rules:
            if rule.name not in project.rules:
                raise ConfigError(
                    path,
                    f"packs/{pack.name}/rules/{rule.name}",
                    "no such rule folder",
                    expected=", ".join(project.rules),
                )
            document = rule.remediation.document
            if rule.remediation.attach and document not in project.documents:
                raise ConfigError(
                    path,
                    f"remediations/{rule.name}/document",
                    f"no document {document!r}",
                    expected=", ".join(project.documents),
                )
            check_shared_references(project, pack, rule, path)


def check_shared_regions(project: Project, path: str) -> None:
    """The per-region values share one Mapping: each must have a value in every region any of them lists."""
    regional = [value for value in project.shared_values.values() if value.varies == "region"]
    every = sorted({region for value in regional for region in value.by_region})
    for value in regional:
        missing = [region for region in every if region not in value.by_region]
        if missing:
            raise ConfigError(
                path,
                f"sharedValues/values/{value.name}/byRegion",
                f"no value for {', '.join(missing)}, which another per-region value lists",
                expected=f"a value for each of {', '.join(every)}",
            )


def check_shared_references(project: Project, pack: Pack, rule: PackRule, path: str) -> None:
    """Each fromParameterStore names a declared shared value and a document parameter that reads one."""
    for parameter, name in rule.remediation.shared.items():
        where = f"packs/{pack.name}/rules/{rule.name}/remediation/parameters/{parameter.removesuffix('ParameterName')}"
        if name not in project.shared_values:
            declared = ", ".join(project.shared_values) or "none: add sharedValues"
            raise ConfigError(
                path, where, f"no shared value {name!r}", expected=f"one of sharedValues.values ({declared})"
            )
        document = project.documents.get(rule.remediation.document)
        if document is not None and parameter not in document.parameters:
            raise ConfigError(
                path, where, f"document {document.name} has no parameter {parameter}", expected="a literal value"
            )
        value = project.shared_values[name]
        missing = sorted(set(pack.regions) - set(value.by_region)) if value.varies == "region" else []
        if missing:
            raise ConfigError(
                path,
                f"sharedValues/values/{name}/byRegion",
                f"no value for {', '.join(missing)}, where pack {pack.name} is deployed",
                expected=f"a value for each of {', '.join(pack.regions)}",
            )


def find_root(start: Path, explicit: bool = False) -> Path:
    """The project folder: start itself when explicit (--project), else the nearest one upward with rdk-config.json."""
    start = start.absolute()
    for folder in (start,) if explicit else (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    where = "in --project" if explicit else "here or in any folder above"
    expected = "a project folder: run inside it or pass --project DIR"
    enclosing = next((folder for folder in start.parents if (folder / CONFIG_FILE).is_file()), None)
    if explicit and enclosing:  # --project .../rules: a folder inside the project
        expected = f"the project's own folder: {start} is inside the project at {enclosing}; pass --project {enclosing}"
    raise ConfigError(str(start), CONFIG_FILE, f"not found {where}", expected=expected)


def load_project(root: Path) -> Project:
    path = str(root / CONFIG_FILE)
    if not (root / CONFIG_FILE).exists():
        raise ConfigError(path, "(file)", "not found", expected="rdk-config.json at the project root")
    data = files.read_json(root / CONFIG_FILE)
    validate_against_schema(data, path)
    lambdas = data["ruleLambdas"]
    project = Project(
        root=root,
        partition=data["partition"],
        lambda_location=lambdas["location"],
        central_account_id=lambdas.get("centralAccountId"),
        lambda_role_name=lambdas.get("lambdaRoleName"),
        invoker_account_ids=tuple(lambdas.get("invokerAccountIds", ())),
        remediation_role_name=data["roles"]["remediationRoleName"],
        execution_role_name=data["roles"]["executionRoleName"],
        management_account_id=(data.get("organization") or {}).get("managementAccountId"),
        packs={name: _pack(name, spec, data, path) for name, spec in data["packs"].items()},
        rules=load_rules(root),
        documents=load_documents(root),
        shared_values=_shared_values(data),
        shared_value_path=shared_path(data),
        rollout=_rollout(data),
    )
    check_references(project, path)
    check_shared_regions(project, path)
    return project


NAMED_PARAMETER = re.compile(r"\bParameter (\w+)")  # how the rules' errors name the parameter they refuse


def check_rule_parameters(project: Project) -> None:
    """Every pack rule's parameters through the rule's own parser, as the deployed Lambda would parse them, and
    every rule's InputParameters against the names it accepts: a value the rule refuses (MinLayerVersion "abc",
    MaxAzCount 0) stops every command before it starts (the CLI opens projects through `open_project`), naming
    the pack, the rule and what the rule expects, instead of failing in a generator or, deployed, in every
    evaluation. It imports the rules, so rdklib; load_project alone does not (the remediation tests run without)."""
    path = str(project.root / CONFIG_FILE)
    from rdkpack.project.kit.rule_kit import ROLE_PARAMETERS  # noqa: PLC0415 -- rdklib, as the rules themselves need

    for name, rule in project.rules.items():
        accepted = (*getattr(rule_module(project.root, name), "RULE_PARAMETERS", ()), *ROLE_PARAMETERS)
        unknown = sorted(set(rule.input_parameters) - set(accepted))
        if unknown:
            raise ConfigError(
                str(project.root / "rules" / name / "parameters.json"),
                f"Parameters/InputParameters/{unknown[0]}",
                f"{name} does not accept it (`rdk deploy` would give it to the rule, which refuses it)",
                expected=", ".join(accepted),
            )
    for pack in project.packs.values():
        for rule in pack.rules:
            parse = getattr(rule_module(project.root, rule.name), rule.name)().evaluate_parameters
            try:
                parse(
                    {
                        key: value if isinstance(value, str) else json.dumps(value)
                        for key, value in rule.parameters.items()
                    }
                )
            except Exception as error:  # the rule's own words: InvalidParametersError, or whatever its parser raised
                named = NAMED_PARAMETER.search(str(error))
                key = f"packs/{pack.name}/rules/{rule.name}/parameters"
                key += f"/{named.group(1)}" if named and named.group(1) in rule.parameters else ""
                raise ConfigError(path, key, f"{rule.name} refuses it: {error}") from error
