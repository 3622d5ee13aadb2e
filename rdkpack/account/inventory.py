"""Configuration items in AWS Config's shape, read from the Config recorder or built from service APIs.

c7n's source mapping in reverse: whatever the source, the rules get the same item shape, so a scan
runs the same rule code Config would. Every call here is a read (Describe*, List*, Get*, BatchGet*).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from rdkpack import aws
from rdkpack.aws import aws_errors, explain, is_credential_problem
from rdkpack.errors import ScanError

LAMBDA, S3, ENDPOINT = "AWS::Lambda::Function", "AWS::S3::Bucket", "AWS::EC2::VPCEndpoint"
RESOURCE_TYPES = (LAMBDA, S3, ENDPOINT)
TAGGING_TYPES = {LAMBDA: "lambda:function", S3: "s3:bucket", ENDPOINT: "ec2:vpc-endpoint"}
BATCH_SIZE = 100
# Lifecycle reads in flight at once: botocore's default pool holds 10 connections per client, and S3
# allows thousands of GETs per second per prefix, so 8 keeps every read on a pooled connection.
S3_READERS = 8
UNPROCESSED_ATTEMPTS = 5  # BatchGet* answers: keys AWS Config did not get to are asked again, this often
# On an item whose own reads failed (say a bucket policy denies this caller): the scan reports the
# resource as an ERROR row with this text instead of evaluating it.
ERROR_KEY = "rdkpackError"


def configuration_item(resource_type: str, resource_id: str, configuration: dict, **extra) -> dict:
    item = {
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "resourceType": resource_type,
        "resourceId": resource_id,
        "resourceName": extra.pop("name", resource_id),
        "configuration": configuration,
        "supplementaryConfiguration": extra.pop("supplementary", {}),
        "tags": extra.pop("tags", {}),
    }
    item.update(extra)
    return item


# ---- tags, in one paginated sweep per resource type ----


def tags_by_arn(session, resource_type: str) -> dict[str, dict]:
    client = aws.client(session, "resourcegroupstaggingapi")
    tags = {}
    with aws_errors():
        pages = client.get_paginator("get_resources").paginate(ResourceTypeFilters=[TAGGING_TYPES[resource_type]])
        for page in pages:
            for mapping in page["ResourceTagMappingList"]:
                tags[mapping["ResourceARN"]] = {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}
    return tags


# ---- from the service APIs ----


def lambda_configuration(function: dict) -> dict:
    """A function as ListFunctions answers it, as AWS Config records its configuration."""
    return {
        "functionName": function["FunctionName"],
        "functionArn": function["FunctionArn"],
        "packageType": function.get("PackageType", "Zip"),
        "runtime": function.get("Runtime"),
        "layers": [
            {
                "arn": layer["Arn"],
                "codeSize": layer.get("CodeSize"),
                "signingProfileVersionArn": layer.get("SigningProfileVersionArn"),
            }
            for layer in function.get("Layers", [])
        ],
    }


def lambda_items(session, with_tags: bool) -> list[dict]:
    client = aws.client(session, "lambda")
    tags = tags_by_arn(session, LAMBDA) if with_tags else {}
    items = []
    with aws_errors():
        for page in client.get_paginator("list_functions").paginate():
            for function in page["Functions"]:
                configuration = lambda_configuration(function)
                items.append(
                    configuration_item(
                        LAMBDA,
                        function["FunctionName"],
                        configuration,
                        ARN=function["FunctionArn"],
                        tags=tags.get(function["FunctionArn"], {}),
                    )
                )
    return items


SIMPLE_PREDICATES = {
    "Prefix": lambda value: {"type": "LifecyclePrefixPredicate", "prefix": value},
    "Tag": lambda value: {"type": "LifecycleTagPredicate", "tag": {"key": value["Key"], "value": value["Value"]}},
    "ObjectSizeGreaterThan": lambda value: {
        "type": "LifecycleObjectSizeGreaterThanPredicate",
        "objectSizeGreaterThan": value,
    },
    "ObjectSizeLessThan": lambda value: {"type": "LifecycleObjectSizeLessThanPredicate", "objectSizeLessThan": value},
}


def predicate(lifecycle_filter: dict | None):
    """An S3 API lifecycle filter as the predicate AWS Config records."""
    if not lifecycle_filter:
        return None
    if "And" in lifecycle_filter:
        operator = lifecycle_filter["And"]
        operands = [SIMPLE_PREDICATES["Tag"](tag) for tag in operator.get("Tags", [])]
        operands += [make(operator[key]) for key, make in SIMPLE_PREDICATES.items() if key in operator]
        return {"type": "LifecycleAndOperator", "operands": operands}
    for key, make in SIMPLE_PREDICATES.items():
        if key in lifecycle_filter:
            return make(lifecycle_filter[key])
    return None


def lifecycle_configuration(rules: list[dict]) -> dict:
    return {
        "rules": [
            {
                "id": rule.get("ID"),
                "status": rule.get("Status"),
                "prefix": rule.get("Prefix"),
                "filter": None if "Filter" not in rule else {"predicate": predicate(rule["Filter"])},
                "expirationInDays": (rule.get("Expiration") or {}).get("Days"),
            }
            for rule in rules
        ]
    }


def bucket_lifecycle(client, bucket: str) -> dict | None:
    try:
        return lifecycle_configuration(client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"])
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchLifecycleConfiguration":
            return None
        raise


def bucket_tags(client, bucket: str) -> dict:
    try:
        return {t["Key"]: t["Value"] for t in client.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchTagSet":
            return {}
        raise


def bucket_item(client, name: str, with_tags: bool) -> dict:
    try:
        lifecycle = bucket_lifecycle(client, name)
        tags = bucket_tags(client, name) if with_tags else {}
    except ClientError as error:
        if is_credential_problem(error):
            raise
        # One bucket this caller may not read (a bucket policy, an SCP) must not hide the others.
        return configuration_item(S3, name, {"name": name}, **{ERROR_KEY: explain(error)})
    supplementary = {} if lifecycle is None else {"BucketLifecycleConfiguration": lifecycle}
    return configuration_item(S3, name, {"name": name}, supplementary=supplementary, tags=tags)


def s3_items(session, with_tags: bool) -> list[dict]:
    """One lifecycle read per bucket (S3 has no batch read), S3_READERS at a time through one client."""
    s3 = aws.client(session, "s3")
    with aws_errors():
        # ListBuckets lists the account's buckets in every region; Config records each in its own region.
        pages = s3.get_paginator("list_buckets").paginate(BucketRegion=s3.meta.region_name)
        names = [bucket["Name"] for page in pages for bucket in page["Buckets"]]
        with ThreadPoolExecutor(max_workers=S3_READERS) as readers:
            return list(readers.map(lambda name: bucket_item(s3, name, with_tags), names))


def iso_timestamp(value) -> str | None:
    """A timestamp from an API answer as AWS Config records it: ISO-8601 text in UTC."""
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def endpoint_configuration(endpoint: dict) -> dict:
    """An endpoint as DescribeVpcEndpoints answers it, as AWS Config records its configuration."""
    return {
        "vpcEndpointId": endpoint["VpcEndpointId"],
        "vpcEndpointType": endpoint.get("VpcEndpointType"),
        "serviceName": endpoint.get("ServiceName"),
        "subnetIds": endpoint.get("SubnetIds", []),
        "requesterManaged": endpoint.get("RequesterManaged", False),
        "state": str(endpoint.get("State", "")).lower(),
        "vpcId": endpoint.get("VpcId"),
        "creationTimestamp": iso_timestamp(endpoint.get("CreationTimestamp")),
        "serviceRegion": endpoint.get("ServiceRegion"),
    }


def vpc_endpoint_items(session, with_tags: bool = False) -> list[dict]:
    """Endpoints with their tags: DescribeVpcEndpoints returns them, so with_tags costs nothing."""
    client = aws.client(session, "ec2")
    items = []
    with aws_errors():
        for page in client.get_paginator("describe_vpc_endpoints").paginate():
            for endpoint in page["VpcEndpoints"]:
                configuration = endpoint_configuration(endpoint)
                tags = {t["Key"]: t["Value"] for t in endpoint.get("Tags", [])}
                region = client.meta.region_name
                item = configuration_item(
                    ENDPOINT, endpoint["VpcEndpointId"], configuration, tags=tags, awsRegion=region
                )
                items.append(item)
    return items


# Resource type -> the builder of its configuration items from the service APIs: a rule for another
# type needs a builder here (tests/tooling/test_inventory_registry.py names the rule that lacks one).
ITEM_BUILDERS = {LAMBDA: lambda_items, S3: s3_items, ENDPOINT: vpc_endpoint_items}


def items_from_apis(session, resource_type: str, with_tags: bool) -> list[dict]:
    builder = ITEM_BUILDERS.get(resource_type)
    if builder is None:
        raise ScanError(
            f"rdkpack cannot build configuration items for {resource_type} from the service APIs (it can for "
            f"{', '.join(ITEM_BUILDERS)}): scan with --source config, or add a builder to rdkpack/account/inventory.py"
        )
    return builder(session, with_tags)


# ---- from the AWS Config recorder ----


def recorder_is_on(session) -> bool:
    client = aws.client(session, "config")
    with aws_errors():
        statuses = client.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
    return any(status.get("recording") for status in statuses)


def from_recorded(base: dict, tags: dict) -> dict:
    """A BatchGetResourceConfig item in the shape of a change notification's configuration item."""
    return configuration_item(
        base["resourceType"],
        base["resourceId"],
        base.get("configuration", "{}"),
        name=base.get("resourceName", base["resourceId"]),
        supplementary=dict(base.get("supplementaryConfiguration") or {}),
        tags=tags.get(base.get("arn"), {}),
        ARN=base.get("arn"),
        configurationItemCaptureTime=str(base.get("configurationItemCaptureTime", "")),
        configurationItemStatus=base.get("configurationItemStatus", "OK"),
    )


