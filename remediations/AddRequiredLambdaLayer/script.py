"""Attach an approved layer version to a Lambda function: read, plan, apply, verify.

Embedded verbatim in AddRequiredLambdaLayer.yaml (aws:executeScript, python3.11).
The IAM the automation role needs is IAM_PERMISSIONS below.
"""

import re
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# The automation role's IAM, (action, resource): rdkpack builds the role and checks the document from it.
# The approved layers are the LayerArn patterns of rdk-config.json; the update condition is on lambda:Layer.
IAM_PERMISSIONS = (
    ("lambda:GetFunctionConfiguration", "function"),
    ("lambda:UpdateFunctionConfiguration", "function, when the update carries an approved layer"),
    ("lambda:GetLayerVersion", "approved layer"),
    ("ssm:GetParameter", "shared value"),  # only with LayerVersionArnParameterName
)
MAX_LAYERS = 5
LAYER_VERSION_ARN = re.compile(r"^(arn:[a-z-]+:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]{1,140}):(\d{1,9})$")


class RemediationError(Exception):
    """The remediation failed: a write AWS refused, a change it could not verify, or a read it needed (the message
    says what changed). A refusal before any write is the subclass RemediationRefused."""


class RemediationRefused(RemediationError):
    """The remediation refused to act before any write (unsafe, not approved, or nothing it can fix): nothing was
    changed. rdkpack remediate reports it as REFUSED, apart from a failure."""


@dataclass(frozen=True)
class FunctionState:
    name: str
    arn: str
    package_type: str
    layers: tuple
    revision_id: str
    last_update_status: str


@dataclass(frozen=True)
class Plan:
    action: str  # NoChange | AddLayer | ReplaceLayer
    layers_before: tuple
    layers_after: tuple
    reason: str


def lambda_client():
    return boto3.client("lambda", config=BOTO_CONFIG)


