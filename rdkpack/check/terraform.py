"""Terraform plans (`terraform show -json`): the resources the rules judge, in model.py's normalized shapes.

Reads `planned_values` (the root module and every child module, recursively); each resource's full address
(`module.network.aws_vpc_endpoint.ssm[0]`, `aws_lambda_function.api["orders"]`) is its logical ID. Planned values
omit what is known only after apply (and leave null in its place inside lists): `resource_changes[].change.
after_unknown` says where, and an Unknown goes there. A reference the plan cannot evaluate yet (a function's
`code_signing_config_arn`, a lifecycle configuration's `bucket`) is followed through the `configuration` section to
the resource of the same module instance it names. Terraform has no Metadata: waivers for plans come only from the
waivers file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from rdkpack.check.model import (
    CODE_SIGNING_CONFIG,
    LAMBDA_FUNCTION,
    S3_BUCKET,
    VPC_ENDPOINT,
    TemplateError,
    TemplateResource,
    Unknown,
    template_arn,
)
from rdkpack.errors import FileError
from rdkpack.project.files import decode

AFTER_APPLY = Unknown("known after apply")
LIFECYCLE_CONFIGURATION = "aws_s3_bucket_lifecycle_configuration"

_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'  # a JSON string, escapes included
_MEMBER = re.compile(r"\s*(" + _STRING + r")\s*:\s*")
_AFTER_VALUE = re.compile(r"\s*,?")
_ADDRESS_KEY = re.compile(r'"address"\s*:\s*(' + _STRING + ")")
_KEY = r"(?:\[(?:\d+|" + _STRING + r")\])?"  # a count index or a for_each key
_MODULE_STEP = re.compile(r"module\.([A-Za-z_][\w-]*)" + _KEY + r"\.?")
_REFERENCE = re.compile(r"([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)" + _KEY)
_CAPTURED_WITH_OTHER_OUTPUT = (
    "; `terraform show -json` writes one JSON object: was other output captured with it? (setup-terraform's "
    "wrapper adds its own lines: use terraform_wrapper: false)"
)
_SIZES = (("object_size_greater_than", "ObjectSizeGreaterThan"), ("object_size_less_than", "ObjectSizeLessThan"))


@dataclass
class _Planned:
    address: str
    module: str  # the module instance's address ("module.app", 'module.svc["a"]'), "" at the root
    type: str  # the Terraform type
    values: dict  # planned values, with an Unknown wherever the value is known only after apply
    expressions: dict | None  # the configuration's expressions for it, None when the plan has none


@dataclass
class _Plan:
    shown: str
    resources: dict[str, _Planned]  # by address, in plan order
    lifecycle_targets: set[str] = field(default_factory=set)  # aws_s3_bucket addresses a lifecycle resource targets


def is_plan(data) -> bool:
    """Whether parsed JSON is a `terraform show -json` plan (a state file has `values`, not `planned_values`)."""
    return isinstance(data, dict) and "format_version" in data and isinstance(data.get("planned_values"), dict)


def read_plan(path: Path, shown: str) -> list[TemplateResource]:
    """The plan's Lambda functions, code-signing configs, S3 buckets (and lifecycle configurations) and VPC
    endpoints, in plan order; a TemplateError naming `shown` and the line when the file is not a readable plan."""
    text = _read(path, shown)
    return plan_resources(parse_plan(text, shown), text, shown)


def plan_resources(data, text: str, shown: str) -> list[TemplateResource]:
    """read_plan for a plan already parsed (`data` is json.loads(text)); `text` gives the lines."""
    if not is_plan(data):
        raise TemplateError(
            f"{shown}:1: not a Terraform plan (`terraform show -json` writes format_version and planned_values)"
        )
    start, end = _planned_values_span(text)
    plan = _Plan(shown, _planned(data, f"{shown}:{_line(text, start)}"))
    plan.lifecycle_targets = {
        bucket.address
        for resource in plan.resources.values()
        if resource.type == LIFECYCLE_CONFIGURATION and (bucket := _bucket_of(resource, plan))
    }
    lines = _address_lines(text, start, end)
    return [
        TemplateResource(
            file=shown,
            logical_id=address,
            type=_READERS[resource.type][0],
            properties=_READERS[resource.type][1](resource, plan),
            line=lines.get(address, 1),
        )
        for address, resource in plan.resources.items()
    ]


# Reading the file


def _read(path: Path, shown: str) -> str:
    try:
        return decode(Path(path).read_bytes(), shown)
    except FileError as error:
        raise TemplateError(str(error)) from error
    except OSError as error:
        raise TemplateError(f"{shown}: cannot be read: {error.strerror or error}") from error


def parse_plan(text: str, shown: str):
    """The plan's JSON; a TemplateError naming the line where it is not JSON (and setup-terraform's wrapper)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        hint = "" if text.lstrip().startswith("{") else _CAPTURED_WITH_OTHER_OUTPUT
        raise TemplateError(
            f"{shown}:{error.lineno}: not valid JSON: {error.msg} (column {error.colno}){hint}"
        ) from error
    except RecursionError as error:
        raise TemplateError(f"{shown}:1: nested too deeply to read as JSON") from error
    except ValueError as error:  # a number Python will not convert (over 4,300 digits)
        raise TemplateError(f"{shown}:1: not valid JSON here: {error}") from error


