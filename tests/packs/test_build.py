"""rdkpack build: generated packs and prerequisites follow the config, and stale files are caught."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import shutil

import pytest
import yaml

from rdkpack.cli import main
from rdkpack.errors import ConfigError
from rdkpack.packs import artifacts, build, write
from rdkpack.project import documents
from rdkpack.project.config import load_project
from tests.support.project import ROOT, copy_project, load_remediation_script, load_rule

PROJECT = load_project(ROOT)


def pack_template(name):
    return build.build_pack(PROJECT, PROJECT.packs[name])


def test_committed_generated_files_are_current():
    assert write.stale_files(ROOT, write=False) == []


def test_build_check_reports_stale_and_leftover_files(tmp_path, monkeypatch, capsys):
    for item in ("rules", "remediations", "conformance-packs", "preventive", "rdk-config.json"):
        copy = shutil.copytree if (ROOT / item).is_dir() else shutil.copy
        copy(ROOT / item, tmp_path / item)
    (tmp_path / "conformance-packs" / "rdk-guardrails-sandbox.yaml").write_text("edited by hand\n")
    (tmp_path / "conformance-packs" / "old-pack.yaml").write_text("{}\n")
    monkeypatch.chdir(tmp_path)

    assert main(["build", "--check"]) == 1
    out = capsys.readouterr().out
    assert "stale: conformance-packs/rdk-guardrails-sandbox.yaml" in out
    assert "stale: conformance-packs/old-pack.yaml" in out

    assert main(["build"]) == 0
    assert main(["build", "--check"]) == 0
    assert not (tmp_path / "conformance-packs" / "old-pack.yaml").exists()


def test_every_rule_is_a_custom_lambda_rule_with_triggers_from_parameters_json():
    resources = pack_template("rdk-guardrails-sandbox")["Resources"]
    signing = resources["LambdaCodeSigningCheck"]["Properties"]
    assert signing["Scope"] == {"ComplianceResourceTypes": ["AWS::Lambda::Function"]}
    assert [d["MessageType"] for d in signing["Source"]["SourceDetails"]] == [
        "ConfigurationItemChangeNotification",
        "OversizedConfigurationItemChangeNotification",
        "ScheduledNotification",
    ]
    assert signing["Source"]["SourceDetails"][2]["MaximumExecutionFrequency"] == "TwentyFour_Hours"
    layer = resources["LambdaLayerCheck"]["Properties"]
    assert layer["Source"]["SourceIdentifier"] == {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
        "RDK-Rule-Function-LAMBDALAYERCHECK"
    }
    assert layer["InputParameters"]["ExecutionRoleName"] == "RdkGuardrailsRuleExecutionRole"


def test_account_pack_names_its_account_in_the_literal_role_arn():
    pack = PROJECT.packs["rdk-guardrails-sandbox"]
    role = "arn:aws:iam::111111111111:role/RdkGuardrailsRemediationRole"
    remediation = build.build_pack(PROJECT, pack)["Resources"]["S3LifecycleAsteriskPrefixCheckRemediation"]
    assert remediation["Properties"]["Parameters"]["AutomationAssumeRole"] == {"StaticValue": {"Values": [role]}}


def test_organization_pack_names_the_management_account_which_config_replaces_per_member():
    text = build.render(pack_template("rdk-guardrails-org-baseline"))
    roles = set(re.findall(r"arn:aws:iam::\d{12}:role/\S+", text))
    assert roles == {"arn:aws:iam::222222222222:role/RdkGuardrailsRemediationRole"}


def test_remediation_passes_the_resource_id_and_only_declared_parameters():
    for name in PROJECT.packs:
        for logical, resource in pack_template(name)["Resources"].items():
            if resource["Type"] != "AWS::Config::RemediationConfiguration":
                continue
            properties = resource["Properties"]
            rule = properties["ConfigRuleName"]
            pairing = {r.name: r.remediation for r in PROJECT.packs[name].rules}[rule]
            declared = PROJECT.documents[properties["TargetId"]].parameters
            assert set(properties["Parameters"]) <= set(declared), logical
            assert properties["Parameters"][pairing.resource_id_parameter] == {
                "ResourceValue": {"Value": "RESOURCE_ID"}
            }
            assert resource["DependsOn"] == build.logical_id(rule)


def test_unattached_remediations_are_left_out():
    resources = pack_template("rdk-guardrails-org-baseline")["Resources"]
    assert "VpcEndpointAzCountCheckRemediation" not in resources
    assert resources["S3LifecycleAsteriskPrefixCheckRemediation"]["Properties"]["Automatic"] is False


def test_prerequisites_hold_every_document_verbatim():
    resources = build.ssm_documents_template(PROJECT)["Resources"]
    for folder in documents.remediation_dirs(ROOT):
        content = resources[f"{folder.name}Document"]["Properties"]["Content"]
        assert content == documents.load_document(folder)


def test_permissions_cover_every_action_each_document_lists():
    for folder in documents.remediation_dirs(ROOT):
        listed = set(re.findall(r"\* ([a-z0-9]+:[A-Za-z]+)", documents.load_document(folder)["description"]))
        granted = {grant[0] for grant in build.document_grants(PROJECT, folder.name)}
        assert listed == granted, folder.name


def test_execution_role_trusts_only_the_rule_lambda_role():
    trust = build.iam_roles_template(PROJECT)["Resources"]["RuleExecutionRole"]["Properties"][
        "AssumeRolePolicyDocument"
    ]
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    assert statement["Condition"] == {
        "ArnEquals": {
            "aws:PrincipalArn": {
                "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/RdkGuardrailsRuleLambdaRole"
            }
        }
    }


CENTRAL = dataclasses.replace(
    PROJECT,
    lambda_location="central",
    central_account_id="444444444444",
    invoker_account_ids=("111111111111", "555555555555"),
)


@pytest.mark.parametrize(
    ("project", "invokers"),
    [(PROJECT, [{"Ref": "AWS::AccountId"}]), (CENTRAL, ["111111111111", "555555555555"])],
    ids=["local", "central"],
)
def test_no_rule_function_may_be_invoked_by_config_without_source_account(project, invokers):
    outputs = build.build_all(project)
    permissions = [
        resource["Properties"]
        for template in outputs.values()
        for resource in (template.get("Resources") or {}).values()
        if resource["Type"] == "AWS::Lambda::Permission"
    ]
    assert len(permissions) == len(project.rules) * len(invokers)
    for properties in permissions:
        assert properties["Principal"] == "config.amazonaws.com"
        assert properties["SourceAccount"] in invokers


def test_rule_functions_take_code_timeout_and_memory_from_each_rule_folder():
    functions = {
        r["Properties"]["FunctionName"]: r["Properties"]
        for r in build.build_all(PROJECT)["prerequisites/rule-functions.yaml"]["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert set(functions) == {f"RDK-Rule-Function-{rule.replace('_', '')}" for rule in PROJECT.rules}
    signing = functions["RDK-Rule-Function-LAMBDACODESIGNINGCHECK"]
    assert (signing["Timeout"], signing["MemorySize"]) == (180, 256)  # parameters.json's LambdaTimeout; rdk's memory
    assert functions["RDK-Rule-Function-LAMBDALAYERCHECK"]["Timeout"] == 60
    assert signing["Code"]["S3Key"] == artifacts.rule_artifact(ROOT, "LAMBDA_CODE_SIGNING_CHECK").key
    assert signing["Code"]["S3Bucket"] == {"Fn::Sub": "rdk-guardrails-artifacts-444444444444-${AWS::Region}"}
    assert signing["Layers"] == [{"Ref": "RdklibLayer"}]


def test_rendered_yaml_round_trips():
    for name, template in build.build_all(PROJECT).items():
        assert yaml.safe_load(build.render(template)) == template, name


@pytest.mark.parametrize("name", list(PROJECT.packs))
def test_packs_fit_in_a_template_body(name):
    assert len(build.render(pack_template(name)).encode()) <= 51_200


def test_unknown_resource_in_a_scripts_iam_permissions_names_the_script(tmp_path):
    copy_project(tmp_path, ("rules", "remediations", "rdk-config.json"))
    script = tmp_path / "remediations" / "ReduceVpcEndpointAzCount" / "script.py"
    script.write_text(script.read_text().replace('("ec2:DescribeSubnets", "*")', '("ec2:DescribeSubnets", "subnets")'))
    with pytest.raises(ConfigError) as raised:
        build.iam_roles_template(load_project(tmp_path))
    assert str(raised.value) == (
        f"{script}: IAM_PERMISSIONS: unknown resource 'subnets' for ec2:DescribeSubnets; expected one of *, "
        "function, code-signing config, bucket, vpc endpoint, subnet, approved layer, "
        "function, when the update carries an approved layer, shared value, "
        "vpc endpoint in a pack that attaches the remediation, without its exemption tag"
    )


def test_the_idle_endpoint_deletion_re_measures_the_window_and_threshold_its_rule_judged():
    document = PROJECT.documents["DeleteIdleVpcEndpoint"].parameters
    module = load_rule("VPC_ENDPOINT_IDLE_CHECK", "build_idle_window")
    attached = [
        (pack.name, rule)
        for pack in PROJECT.packs.values()
        for rule in pack.rules
        if rule.remediation.attach and rule.remediation.document == "DeleteIdleVpcEndpoint"
    ]
    assert [name for name, _ in attached] == ["rdk-guardrails-sandbox"], "the deletion is attached in the sandbox only"
    for _, rule in attached:
        judged = module.parse_parameters(rule.parameters)
        for name, value in (("IdleDays", judged.idle_days), ("MaxIdleBytes", judged.max_bytes)):
            measured = rule.remediation.parameters.get(name, document[name]["default"])
            assert int(measured) == value, f"{name}: the remediation must re-measure what the rule judged"
        for name in ("ExemptionTag", "ExcludedServiceNames"):
            given = rule.remediation.parameters.get(name, document[name]["default"])
            assert given == rule.parameters.get(name, ""), f"{name}: the remediation must spare what the rule spares"
    assert not any(rule.remediation.automatic for _, rule in attached), "deleting is never automatic"


def test_the_idle_rule_and_its_deletion_accept_the_same_window_and_threshold():
    rule = load_rule("VPC_ENDPOINT_IDLE_CHECK", "build_idle_bounds")
    script = load_remediation_script("DeleteIdleVpcEndpoint")
    assert (rule.MAX_IDLE_DAYS, rule.MAX_IDLE_BYTES) == (script.MAX_IDLE_DAYS, script.MAX_IDLE_BYTES)
    largest = {"IdleDays": str(rule.MAX_IDLE_DAYS), "MaxIdleBytes": str(rule.MAX_IDLE_BYTES)}
    judged = rule.parse_parameters(largest)
    assert script.parse_count(largest["IdleDays"], "IdleDays", 1, script.MAX_IDLE_DAYS) == judged.idle_days
    assert script.parse_digits(largest["MaxIdleBytes"], "MaxIdleBytes", 0, script.MAX_IDLE_BYTES) == judged.max_bytes


@pytest.mark.parametrize(
    ("tag", "service", "tags"),
    [
        ("idle-exempt", "com.amazonaws.us-east-1.ssm", {"idle-exempt": ""}),
        ("idle-exempt=yes", "com.amazonaws.us-east-1.ssm", {"idle-exempt": "no"}),
        (" team = data ", "com.amazonaws.eu-west-1.s3", {"team": "data"}),
        ("", "com.amazonaws.us-east-1.secretsmanager", {}),
    ],
)
def test_the_idle_deletion_queries_and_spares_exactly_what_its_rule_does(tag, service, tags):
    """The script ships alone, so it carries its own copy of the rule's metric query and exclusion parsing."""
    rule = load_rule("VPC_ENDPOINT_IDLE_CHECK", "build_idle_query")
    script = load_remediation_script("DeleteIdleVpcEndpoint")
    excluded = "com.amazonaws.*.s3,*.secretsmanager"
    described = {
        "VpcEndpointId": "vpce-0123456789abcdef0",
        "VpcEndpointType": "Interface",
        "ServiceName": service,
        "VpcId": "vpc-0123456789abcdef0",
        "State": "available",
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
    }
    judged = rule.listed_endpoint(described, "us-east-1")
    deleted = script.Endpoint(
        described["VpcEndpointId"],
        "Interface",
        "available",
        False,
        described["VpcId"],
        service,
        (),
        False,
        None,
        "",
        described,
    )
    assert script.metric_query(deleted)["MetricStat"] == rule.metric_query("x", judged)["MetricStat"]
    params = rule.parse_parameters({"ExemptionTag": tag, "ExcludedServiceNames": excluded})
    rule_spares = bool(params.exemption_tag and params.exemption_tag.is_carried_by(judged.tags)) or any(
        fnmatch.fnmatchcase(service, pattern) for pattern in params.excluded_services
    )
    exemption, patterns = script.parse_exemption(tag), script.parse_patterns(excluded)
    try:
        script.check_not_excluded(deleted, exemption, patterns)
        script_spares = False
    except script.RemediationError:
        script_spares = True
    assert script_spares == rule_spares


