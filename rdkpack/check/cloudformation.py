"""CloudFormation templates (YAML with the short-form intrinsics, or JSON), SAM templates and CDK output
(`cdk.out/*.template.json`) as TemplateResources.

cfn-lint's decoder reads the file, so every key keeps the line it is written on. SAM's `Globals.Function` is applied
as the SAM transform applies it (maps merged, the function's own value winning; lists appended, globals first).
Intrinsic functions are resolved within the template where the template alone decides the value; anything a deploy
decides (a parameter, a pseudo parameter, an import, most GetAtts) becomes an Unknown, with the values it can take
when the template limits them (a parameter's AllowedValues, the branches of an Fn::If).
"""

from __future__ import annotations

import base64
import datetime
import glob
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from rdkpack.check.model import (
    CODE_SIGNING_CONFIG,
    LAMBDA_FUNCTION,
    S3_BUCKET,
    VPC_ENDPOINT,
    WAIVER_KEY,
    TemplateError,
    TemplateResource,
    Unknown,
    Waiver,
    template_arn,
)
from rdkpack.errors import FileError
from rdkpack.project.files import decode

SAM_FUNCTION = "AWS::Serverless::Function"
SUBNET = "AWS::EC2::Subnet"
CDK_PATH = "aws:cdk:path"
SAM_CREATED_BY = {"lambda:createdBy": "SAM"}  # the tag the SAM transform puts on every function it creates
MAX_CHOICES = 64  # combinations of a value's possible inputs worth listing; beyond that it is simply unknown
ABSENT = object()  # Ref AWS::NoValue, or a property not written: the property is not there
LIST_PARAMETER = re.compile(r"^(List<.*>|CommaDelimitedList|AWS::SSM::Parameter::Value<.*>)$")
SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def is_template(data) -> bool:
    """Whether decoded YAML or JSON is a CloudFormation template: a Resources map with at least one typed resource."""
    resources = data.get("Resources") if isinstance(data, dict) else None
    return isinstance(resources, dict) and any(
        isinstance(resource, dict) and isinstance(resource.get("Type"), str) for resource in resources.values()
    )


def load_template(path: Path, shown: str) -> dict:
    """The file decoded by cfn-lint (every key and container carries `start_mark`); TemplateError names the line
    where it is not valid YAML or JSON."""
    try:
        text = decode(Path(path).read_bytes(), shown)
    except FileError as error:
        raise TemplateError(str(error)) from error
    except OSError as error:
        raise TemplateError(f"{shown}: cannot be read: {error.strerror or error}") from error
    return parse_template(text, shown)


def read_template(path: Path, shown: str) -> list[TemplateResource]:
    """The Lambda functions, S3 buckets, VPC endpoints and code-signing configs a template creates, in the shapes of
    rdkpack.check.model. TemplateError for a file that cannot be read, is not YAML or JSON, or is not a template."""
    return template_resources(load_template(path, shown), shown)


def template_resources(data, shown: str) -> list[TemplateResource]:
    """read_template for a file already decoded (parse_template); TemplateError when it is not a template."""
    if not is_template(data):
        raise TemplateError(f"{shown}:1: not a CloudFormation template (no Resources with a Type)")
    resolve = _Resolver(shown, data)
    function_globals = _mapping(_mapping(data.get("Globals")).get("Function"))
    found = []
    for logical_id, resource in data["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") not in READERS:
            continue
        if isinstance(resource.get("Condition"), str) and resolve.condition(resource["Condition"]) is False:
            continue  # the template never creates it
        props = _mapping(resource.get("Properties"))
        lines = _key_lines(props)
        if resource["Type"] == SAM_FUNCTION and function_globals:
            lines = {**_key_lines(function_globals), **lines}
            props = merge_sam_globals(function_globals, props)
        source = _Source(str(logical_id), resource["Type"], props, lines, resolve)
        kind, read = READERS[resource["Type"]]
        properties, property_lines = read(source)
        metadata = _mapping(resource.get("Metadata"))
        found.append(
            TemplateResource(
                file=shown,
                logical_id=str(logical_id),
                type=kind,
                properties=properties,
                line=_line(logical_id),
                property_lines=property_lines,
                waivers=_waivers(metadata, str(logical_id), shown, _line(logical_id)),
                construct_path=_plain(metadata[CDK_PATH]) if isinstance(metadata.get(CDK_PATH), str) else None,
            )
        )
    return found


