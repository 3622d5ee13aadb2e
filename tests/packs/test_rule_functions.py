"""The rule functions template, staged and deployed as CloudFormation would in one account and region (moto)."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest

from rdkpack.packs import artifacts
from rdkpack.project.config import load_project
from rdkpack.rollout import stage
from tests.support.project import ROOT, RULE_NAMES, copy_project, parameters

PROJECT = load_project(ROOT)


def test_rollout_artifacts_are_reproducible_and_keyed_by_their_content(tmp_path):
    first = artifacts.rule_artifact(ROOT, "LAMBDA_LAYER_CHECK")
    assert artifacts.rule_artifact(ROOT, "LAMBDA_LAYER_CHECK") == first
    assert first.key == f"rules/LAMBDA_LAYER_CHECK-{first.sha256[:16]}.zip"
    names = zipfile.ZipFile(io.BytesIO(first.body)).namelist()
    assert names == sorted(["LAMBDA_LAYER_CHECK.py", "parameters.json", "rule_kit.py"])  # never the tests
    copy = copy_project(tmp_path, ("rules",))
    module = copy / "rules" / "LAMBDA_LAYER_CHECK" / "LAMBDA_LAYER_CHECK.py"
    module.write_text(module.read_text() + "\n# changed\n")
    assert artifacts.rule_artifact(copy, "LAMBDA_LAYER_CHECK").key != first.key
    assert artifacts.rule_artifact(copy, "VPC_ENDPOINT_AZ_COUNT_CHECK") == artifacts.rule_artifact(
        ROOT, "VPC_ENDPOINT_AZ_COUNT_CHECK"
    )


def test_rollout_layer_holds_the_pinned_rdklib_checked_against_its_record():
    layer = artifacts.layer_artifact(ROOT)
    assert layer.key.startswith(f"layers/rdklib-{artifacts.pinned_version(ROOT)}-")
    names = zipfile.ZipFile(io.BytesIO(layer.body)).namelist()
    assert "python/rdklib/__init__.py" in names and "python/rdklib/evaluator.py" in names
    assert not [n for n in names if not n.startswith("python/rdklib/")]


@pytest.mark.filterwarnings("ignore:Tried to parse AWS")
def test_rollout_rule_functions_template_deploys_every_function_from_the_staged_code(aws):
    session = boto3.Session(region_name="eu-west-1")
    role = session.client("iam").create_role(
        RoleName=PROJECT.lambda_role_name,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    bucket = PROJECT.rollout.artifact_bucket("eu-west-1")
    session.client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    uploaded = stage.stage(session, PROJECT, ["eu-west-1"])
    assert all(s.uploaded for s in uploaded)
    assert not [s for s in stage.stage(session, PROJECT, ["eu-west-1"]) if s.uploaded]  # a second stage: nothing

    template = (ROOT / "conformance-packs" / "prerequisites" / "rule-functions.yaml").read_text()
    cloudformation = session.client("cloudformation")
    cloudformation.create_stack(StackName="rule-functions", TemplateBody=template)
    assert cloudformation.describe_stacks(StackName="rule-functions")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    functions = {f["FunctionName"]: f for f in session.client("lambda").list_functions()["Functions"]}
    assert set(functions) == {f"RDK-Rule-Function-{name.replace('_', '')}" for name in RULE_NAMES}
    for name in RULE_NAMES:
        function = functions[f"RDK-Rule-Function-{name.replace('_', '')}"]
        assert function["Role"] == role
        assert function["Handler"] == f"{name}.lambda_handler"
        assert function["Timeout"] == int(parameters(name)["Parameters"].get("LambdaTimeout", 60))
