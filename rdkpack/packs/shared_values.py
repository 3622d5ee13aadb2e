"""The shared-values prerequisite: one SSM parameter per value of sharedValues, set per region or account.

The values differ where the packs cannot: a layer is usable only in its own region, a code-signing
config only in its own account and region. A StackSet deploys the template everywhere; its parameter
overrides (one file per region, generated here; per stack instance for per-account values) give each
account and region its own value, and the remediations read it where they run.
"""

from __future__ import annotations

from rdkpack.project.config import Project, SharedValue

TEMPLATE = "shared-values.yaml"
OVERRIDES = "shared-values-overrides"
SSM_DESCRIPTION_MAX = 1024  # AWS::SSM::Parameter Description
WHERE_SET = {
    "region": "Set per region by the StackSet parameter overrides in " + OVERRIDES + "/<region>.json.",
    "account": "Set per account and region by a stack-instance parameter override (README, Shared values).",
}


def has_value(value: SharedValue) -> str:
    return f"Has{value.name}"


def template(project: Project) -> dict:
    parameters, conditions, resources = {}, {}, {}
    for value in project.shared_values.values():
        parameters[value.name] = {
            "Type": "String",
            "Default": "",
            "Description": f"{value.description} {WHERE_SET[value.varies]} Empty: no parameter is created.",
        }
        conditions[has_value(value)] = {"Fn::Not": [{"Fn::Equals": [{"Ref": value.name}, ""]}]}
        resources[f"{value.name}Parameter"] = {
            "Type": "AWS::SSM::Parameter",
            "Condition": has_value(value),
            "Properties": {
                "Name": value.parameter_name,
                "Type": "String",
                "Value": {"Ref": value.name},
                "Description": value.description[:SSM_DESCRIPTION_MAX],
            },
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Values the rdk guardrail remediations read where they run (SSM Parameter Store under "
        f"{project.shared_value_path}). Deploy as a service-managed StackSet in every account and region the packs "
        "go to, with the parameter overrides of each region.",
        "Parameters": parameters,
        "Conditions": conditions,
        "Resources": resources,
    }


def regions(project: Project) -> list[str]:
    return sorted({region for value in project.shared_values.values() for region in value.by_region})


def overrides(project: Project, region: str) -> list[dict]:
    """`--parameter-overrides file://...` for one region: the per-region values."""
    return [
        {"ParameterKey": value.name, "ParameterValue": value.by_region[region]}
        for value in project.shared_values.values()
        if region in value.by_region
    ]


def generated(project: Project, prefix: str) -> dict[str, object]:
    """Path under conformance-packs/ -> template (YAML) or overrides list (JSON); nothing without sharedValues."""
    if not project.shared_values:
        return {}
    files: dict[str, object] = {f"{prefix}/{TEMPLATE}": template(project)}
    for region in regions(project):
        files[f"{prefix}/{OVERRIDES}/{region}.json"] = overrides(project, region)
    return files