def _planned_values_span(text: str) -> tuple[int, int]:
    """Where the top-level `planned_values` member is in the text (its key to its closing brace). The text is a
    JSON object already: each member's value is skipped by the C decoder."""
    decoder, position = json.JSONDecoder(), text.index("{") + 1
    while member := _MEMBER.match(text, position):
        _, end = decoder.raw_decode(text, member.end())
        if json.loads(member.group(1)) == "planned_values":
            return member.start(1), end
        position = _AFTER_VALUE.match(text, end).end()
    return 0, len(text)


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _address_lines(text: str, start: int, end: int) -> dict[str, int]:
    """The line of each address inside planned_values (its first "address" key: a resource's own comes first)."""
    lines: dict[str, int] = {}
    line, last = _line(text, start), start
    for match in _ADDRESS_KEY.finditer(text, start, end):
        line += text.count("\n", last, match.start())
        last = match.start()
        lines.setdefault(json.loads(match.group(1)), line)
    return lines


# The plan's resources


def _planned(data: dict, where: str) -> dict[str, _Planned]:
    unknowns = _after_unknown(data.get("resource_changes"))
    expressions = _configuration(data.get("configuration"))
    planned = {}
    for module, resource in _module_resources(data["planned_values"].get("root_module") or {}, where):
        kind, mode = resource["type"], resource.get("mode", "managed")
        if mode != "managed" or kind not in _READERS:
            continue
        address = resource["address"]
        values = _merge(resource.get("values") or {}, unknowns.get(address))
        key = (_module_names(module), kind, str(resource.get("name")))
        planned[address] = _Planned(address, module, kind, values, expressions.get(key))
    return planned


def _module_resources(module, where: str):
    """(module address, resource) for every resource of a module and of its child modules, depth first."""
    if not isinstance(module, dict):
        raise TemplateError(f"{where}: a module in planned_values is not an object")
    address = module.get("address", "")
    if not isinstance(address, str):
        raise TemplateError(f"{where}: a module in planned_values has an address that is not a string")
    resources, children = module.get("resources") or [], module.get("child_modules") or []
    if not isinstance(resources, list) or not isinstance(children, list):
        raise TemplateError(
            f"{where}: planned_values module {address or 'root_module'!r}: resources and child_modules must be lists"
        )
    for resource in resources:
        if not (
            isinstance(resource, dict)
            and isinstance(resource.get("address"), str)
            and isinstance(resource.get("type"), str)
            and isinstance(resource.get("values", {}), dict | None)
        ):
            raise TemplateError(
                f"{where}: a resource in planned_values module {address or 'root_module'!r} has no "
                "address, type or values object"
            )
        yield address, resource
    for child in children:
        yield from _module_resources(child, where)


