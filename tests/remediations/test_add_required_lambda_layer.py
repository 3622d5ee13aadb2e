"""AddRequiredLambdaLayer: pure planning, the full loop through the committed document against moto, and concurrency
with Stubber (script-level: the Stubber replaces the script's own client factory)."""

from __future__ import annotations

import boto3
import pytest
from moto.awslambda.models import LambdaBackend

from tests.support.automation import refusal, run_document
from tests.support.project import load_remediation_script

script = load_remediation_script("AddRequiredLambdaLayer")

ACCOUNT = "123456789012"
BASE = f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:company-base"
OTHER = f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:other"


def state(layers=(), package_type="Zip", name="fn", region="us-east-1"):
    arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
    return script.FunctionState(name, arn, package_type, tuple(layers), "rev-1", "Successful")


# ---- plan_change: pure ----


def test_plan_same_version_already_attached_is_no_change():
    plan = script.plan_change(state([OTHER + ":1", BASE + ":3"]), BASE + ":3")
    assert (plan.action, plan.layers_after) == ("NoChange", (OTHER + ":1", BASE + ":3"))


def test_plan_newer_version_already_attached_is_no_change():
    plan = script.plan_change(state([BASE + ":10"]), BASE + ":9")
    assert plan.action == "NoChange"
    assert plan.reason == f"{BASE}:10 already meets version 9."


def test_plan_older_version_is_replaced_in_place_keeping_order():
    plan = script.plan_change(state([OTHER + ":1", BASE + ":2", OTHER + "-b:4"]), BASE + ":3")
    assert plan.action == "ReplaceLayer"
    assert plan.layers_after == (OTHER + ":1", BASE + ":3", OTHER + "-b:4")


def test_plan_missing_layer_is_appended_after_existing_layers():
    plan = script.plan_change(state([OTHER + ":1"]), BASE + ":3")
    assert (plan.action, plan.layers_after) == ("AddLayer", (OTHER + ":1", BASE + ":3"))


def test_plan_same_layer_name_in_another_account_is_not_replaced():
    foreign = "arn:aws:lambda:us-east-1:999999999999:layer:company-base:1"
    plan = script.plan_change(state([foreign]), BASE + ":3")
    assert plan.layers_after == (foreign, BASE + ":3")


def test_plan_refuses_a_sixth_layer():
    five = [f"{OTHER}{i}:1" for i in range(5)]
    with pytest.raises(script.RemediationError, match="already has 5 layers, the Lambda maximum of 5"):
        script.plan_change(state(five), BASE + ":3")


def test_plan_replacing_on_a_function_with_five_layers_is_allowed():
    five = [f"{OTHER}{i}:1" for i in range(4)] + [BASE + ":1"]
    assert script.plan_change(state(five), BASE + ":3").action == "ReplaceLayer"


def test_plan_refuses_image_functions():
    with pytest.raises(script.RemediationError, match="container-image function"):
        script.plan_change(state(package_type="Image"), BASE + ":3")


def test_plan_refuses_unversioned_layer_arn():
    with pytest.raises(script.RemediationError, match="not a versioned Lambda layer ARN"):
        script.plan_change(state(), BASE)


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov", "aws-iso-b", "aws-eusc"])
def test_plan_works_in_every_partition(partition):
    arn = f"arn:{partition}:lambda:xx-east-1:{ACCOUNT}:layer:company-base"
    assert script.plan_change(state([arn + ":1"], region="xx-east-1"), arn + ":2").layers_after == (arn + ":2",)


def test_plan_refuses_a_layer_of_another_region():
    other = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:layer:company-base:2"
    with pytest.raises(script.RemediationError, match="eu-west-1, function fn in us-east-1: Lambda attaches only"):
        script.plan_change(state(), other)


# ---- the full loop: the committed document run as SSM runs it, against moto ----


