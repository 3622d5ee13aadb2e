"""Load rdk-config.json, the rules' parameters.json and the remediation documents into typed models."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jsonschema

from rdkpack import documents
from rdkpack.errors import ConfigError

CONFIG_FILE = "rdk-config.json"


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    resource_types: tuple[str, ...]
    periodic: str | None  # MaximumExecutionFrequency, or None for change-only rules


@dataclass(frozen=True)
class Document:
    name: str
    parameters: dict  # name -> SSM parameter spec

    def required(self) -> set[str]:
        return {name for name, spec in self.parameters.items() if "default" not in spec}


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
    parameters: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PackRule:
    name: str
    parameters: dict
    remediation: Remediation


@dataclass(frozen=True)
class Pack:
    name: str
    scope: str  # account | organization
    description: str
    account_id: str | None
    excluded_accounts: tuple[str, ...]
    rules: tuple[PackRule, ...]


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


def schema() -> dict:
    return json.loads(resources.files("rdkpack.schemas").joinpath("rdk-config.schema.json").read_text())


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


def load_rule(folder: Path) -> Rule:
    path = folder / "parameters.json"
    body = json.loads(path.read_text(encoding="utf-8"))["Parameters"]
    events = body.get("SourceEvents", "")
    return Rule(
        name=body["RuleName"],
        description=body.get("Description", body["RuleName"]),
        resource_types=tuple(t.strip() for t in events.split(",") if t.strip()),
        periodic=body.get("SourcePeriodic"),
    )


def load_rules(root: Path) -> dict[str, Rule]:
    folders = sorted(d for d in (root / "rules").iterdir() if (d / "parameters.json").is_file())
    return {folder.name: load_rule(folder) for folder in folders}


def load_documents(root: Path) -> dict[str, Document]:
    return {
        folder.name: Document(folder.name, documents.load_document(folder)["parameters"])
        for folder in documents.remediation_dirs(root)
    }


def _remediation(rule: str, spec: dict, pairing: dict | None, path: str) -> Remediation:
    if spec["attach"] and pairing is None:
        raise ConfigError(
            path, f"remediations/{rule}", "a pack attaches a remediation, but none is paired with this rule"
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
        parameters=dict(spec.get("parameters", {})),
    )


def _pack(name: str, spec: dict, data: dict, path: str) -> Pack:
    rules = tuple(
        PackRule(
            rule,
            dict(rule_spec["parameters"]),
            _remediation(rule, rule_spec["remediation"], data["remediations"].get(rule), path),
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
    )


def check_references(project: Project, path: str) -> None:
    """Meaning across fields, after the shape is known to be right."""
    account_packs = {pack.account_id: pack.name for pack in project.packs.values() if pack.scope == "account"}
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


def load_project(root: Path) -> Project:
    path = str(root / CONFIG_FILE)
    try:
        data = json.loads((root / CONFIG_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(path, "(file)", "not found", expected="rdk-config.json at the project root") from error
    except json.JSONDecodeError as error:
        raise ConfigError(path, f"line {error.lineno}", error.msg, expected="valid JSON") from error
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
    )
    check_references(project, path)
    return project
