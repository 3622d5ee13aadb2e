"""The calls a scan makes in a scanned account: the one home of the scan role's read actions.

`rdkpack build` turns these (and each rule's own IAM_PERMISSIONS) into the scan role template, and
a test reads inventory.py's source to check every call it makes is declared here.
"""

from __future__ import annotations

# (botocore service, operation): reads that build the configuration items, from the recorder or the service APIs.
SCAN_OPERATIONS = (
    ("config", "DescribeConfigurationRecorderStatus"),
    ("config", "DescribeConfigurationRecorders"),  # which types the recorder records
    ("config", "ListDiscoveredResources"),
    ("config", "BatchGetResourceConfig"),
    ("lambda", "ListFunctions"),
    ("s3", "ListBuckets"),
    ("s3", "GetBucketLifecycleConfiguration"),
    ("s3", "GetBucketTagging"),
    ("ec2", "DescribeVpcEndpoints"),
    ("ec2", "DescribeRegions"),  # scan --regions all: each account's enabled regions
    ("resourcegroupstaggingapi", "GetResources"),
)
# `scan --security-hub` imports each account's findings through the role, into the account's default product.
SECURITY_HUB_IMPORT = ("securityhub", "BatchImportFindings")