@pytest.fixture
def lambda_env(create_function):
    client = boto3.client("lambda")
    versions = {}
    for name in ("company-base", "other"):
        for _ in range(3):
            published = client.publish_layer_version(LayerName=name, Content={"ZipFile": b"PK"})
            versions[(name, published["Version"])] = published["LayerVersionArn"]
    return client, versions, create_function


def layers_of(client, name):
    return [layer["Arn"] for layer in client.get_function_configuration(FunctionName=name).get("Layers", [])]


def run(function, layer_arn, dry_run=False):
    """The document's output, its parameters sent as strings as AWS Config and the console send them."""
    return run_document("AddRequiredLambdaLayer", FunctionName=function, LayerVersionArn=layer_arn, DryRun=dry_run)


def refused(function, layer_arn):
    """The failed execution's message."""
    return refusal("AddRequiredLambdaLayer", FunctionName=function, LayerVersionArn=layer_arn)


def run_script(function, layer_arn, dry_run=False):
    """script.py's handler itself, for the Stubber tests (they patch its client factory)."""
    return script.handler({"FunctionName": function, "LayerVersionArn": layer_arn, "DryRun": dry_run}, None)


def test_function_without_the_layer_gets_it_appended_and_verified(lambda_env):
    client, versions, create = lambda_env
    create("orders", [versions[("other", 1)]])
    result = run("orders", versions[("company-base", 3)])
    expected = [versions[("other", 1)], versions[("company-base", 3)]]
    assert layers_of(client, "orders") == expected
    assert result == {
        "FunctionName": "orders",
        "Status": "CHANGED",
        "Action": "AddLayer",
        "Message": f"Appended {versions[('company-base', 3)]}.",
        "LayersBefore": [versions[("other", 1)]],
        "LayersAfter": expected,
        "Changes": [f"Appended {versions[('company-base', 3)]}."],
        "Before": {"Layers": [versions[("other", 1)]]},
        "After": {"Layers": expected},
    }


def test_older_version_is_replaced_in_its_position(lambda_env):
    client, versions, create = lambda_env
    create("orders", [versions[("company-base", 1)], versions[("other", 2)]])
    result = run("orders", versions[("company-base", 3)])
    assert layers_of(client, "orders") == [versions[("company-base", 3)], versions[("other", 2)]]
    assert (result["Status"], result["Action"]) == ("CHANGED", "ReplaceLayer")


def test_compliant_function_is_left_alone_and_second_run_is_a_no_op(lambda_env, monkeypatch):
    client, versions, create = lambda_env
    writes = []
    update = LambdaBackend.update_function_configuration  # the script's own client: counted where moto answers

    def counted(self, *args, **kwargs):
        writes.append(1)
        return update(self, *args, **kwargs)

    monkeypatch.setattr(LambdaBackend, "update_function_configuration", counted)
    create("orders")
    first = run("orders", versions[("company-base", 2)])
    second = run("orders", versions[("company-base", 2)])
    third = run("orders", versions[("company-base", 1)])
    assert [r["Status"] for r in (first, second, third)] == ["CHANGED", "NO_CHANGE", "NO_CHANGE"]
    assert len(writes) == 1
    assert layers_of(client, "orders") == [versions[("company-base", 2)]]


def test_dry_run_reports_the_plan_and_changes_nothing(lambda_env):
    client, versions, create = lambda_env
    create("orders", [versions[("other", 1)]])
    for dry_run in (True, "true", "True"):
        result = run("orders", versions[("company-base", 3)], dry_run=dry_run)
        assert result["Status"] == "DRY_RUN"
        assert result["LayersAfter"] == [versions[("other", 1)], versions[("company-base", 3)]]
    assert layers_of(client, "orders") == [versions[("other", 1)]]


def test_missing_function_fails_clearly(lambda_env):
    _, versions, _ = lambda_env
    assert refused("ghost", versions[("company-base", 3)]) == "Function ghost does not exist; nothing was changed."


def test_image_function_fails_and_is_unchanged(lambda_env):
    client, versions, create = lambda_env
    create("container", package_type="Image")
    assert "container-image" in refused("container", versions[("company-base", 3)])
    assert layers_of(client, "container") == []