def items_from_recorder(session, resource_type: str, with_tags: bool) -> list[dict]:
    client = aws.client(session, "config")
    tags = tags_by_arn(session, resource_type) if with_tags else {}
    keys, items = [], []
    with aws_errors():
        for page in client.get_paginator("list_discovered_resources").paginate(resourceType=resource_type):
            keys += [
                {"resourceType": resource_type, "resourceId": r["resourceId"]} for r in page["resourceIdentifiers"]
            ]
        found = read_in_batches(
            lambda batch: client.batch_get_resource_config(resourceKeys=batch),
            keys,
            ("baseConfigurationItems", "unprocessedResourceKeys"),
        )
        items = [from_recorded(base, tags) for base in found]
    return [item for item in items if item["configurationItemStatus"] in ("OK", "ResourceDiscovered")]


def read_in_batches(fetch, keys: list, fields: tuple[str, str], *, sleep=time.sleep) -> list:
    """fetch(batch) for each BATCH_SIZE keys; unprocessed keys are asked again, UNPROCESSED_ATTEMPTS times at most,
    with a growing pause; fields names the answer's found and unprocessed lists."""
    found, unprocessed = fields
    items = []
    for start in range(0, len(keys), BATCH_SIZE):
        pending = keys[start : start + BATCH_SIZE]
        for attempt in range(UNPROCESSED_ATTEMPTS):
            response = fetch(pending)
            items += response.get(found, [])
            pending = response.get(unprocessed) or []
            if not pending:
                break
            sleep(0.2 * 2**attempt)
        if pending:
            raise ScanError(
                f"AWS Config left {len(pending)} item(s) unprocessed after {UNPROCESSED_ATTEMPTS} attempts "
                f"(first: {pending[0]}); run the scan again"
            )
    return items