def _after_unknown(changes) -> dict:
    """after_unknown by address (a deposed object's change is skipped: it only leaves)."""
    found = {}
    for change in changes if isinstance(changes, list) else []:
        if not isinstance(change, dict) or "deposed" in change:
            continue
        after = change.get("change")
        if (
            isinstance(change.get("address"), str)
            and isinstance(after, dict)
            and isinstance(after.get("after_unknown"), dict)
        ):
            found[change["address"]] = after["after_unknown"]
    return found


def _configuration(configuration) -> dict:
    """Each managed resource's expressions, by (module call names, type, name)."""
    found: dict = {}
    modules = [((), configuration.get("root_module") if isinstance(configuration, dict) else None)]
    while modules:
        names, module = modules.pop()
        if not isinstance(module, dict):
            continue
        resources, calls = module.get("resources"), module.get("module_calls")
        for resource in resources if isinstance(resources, list) else []:
            if isinstance(resource, dict) and resource.get("mode", "managed") == "managed":
                expressions = resource.get("expressions")
                key = (names, str(resource.get("type")), str(resource.get("name")))
                found[key] = expressions if isinstance(expressions, dict) else {}
        for name, call in calls.items() if isinstance(calls, dict) else []:
            modules.append(((*names, name), call.get("module") if isinstance(call, dict) else None))
    return found


def _module_names(address: str) -> tuple[str, ...]:
    """'module.app["a"].module.audit' -> ("app", "audit"): the module calls, instance keys dropped."""
    names, position = [], 0
    while step := _MODULE_STEP.match(address, position):
        names.append(step.group(1))
        position = step.end()
    return tuple(names)


def _merge(value, unknown):
    """The planned value with an Unknown wherever after_unknown (the same shape, true where unknown) says so."""
    if unknown is True:
        return AFTER_APPLY
    if isinstance(unknown, dict) and unknown:
        merged = dict(value) if isinstance(value, dict) else {}
        for key, inner in unknown.items():
            merged[key] = _merge(merged.get(key), inner)
        return merged
    if isinstance(unknown, list) and unknown:
        items = list(value) if isinstance(value, list) else []
        items += [None] * (len(unknown) - len(items))
        return [_merge(item, unknown[index] if index < len(unknown) else False) for index, item in enumerate(items)]
    return value


def _referenced(resource: _Planned, attribute: str, kind: str, plan: _Plan) -> _Planned | None:
    """The resource of type `kind` in the same module instance that `attribute`'s expression refers to."""
    expression = (resource.expressions or {}).get(attribute)
    references = expression.get("references") if isinstance(expression, dict) else None
    prefix = f"{resource.module}." if resource.module else ""
    for reference in references if isinstance(references, list) else []:
        match = _REFERENCE.match(reference) if isinstance(reference, str) else None
        if match and match.group(1) == kind and (target := plan.resources.get(prefix + match.group(0))):
            return target
    return None


# Small accessors for Terraform's blocks (lists of at most one object) and defaults


def _given(value, default):
    return default if value is None else value


def _first(block):
    """A nested block's object: None when absent, an Unknown when the whole block is."""
    if isinstance(block, Unknown):
        return block
    return block[0] if isinstance(block, list) and block else None


def _get(block, key: str):
    return block.get(key) if isinstance(block, dict) else block


def _each(items, convert):
    if not isinstance(items, list):
        return items
    return [convert(item) if isinstance(item, dict) else item for item in items]  # an Unknown stays


def _number(value):
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _put(out: dict, key: str, value) -> None:
    if value is not None and value not in ([], {}):
        out[key] = value


def _tags(values: dict):
    """tags_all (with the provider's default_tags) when known, else the resource's own tags."""
    tags_all, tags = values.get("tags_all"), values.get("tags")
    for candidate in (tags_all, tags):
        if isinstance(candidate, dict):
            return candidate
    return tags_all if isinstance(tags_all, Unknown) else (tags if isinstance(tags, Unknown) else {})


# Lambda


def _function(resource: _Planned, plan: _Plan) -> dict:
    values = resource.values
    return {
        "FunctionName": values.get("function_name"),
        "PackageType": _given(values.get("package_type"), "Zip"),
        "Layers": _given(values.get("layers"), []),
        "CodeSigningConfigArn": _function_signing(resource, plan),
        "Tags": _tags(values),
    }


