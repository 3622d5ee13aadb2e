"""AttachLambdaCodeSigningConfig: pure planning; the committed document run as SSM runs it against moto (its missing
PutFunctionCodeSigningConfig answered at moto's level); the script's exact calls and races with Stubber."""

from __future__ import annotations

import boto3
import pytest

from tests.support.automation import put_code_signing_config_in_moto, refusal, run_document
from tests.support.project import load_remediation_script

script = load_remediation_script("AttachLambdaCodeSigningConfig")

ACCOUNT = "123456789012"
CSC = f"arn:aws:lambda:us-east-1:{ACCOUNT}:code-signing-config:csc-0123456789abcdef0"
CSC_OLD = f"arn:aws:lambda:us-east-1:{ACCOUNT}:code-signing-config:csc-fedcba98765432100"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn"


def state(config_arn="", package_type="Zip", account=ACCOUNT, region="us-east-1"):
    return script.FunctionState("fn", f"arn:aws:lambda:{region}:{account}:function:fn", package_type, config_arn)


# ---- plan_change: pure ----


def test_plan_same_config_attached_is_no_change():
    assert script.plan_change(state(CSC), CSC) == script.Plan("NoChange", CSC, CSC, f"{CSC} is already attached.")


def test_plan_no_config_attaches():
    assert script.plan_change(state(), CSC) == script.Plan("AttachConfig", "", CSC, f"Attached {CSC}.")


def test_plan_other_config_is_replaced():
    plan = script.plan_change(state(CSC_OLD), CSC)
    assert (plan.action, plan.config_before, plan.config_after) == ("ReplaceConfig", CSC_OLD, CSC)


def test_plan_refuses_image_functions():
    with pytest.raises(script.RemediationError, match="container-image function"):
        script.plan_change(state(package_type="Image"), CSC)


@pytest.mark.parametrize(("account", "region"), [("111111111111", "us-east-1"), (ACCOUNT, "eu-west-1")])
def test_plan_refuses_a_config_of_another_account_or_region(account, region):
    with pytest.raises(
        script.RemediationError, match=f"not in function fn's account and region \\({region}:{account}\\)"
    ):
        script.plan_change(state(account=account, region=region), CSC)


def test_plan_refuses_a_value_that_is_not_a_config_arn():
    with pytest.raises(script.RemediationError, match="'csc-0123' is not a code-signing config ARN"):
        script.plan_change(state(), "csc-0123")


# ---- the full loop: the committed document against moto ----


def run(function, config_arn=CSC, dry_run=False):
    """The document's output, its parameters sent as strings as AWS Config and the console send them."""
    return run_document(
        "AttachLambdaCodeSigningConfig", FunctionName=function, CodeSigningConfigArn=config_arn, DryRun=dry_run
    )


def refused(function, config_arn=CSC):
    """The failed execution's message."""
    return refusal("AttachLambdaCodeSigningConfig", FunctionName=function, CodeSigningConfigArn=config_arn)


def run_script(function, config_arn=CSC, dry_run=False):
    """script.py's handler itself, for the Stubber tests (they patch its client factory)."""
    return script.handler({"FunctionName": function, "CodeSigningConfigArn": config_arn, "DryRun": dry_run}, None)


def attached_output(name: str) -> dict:
    """What the remediation returns after attaching CSC to a function that had no config."""
    return {
        "FunctionName": name,
        "Status": "CHANGED",
        "Action": "AttachConfig",
        "Message": f"Attached {CSC}.",
        "CodeSigningConfigBefore": "",
        "CodeSigningConfigAfter": CSC,
        "Changes": [f"Attached {CSC}."],
        "Before": {"CodeSigningConfigArn": ""},
        "After": {"CodeSigningConfigArn": CSC},
    }


def attached(name):
    return boto3.client("lambda").get_function_code_signing_config(FunctionName=name).get("CodeSigningConfigArn")


def test_function_with_the_config_is_left_alone(create_function):
    create_function("signed", code_signing_config_arn=CSC)
    assert run("signed") == {
        "FunctionName": "signed",
        "Status": "NO_CHANGE",
        "Action": "NoChange",
        "Message": f"{CSC} is already attached.",
        "CodeSigningConfigBefore": CSC,
        "CodeSigningConfigAfter": CSC,
        "Changes": [],
        "Before": {"CodeSigningConfigArn": CSC},
        "After": {"CodeSigningConfigArn": CSC},
    }