def merge_sam_globals(global_value, own):
    """A function's Properties (`own`) with Globals.Function (`global_value`) applied as the SAM transform applies
    them: the function's own value wins, maps merge key by key, lists append (globals first), and an intrinsic
    function on either side counts as a plain value."""
    if _is_intrinsic(global_value) or _is_intrinsic(own):
        return own
    if isinstance(global_value, dict) and isinstance(own, dict):
        merged = dict(global_value)
        for key, value in own.items():
            merged[key] = merge_sam_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(own, list):
        return [*global_value, *own]
    return own


# --- decoding -----------------------------------------------------------------------------------------------------


def parse_template(text: str, shown: str):
    """YAML or JSON text decoded by cfn-lint, every key keeping its line; TemplateError naming the line."""
    from cfnlint.decode import cfn_json, cfn_yaml  # noqa: PLC0415  (0.8 s to import: only when a template is read)

    try:
        return cfn_yaml.loads(text)
    except cfn_yaml.CfnParseError as error:
        match = error.matches[-1]  # a duplicate key: the second occurrence
        raise TemplateError(f"{shown}:{match.linenumber}: {match.message.splitlines()[0]}") from error
    except yaml.MarkedYAMLError as error:
        if not text.lstrip().startswith("{"):
            raise TemplateError(f"{shown}:{error.problem_mark.line + 1}: {_yaml_reason(error)}") from error
    try:  # JSON that YAML rejects (an escaped slash "\\/", a tab where YAML allows none): JSON's own reading
        return cfn_json.loads(text)
    except cfn_json.JSONDecodeError as error:
        match = max(error.matches, key=lambda found: found.linenumber)
        if match.message.startswith("Duplicate found"):  # cfn-lint 1.58 numbers these lines from 0
            raise TemplateError(f"{shown}:{match.linenumber + 1}: {match.message}") from error
        raise TemplateError(f"{shown}:{match.linenumber}: not valid JSON: {match.message}") from error
    except ValueError as error:
        line = getattr(error, "lineno", 1)
        raise TemplateError(f"{shown}:{line}: not valid JSON: {getattr(error, 'msg', error)}") from error


def _yaml_reason(error: yaml.MarkedYAMLError) -> str:
    reason = f"not valid YAML: {error.problem}"
    if error.context and error.context_mark is not None:
        return f"{reason} ({error.context} at line {error.context_mark.line + 1})"
    return f"{reason} ({error.context})" if error.context else reason


def _line(node, default: int = 1) -> int:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else default


def _key_lines(mapping) -> dict[str, int]:
    return {str(key): _line(key) for key in _mapping(mapping)}


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _plain(value):
    """A decoded scalar as a plain Python value: text stays text, a YAML date becomes its ISO text."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _text(value) -> str:
    """A scalar as CloudFormation turns it into text (a number in a tag value, a bool in a Join)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(_plain(value))


# --- SAM and waivers ----------------------------------------------------------------------------------------------


def _is_intrinsic(value) -> bool:
    """An intrinsic function, as CloudFormation and SAM tell one: a map whose one key is Ref, Condition or Fn::*."""
    if not (isinstance(value, dict) and len(value) == 1):
        return False
    name = str(next(iter(value)))
    return name in ("Ref", "Condition") or name.startswith("Fn::")


def _waivers(metadata: dict, logical_id: str, shown: str, line: int) -> list[Waiver]:
    if WAIVER_KEY not in metadata:
        return []
    skip = _mapping(metadata[WAIVER_KEY]).get("skip")
    where = f"{shown}:{_key_lines(metadata).get(WAIVER_KEY, line)}: Metadata {WAIVER_KEY} of {logical_id}"
    if not isinstance(skip, list):
        raise TemplateError(f"{where}: expected skip: a list of {{id, comment, expires}}")
    waivers = []
    for entry in skip:
        rule = _mapping(entry).get("id")
        if not isinstance(rule, str) or not rule.strip():
            raise TemplateError(f"{shown}:{_line(entry, line)}: a waiver of {logical_id} names no rule (id)")
        comment, expires = (_mapping(entry).get(key) for key in ("comment", "expires"))
        waivers.append(Waiver(str(rule), _optional_text(comment), _optional_text(expires), f"Metadata of {logical_id}"))
    return waivers