def test_function_with_five_layers_fails_and_is_unchanged(lambda_env):
    client, versions, create = lambda_env
    extra = [client.publish_layer_version(LayerName=f"extra{i}", Content={"ZipFile": b"PK"}) for i in range(2)]
    five = [versions[("other", 1)], versions[("other", 2)], versions[("other", 3)]]
    five += [published["LayerVersionArn"] for published in extra]
    create("full", five)
    assert "already has 5 layers" in refused("full", versions[("company-base", 3)])
    assert layers_of(client, "full") == five


# ---- concurrency and verification, where moto does not enforce RevisionId ----


def configuration(layers, revision="rev-1", status="Successful"):
    return {
        "FunctionName": "orders",
        "PackageType": "Zip",
        "Layers": [{"Arn": arn, "CodeSize": 1} for arn in layers],
        "RevisionId": revision,
        "LastUpdateStatus": status,
    }


@pytest.fixture
def stubbed(stub_client):
    return stub_client(script, "lambda_client", "lambda")


def test_update_passes_revision_id_and_concurrent_change_is_not_overwritten(stubbed):
    stubbed.add_response("get_function_configuration", configuration([OTHER + ":1"]), {"FunctionName": "orders"})
    stubbed.add_client_error(
        "update_function_configuration",
        "PreconditionFailedException",
        http_status_code=412,
        expected_params={
            "FunctionName": "orders",
            "Layers": [OTHER + ":1", BASE + ":3"],
            "RevisionId": "rev-1",
        },
    )
    with pytest.raises(script.RemediationError, match="changed while the remediation ran; nothing was overwritten"):
        run_script("orders", BASE + ":3")


def test_verification_fails_when_read_back_differs(stubbed):
    stubbed.add_response("get_function_configuration", configuration([]), {"FunctionName": "orders"})
    stubbed.add_response(
        "update_function_configuration",
        {},
        {"FunctionName": "orders", "Layers": [BASE + ":3"], "RevisionId": "rev-1"},
    )
    stubbed.add_response("get_function_configuration", configuration([BASE + ":3"]), {"FunctionName": "orders"})
    stubbed.add_response(
        "get_function_configuration", configuration([OTHER + ":9"], "rev-3"), {"FunctionName": "orders"}
    )
    with pytest.raises(script.RemediationError, match="did not reach the planned layers"):
        run_script("orders", BASE + ":3")


def test_update_in_progress_is_awaited_before_planning(stubbed):
    stubbed.add_response(
        "get_function_configuration", configuration([], status="InProgress"), {"FunctionName": "orders"}
    )
    stubbed.add_response("get_function_configuration", configuration([], "rev-2"), {"FunctionName": "orders"})
    stubbed.add_response("get_function_configuration", configuration([], "rev-2"), {"FunctionName": "orders"})
    result = run_script("orders", BASE + ":3", dry_run=True)
    assert (result["Status"], result["LayersAfter"]) == ("DRY_RUN", [BASE + ":3"])


def test_update_the_role_may_not_make_is_explained_and_changes_nothing(stubbed):
    stubbed.add_response("get_function_configuration", configuration([OTHER + ":1"]), {"FunctionName": "orders"})
    stubbed.add_client_error(
        "update_function_configuration",
        "AccessDeniedException",
        "not authorized to perform: lambda:GetLayerVersion on resource: " + OTHER + ":1",
        http_status_code=403,
    )
    with pytest.raises(script.RemediationError) as raised:
        run_script("orders", BASE + ":3")
    message = str(raised.value)
    assert (
        "Lambda refused lambda:UpdateFunctionConfiguration (not authorized to perform: lambda:GetLayerVersion"
        in message
    )
    assert "may only update a function so that it carries an approved layer" in message
    assert f"every layer the function keeps ({OTHER}:1, {BASE}:3)" in message
    assert message.endswith("Nothing was changed.")
