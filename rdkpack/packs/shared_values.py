"""The shared-values prerequisite: one SSM parameter per value of sharedValues, in every account and region.

The values differ where the packs cannot: a layer is usable only in its own region, a code-signing
config only in its own account and region. Per-region values are a Mapping keyed by region, so one
StackSet gives every account (those that join an OU later included) its region's value, and a new
version is one `update-stack-set`. Per-account values are template parameters that default to empty
(then no parameter is created, and the account may write its own): a stack-instance override sets
them. The remediations read the parameter where they run.
"""

from __future__ import annotations

from rdkpack.project.config import Project, SharedValue

TEMPLATE = "shared-values.yaml"
MAPPING = "ValuesByRegion"
SSM_DESCRIPTION_MAX = 1024  # AWS::SSM::Parameter Description


def parameter_resource(value: SharedValue, content) -> dict:
    return {
        "Type": "AWS::SSM::Parameter",
        "Properties": {
            "Name": value.parameter_name,
            "Type": "String",
            "Value": content,
            "Description": value.description[:SSM_DESCRIPTION_MAX],
        },
    }


def template(project: Project) -> dict:
    by_region = [value for value in project.shared_values.values() if value.varies == "region"]
    by_account = [value for value in project.shared_values.values() if value.varies == "account"]
    regions = sorted({region for value in by_region for region in value.by_region})
    resources = {}
    for value in by_region:
        resources[f"{value.name}Parameter"] = parameter_resource(
            value, {"Fn::FindInMap": [MAPPING, {"Ref": "AWS::Region"}, value.name]}
        )
    parameters, conditions = {}, {}
    for value in by_account:
        parameters[value.name] = {
            "Type": "String",
            "Default": "",
            "Description": f"{value.description} This account's value in this region, set by a stack-instance "
            "override; empty: no parameter is created (the account may write its own).",
        }
        conditions[f"Has{value.name}"] = {"Fn::Not": [{"Fn::Equals": [{"Ref": value.name}, ""]}]}
        resources[f"{value.name}Parameter"] = {
            **parameter_resource(value, {"Ref": value.name}),
            "Condition": f"Has{value.name}",
        }
    result = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Values the rdk guardrail remediations read where they run (SSM Parameter Store under "
        f"{project.shared_value_path}). Deploy as a service-managed StackSet in every account and region the packs "
        f"go to ({', '.join(regions) or 'any region'} for the per-region values).",
    }
    if parameters:
        result["Parameters"] = parameters
    if by_region:
        result["Mappings"] = {
            MAPPING: {
                region: {v.name: v.by_region[region] for v in by_region if region in v.by_region} for region in regions
            }
        }
    if conditions:
        result["Conditions"] = conditions
    result["Resources"] = resources
    return result


def generated(project: Project, prefix: str) -> dict[str, dict]:
    """Path under conformance-packs/ -> template; nothing without sharedValues."""
    return {f"{prefix}/{TEMPLATE}": template(project)} if project.shared_values else {}
