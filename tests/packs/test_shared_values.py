"""Per-account and per-region values: the shared-values template, its overrides, and the checks that keep
one region's or one account's ARN out of packs that go further."""

from __future__ import annotations

import dataclasses
import json

import pytest

from rdkpack.errors import ConfigError
from rdkpack.packs import build, shared_values, validate
from rdkpack.project.config import load_project
from tests.support.project import ROOT, copy_project

PROJECT = load_project(ROOT)
LAYER_EAST = "arn:aws:lambda:us-east-1:123456789012:layer:company-base:2"
CSC = "arn:aws:lambda:us-east-1:111111111111:code-signing-config:csc-0123456789abcdef0"


def test_the_template_declares_one_ssm_parameter_per_shared_value():
    template = shared_values.template(PROJECT)
    parameters = {
        resource["Properties"]["Name"]: resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::SSM::Parameter"
    }
    assert sorted(parameters) == ["/rdk-guardrails/ApprovedLayerVersionArn", "/rdk-guardrails/CodeSigningConfigArn"]
    layer = parameters["/rdk-guardrails/ApprovedLayerVersionArn"]
    assert layer["Properties"]["Value"] == {
        "Fn::FindInMap": ["ValuesByRegion", {"Ref": "AWS::Region"}, "ApprovedLayerVersionArn"]
    }
    assert "Condition" not in layer, "every account of every listed region gets its region's layer"
    config = parameters["/rdk-guardrails/CodeSigningConfigArn"]
    assert config["Properties"]["Value"] == {"Ref": "CodeSigningConfigArn"}
    assert template["Parameters"]["CodeSigningConfigArn"]["Default"] == ""
    assert template["Conditions"][config["Condition"]] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CodeSigningConfigArn"}, ""]}]
    }


def test_each_region_maps_to_its_own_layer():
    mapping = shared_values.template(PROJECT)["Mappings"]["ValuesByRegion"]
    assert mapping == {
        "us-east-1": {"ApprovedLayerVersionArn": LAYER_EAST},
        "eu-west-1": {"ApprovedLayerVersionArn": LAYER_EAST.replace("us-east-1", "eu-west-1")},
    }


@pytest.mark.parametrize("pack", sorted(PROJECT.packs))
def test_packs_pass_parameter_names_and_no_account_or_region_literal(pack):
    resources = build.build_pack(PROJECT, PROJECT.packs[pack])["Resources"]
    static = {
        (logical, name): spec["StaticValue"]["Values"][0]
        for logical, resource in resources.items()
        if resource["Type"] == "AWS::Config::RemediationConfiguration"
        for name, spec in resource["Properties"]["Parameters"].items()
        if "StaticValue" in spec and name != "AutomationAssumeRole"
    }
    assert static[("LambdaLayerCheckRemediation", "LayerVersionArnParameterName")] == (
        "/rdk-guardrails/ApprovedLayerVersionArn"
    )
    assert static[("LambdaCodeSigningCheckRemediation", "CodeSigningConfigArnParameterName")] == (
        "/rdk-guardrails/CodeSigningConfigArn"
    )
    assert [value for value in static.values() if str(value).startswith("arn:")] == []