def test_recorder_template_records_exactly_the_types_the_organization_packs_evaluate():
    rollout = dataclasses.replace(PROJECT.rollout, recorder_bucket="org-config-logs")
    outputs = build.build_all(dataclasses.replace(PROJECT, rollout=rollout))
    recorder = outputs["prerequisites/config-recorder.yaml"]["Resources"]
    group = recorder["ConfigurationRecorder"]["Properties"]["RecordingGroup"]
    assert group == {
        "AllSupported": False,
        "IncludeGlobalResourceTypes": False,
        "ResourceTypes": ["AWS::EC2::VPCEndpoint", "AWS::Lambda::Function", "AWS::S3::Bucket"],
    }
    assert recorder["DeliveryChannel"]["Properties"]["S3BucketName"] == "org-config-logs"
    assert "prerequisites/config-recorder.yaml" not in build.build_all(PROJECT)  # only when asked


def test_artifact_bucket_is_readable_by_the_organization_only_and_never_public():
    bucket = build.build_all(PROJECT)["prerequisites/artifact-bucket.yaml"]["Resources"]
    [read, tls] = bucket["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert read["Action"] == "s3:GetObject"
    assert read["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    assert (tls["Effect"], tls["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    assert all(bucket["ArtifactBucket"]["Properties"]["PublicAccessBlockConfiguration"].values())