def as_bool(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def split_layer_version_arn(arn: str):
    match = LAYER_VERSION_ARN.match(arn or "")
    return (match.group(1), int(match.group(2))) if match else (None, None)


def resolved_value(events: dict, name: str) -> str:
    """events[name], or the SSM parameter events[name + 'ParameterName'] read in the run's account and region."""
    literal, parameter = (str(events.get(key) or "").strip() for key in (name, f"{name}ParameterName"))
    if bool(literal) == bool(parameter):
        raise RemediationRefused(f"Give exactly one of {name} and {name}ParameterName. Nothing was changed.")
    if literal:
        return literal
    try:
        return boto3.client("ssm", config=BOTO_CONFIG).get_parameter(Name=parameter)["Parameter"]["Value"].strip()
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterNotFound":
            raise
        raise RemediationRefused(
            f"SSM parameter {parameter} does not exist in this account and region: deploy the shared-values "
            "template here (README, Shared values). Nothing was changed."
        ) from error


def read(client, function_name: str) -> FunctionState:
    try:
        config = client.get_function_configuration(FunctionName=function_name)
        if config.get("LastUpdateStatus") == "InProgress":
            client.get_waiter("function_updated").wait(FunctionName=function_name)
            config = client.get_function_configuration(FunctionName=function_name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise RemediationRefused(f"Function {function_name} does not exist; nothing was changed.") from error
        raise
    return FunctionState(
        name=config["FunctionName"],
        arn=config.get("FunctionArn", ""),
        package_type=config.get("PackageType") or "Zip",
        layers=tuple(layer["Arn"] for layer in config.get("Layers") or []),
        revision_id=config.get("RevisionId", ""),
        last_update_status=config.get("LastUpdateStatus") or "Successful",
    )


def plan_change(current: FunctionState, layer_version_arn: str) -> Plan:
    """Pure: the layer list the function should end with, keeping every other layer and its place."""
    wanted_base, wanted_version = split_layer_version_arn(layer_version_arn)
    if wanted_base is None:
        raise RemediationRefused(f"LayerVersionArn {layer_version_arn!r} is not a versioned Lambda layer ARN.")
    function_region, layer_region = current.arn.split(":")[3:4], layer_version_arn.split(":")[3:4]
    if function_region and function_region != layer_region:
        raise RemediationRefused(
            f"Layer {layer_version_arn} is in {layer_region[0]}, function {current.name} in {function_region[0]}: "
            "Lambda attaches only layers of the function's own region. Give each region its own value "
            "(LayerVersionArnParameterName). Nothing was changed."
        )
    if current.package_type == "Image":
        raise RemediationRefused(
            f"Function {current.name} is a container-image function; Lambda does not allow layers on it. "
            "Nothing was changed."
        )
    layers = list(current.layers)
    for index, arn in enumerate(layers):
        base, version = split_layer_version_arn(arn)
        if base != wanted_base:
            continue
        if version >= wanted_version:
            return Plan("NoChange", current.layers, current.layers, f"{arn} already meets version {wanted_version}.")
        layers[index] = layer_version_arn
        return Plan("ReplaceLayer", current.layers, tuple(layers), f"Replaced {arn} with {layer_version_arn}.")
    if len(layers) >= MAX_LAYERS:
        raise RemediationRefused(
            f"Function {current.name} already has {len(layers)} layers, the Lambda maximum of {MAX_LAYERS}; "
            f"adding {layer_version_arn} would exceed it. Nothing was changed."
        )
    return Plan("AddLayer", current.layers, (*layers, layer_version_arn), f"Appended {layer_version_arn}.")


def apply(client, current: FunctionState, plan: Plan) -> None:
    update = {"FunctionName": current.name, "Layers": list(plan.layers_after)}
    if current.revision_id:
        update["RevisionId"] = current.revision_id
    try:
        client.update_function_configuration(**update)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("PreconditionFailedException", "ResourceConflictException"):
            raise RemediationError(
                f"Function {current.name} changed while the remediation ran; nothing was overwritten. "
                "Run the remediation again."
            ) from error
        if code == "AccessDeniedException":
            reason = error.response["Error"].get("Message", code)
            raise RemediationError(
                f"Function {current.name}: Lambda refused lambda:UpdateFunctionConfiguration ({reason}). "
                "The automation role may only update a function so that it carries an approved layer, and may read "
                "only approved layers (the LayerArn patterns in rdk-config.json): check that LayerVersionArn is one "
                f"and that the role may use every layer the function keeps ({', '.join(plan.layers_after)}). "
                "Nothing was changed."
            ) from error
        raise
    client.get_waiter("function_updated").wait(FunctionName=current.name)


def verify(client, name: str, plan: Plan) -> FunctionState:
    after = read(client, name)
    if after.layers != plan.layers_after or after.last_update_status != "Successful":
        raise RemediationError(
            f"Function {name} did not reach the planned layers {list(plan.layers_after)}: "
            f"it has {list(after.layers)} (last update {after.last_update_status})."
        )
    return after


def output(name: str, plan: Plan, status: str) -> dict:
    return {
        "FunctionName": name,
        "Status": status,
        "Action": plan.action,
        "Message": plan.reason,
        "LayersBefore": list(plan.layers_before),
        "LayersAfter": list(plan.layers_after),
        "Changes": [] if status == "NO_CHANGE" else [plan.reason],
        "Before": {"Layers": list(plan.layers_before)},
        "After": {"Layers": list(plan.layers_after)},
    }


def handler(events, context):
    function_name = str(events["FunctionName"]).strip()
    client = lambda_client()
    current = read(client, function_name)
    layer_version_arn = resolved_value(events, "LayerVersionArn")
    plan = plan_change(current, layer_version_arn)
    if plan.action == "NoChange":
        return output(current.name, plan, "NO_CHANGE")
    if as_bool(events.get("DryRun", False)):
        return output(current.name, plan, "DRY_RUN")
    apply(client, current, plan)
    verify(client, current.name, plan)
    return output(current.name, plan, "CHANGED")