def _optional_text(value) -> str | None:
    return None if value is None or not _text(value).strip() else _text(value)


# --- intrinsic functions ------------------------------------------------------------------------------------------


def _known(value) -> bool:
    if isinstance(value, Unknown):
        return False
    if isinstance(value, dict):
        return all(map(_known, value.values()))
    return all(map(_known, value)) if isinstance(value, list) else True


def _choices_of(value) -> tuple | None:
    """Every value `value` can take, or None when it can take any."""
    if isinstance(value, Unknown):
        return value.choices
    return (None if value is ABSENT else value,) if _known(value) else None


# Pseudo parameters take values of their kind only: two of each, so a rule that pins one (an account in an ARN
# pattern) sees that the verdict depends on where the stack is deployed, and one that does not judges alike.
PSEUDO_PARAMETERS = {
    "AWS::Region": ("us-east-1", "eu-west-1"),
    "AWS::AccountId": ("123456789012", "210987654321"),
    "AWS::Partition": ("aws", "aws-cn"),
    "AWS::URLSuffix": ("amazonaws.com",),
}


def _combine(parts: list, join, source: str, *, separator: str | None = None):
    """join(*parts), where parts may be Unknowns with choices: the one result when every combination agrees, an
    Unknown with the results as choices when they differ, an Unknown without choices when any part has none."""
    options = [_choices_of(part) for part in parts]
    if any(option is None for option in options) or math.prod(map(len, options)) > MAX_CHOICES:
        return Unknown(source, template=None if separator is None else _template(parts, separator))
    results: list = []
    for combination in itertools.product(*options):
        result = join(*combination)
        if isinstance(result, Unknown):
            return Unknown(source)
        if result not in results:
            results.append(result)
    return results[0] if len(results) == 1 else Unknown(source, tuple(results))


def _template(parts: list, separator: str) -> str | None:
    """The parts joined as a glob of every value they can make: '*' for each unknown part, the known text escaped as
    glob.escape writes it (a literal '*' is '[*]': `!Sub '${Env}/*'` is '*/[*]', whose every value ends in '*'). A
    number is its text (`!Join [":", [..., layer, base, 3]]`); an unknown part with a template of its own (a nested
    Fn::Sub) keeps it."""
    if not all(isinstance(part, str | int | float | Unknown) for part in parts):
        return None
    texts = ((part.template or "*") if isinstance(part, Unknown) else glob.escape(_text(part)) for part in parts)
    return glob.escape(separator).join(texts)


def _left_out(values: list, build):
    """build(*values) (a map, a list); when a value can be left out (an Fn::If with AWS::NoValue), an Unknown whose
    choices are what build makes of each combination, without the values left out."""
    maybe = next((v for v in values if isinstance(v, Unknown) and v.choices and None in v.choices), None)
    if maybe is None:
        return build(*values)
    return _combine(values, lambda *chosen: _without_none(build(*chosen)), maybe.source)


def _without_none(container):
    if isinstance(container, dict):
        return {key: value for key, value in container.items() if value is not None}
    return [item for item in container if item is not None]


