"""Fixtures shared by the remediation tests."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

ACCOUNT = "123456789012"


@pytest.fixture
def create_function(aws):
    """Create a moto Lambda function: Zip (optionally with layers or a code-signing config) or Image."""
    role = boto3.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps({}))["Role"]["Arn"]
    client = boto3.client("lambda")

    def create(name, layers=(), package_type="Zip", code_signing_config_arn=None):
        spec = {"FunctionName": name, "Role": role, "PackageType": package_type}
        if package_type == "Zip":
            spec.update(Runtime="python3.12", Handler="h.h", Code={"ZipFile": b"PK"}, Layers=list(layers))
        else:
            spec["Code"] = {"ImageUri": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app:latest"}
        if code_signing_config_arn:
            spec["CodeSigningConfigArn"] = code_signing_config_arn
        return client.create_function(**spec)

    return create


@pytest.fixture
def stub_client(monkeypatch):
    """stub_client(script, factory_name, service): patch script.<factory_name> to a stubbed client."""
    stubs = []

    def make(script, factory_name, service):
        client = boto3.client(service, region_name="us-east-1")
        monkeypatch.setattr(script, factory_name, lambda: client)
        stub = Stubber(client)
        stub.activate()
        stubs.append(stub)
        return stub

    yield make
    for stub in stubs:
        stub.assert_no_pending_responses()
        stub.deactivate()
