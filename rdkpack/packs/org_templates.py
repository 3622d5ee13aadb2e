"""Templates for the organization rollout: rule functions, artifact buckets, the Config recorder, the scan role.

Pure: the project model in, template dicts out. The rule functions' code and the rdklib layer come
from the artifact bucket of the region the stack runs in (see rdkpack.packs.artifacts for the keys).
"""

from __future__ import annotations

from rdkpack import aws
from rdkpack.packs import artifacts
from rdkpack.packs.iam import statements
from rdkpack.packs.names import function_name, logical_id
from rdkpack.project.config import Project
from rdkpack.project.permissions import SCAN_OPERATIONS, SECURITY_HUB_IMPORT

LAYER_NAME = "rdk-guardrails-rdklib"
CONFIG_PRINCIPAL = "config.amazonaws.com"
# AWS Config records through its service-linked role; the role exists once Config was set up in the account.
CONFIG_ROLE = (
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
)


def artifact_bucket_name(project: Project) -> dict:
    """The artifact bucket of the region the template runs in (a literal account: the admin account owns it)."""
    rollout = project.rollout
    return {"Fn::Sub": f"{rollout.artifact_bucket_prefix}-{rollout.admin_account_id}-${{AWS::Region}}"}


def invokers(project: Project) -> list:
    """Whose AWS Config may invoke the functions: the account itself (local), or each listed account (central)."""
    if project.lambda_location == "local":
        return [("Self", {"Ref": "AWS::AccountId"})]
    return [(account, account) for account in project.invoker_account_ids]


def rule_functions_template(project: Project) -> dict:
    """Each rule's function, its invoke permissions (SourceAccount always set) and the rdklib layer."""
    root = project.root
    resources = {
        "RdklibLayer": {
            "Type": "AWS::Lambda::LayerVersion",
            "Properties": {
                "LayerName": LAYER_NAME,
                "Description": f"rdklib {artifacts.pinned_version(root)}, as pinned by the project's lock",
                "Content": {"S3Bucket": artifact_bucket_name(project), "S3Key": artifacts.layer_artifact(root).key},
                "CompatibleRuntimes": [artifacts.LAMBDA_RUNTIME],
            },
        }
    }
    role = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{project.lambda_role_name}"
    for rule in sorted(project.rules):
        timeout, memory = artifacts.rule_settings(root, rule)
        function = logical_id(rule, "Function")
        resources[function] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": function_name(rule),
                "Description": project.rules[rule].description[:256],
                "Runtime": artifacts.LAMBDA_RUNTIME,
                "Handler": f"{rule}.lambda_handler",
                "Role": {"Fn::Sub": role},
                "Timeout": timeout,
                "MemorySize": memory,
                "Code": {"S3Bucket": artifact_bucket_name(project), "S3Key": artifacts.rule_artifact(root, rule).key},
                "Layers": [{"Ref": "RdklibLayer"}],
            },
        }
        for suffix, account in invokers(project):
            resources[logical_id(rule, f"InvokeFrom{suffix}")] = {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": {"Ref": function},
                    "Action": "lambda:InvokeFunction",
                    "Principal": CONFIG_PRINCIPAL,
                    "SourceAccount": account,
                },
            }
    where = (
        "in every account and region an organization pack evaluates (a service-managed StackSet)"
        if project.lambda_location == "local"
        else "in the central account, in every region the packs go to"
    )
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"The rule functions the packs name, with rdklib as a layer. Deploy {where}; the code comes "
        "from the region's artifact bucket (`rdkpack stage`).",
        "Resources": resources,
    }


def artifact_bucket_template(project: Project) -> dict:
    """One region's artifact bucket, readable by the organization's principals only."""
    bucket_arn = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ArtifactBucket}"}
    objects_arn = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ArtifactBucket}/*"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "The artifact bucket of one region: rule code, the rdklib layer and templates over 51,200 "
        "bytes, staged by `rdkpack stage`. Deploy in the admin account, in every region the packs go to.",
        "Parameters": {
            "OrganizationId": {
                "Type": "String",
                "AllowedPattern": "^o-[a-z0-9]{10,32}$",
                "Description": "The organization whose accounts may read the artifacts (aws:PrincipalOrgID)",
            }
        },
        "Resources": {
            "ArtifactBucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": artifact_bucket_name(project),
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                        ]
                    },
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                },
            },
            "ArtifactBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "ArtifactBucket"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "OrganizationReadsArtifacts",
                                "Effect": "Allow",
                                "Principal": "*",
                                "Action": "s3:GetObject",
                                "Resource": objects_arn,
                                "Condition": {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}},
                            },
                            {
                                "Sid": "TlsOnly",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": [bucket_arn, objects_arn],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            },
                        ],
                    },
                },
            },
        },
    }


def evaluated_resource_types(project: Project) -> list[str]:
    """The resource types the organization packs' rules evaluate (what the recorder must record)."""
    rules = {rule.name for pack in project.packs.values() if pack.scope == "organization" for rule in pack.rules}
    return sorted({t for name in rules for t in project.rules[name].resource_types})


def recorder_template(project: Project) -> dict:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "AWS Config recorder recording exactly the resource types the organization packs evaluate, "
        "and its delivery channel. Deploy in every account and region where no other service owns the recorder; "
        "the account needs the AWSServiceRoleForConfig service-linked role.",
        "Resources": {
            "ConfigurationRecorder": {
                "Type": "AWS::Config::ConfigurationRecorder",
                "Properties": {
                    "Name": "default",
                    "RoleARN": {"Fn::Sub": CONFIG_ROLE},
                    "RecordingGroup": {
                        "AllSupported": False,
                        "IncludeGlobalResourceTypes": False,
                        "ResourceTypes": evaluated_resource_types(project),
                    },
                },
            },
            "DeliveryChannel": {
                "Type": "AWS::Config::DeliveryChannel",
                "Properties": {"Name": "default", "S3BucketName": project.rollout.recorder_bucket},
            },
        },
    }


def scan_grants(project: Project, rule_grants_of) -> list:
    """What `rdkpack scan --role-name` calls in an account: the item reads, each rule's own reads, Security Hub."""
    grants = [(aws.iam_action(service, operation), "*") for service, operation in SCAN_OPERATIONS]
    grants += [grant for rule in sorted(project.rules) for grant in rule_grants_of(project, rule)]
    product = "arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:product/${AWS::AccountId}/default"
    grants.append((aws.iam_action(*SECURITY_HUB_IMPORT), product))
    return grants


def scan_role_template(project: Project, rule_grants_of) -> dict:
    rollout = project.rollout
    trust = {
        "Effect": "Allow",
        "Principal": {"AWS": {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::{rollout.scanning_account_id}:root"}},
        "Action": "sts:AssumeRole",
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"The read-only role `rdkpack scan --org --role-name {rollout.scan_role_name}` assumes, "
        f"trusted by the scanning account {rollout.scanning_account_id}. Deploy once per account (IAM is global).",
        "Resources": {
            "ScanRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": rollout.scan_role_name,
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
                    "Policies": [
                        {
                            "PolicyName": "RdkGuardrailsScan",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": statements(scan_grants(project, rule_grants_of)),
                            },
                        }
                    ],
                },
            }
        },
    }