def collect(session, resource_types, source: str = "auto", tagged_types=frozenset(), *, warnings=None, lost=None):
    """Items of the given types and where they came from: 'config' (the recorder) or 'api'.

    A recorder that is on may still not record a type the rules evaluate: under 'auto' that type is read from the
    service APIs ('config+api'), under 'config' it has no items; either way a line is added to `warnings`.
    With `lost` (one of many accounts and regions), a type that cannot be read (its API denied, or throttled past
    every retry) is added to it with why, and the other types are still read: only the rules of that type lose
    their results; a recorder that cannot be read is a warning under 'auto' (the APIs are read instead) and loses
    every type under 'config'. Without `lost`, such an error is raised.
    """
    fallback = source == "auto"  # a type the recorder skips comes from the service APIs
    warnings = [] if warnings is None else warnings

    def read(reader, kind) -> list[dict]:
        items, reason = tolerated(lambda: reader(session, kind, kind in tagged_types), lost)
        if reason:
            lost[kind] = reason
        return items or []

    def from_apis():
        return [item for kind in resource_types for item in read(items_from_apis, kind)], "api"

    def unreadable_recorder(reason: str):
        if fallback:
            warnings.append(f"the AWS Config recorder cannot be read ({reason}): read from the service APIs")
            return from_apis()
        lost.update(dict.fromkeys(resource_types, f"the AWS Config recorder cannot be read: {reason}"))
        return [], "config"

    if fallback:
        on, reason = tolerated(lambda: recorder_is_on(session), lost)
        if reason:
            return unreadable_recorder(reason)
        source = "config" if on else "api"
    if source == "api":
        return from_apis()
    records, reason = tolerated(lambda: recorded_types(session), lost)
    if reason:
        return unreadable_recorder(reason)
    unrecorded = [kind for kind in resource_types if not records(kind)]
    if unrecorded:
        consequence = "read from the service APIs" if fallback else "the rules see no such items"
        warnings.append(f"the AWS Config recorder does not record {', '.join(unrecorded)}: {consequence}")
    items = []
    for kind in resource_types:
        if kind not in unrecorded:
            items += read(items_from_recorder, kind)
        elif fallback:
            items += read(items_from_apis, kind)
    return items, ("config+api" if unrecorded and fallback else "config")