class _Resolver:
    """Resolves a property's value within its template (see the module docstring)."""

    def __init__(self, shown: str, data: dict):
        self.shown = shown
        self.parameters = _mapping(data.get("Parameters"))
        self.resources = _mapping(data.get("Resources"))
        self.conditions = _mapping(data.get("Conditions"))
        self.mappings = _mapping(data.get("Mappings"))
        self.evaluating: set[str] = set()
        self.handlers = {
            "Ref": self._ref,
            "Condition": self._condition_function,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::ImportValue": lambda arg: Unknown(f"Fn::ImportValue {_describe(self(arg))}"),
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda arg: _combine([self(arg)], _base64, "Fn::Base64"),
            "Fn::Equals": self._equals,
            "Fn::Not": lambda arg: self._logic(arg, lambda value: not value, "Fn::Not"),
            "Fn::And": lambda arg: self._logic(arg, all, "Fn::And"),
            "Fn::Or": lambda arg: self._logic(arg, any, "Fn::Or"),
        }

    def __call__(self, node):
        if isinstance(node, dict):
            if _is_intrinsic(node):
                ((name, arg),) = node.items()
                handler = self.handlers.get(name)
                return handler(arg) if handler else Unknown(name)
            resolved = {str(key): self(value) for key, value in node.items()}
            resolved = {key: value for key, value in resolved.items() if value is not ABSENT}
            keys = list(resolved)
            return _left_out(list(resolved.values()), lambda *values: dict(zip(keys, values, strict=True)))
        if isinstance(node, list):
            return _left_out([value for value in map(self, node) if value is not ABSENT], lambda *items: list(items))
        return _plain(node)

    def condition(self, name: str) -> bool | None:
        """A named condition's value, or None when the template alone does not decide it."""
        value = self._condition_function(name)
        return value if isinstance(value, bool) else None

    def _condition_function(self, name):
        if not isinstance(name, str) or name not in self.conditions or name in self.evaluating:
            return Unknown(f"Condition {_describe(name)}")
        self.evaluating.add(name)
        try:
            return self(self.conditions[name])
        finally:
            self.evaluating.discard(name)

    def _ref(self, name):
        if not isinstance(name, str):
            return Unknown("Ref")
        if name == "AWS::NoValue":
            return ABSENT
        if name in self.parameters:
            return self._parameter(name)
        if name in self.resources:
            return self._resource_value(name, None)
        if name in PSEUDO_PARAMETERS:
            return Unknown(f"Ref {name}", PSEUDO_PARAMETERS[name])
        return Unknown(f"Ref {name}")  # another pseudo parameter (AWS::StackName, ...) or a name the template lacks

    def _parameter(self, name: str):
        """AllowedValues limit a parameter to those values (to each item, for list types); otherwise its Default is the
        value the template is judged with (a pipeline that passes another value is judged in the account), and one
        without a Default may be any value."""
        parameter = _mapping(self.parameters[name])
        allowed = parameter.get("AllowedValues")
        is_list = LIST_PARAMETER.match(str(parameter.get("Type", "String")))
        if isinstance(allowed, list) and allowed and not is_list:
            return Unknown(f"Ref parameter {name}", tuple(_text(value) for value in allowed))
        if "Default" in parameter and not is_list and not isinstance(parameter["Default"], dict | list):
            return _text(parameter["Default"])
        return Unknown(f"Ref parameter {name}")

    def _resource_value(self, logical_id: str, attribute: str | None):
        kind = _mapping(self.resources[logical_id]).get("Type")
        if kind == CODE_SIGNING_CONFIG and attribute in (None, "CodeSigningConfigArn"):
            return template_arn(self.shown, logical_id)
        if kind == SUBNET and attribute in (None, "SubnetId"):
            return f"subnet-{logical_id}"
        return Unknown(f"Ref {logical_id}" if attribute is None else f"Fn::GetAtt {logical_id}.{attribute}")

    def _get_att(self, arg):
        if isinstance(arg, str) and "." in arg:
            arg = arg.split(".", 1)
        if not (isinstance(arg, list) and len(arg) == 2 and all(isinstance(part, str) for part in arg)):
            return Unknown("Fn::GetAtt")
        logical_id, attribute = arg
        if logical_id in self.resources:
            return self._resource_value(logical_id, attribute)
        return Unknown(f"Fn::GetAtt {logical_id}.{attribute}")

    def _sub(self, arg):
        text, variables = (arg[0], _mapping(arg[1])) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
        if not isinstance(text, str):
            return Unknown("Fn::Sub")
        parts: list = []
        position = 0
        for found in SUB_VARIABLE.finditer(text):
            name = found.group(1).strip()
            parts.append(text[position : found.start()])
            parts.append("${" + name[1:] + "}" if name.startswith("!") else self._sub_variable(name, variables))
            position = found.end()
        parts.append(text[position:])
        return _combine(parts, lambda *texts: "".join(map(_text, texts)), f"Fn::Sub {text}", separator="")

    def _sub_variable(self, name: str, variables: dict):
        if name in variables:
            return self(variables[name])
        if "." in name and not name.startswith("AWS::"):
            return self._get_att(name)
        return self._ref(name)

    def _join(self, arg):
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            return Unknown("Fn::Join")
        delimiter, values = str(arg[0]), self(arg[1])
        if not isinstance(values, list) or any(isinstance(value, dict | list) for value in values):
            return Unknown(f"Fn::Join {_describe(values)}")
        joined = _combine(values, lambda *texts: delimiter.join(map(_text, texts)), "Fn::Join", separator=delimiter)
        unknown = next((value for value in values if isinstance(value, Unknown)), None)
        if isinstance(joined, Unknown) and unknown is not None:
            return Unknown(f"Fn::Join with {unknown.source}", joined.choices, joined.template)
        return joined

    def _select(self, arg):
        if not (isinstance(arg, list) and len(arg) == 2):
            return Unknown("Fn::Select")
        index, values = self(arg[0]), self(arg[1])
        if isinstance(index, str) and index.isdigit():
            index = int(index)
        if isinstance(index, int) and isinstance(values, list) and 0 <= index < len(values):
            return values[index]
        return Unknown(f"Fn::Select from {_describe(values)}")

    def _split(self, arg):
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            return Unknown("Fn::Split")
        return _combine([self(arg[1])], lambda text: _text(text).split(str(arg[0])), "Fn::Split")

    def _if(self, arg):
        if not (isinstance(arg, list) and len(arg) == 3):
            return Unknown("Fn::If")
        decided = self.condition(arg[0]) if isinstance(arg[0], str) else None
        if decided is not None:
            return self(arg[1] if decided else arg[2])
        branches = [_choices_of(self(branch)) for branch in arg[1:]]
        if any(branch is None for branch in branches):
            return Unknown(f"Fn::If {_describe(arg[0])}")
        choices = [choice for branch in branches for choice in branch]
        unique = [choice for index, choice in enumerate(choices) if choice not in choices[:index]]
        return unique[0] if len(unique) == 1 else Unknown(f"Fn::If {_describe(arg[0])}", tuple(unique))

    def _find_in_map(self, arg):
        keys = [self(key) for key in arg[:3]] if isinstance(arg, list) and len(arg) >= 3 else []
        if len(keys) == 3 and all(isinstance(key, str) for key in keys):
            value = _mapping(_mapping(self.mappings.get(keys[0])).get(keys[1])).get(keys[2], ABSENT)
            if value is not ABSENT:
                return self(value)
        return Unknown(f"Fn::FindInMap {_describe(keys)}")

    def _equals(self, arg):
        if not (isinstance(arg, list) and len(arg) == 2):
            return Unknown("Fn::Equals")
        return _combine([self(arg[0]), self(arg[1])], lambda left, right: _text(left) == _text(right), "Fn::Equals")

    def _logic(self, arg, operation, name: str):
        values = [self(value) for value in arg] if isinstance(arg, list) else []
        if not values or not all(isinstance(value, bool | Unknown) for value in values):
            return Unknown(name)
        if name == "Fn::Not":
            return _combine(values[:1], operation, name)
        return _combine(values, lambda *flags: operation(flags), name)