def test_the_remediation_role_reads_only_the_shared_values_path():
    role = build.iam_roles_template(PROJECT)["Resources"]
    statements = [
        statement
        for resource in role.values()
        if resource["Type"] == "AWS::IAM::Role"
        for policy in resource["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
        if "ssm:GetParameter" in statement["Action"]
    ]
    assert [s["Resource"] for s in statements] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:parameter/rdk-guardrails/*"}
    ]


# ---- validate: a literal that cannot travel ----


def findings(pack_name: str, parameter: str, value: str, regions=None):
    pack = PROJECT.packs[pack_name]
    if regions is not None:
        pack = dataclasses.replace(pack, regions=tuple(regions))
    project = dataclasses.replace(PROJECT, packs={**PROJECT.packs, pack_name: pack})
    template = build.build_pack(project, pack)
    remediation = template["Resources"]["LambdaLayerCheckRemediation"]["Properties"]["Parameters"]
    remediation.pop(f"{parameter}ParameterName", None)
    remediation[parameter] = {"StaticValue": {"Values": [value]}}
    found = validate.validate_pack(pack_name, template, build.render(template), project, "pack.yaml")
    return [(f.code, f.field) for f in found], found


def test_an_organization_pack_may_not_carry_one_regions_layer():
    codes, found = findings("rdk-guardrails-org-baseline", "LayerVersionArn", LAYER_EAST)
    assert codes == [("REGION_SPECIFIC_VALUE", "Parameters.LayerVersionArn")]
    assert "names one region (us-east-1), but pack rdk-guardrails-org-baseline goes to every account" in str(found[0])
    assert '{"fromParameterStore": NAME}' in str(found[0])


def test_an_organization_pack_may_not_carry_one_accounts_arn():
    role = "arn:aws:iam::111111111111:role/x"
    codes, found = findings("rdk-guardrails-org-baseline", "LayerVersionArn", role)
    assert ("ACCOUNT_SPECIFIC_VALUE", "Parameters.LayerVersionArn") in codes
    assert "names one account (111111111111)" in str(
        found[codes.index(("ACCOUNT_SPECIFIC_VALUE", "Parameters.LayerVersionArn"))]
    )


def test_a_single_region_account_pack_may_carry_literals():
    codes, _ = findings("rdk-guardrails-sandbox", "LayerVersionArn", LAYER_EAST)
    assert codes == []


def test_an_account_pack_for_two_regions_may_not_carry_one_regions_layer():
    codes, _ = findings("rdk-guardrails-sandbox", "LayerVersionArn", LAYER_EAST, regions=["us-east-1", "eu-west-1"])
    assert codes == [("REGION_SPECIFIC_VALUE", "Parameters.LayerVersionArn")]


def test_a_shared_layer_value_the_rule_does_not_approve_is_found():
    value = PROJECT.shared_values["ApprovedLayerVersionArn"]
    other = dataclasses.replace(
        value, by_region={**value.by_region, "eu-west-1": "arn:aws:lambda:eu-west-1:999999999999:layer:x:5"}
    )
    project = dataclasses.replace(PROJECT, shared_values={**PROJECT.shared_values, value.name: other})
    pack = project.packs["rdk-guardrails-org-baseline"]
    template = build.build_pack(project, pack)
    found = validate.validate_pack(pack.name, template, build.render(template), project, "pack.yaml")
    assert [(f.code, f.field) for f in found] == [("UNAPPROVED_LAYER", "Parameters.LayerVersionArn")]


# ---- rdk-config.json: references that must resolve ----


def edited_config(tmp_path, edit):
    copy_project(tmp_path, ("rules", "remediations", "rdk-config.json"))
    path = tmp_path / "rdk-config.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return tmp_path


def org_layer_remediation(data):
    return data["packs"]["rdk-guardrails-org-baseline"]["rules"]["LAMBDA_LAYER_CHECK"]["remediation"]


@pytest.mark.parametrize(
    ("edit", "key", "message"),
    [
        (
            lambda d: org_layer_remediation(d)["parameters"].update(LayerVersionArn={"fromParameterStore": "Nope"}),
            "packs/rdk-guardrails-org-baseline/rules/LAMBDA_LAYER_CHECK/remediation/parameters/LayerVersionArn",
            "no shared value 'Nope'",
        ),
        (
            lambda d: org_layer_remediation(d)["parameters"].update(
                DryRun={"fromParameterStore": "CodeSigningConfigArn"}
            ),
            "packs/rdk-guardrails-org-baseline/rules/LAMBDA_LAYER_CHECK/remediation/parameters/DryRun",
            "document AddRequiredLambdaLayer has no parameter DryRunParameterName",
        ),
        (
            lambda d: d["packs"]["rdk-guardrails-org-baseline"]["regions"].append("ap-south-1"),
            "sharedValues/values/ApprovedLayerVersionArn/byRegion",
            "no value for ap-south-1, where pack rdk-guardrails-org-baseline is deployed",
        ),
        (
            lambda d: d["sharedValues"]["values"]["CodeSigningConfigArn"].update(byRegion={"us-east-1": CSC}),
            "sharedValues/values/CodeSigningConfigArn",
            "should not be valid",
        ),
        (
            lambda d: d["sharedValues"]["values"].update(
                OtherLayer={"description": "x", "varies": "region", "byRegion": {"us-east-1": "arn:x"}}
            ),
            "sharedValues/values/OtherLayer/byRegion",
            "no value for eu-west-1, which another per-region value lists",
        ),
    ],
)
def test_a_broken_shared_value_reference_names_the_key(tmp_path, edit, key, message):
    with pytest.raises(ConfigError) as raised:
        load_project(edited_config(tmp_path, edit))
    assert raised.value.key == key
    assert message in str(raised.value)


def test_a_shared_layer_below_the_rules_minimum_version_is_found():
    value = PROJECT.shared_values["ApprovedLayerVersionArn"]
    old = dataclasses.replace(value, by_region={r: arn.rsplit(":", 1)[0] + ":1" for r, arn in value.by_region.items()})
    project = dataclasses.replace(PROJECT, shared_values={**PROJECT.shared_values, value.name: old})
    pack = project.packs["rdk-guardrails-org-baseline"]
    template = build.build_pack(project, pack)
    found = validate.validate_pack(pack.name, template, build.render(template), project, "pack.yaml")
    assert [(f.code, f.field) for f in found] == [("LAYER_BELOW_MINIMUM", "Parameters.LayerVersionArn")] * 2
    assert "is version 1, below the rule's MinLayerVersion 2" in str(found[0])
