"""The org baseline's layer and code-signing remediations in two member accounts and two regions.

The shared-values template is deployed in each account and region as the StackSet would (the region's
values from its Mapping, the account's own code-signing config as a stack-instance override); each remediation's
committed document then runs with the parameters AWS Config sends from the pack (its static values, the function's
name) under that account's automation role and in that region, and every function must end up with its own
region's layer and its own account's config.
"""

from __future__ import annotations

import os
from unittest import mock

import boto3
import pytest
from moto.awslambda.models import LambdaBackend, lambda_backends

from rdkpack.automation.config_remediation import remediation_configurations
from rdkpack.packs import build
from rdkpack.project.config import load_project
from tests.support.automation import put_code_signing_config_in_moto, refusal, run_document
from tests.support.project import ROOT, load_remediation_script

PROJECT = load_project(ROOT)
PACK = PROJECT.packs["rdk-guardrails-org-baseline"]
LAYER_ACCOUNT = "123456789012"  # publishes company-base; the byRegion values name its versions
MEMBERS = ("555555555555", "666666666666")
REGIONS = PACK.regions
PREREQUISITES = ROOT / "conformance-packs" / "prerequisites"


def config_arn(account: str, region: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:code-signing-config:csc-{account}{REGIONS.index(region):05d}"


def shared_layer(self, arn: str):
    """Lambda resolves a layer in the account its ARN names (shared by its layer policy); moto only in the caller's."""
    region, account = arn.split(":")[3:5]
    return lambda_backends[account][region]._layers.get_layer_version_by_arn(arn)


def automation_role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{PROJECT.remediation_role_name}"


def assume(account: str, region: str) -> dict:
    """The environment of a session in the account (its automation role's credentials) and region, for set-up."""
    credentials = boto3.client("sts", region_name=region).assume_role(
        RoleArn=automation_role(account), RoleSessionName="set-up"
    )
    credentials = credentials["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }


@pytest.fixture
def in_account(aws, monkeypatch):
    """in_account(account, region): a context in which boto3's default session is that account and region.

    moto's Lambda resolves shared layers across accounts and answers PutFunctionCodeSigningConfig (only a config of
    the caller's account and the request's region, as Lambda) for the documents' scripts, which make clients of
    their own."""
    monkeypatch.setattr(LambdaBackend, "layers_versions_by_arn", shared_layer)
    put_code_signing_config_in_moto(monkeypatch)

    def enter(account, region):
        environment = mock.patch.dict(os.environ, assume(account, region))
        environment.start()
        boto3.setup_default_session()
        return environment

    yield enter
    boto3.DEFAULT_SESSION = None


def deploy_shared_values(account: str, region: str) -> None:
    """The committed template as the StackSet deploys it: the region's values from its Mapping, the account's
    own code-signing config from the stack-instance override."""
    override = {"ParameterKey": "CodeSigningConfigArn", "ParameterValue": config_arn(account, region)}
    boto3.client("cloudformation").create_stack(
        StackName="rdk-guardrails-shared-values",
        TemplateBody=(PREREQUISITES / "shared-values.yaml").read_text(),
        Parameters=[override],
    )


CONFIGURATIONS = remediation_configurations(ROOT, PACK.name)


def sent_by_config(rule: str, function: str, account: str) -> dict:
    """What AWS Config sends StartAutomationExecution for the function, the pack's role ARN in that account."""
    sent = CONFIGURATIONS[rule].automation_parameters(function)
    [pack_role] = sent["AutomationAssumeRole"]
    assert pack_role.endswith(f":role/{PROJECT.remediation_role_name}"), pack_role
    return {**sent, "AutomationAssumeRole": [automation_role(account)]}


def static_events(rule: str) -> dict:
    """The pack's remediation static values for the rule, as Config passes them (role aside)."""
    resources = build.build_pack(PROJECT, PACK)["Resources"]
    parameters = resources[build.logical_id(rule, "Remediation")]["Properties"]["Parameters"]
    return {
        name: spec["StaticValue"]["Values"][0]
        for name, spec in parameters.items()
        if "StaticValue" in spec and name != "AutomationAssumeRole"
    }


@pytest.fixture
def organization(in_account):
    for region in REGIONS:
        environment = in_account(LAYER_ACCOUNT, region)
        for _ in range(2):
            boto3.client("lambda").publish_layer_version(LayerName="company-base", Content={"ZipFile": b"PK"})
        environment.stop()
    for account in MEMBERS:
        for region in REGIONS:
            environment = in_account(account, region)
            deploy_shared_values(account, region)
            role = boto3.client("iam").create_role(RoleName=f"fn-{region}", AssumeRolePolicyDocument="{}")["Role"][
                "Arn"
            ]
            boto3.client("lambda").create_function(
                FunctionName="orders", Role=role, Runtime="python3.12", Handler="h.h", Code={"ZipFile": b"PK"}
            )
            environment.stop()
    return in_account


def test_every_function_gets_its_own_regions_layer_and_its_own_accounts_config(organization):
    for account in MEMBERS:
        for region in REGIONS:
            environment = organization(account, region)
            layer = run_document(
                "AddRequiredLambdaLayer", region=region, **sent_by_config("LAMBDA_LAYER_CHECK", "orders", account)
            )
            assert (layer["Status"], layer["Action"]) == ("CHANGED", "AddLayer")
            signing = run_document(
                "AttachLambdaCodeSigningConfig",
                region=region,
                **sent_by_config("LAMBDA_CODE_SIGNING_CHECK", "orders", account),
            )
            assert (signing["Status"], signing["CodeSigningConfigAfter"]) == ("CHANGED", config_arn(account, region))
            client = boto3.client("lambda")
            layers = [x["Arn"] for x in client.get_function_configuration(FunctionName="orders")["Layers"]]
            assert layers == [f"arn:aws:lambda:{region}:{LAYER_ACCOUNT}:layer:company-base:2"]
            attached = client.get_function_code_signing_config(FunctionName="orders")["CodeSigningConfigArn"]
            assert attached == config_arn(account, region)
            environment.stop()


def test_the_pack_carries_no_value_only_names():
    for rule in ("LAMBDA_LAYER_CHECK", "LAMBDA_CODE_SIGNING_CHECK"):
        assert all(not value.startswith("arn:") for value in static_events(rule).values())


def test_an_account_without_the_shared_value_is_refused_and_unchanged(in_account):
    environment = in_account(MEMBERS[0], REGIONS[0])
    role = boto3.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    boto3.client("lambda").create_function(
        FunctionName="orders", Role=role, Runtime="python3.12", Handler="h.h", Code={"ZipFile": b"PK"}
    )
    message = refusal(
        "AttachLambdaCodeSigningConfig",
        region=REGIONS[0],
        **sent_by_config("LAMBDA_CODE_SIGNING_CHECK", "orders", MEMBERS[0]),
    )
    assert "SSM parameter /rdk-guardrails/CodeSigningConfigArn does not exist" in message
    assert "CodeSigningConfigArn" not in boto3.client("lambda").get_function_code_signing_config(FunctionName="orders")
    environment.stop()


@pytest.mark.parametrize("given", [{}, {"LayerVersionArn": "x", "LayerVersionArnParameterName": "/x/y"}])
def test_neither_or_both_of_the_value_and_its_parameter_is_refused(given):
    layer = load_remediation_script("AddRequiredLambdaLayer")
    with pytest.raises(
        layer.RemediationError, match="Give exactly one of LayerVersionArn and LayerVersionArnParameterName"
    ):
        layer.resolved_value(given, "LayerVersionArn")
