"""Attach a code-signing configuration to a Lambda function: read, plan, apply, verify.

Embedded verbatim in AttachLambdaCodeSigningConfig.yaml (aws:executeScript, python3.11).
The IAM the automation role needs is IAM_PERMISSIONS below.
"""

import re
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# The automation role's IAM, (action, resource): rdkpack builds the role and checks the document from it.
IAM_PERMISSIONS = (
    ("lambda:GetFunctionConfiguration", "function"),
    ("lambda:GetFunctionCodeSigningConfig", "function"),
    ("lambda:PutFunctionCodeSigningConfig", "function"),
    ("lambda:PutFunctionCodeSigningConfig", "code-signing config"),
    ("ssm:GetParameter", "shared value"),  # only with CodeSigningConfigArnParameterName
)

CONFIG_ARN = re.compile(r"^arn:[a-z-]+:lambda:[a-z0-9-]+:\d{12}:code-signing-config:csc-[a-z0-9]{17}$")


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
    config_arn: str  # '' when none is attached


@dataclass(frozen=True)
class Plan:
    action: str  # NoChange | AttachConfig | ReplaceConfig
    config_before: str
    config_after: str
    reason: str


def lambda_client():
    return boto3.client("lambda", config=BOTO_CONFIG)


def as_bool(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


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
        signing = client.get_function_code_signing_config(FunctionName=function_name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise RemediationRefused(f"Function {function_name} does not exist; nothing was changed.") from error
        raise
    return FunctionState(
        name=config["FunctionName"],
        arn=config.get("FunctionArn", ""),
        package_type=config.get("PackageType") or "Zip",
        config_arn=signing.get("CodeSigningConfigArn") or "",
    )


def plan_change(current: FunctionState, config_arn: str) -> Plan:
    """Pure: whether the function needs config_arn attached, and what it replaces."""
    if current.package_type == "Image":
        raise RemediationRefused(
            f"Function {current.name} is a container-image function; Lambda does not support code signing "
            "for it. Nothing was changed."
        )
    if not CONFIG_ARN.match(config_arn):
        raise RemediationRefused(f"CodeSigningConfigArn {config_arn!r} is not a code-signing config ARN.")
    if current.arn.split(":")[3:5] != config_arn.split(":")[3:5]:
        raise RemediationRefused(
            f"Code-signing config {config_arn} is not in function {current.name}'s account and region "
            f"({':'.join(current.arn.split(':')[3:5])}): Lambda attaches only a config of the function's own account "
            "and region. Give each account and region its own value (CodeSigningConfigArnParameterName). "
            "Nothing was changed."
        )
    if current.config_arn == config_arn:
        return Plan("NoChange", config_arn, config_arn, f"{config_arn} is already attached.")
    if current.config_arn:
        return Plan(
            "ReplaceConfig", current.config_arn, config_arn, f"Replaced {current.config_arn} with {config_arn}."
        )
    return Plan("AttachConfig", "", config_arn, f"Attached {config_arn}.")


def apply(client, name: str, plan: Plan) -> None:
    # PutFunctionCodeSigningConfig takes no revision: re-read just before writing instead.
    attached = client.get_function_code_signing_config(FunctionName=name).get("CodeSigningConfigArn") or ""
    if attached != plan.config_before:
        raise RemediationError(
            f"Function {name} changed while the remediation ran (code-signing config {attached or 'none'}); "
            "nothing was overwritten. Run the remediation again."
        )
    client.put_function_code_signing_config(CodeSigningConfigArn=plan.config_after, FunctionName=name)


def verify(client, name: str, plan: Plan) -> None:
    attached = client.get_function_code_signing_config(FunctionName=name).get("CodeSigningConfigArn") or ""
    if attached != plan.config_after:
        raise RemediationError(
            f"Function {name} has code-signing config {attached or 'none'} after the change, not {plan.config_after}."
        )


def output(name: str, plan: Plan, status: str) -> dict:
    return {
        "FunctionName": name,
        "Status": status,
        "Action": plan.action,
        "Message": plan.reason,
        "CodeSigningConfigBefore": plan.config_before,
        "CodeSigningConfigAfter": plan.config_after,
        "Changes": [] if status == "NO_CHANGE" else [plan.reason],
        "Before": {"CodeSigningConfigArn": plan.config_before or ""},
        "After": {"CodeSigningConfigArn": plan.config_after or ""},
    }


def handler(events, context):
    function_name = str(events["FunctionName"]).strip()
    client = lambda_client()
    current = read(client, function_name)
    config_arn = resolved_value(events, "CodeSigningConfigArn")
    plan = plan_change(current, config_arn)
    if plan.action == "NoChange":
        return output(current.name, plan, "NO_CHANGE")
    if as_bool(events.get("DryRun", False)):
        return output(current.name, plan, "DRY_RUN")
    apply(client, current.name, plan)
    verify(client, current.name, plan)
    return output(current.name, plan, "CHANGED")