def test_dry_run_reports_the_plan_and_changes_nothing(create_function):
    create_function("unsigned")
    result = run("unsigned", dry_run=True)
    assert (result["Status"], result["Action"], result["CodeSigningConfigAfter"]) == ("DRY_RUN", "AttachConfig", CSC)
    assert not attached("unsigned")


def test_missing_function_fails_clearly(aws):
    assert refused("ghost") == "Function ghost does not exist; nothing was changed."


def test_image_function_fails_and_is_unchanged(create_function):
    create_function("container", package_type="Image")
    assert "does not support code signing" in refused("container")
    assert not attached("container")


@pytest.fixture
def put_in_moto(monkeypatch):
    put_code_signing_config_in_moto(monkeypatch)


def test_unsigned_function_gets_the_config_verified_and_a_second_run_is_a_no_op(create_function, put_in_moto):
    create_function("unsigned")
    assert run("unsigned") == attached_output("unsigned")
    assert attached("unsigned") == CSC
    assert run("unsigned")["Status"] == "NO_CHANGE"


def test_another_config_is_replaced(create_function, put_in_moto):
    create_function("signed-elsewhere", code_signing_config_arn=CSC_OLD)
    result = run("signed-elsewhere")
    assert (result["Status"], result["Action"], result["CodeSigningConfigBefore"]) == (
        "CHANGED",
        "ReplaceConfig",
        CSC_OLD,
    )
    assert attached("signed-elsewhere") == CSC


def test_a_config_of_another_region_is_refused_before_any_write(create_function, put_in_moto):
    create_function("unsigned")
    other_region = CSC.replace("us-east-1", "eu-west-1")
    assert "not in function unsigned's account and region" in refused("unsigned", other_region)
    assert not attached("unsigned")


# ---- the write path's exact calls and races: Stubber on the script's client (script-level) ----


@pytest.fixture
def stubbed(stub_client):
    return stub_client(script, "lambda_client", "lambda")


def expect_read(stub, config_arn, package_type="Zip"):
    stub.add_response(
        "get_function_configuration",
        {"FunctionName": "fn", "FunctionArn": FUNCTION_ARN, "PackageType": package_type},
        {"FunctionName": "fn"},
    )
    expect_attached(stub, config_arn)


def expect_attached(stub, config_arn):
    stub.add_response(
        "get_function_code_signing_config",
        {"CodeSigningConfigArn": config_arn, "FunctionName": "fn"},
        {"FunctionName": "fn"},
    )


def expect_put(stub):
    stub.add_response(
        "put_function_code_signing_config",
        {"CodeSigningConfigArn": CSC, "FunctionName": "fn"},
        {"CodeSigningConfigArn": CSC, "FunctionName": "fn"},
    )


def test_unsigned_function_gets_the_config_and_is_verified(stubbed):
    expect_read(stubbed, "")
    expect_attached(stubbed, "")
    expect_put(stubbed)
    expect_attached(stubbed, CSC)
    assert run_script("fn") == attached_output("fn")


def test_other_config_is_replaced(stubbed):
    expect_read(stubbed, CSC_OLD)
    expect_attached(stubbed, CSC_OLD)
    expect_put(stubbed)
    expect_attached(stubbed, CSC)
    result = run_script("fn")
    assert (result["Action"], result["CodeSigningConfigBefore"]) == ("ReplaceConfig", CSC_OLD)


def test_verification_fails_when_read_back_differs(stubbed):
    expect_read(stubbed, "")
    expect_attached(stubbed, "")
    expect_put(stubbed)
    expect_attached(stubbed, CSC_OLD)
    with pytest.raises(script.RemediationError, match=f"has code-signing config {CSC_OLD} after the change"):
        run_script("fn")


def test_concurrent_change_between_read_and_write_is_not_overwritten(stubbed):
    expect_read(stubbed, "")
    expect_attached(stubbed, CSC_OLD)
    with pytest.raises(script.RemediationError, match=r"changed while the remediation ran.*nothing was overwritten"):
        run_script("fn")


def test_second_run_is_a_no_op(stubbed):
    expect_read(stubbed, CSC)
    assert run_script("fn")["Status"] == "NO_CHANGE"