def _describe(value) -> str:
    if isinstance(value, Unknown):
        return value.source
    if isinstance(value, list):
        return "[" + ", ".join(map(_describe, value)) + "]"
    return str(value)


def _base64(text) -> str:
    return base64.b64encode(_text(text).encode()).decode()


# --- the normalized shapes ----------------------------------------------------------------------------------------


@dataclass
class _Source:
    """One resource's properties as written (SAM Globals applied), with where each is written."""

    logical_id: str
    type: str
    props: dict
    lines: dict[str, int]
    resolve: _Resolver

    def get(self, name: str, default=None):
        """The property's value; `default` when it is absent, also as the choice of a branch that leaves it out."""
        value = self.resolve(self.props[name]) if name in self.props else ABSENT
        if isinstance(value, Unknown) and value.choices is not None and default is not None:
            return Unknown(value.source, tuple(default if choice is None else choice for choice in value.choices))
        return default if value is ABSENT or value is None else value

    def lines_of(self, **written: str) -> dict[str, int]:
        """{normalized name: line} for the properties written in the template."""
        return {name: self.lines[key] for name, key in written.items() if key in self.lines}


def _lambda_function(src: _Source) -> tuple[dict, dict[str, int]]:
    sam = src.type == SAM_FUNCTION
    code = src.props.get("Code")
    image = "ImageUri" in src.props if sam else isinstance(code, dict) and "ImageUri" in code
    tags = src.get("Tags", {} if sam else [])
    properties = {
        "FunctionName": src.get("FunctionName", src.logical_id),
        "PackageType": src.get("PackageType", "Image" if image else "Zip"),
        "Layers": src.get("Layers", []),
        "CodeSigningConfigArn": src.get("CodeSigningConfigArn"),
        "Tags": _converted(tags, _sam_tags if sam else _tag_map),
    }
    lines = src.lines_of(FunctionName="FunctionName", PackageType="PackageType", Layers="Layers", Tags="Tags")
    lines |= src.lines_of(CodeSigningConfigArn="CodeSigningConfigArn")
    if image and "PackageType" not in lines:
        lines["PackageType"] = src.lines["ImageUri"] if sam else _key_lines(code)["ImageUri"]
    return properties, lines