def tolerated(call, lost):
    """(call(), None); with `lost` (one of many accounts and regions), (None, why) for an AWS error that is not the
    credentials'. Without `lost`, or for anything else, the error is raised."""
    try:
        return call(), None
    except (ClientError, ScanError) as error:
        cause = error if isinstance(error, ClientError) else error.__cause__
        if lost is None or not isinstance(cause, ClientError) or is_credential_problem(cause):
            raise
        return None, (str(error) if isinstance(error, ScanError) else explain(error))


def recorded_types(session):
    """Whether the region's recorder records a resource type: its recording group (all supported types, a list, or
    all but an exclusion list) as a predicate."""
    client = aws.client(session, "config")
    with aws_errors():
        recorders = client.describe_configuration_recorders().get("ConfigurationRecorders", [])
    listed, everything, excluded = set(), False, set()
    for recorder in recorders:
        group = recorder.get("recordingGroup") or {"allSupported": True}
        strategy = (group.get("recordingStrategy") or {}).get("useOnly", "")
        if strategy == "EXCLUSION_BY_RESOURCE_TYPES":
            everything = True
            excluded |= set((group.get("exclusionByResourceTypes") or {}).get("resourceTypes", []))
        elif group.get("allSupported") or strategy == "ALL_SUPPORTED_RESOURCE_TYPES":
            everything = True
        else:
            listed |= set(group.get("resourceTypes", []))
    return lambda kind: (everything and kind not in excluded) or kind in listed