def _function_signing(resource: _Planned, plan: _Plan):
    arn = resource.values.get("code_signing_config_arn")
    if isinstance(arn, Unknown):
        config = _referenced(resource, "code_signing_config_arn", "aws_lambda_code_signing_config", plan)
        return _signing_arn(config, plan.shown) if config else arn
    return arn or None  # the provider writes "" for none


def _signing_arn(config: _Planned, shown: str) -> str:
    arn = config.values.get("arn")
    return arn if isinstance(arn, str) and arn else template_arn(shown, config.address)


def _signing_config(resource: _Planned, plan: _Plan) -> dict:
    publishers = _first(resource.values.get("allowed_publishers"))
    policies = _first(resource.values.get("policies"))
    return {
        "CodeSigningConfigArn": _signing_arn(resource, plan.shown),
        "AllowedPublishers": {
            "SigningProfileVersionArns": _given(_get(publishers, "signing_profile_version_arns"), [])
        },
        "CodeSigningPolicies": {  # AWS's default policy is Warn
            "UntrustedArtifactOnDeployment": _given(_get(policies, "untrusted_artifact_on_deployment"), "Warn")
        },
    }


# VPC endpoints


def _endpoint(resource: _Planned, plan: _Plan) -> dict:
    values = resource.values
    endpoint_id = values.get("id")
    return {
        "VpcEndpointId": endpoint_id if isinstance(endpoint_id, str) and endpoint_id else resource.address,
        "VpcEndpointType": _given(values.get("vpc_endpoint_type"), "Gateway"),
        "ServiceName": values.get("service_name"),
        "SubnetIds": _given(values.get("subnet_ids"), []),
        "Tags": _tags(values),
    }


# S3: aws_s3_bucket (the legacy inline lifecycle_rule) and aws_s3_bucket_lifecycle_configuration


def _bucket(resource: _Planned, plan: _Plan) -> dict:
    values = resource.values
    return {"BucketName": values.get("bucket"), "LifecycleRules": _bucket_rules(resource, plan), "Tags": _tags(values)}


def _bucket_rules(resource: _Planned, plan: _Plan):
    """The inline rules. Since provider v4 `lifecycle_rule` is also computed: when the configuration does not write
    it, its value is what AWS holds (unknown for a new bucket), and a lifecycle configuration resource of this
    plan, judged at its own address, owns it."""
    rules = resource.values.get("lifecycle_rule")
    written = resource.expressions is None or "lifecycle_rule" in resource.expressions
    if isinstance(rules, Unknown):
        return rules if written else None
    if not rules or (not written and resource.address in plan.lifecycle_targets):
        return None
    return _each(rules, _legacy_rule)


def _lifecycle_configuration(resource: _Planned, plan: _Plan) -> dict:
    bucket = _bucket_of(resource, plan)
    name = resource.values.get("bucket")
    if isinstance(name, Unknown) and bucket:
        name = bucket.values.get("bucket")
    return {
        "BucketName": name,
        "LifecycleRules": _each(resource.values.get("rule"), _rule),
        "Tags": _tags(bucket.values) if bucket else {},
    }


def _bucket_of(resource: _Planned, plan: _Plan) -> _Planned | None:
    """The aws_s3_bucket a lifecycle configuration is for: the one its `bucket` refers to, else the one so named."""
    bucket = _referenced(resource, "bucket", "aws_s3_bucket", plan)
    name = resource.values.get("bucket")
    if bucket or not isinstance(name, str):
        return bucket
    candidates = (other for other in plan.resources.values() if other.type == "aws_s3_bucket")
    return next((other for other in candidates if other.values.get("bucket") == name), None)


def _rule(rule: dict) -> dict:
    out = {"ID": rule.get("id"), "Status": rule.get("status")}
    block, prefix = _first(rule.get("filter")), rule.get("prefix")
    if block is not None:
        out["Filter"] = _filter(block)
    if prefix not in (None, "") or (prefix == "" and block is None):
        out["Prefix"] = prefix  # deprecated rule-level prefix
    upload = _get(_first(rule.get("abort_incomplete_multipart_upload")), "days_after_initiation")
    return out | _actions(rule, "noncurrent_days", upload)