def _sam_tags(tags):
    if isinstance(tags, dict):
        return {**SAM_CREATED_BY, **{key: _text(value) for key, value in tags.items()}}
    return tags


def _tag_map(tags):
    """CloudFormation's [{Key, Value}] as {key: value}; Unknown when an item or a key is."""
    if not isinstance(tags, list):
        return tags
    mapped = {}
    for tag in tags:
        key = _mapping(tag).get("Key")
        if not isinstance(key, str):
            unknown = tag if isinstance(tag, Unknown) else key
            return Unknown(f"Tags: {unknown.source}" if isinstance(unknown, Unknown) else "Tags")
        value = _mapping(tag).get("Value", "")
        mapped[key] = value if isinstance(value, Unknown) else _text(value)
    return mapped


def _converted(value, convert):
    """convert(value); for an Unknown, convert(choice) for each of its choices."""
    if not isinstance(value, Unknown):
        return convert(value)
    if value.choices is None:
        return value
    choices = tuple(convert(choice) for choice in value.choices)
    return Unknown(value.source, choices) if all(map(_known, choices)) else Unknown(value.source)


def _s3_bucket(src: _Source) -> tuple[dict, dict[str, int]]:
    properties = {
        "BucketName": src.get("BucketName", src.logical_id),
        "LifecycleRules": _converted(src.get("LifecycleConfiguration"), _s3_rules),
        "Tags": _converted(src.get("Tags", []), _tag_map),
    }
    lines = src.lines_of(BucketName="BucketName", LifecycleRules="LifecycleConfiguration", Tags="Tags")
    rules_line = _key_lines(src.props.get("LifecycleConfiguration")).get("Rules")
    return properties, {**lines, **({"LifecycleRules": rules_line} if rules_line else {})}


def _s3_rules(configuration):
    """A LifecycleConfiguration's rules in the S3 API's shape; None without one."""
    rules = configuration.get("Rules") if isinstance(configuration, dict) else None
    return _converted(
        rules, lambda listed: [_converted(rule, _s3_rule) for rule in listed] if isinstance(listed, list) else None
    )


