"""What the identity that runs rollout, status and remove needs: every call they make, as IAM actions."""

from __future__ import annotations

from rdkpack import aws
from rdkpack.rollout import context, org_packs, stacksets, stage

# Calls of remove (emptying the artifact buckets) beyond the others' own.
REMOVE_OPERATIONS = (("s3", "ListObjectsV2"), ("s3", "DeleteObjects"))
# CloudFormation creates the artifact bucket stacks (and central rule functions) with the caller's permissions.
STACK_RESOURCE_ACTIONS = (
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
)


def operations() -> tuple[tuple[str, str], ...]:
    return (
        *context.ORGANIZATION_OPERATIONS,
        *stacksets.OPERATIONS,
        *org_packs.OPERATIONS,
        *stage.OPERATIONS,
        *REMOVE_OPERATIONS,
    )


def actions() -> list[str]:
    return sorted(
        {aws.iam_action(service, operation) for service, operation in operations()} | set(STACK_RESOURCE_ACTIONS)
    )