def _legacy_rule(rule: dict) -> dict:
    """An inline lifecycle_rule, as the provider sends it: Filter {Prefix}, or {And {Prefix, Tags}} with tags."""
    prefix, tags, enabled = rule.get("prefix"), rule.get("tags"), rule.get("enabled")
    status = ("Enabled" if enabled else "Disabled") if isinstance(enabled, bool) else enabled
    out = {"ID": rule.get("id"), "Status": status}
    out["Filter"] = {"And": _and({"prefix": prefix, "tags": tags})} if tags else {"Prefix": prefix or ""}
    return out | _actions(rule, "days", rule.get("abort_incomplete_multipart_upload_days"))


def _actions(rule: dict, days_key: str, upload_days) -> dict:
    out: dict = {}
    _put(out, "Expiration", _expiration(_first(rule.get("expiration"))))
    _put(out, "Transitions", _each(rule.get("transition"), _transition))
    _put(out, "NoncurrentVersionExpiration", _noncurrent(_first(rule.get("noncurrent_version_expiration")), days_key))
    transitions = _each(rule.get("noncurrent_version_transition"), lambda item: _noncurrent(item, days_key))
    _put(out, "NoncurrentVersionTransitions", transitions)
    if upload_days:  # 0: none
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": _number(upload_days)}
    return out


def _expiration(block):
    """{Date} or {Days} (0 or "" is how the provider writes an unset one), and ExpiredObjectDeleteMarker if set."""
    if not isinstance(block, dict):
        return block
    out = {}
    date, days = block.get("date"), _number(block.get("days"))
    if date:
        out["Date"] = date
    elif days:
        out["Days"] = days
    if block.get("expired_object_delete_marker"):
        out["ExpiredObjectDeleteMarker"] = block["expired_object_delete_marker"]
    return out


def _transition(block: dict) -> dict:
    date = block.get("date")
    out = {"Date": date} if date else {"Days": _number(block.get("days"))}
    return out | {"StorageClass": block.get("storage_class")}


def _noncurrent(block, days_key: str):
    if not isinstance(block, dict):
        return block
    out = {"NoncurrentDays": _number(block.get(days_key))}
    _put(out, "StorageClass", block.get("storage_class"))
    if newer := _number(block.get("newer_noncurrent_versions")):
        out["NewerNoncurrentVersions"] = newer
    return out


def _filter(block):
    """One predicate, as S3 answers: And, Tag, Prefix, ObjectSizeGreaterThan or ObjectSizeLessThan; {} for all."""
    if not isinstance(block, dict):
        return block
    both, tag, prefix = _first(block.get("and")), _first(block.get("tag")), block.get("prefix")
    if both is not None:
        return {"And": _and(both)} if isinstance(both, dict) else both
    if tag is not None:
        return {"Tag": {"Key": _get(tag, "key"), "Value": _get(tag, "value")}} if isinstance(tag, dict) else tag
    if prefix not in (None, ""):
        return {"Prefix": prefix}
    for key, name in _SIZES:
        if size := _number(block.get(key)):
            return {name: size}
    return {"Prefix": ""} if prefix == "" else {}


def _and(block: dict) -> dict:
    out: dict = {}
    if block.get("prefix") not in (None, ""):
        out["Prefix"] = block["prefix"]
    tags = block.get("tags")
    if isinstance(tags, dict) and tags:
        out["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    elif isinstance(tags, Unknown):
        out["Tags"] = tags
    for key, name in _SIZES:
        if size := _number(block.get(key)):
            out[name] = size
    return out


_READERS = {
    "aws_lambda_function": (LAMBDA_FUNCTION, _function),
    "aws_lambda_code_signing_config": (CODE_SIGNING_CONFIG, _signing_config),
    "aws_s3_bucket": (S3_BUCKET, _bucket),
    LIFECYCLE_CONFIGURATION: (S3_BUCKET, _lifecycle_configuration),
    "aws_vpc_endpoint": (VPC_ENDPOINT, _endpoint),
}