def _s3_rule(rule):
    """A CloudFormation lifecycle rule in the S3 API's shape (GetBucketLifecycleConfiguration)."""
    if not isinstance(rule, dict):
        return rule  # an Unknown
    expiration = {"Days": _number(rule.get("ExpirationInDays")), "Date": rule.get("ExpirationDate")}
    expiration["ExpiredObjectDeleteMarker"] = rule.get("ExpiredObjectDeleteMarker")
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent is None and rule.get("NoncurrentVersionExpirationInDays") is not None:
        noncurrent = {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
    abort = rule.get("AbortIncompleteMultipartUpload")
    api = {
        "ID": rule.get("Id"),
        "Status": rule.get("Status"),
        "Filter": _s3_filter(rule),
        "Expiration": _present(expiration) or None,
        "Transitions": _listed(rule, "Transition", "Transitions", _transition),
        "NoncurrentVersionTransitions": _listed(
            rule, "NoncurrentVersionTransition", "NoncurrentVersionTransitions", _noncurrent_transition
        ),
        "NoncurrentVersionExpiration": _numbers(noncurrent),
        "AbortIncompleteMultipartUpload": _numbers(abort),
    }
    return _present(api)


def _s3_filter(rule: dict) -> dict:
    """AWS applies CloudFormation's rule-level Prefix as the filter's prefix; several conditions make an And."""
    conditions = {"Prefix": rule.get("Prefix")}
    tags = rule.get("TagFilters")
    conditions["Tags"] = [_tag_filter(tag) for tag in tags] if isinstance(tags, list) else tags
    for size in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"):
        conditions[size] = _number(rule.get(size))
    conditions = _present(conditions)
    if not conditions:
        return {"Prefix": ""}
    if list(conditions) == ["Tags"] and isinstance(conditions["Tags"], list) and len(conditions["Tags"]) == 1:
        return {"Tag": conditions["Tags"][0]}
    if len(conditions) == 1 and "Tags" not in conditions:
        return conditions
    return {"And": conditions}


def _tag_filter(tag):
    return {"Key": tag.get("Key"), "Value": _text(tag.get("Value", ""))} if isinstance(tag, dict) else tag


def _listed(rule: dict, one: str, many: str, convert):
    """CloudFormation's singular and plural forms (Transition, Transitions) as one list; None when neither."""

    def each(items):
        converted = [_converted(item, lambda item: convert(item) if isinstance(item, dict) else item) for item in items]
        return converted or None

    values = rule.get(many)
    if isinstance(values, Unknown):
        return _converted(values, lambda listed: each(listed) if isinstance(listed, list) else None)
    return each(([rule[one]] if rule.get(one) is not None else []) + (values if isinstance(values, list) else []))


def _transition(item: dict) -> dict:
    return _present(
        {"Days": _number(item.get("TransitionInDays")), "Date": item.get("TransitionDate"), **_storage(item)}
    )


def _noncurrent_transition(item: dict) -> dict:
    days = {
        "NoncurrentDays": item.get("TransitionInDays"),
        "NewerNoncurrentVersions": item.get("NewerNoncurrentVersions"),
    }
    return _present({**_numbers(days), **_storage(item)})


def _storage(item: dict) -> dict:
    return {"StorageClass": item.get("StorageClass")}


def _numbers(values):
    """Integer fields that CloudFormation also accepts as text ("30") as the API's integers."""
    return _present({key: _number(value) for key, value in values.items()}) if isinstance(values, dict) else values


def _number(value):
    if isinstance(value, Unknown):
        return _converted(value, _number)
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def _present(values: dict) -> dict:
    return {key: value for key, value in values.items() if value is not None}


def _vpc_endpoint(src: _Source) -> tuple[dict, dict[str, int]]:
    properties = {
        "VpcEndpointId": src.logical_id,
        "VpcEndpointType": src.get("VpcEndpointType", "Gateway"),
        "ServiceName": src.get("ServiceName"),
        "SubnetIds": src.get("SubnetIds", []),
        "Tags": _converted(src.get("Tags", []), _tag_map),
    }
    lines = src.lines_of(VpcEndpointType="VpcEndpointType", ServiceName="ServiceName", SubnetIds="SubnetIds")
    return properties, {**lines, **src.lines_of(Tags="Tags")}


def _code_signing_config(src: _Source) -> tuple[dict, dict[str, int]]:
    policies = src.get("CodeSigningPolicies", {})
    properties = {
        "CodeSigningConfigArn": template_arn(src.resolve.shown, src.logical_id),
        "AllowedPublishers": src.get("AllowedPublishers", {"SigningProfileVersionArns": []}),
        # AWS's default when the template leaves it out
        "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Warn", **policies}
        if isinstance(policies, dict)
        else policies,
    }
    return properties, src.lines_of(AllowedPublishers="AllowedPublishers", CodeSigningPolicies="CodeSigningPolicies")


READERS = {
    LAMBDA_FUNCTION: (LAMBDA_FUNCTION, _lambda_function),
    SAM_FUNCTION: (LAMBDA_FUNCTION, _lambda_function),
    S3_BUCKET: (S3_BUCKET, _s3_bucket),
    VPC_ENDPOINT: (VPC_ENDPOINT, _vpc_endpoint),
    CODE_SIGNING_CONFIG: (CODE_SIGNING_CONFIG, _code_signing_config),
}
