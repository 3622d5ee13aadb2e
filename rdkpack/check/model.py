"""What every template reader produces: resources in one normalized shape, with where they are written, and the
values that are known only at deploy time.

Normalized properties, per type (the readers fill them; `items.py` turns them into AWS Config's items):
- AWS::Lambda::Function: FunctionName, PackageType ("Zip" or "Image"), Layers (list of layer version ARNs),
  CodeSigningConfigArn (an ARN, None when there is none), Tags ({key: value}).
- AWS::S3::Bucket: BucketName, LifecycleRules (rules in the S3 API's shape, as GetBucketLifecycleConfiguration
  answers: ID, Status "Enabled"/"Disabled", Prefix (legacy) or Filter {Prefix | Tag | ObjectSizeGreaterThan |
  ObjectSizeLessThan | And {Prefix, Tags, ...}}, Expiration, Transitions, ...), or None without lifecycle; Tags.
- AWS::EC2::VPCEndpoint: VpcEndpointId (the logical ID or address when unknown), VpcEndpointType ("Interface",
  "Gateway", ...: CloudFormation's and Terraform's default is "Gateway"), ServiceName, SubnetIds, Tags.
- AWS::Lambda::CodeSigningConfig: CodeSigningConfigArn (template_arn(...)), AllowedPublishers
  {SigningProfileVersionArns: [...]}, CodeSigningPolicies {UntrustedArtifactOnDeployment: "Warn" | "Enforce"}.
Any value (or list item) may be an Unknown.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

LAMBDA_FUNCTION = "AWS::Lambda::Function"
S3_BUCKET = "AWS::S3::Bucket"
VPC_ENDPOINT = "AWS::EC2::VPCEndpoint"
CODE_SIGNING_CONFIG = "AWS::Lambda::CodeSigningConfig"
TYPES = (LAMBDA_FUNCTION, S3_BUCKET, VPC_ENDPOINT, CODE_SIGNING_CONFIG)
WAIVER_KEY = "rdk-guardrails"  # Metadata: {rdk-guardrails: {skip: [{id, comment, expires}]}}


@dataclass(frozen=True)
class Unknown:
    """A value known only at deploy time: `source` says why ("Ref parameter LayerArn", "Fn::ImportValue
    shared-layer", "known after apply"); `choices`, every value it can take (a parameter's AllowedValues), or None
    when it can take any."""

    source: str
    choices: tuple | None = None
    # The text known around the unknown parts (Fn::Sub, Fn::Join) as a glob of every value: each unknown part a '*',
    # the known text escaped as glob.escape writes it (a literal '*' is '[*]').
    template: str | None = None


@dataclass(frozen=True)
class Waiver:
    """A waiver written on a resource or in the waivers file: the rule it waives, why, and until when
    (YYYY-MM-DD). Missing fields stay None: such a waiver is itself a finding."""

    rule: str
    comment: str | None
    expires: str | None
    where: str  # "Metadata of <id>" or "rdk-waivers.yaml entry 3"


@dataclass
class TemplateResource:
    file: str  # as the user named it (relative to the current folder where possible)
    logical_id: str  # the CloudFormation logical ID, or the Terraform address
    type: str  # one of TYPES
    properties: dict
    line: int  # of the resource in the file (1-based)
    property_lines: dict[str, int] = field(default_factory=dict)  # normalized property name -> line
    waivers: list[Waiver] = field(default_factory=list)
    construct_path: str | None = None  # CDK's aws:cdk:path

    def line_of(self, prop: str | None) -> int:
        return self.property_lines.get(prop or "", self.line)


class TemplateError(Exception):
    """A template that cannot be read: the message names the file and the line."""


def template_arn(file: str, logical_id: str, kind: str = "code-signing-config") -> str:
    """A stable ARN for a resource the template creates, for references to it (a function's code-signing config)."""
    digest = hashlib.sha256(f"{file}\0{logical_id}".encode()).hexdigest()[:17]
    return f"arn:aws:lambda:us-east-1:000000000000:{kind}:csc-{digest}"
