"""rdkpack validate: the committed packs pass, and each kind of defect is caught and located."""

from __future__ import annotations

import copy

import pytest

from rdkpack.cli import main
from rdkpack.packs import build, validate
from rdkpack.project.config import load_project
from rdkpack.project.documents import load_yaml
from tests.support.project import ROOT

PROJECT = load_project(ROOT)
SANDBOX = build.build_pack(PROJECT, PROJECT.packs["rdk-guardrails-sandbox"])


def findings_for(mutate, name="rdk-guardrails-sandbox"):
    template = copy.deepcopy(SANDBOX)
    mutate(template)
    body = build.render(template)
    return validate.validate_pack(name, template, body, PROJECT, "sandbox.yaml")


def rule(template, logical="LambdaLayerCheck"):
    return template["Resources"][logical]["Properties"]


def remediation(template, logical="LambdaLayerCheckRemediation"):
    return template["Resources"][logical]["Properties"]


def test_committed_packs_and_prerequisites_validate_cleanly(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["validate"]) == 0
    assert "2 pack(s) and 8 prerequisite template(s): 0 error(s), 0 warning(s), 1 note(s)" in capsys.readouterr().out


def many_rules(template):
    for i in range(131):
        template["Resources"][f"Extra{i}"] = copy.deepcopy(template["Resources"]["LambdaLayerCheck"])


DEFECTS = [
    ("PACK_RESOURCE_TYPE", "Bucket", "Type", lambda t: t["Resources"].update(Bucket={"Type": "AWS::S3::Bucket"})),
    ("RULE_COUNT", "(pack)", "Resources", many_rules),
    (
        "PACK_PARAMETERS",
        "(pack)",
        "Parameters",
        lambda t: t.update(Parameters={f"P{i}": {"Type": "String"} for i in range(61)}),
    ),
    (
        "INPUT_PARAMETERS_SIZE",
        "LambdaLayerCheck",
        "InputParameters",
        lambda t: rule(t)["InputParameters"].update(ExemptionTag="x" * 1100),
    ),
    ("RULE_NAME", "LambdaLayerCheck", "ConfigRuleName", lambda t: rule(t).update(ConfigRuleName={"Fn::Sub": "x"})),
    (
        "MESSAGE_TYPE",
        "LambdaLayerCheck",
        "Source.SourceDetails[0].MessageType",
        lambda t: rule(t)["Source"]["SourceDetails"][0].update(MessageType="Hourly"),
    ),
    (
        "FREQUENCY",
        "LambdaCodeSigningCheck",
        "Source.SourceDetails[2].MaximumExecutionFrequency",
        lambda t: rule(t, "LambdaCodeSigningCheck")["Source"]["SourceDetails"][2].update(
            MaximumExecutionFrequency="Daily"
        ),
    ),
    (
        "RULE_PARAMETERS",
        "LambdaLayerCheck",
        "InputParameters",
        lambda t: rule(t)["InputParameters"].update(LayerArn="arn:aws:lambda:*:123456789012:layer:base:3"),
    ),
    (
        "REMEDIATION_RULE",
        "LambdaLayerCheckRemediation",
        "ConfigRuleName",
        lambda t: remediation(t).update(ConfigRuleName="OTHER_RULE"),
    ),
    ("TARGET_TYPE", "LambdaLayerCheckRemediation", "TargetType", lambda t: remediation(t).update(TargetType="LAMBDA")),
    ("TARGET_ID", "LambdaLayerCheckRemediation", "TargetId", lambda t: remediation(t).update(TargetId="AWS-Nothing")),
    (
        "RANGE",
        "LambdaLayerCheckRemediation",
        "MaximumAutomaticAttempts",
        lambda t: remediation(t).update(MaximumAutomaticAttempts=26),
    ),
    (
        "RANGE",
        "LambdaLayerCheckRemediation",
        "RetryAttemptSeconds",
        lambda t: remediation(t).update(RetryAttemptSeconds=0),
    ),
    (
        "RANGE",
        "LambdaLayerCheckRemediation",
        "ExecutionControls.SsmControls.ErrorPercentage",
        lambda t: remediation(t)["ExecutionControls"]["SsmControls"].update(ErrorPercentage=101),
    ),
    (
        "UNDECLARED_PARAMETER",
        "LambdaLayerCheckRemediation",
        "Parameters.Force",
        lambda t: remediation(t)["Parameters"].update(Force={"StaticValue": {"Values": ["true"]}}),
    ),
    (
        "MISSING_PARAMETER",
        "LambdaLayerCheckRemediation",
        "Parameters.AutomationAssumeRole",
        lambda t: remediation(t)["Parameters"].pop("AutomationAssumeRole"),
    ),
    (
        "RESOURCE_VALUE",
        "LambdaLayerCheckRemediation",
        "Parameters.FunctionName",
        lambda t: remediation(t)["Parameters"].update(FunctionName={"ResourceValue": {"Value": "RESOURCE_ARN"}}),
    ),
    (
        "ALLOWED_PATTERN",
        "LambdaLayerCheckRemediation",
        "Parameters.LayerVersionArn",
        lambda t: remediation(t)["Parameters"].update(
            LayerVersionArn={"StaticValue": {"Values": ["arn:aws:lambda:us-east-1:123456789012:layer:base"]}}
        ),
    ),
    (
        "ALLOWED_PATTERN",
        "VpcEndpointAzCountCheckRemediation",
        "Parameters.MaxAzCount",
        lambda t: remediation(t, "VpcEndpointAzCountCheckRemediation")["Parameters"].update(
            MaxAzCount={"StaticValue": {"Values": ["one"]}}
        ),
    ),
    (
        "STATIC_VALUE",
        "LambdaLayerCheckRemediation",
        "Parameters.LayerVersionArn",
        lambda t: remediation(t)["Parameters"].update(LayerVersionArn={"StaticValue": {"Values": ["x" * 257]}}),
    ),
    (
        "STATIC_VALUE",
        "LambdaLayerCheckRemediation",
        "Parameters.LayerVersionArn",
        lambda t: remediation(t)["Parameters"].update(LayerVersionArn={"StaticValue": {"Values": []}}),
    ),
    (
        "LITERAL_ROLE_ARN",
        "LambdaLayerCheckRemediation",
        "Parameters.AutomationAssumeRole",
        lambda t: remediation(t)["Parameters"].update(
            AutomationAssumeRole={
                "StaticValue": {"Values": [{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/R"}]}
            }
        ),
    ),
    (
        "UNAPPROVED_LAYER",
        "LambdaLayerCheckRemediation",
        "Parameters.LayerVersionArn",
        lambda t: remediation(t)["Parameters"].update(
            LayerVersionArn={"StaticValue": {"Values": ["arn:aws:lambda:us-east-1:999999999999:layer:other:4"]}}
        ),
    ),
    (
        "AUTOMATIC_APPROVAL",
        "S3LifecycleAsteriskPrefixCheckRemediation",
        "Parameters.IncludeExpiringRules",
        lambda t: remediation(t, "S3LifecycleAsteriskPrefixCheckRemediation")["Parameters"].update(
            IncludeExpiringRules={"StaticValue": {"Values": ["true"]}}
        ),
    ),
    (
        "REMEDIATION_PARAMETERS",
        "LambdaLayerCheckRemediation",
        "Parameters",
        lambda t: remediation(t)["Parameters"].update({f"P{i}": {"StaticValue": {"Values": ["x"]}} for i in range(25)}),
    ),
]


@pytest.mark.parametrize(("code", "resource", "field", "mutate"), DEFECTS, ids=[f"{d[0]}-{d[2]}" for d in DEFECTS])
def test_each_kind_of_defect_is_found_with_file_resource_and_field(code, resource, field, mutate):
    found = findings_for(mutate)
    assert any(
        (f.code, f.file, f.resource, f.field, f.severity) == (code, "sandbox.yaml", resource, field, "error")
        for f in found
    ), found


def test_clean_sandbox_template_has_no_findings():
    assert findings_for(lambda t: None) == []


def test_bad_pack_name_is_found():
    found = findings_for(lambda t: None, name="9-lives")
    assert [(f.code, f.field) for f in found] == [("PACK_NAME", "ConformancePackName")]


def test_template_over_the_body_limit_warns_and_over_300_kb_fails():
    warn = findings_for(lambda t: t.update(Description="x" * 52_000))
    assert [(f.code, f.severity) for f in warn] == [("TEMPLATE_SIZE", "warning")]
    fail = findings_for(lambda t: t.update(Description="x" * 310_000))
    assert [(f.code, f.severity) for f in fail] == [("TEMPLATE_SIZE", "error")]


def test_cfn_lint_findings_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("Resources:\n  Rule:\n    Type: AWS::Config::ConfigRule\n    Properties:\n      Bogus: 1\n")
    found = validate.lint_files([bad])
    assert any(f.code.startswith("CFN_LINT_E") and f.file == str(bad) and f.resource.startswith("line ") for f in found)


TEMPLATES_CFN_LINT_JUDGES = {
    "unknown-property.yaml": "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketNam: x\n",
    "not-yaml.yaml": "Resources:\n  A: [unclosed\n",
    "own-regions-and-ignores.yaml": (
        "Metadata:\n  cfn-lint:\n    config:\n      regions: [us-east-1, eu-west-1]\n      ignore_checks: [W2001]\n"
        "Parameters:\n  Unused:\n    Type: String\n"
        "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python2.7\n"
        "      Handler: h\n      Role: arn:aws:iam::123456789012:role/x\n      Code: {ZipFile: x}\n"
    ),
}


@pytest.mark.parametrize(
    "cfnlintrc",
    [None, "ignore_bad_template: true\nignore_checks:\n  - W2001\n"],
    ids=["no-cfnlintrc", "cfnlintrc-ignores"],
)
def test_templates_linted_together_get_what_cfn_lint_gives_each_alone(tmp_path, monkeypatch, cfnlintrc):
    """The rule set is loaded once for all templates; each template still gets its own configuration, and the
    .cfnlintrc of the folder validate runs in applies as it does to cfn-lint."""
    from cfnlint.api import lint_file  # noqa: PLC0415

    if cfnlintrc:
        (tmp_path / ".cfnlintrc").write_text(cfnlintrc)
    monkeypatch.chdir(tmp_path)
    validate._lint.cache_clear()
    paths = []
    for name, body in TEMPLATES_CFN_LINT_JUDGES.items():
        paths.append(tmp_path / name)
        paths[-1].write_text(body)
    ours = validate.lint_files(paths)
    for path in paths:
        alone = {
            (f"CFN_LINT_{m.rule.id}", f"line {m.linenumber}", f"column {m.columnnumber}", m.message)
            for m in lint_file(path)
        }
        assert alone or cfnlintrc, path.name
        assert {(f.code, f.resource, f.field, f.message) for f in ours if f.file == str(path)} == alone, path.name


def test_include_expiring_rules_on_a_manual_remediation_is_allowed():
    def manual_with_flag(template):
        properties = remediation(template, "S3LifecycleAsteriskPrefixCheckRemediation")
        properties["Automatic"] = False
        properties["Parameters"]["IncludeExpiringRules"] = {"StaticValue": {"Values": ["true"]}}

    assert [f for f in findings_for(manual_with_flag) if f.code == "AUTOMATIC_APPROVAL"] == []


def test_a_check_that_breaks_on_the_pack_build_writes_is_a_bug_not_a_pack_shape_finding(monkeypatch):
    """PACK_SHAPE says "run rdkpack build" for a hand-edited pack; on the pack build writes, that advice would hide a
    broken check, so its error is raised."""
    project = load_project(ROOT)
    name = "rdk-guardrails-sandbox"
    body = build.render(build.build_pack(project, project.packs[name]))
    template = load_yaml(body)

    def broken(*_):
        raise TypeError("a check's own bug")

    monkeypatch.setattr(validate, "_check_pack_level", broken)
    with pytest.raises(TypeError, match="a check's own bug"):
        validate.validate_pack(name, template, body, project, "pack.yaml")
    edited = body + "# edited by hand\n"
    [finding] = validate.validate_pack(name, template, edited, project, "pack.yaml")
    assert finding.code == "PACK_SHAPE" and "a check's own bug" in finding.message
