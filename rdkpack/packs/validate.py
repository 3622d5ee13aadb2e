"""Check conformance packs against AWS Config's limits and enums, and remediations against their documents.

Pure: takes template dicts and the project model, returns findings; never prints. cfn-lint runs
separately (`lint_files`) because it works on files.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rdklib import InvalidParametersError

from rdkpack.packs import build, template_limits
from rdkpack.packs.limits import (
    INPUT_PARAMETERS_MAX,
    PACK_PARAMETERS_MAX,
    REMEDIATION_PARAMETERS_MAX,
    RULE_NAME_MAX,
    RULES_MAX,
    SCP_CHARACTERS_MAX,
    STATIC_VALUE_CHARS_MAX,
    STATIC_VALUES_MAX,
    TEMPLATE_BODY_MAX,
    TEMPLATE_S3_MAX,
)
from rdkpack.project import files
from rdkpack.project.config import Project
from rdkpack.project.documents import load_yaml
from rdkpack.project.loader import load_module

PACK_RESOURCE_TYPES = {"AWS::Config::ConfigRule", "AWS::Config::RemediationConfiguration"}
PACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,255}")
MESSAGE_TYPES = {
    "ConfigurationItemChangeNotification",
    "OversizedConfigurationItemChangeNotification",
    "ScheduledNotification",
    "ConfigurationSnapshotDeliveryCompleted",
}
FREQUENCIES = {"One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"}
# Document parameters that approve destroying data (FixS3LifecycleAsteriskPrefix widening expiring rules).
APPROVAL_PARAMETERS = {"IncludeExpiringRules", "IncludeRestoreRequiredTransitions"}
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}")


@dataclass(frozen=True)
class Finding:
    code: str
    file: str
    resource: str
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.file}: {self.resource}: {self.field}: {self.message} [{self.code}]"


class _Collector:
    def __init__(self, file: str):
        self.file = file
        self.findings: list[Finding] = []

    def add(self, code: str, resource: str, field: str, message: str, severity: str = "error") -> None:
        self.findings.append(Finding(code, self.file, resource, field, message, severity))


def validate_pack(name: str, template: dict, body: str, project: Project, file: str) -> list[Finding]:
    """Every check of one committed pack. A pack is generated: one not shaped as `rdkpack build` writes it (a
    hand edit) is one finding that says so, not a traceback from the check that met the odd value first."""
    found = _Collector(file)
    resources = template.get("Resources")
    misshapen = _pack_shape(resources)
    if misshapen:
        found.add("PACK_SHAPE", *misshapen, "not shaped as `rdkpack build` writes packs: run `rdkpack build`")
        return found.findings
    try:
        return _validate_pack(name, template, body, project, found)
    except (AttributeError, TypeError, KeyError, ValueError) as error:
        if name in project.packs and body == build.render(build.build_pack(project, project.packs[name])):
            raise  # the pack is exactly what build writes: the check itself is wrong, not the file
        where = f"{type(error).__name__}: {error}"
        found.add(
            "PACK_SHAPE", "(template)", "(document)", f"a value of an unexpected type ({where}): run `rdkpack build`"
        )
        return found.findings


def _pack_shape(resources) -> tuple[str, str] | None:
    """(resource, field) where a pack's resources are not mappings with a Type and Properties; None when they are."""
    if not isinstance(resources, dict) or not resources:
        return "(template)", "Resources"
    for logical, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            return str(logical), "Type"
        if not isinstance(resource.get("Properties", {}), dict):
            return str(logical), "Properties"
    return None


def _validate_pack(name: str, template: dict, body: str, project: Project, found: _Collector) -> list[Finding]:
    _check_pack_level(name, template, body, found)
    resources = template.get("Resources") or {}
    rules = {
        res.get("Properties", {}).get("ConfigRuleName")
        for res in resources.values()
        if res.get("Type") == "AWS::Config::ConfigRule"
        and isinstance(res.get("Properties", {}).get("ConfigRuleName"), str)
    }
    for logical, resource in resources.items():
        kind = resource.get("Type")
        if kind not in PACK_RESOURCE_TYPES:
            found.add(
                "PACK_RESOURCE_TYPE",
                logical,
                "Type",
                f"{kind} cannot be in a conformance pack; only {sorted(PACK_RESOURCE_TYPES)}",
            )
        elif kind == "AWS::Config::ConfigRule":
            _check_rule(logical, resource.get("Properties", {}), project, found)
        else:
            _check_remediation(logical, resource.get("Properties", {}), rules, project, found)
    _check_layer_remediation(resources, project, found)
    if name in project.packs:
        _check_static_values_travel(project.packs[name], resources, found)
    return found.findings


# arn:partition:service:region:account:resource
STATIC_ARN = re.compile(r"arn:[^:\s]*:[^:\s]+:([^:\s]*):([^:\s]*):\S+")


def _check_static_values_travel(pack, resources: dict, found: _Collector) -> None:
    """A pack for several regions or accounts may not carry one region's or one account's ARN to the others."""
    if not pack.spans_regions():
        return
    reach = "every account of the organization" if pack.scope == "organization" else "several regions"
    for logical, resource in resources.items():
        if resource.get("Type") != "AWS::Config::RemediationConfiguration":
            continue
        for parameter, spec in ((resource.get("Properties") or {}).get("Parameters") or {}).items():
            if parameter == "AutomationAssumeRole":  # a role of the same name in every account (see _check_role)
                continue
            for value in ((spec or {}).get("StaticValue") or {}).get("Values") or []:
                match = STATIC_ARN.fullmatch(str(value))
                if not match:
                    continue
                region, account = match.groups()
                if region not in ("", "*"):
                    where, named = "region", region
                elif pack.scope == "organization" and account not in ("", "*"):
                    where, named = "account", account
                else:
                    continue
                found.add(
                    f"{where.upper()}_SPECIFIC_VALUE",
                    logical,
                    f"Parameters.{parameter}",
                    f"{value!r} names one {where} ({named}), but pack {pack.name} goes to {reach}"
                    f': declare it in sharedValues and pass {{"fromParameterStore": NAME}}, so each account and '
                    "region reads its own value",
                )


def _arn_pattern_matches(pattern: str, arn: str) -> bool:
    """`*` stands for one whole ARN segment (the layer rule's pattern syntax)."""
    wanted, given = pattern.split(":"), arn.split(":")
    return len(wanted) == len(given) and all(w in ("*", g) for w, g in zip(wanted, given, strict=True))


def _static_values(properties: dict, name: str) -> list:
    return (((properties.get("Parameters") or {}).get(name) or {}).get("StaticValue") or {}).get("Values") or []


def _check_layer_remediation(resources: dict, project: Project, found: _Collector) -> None:
    """The layer a remediation attaches must be one the pack's rule approves, or the role may not attach it."""
    by_type: dict[str, list] = {}
    for logical, resource in resources.items():
        by_type.setdefault(resource.get("Type"), []).append((logical, resource.get("Properties") or {}))
    rules = [
        p for _, p in by_type.get("AWS::Config::ConfigRule", []) if p.get("ConfigRuleName") == "LAMBDA_LAYER_CHECK"
    ]
    if not rules:
        return
    layer_arn = str((rules[0].get("InputParameters") or {}).get("LayerArn", ""))
    patterns = [pattern.strip() for pattern in layer_arn.split(",") if pattern.strip()]
    for logical, properties in by_type.get("AWS::Config::RemediationConfiguration", []):
        if properties.get("TargetId") != "AddRequiredLambdaLayer":
            continue
        values = list(_static_values(properties, "LayerVersionArn"))
        for name in _static_values(properties, "LayerVersionArnParameterName"):
            shared = next((v for v in project.shared_values.values() if v.parameter_name == name), None)
            values += list(shared.by_region.values()) if shared else []
        raw_minimum = str((rules[0].get("InputParameters") or {}).get("MinLayerVersion", ""))
        minimum = int(raw_minimum) if raw_minimum.isdigit() else 0  # a malformed one is RULE_PARAMETERS' finding
        for value in values:
            version = str(value).rsplit(":", 1)[-1]
            if version.isdigit() and int(version) < minimum:
                found.add(
                    "LAYER_BELOW_MINIMUM",
                    logical,
                    "Parameters.LayerVersionArn",
                    f"{value!r} is version {version}, below the rule's MinLayerVersion {minimum}: the remediation "
                    "would attach a layer the rule still flags",
                )
            if not any(_arn_pattern_matches(pattern, str(value).rsplit(":", 1)[0]) for pattern in patterns):
                found.add(
                    "UNAPPROVED_LAYER",
                    logical,
                    "Parameters.LayerVersionArn",
                    f"{value!r} is not a version of a layer the rule approves ({', '.join(patterns) or 'none'}): "
                    "the rule would still flag the function, and the remediation role may only attach approved layers",
                )


def _check_pack_level(name: str, template: dict, body: str, found: _Collector) -> None:
    if not PACK_NAME.fullmatch(name):
        found.add(
            "PACK_NAME",
            "(pack)",
            "ConformancePackName",
            f"{name!r} must match [a-zA-Z][-a-zA-Z0-9]* and be <= 256 chars",
        )
    size = len(body.encode("utf-8"))
    if size > TEMPLATE_S3_MAX:
        found.add("TEMPLATE_SIZE", "(pack)", "TemplateBody", f"{size} bytes exceeds the 300 KB TemplateS3Uri limit")
    elif size > TEMPLATE_BODY_MAX:
        found.add(
            "TEMPLATE_SIZE",
            "(pack)",
            "TemplateBody",
            f"{size} bytes > {TEMPLATE_BODY_MAX}: deploy goes through S3",
            "warning",
        )
    rule_count = sum(
        1 for r in (template.get("Resources") or {}).values() if r.get("Type") == "AWS::Config::ConfigRule"
    )
    if rule_count > RULES_MAX:
        found.add("RULE_COUNT", "(pack)", "Resources", f"{rule_count} rules; a pack holds at most {RULES_MAX}")
    parameters = template.get("Parameters") or {}
    if len(parameters) > PACK_PARAMETERS_MAX:
        found.add(
            "PACK_PARAMETERS", "(pack)", "Parameters", f"{len(parameters)} parameters; at most {PACK_PARAMETERS_MAX}"
        )


def _check_rule(logical: str, properties: dict, project: Project, found: _Collector) -> None:
    name = properties.get("ConfigRuleName")
    if not isinstance(name, str) or not 0 < len(name) <= RULE_NAME_MAX:
        found.add("RULE_NAME", logical, "ConfigRuleName", f"must be a literal string of 1-{RULE_NAME_MAX} characters")
    inputs = properties.get("InputParameters") or {}
    if len(json.dumps(inputs)) > INPUT_PARAMETERS_MAX:
        found.add(
            "INPUT_PARAMETERS_SIZE",
            logical,
            "InputParameters",
            f"{len(json.dumps(inputs))} chars of JSON; at most {INPUT_PARAMETERS_MAX}",
        )
    source = properties.get("Source") or {}
    for index, detail in enumerate(source.get("SourceDetails") or []):
        if detail.get("MessageType") not in MESSAGE_TYPES:
            found.add(
                "MESSAGE_TYPE",
                logical,
                f"Source.SourceDetails[{index}].MessageType",
                f"{detail.get('MessageType')!r} is not one of {sorted(MESSAGE_TYPES)}",
            )
        frequency = detail.get("MaximumExecutionFrequency")
        if frequency is not None and frequency not in FREQUENCIES:
            found.add(
                "FREQUENCY",
                logical,
                f"Source.SourceDetails[{index}].MaximumExecutionFrequency",
                f"{frequency!r} is not one of {sorted(FREQUENCIES)}",
            )
    types = (properties.get("Scope") or {}).get("ComplianceResourceTypes") or []
    if len(types) > 100:
        found.add("SCOPE", logical, "Scope.ComplianceResourceTypes", f"{len(types)} types; at most 100")
    if isinstance(name, str) and name in project.rules:
        message = rule_parameter_error(project.root, name, inputs)
        if message:
            found.add("RULE_PARAMETERS", logical, "InputParameters", f"the rule rejects its parameters: {message}")


@functools.cache
def _rule_class(root: Path, rule_name: str):
    path = root / "rules" / rule_name / f"{rule_name}.py"
    return getattr(load_module(path, f"rdkpack_validate_{rule_name}", needs=(rule_name,)), rule_name)


def rule_parameter_error(root: Path, rule_name: str, parameters: dict) -> str | None:
    """The rule's own InvalidParametersError message for these parameters, or None when it accepts them."""
    try:
        _rule_class(root, rule_name)().evaluate_parameters({k: str(v) for k, v in parameters.items()})
    except InvalidParametersError as error:
        return str(error)
    return None


def _check_remediation(logical: str, properties: dict, rules: set, project: Project, found: _Collector) -> None:
    rule_name = properties.get("ConfigRuleName")
    if not isinstance(rule_name, str) or rule_name not in rules:
        found.add(
            "REMEDIATION_RULE", logical, "ConfigRuleName", f"{rule_name!r} must literally name a rule in this pack"
        )
    if properties.get("TargetType") != "SSM_DOCUMENT":
        found.add("TARGET_TYPE", logical, "TargetType", "must be SSM_DOCUMENT")
    _check_ranges(logical, properties, found)
    _check_no_automatic_approval(logical, properties, found)
    document = project.documents.get(properties.get("TargetId"))
    if document is None:
        found.add(
            "TARGET_ID", logical, "TargetId", f"{properties.get('TargetId')!r} is not a document in remediations/"
        )
        return
    _check_remediation_parameters(logical, properties.get("Parameters") or {}, document, found)


def _check_no_automatic_approval(logical: str, properties: dict, found: _Collector) -> None:
    """A parameter that approves destroying data is for one reviewed run by a person, never an automatic one."""
    if properties.get("Automatic") is not True:
        return
    for name in sorted(APPROVAL_PARAMETERS & set(properties.get("Parameters") or {})):
        if any(str(value).strip().lower() == "true" for value in _static_values(properties, name)):
            found.add(
                "AUTOMATIC_APPROVAL",
                logical,
                f"Parameters.{name}",
                f"{name}=true approves deleting data and must not be set on an automatic remediation: remove it, "
                "and set it only when a person starts a reviewed run",
            )


def _check_ranges(logical: str, properties: dict, found: _Collector) -> None:
    ranges = (
        ("MaximumAutomaticAttempts", properties.get("MaximumAutomaticAttempts"), 1, 25),
        ("RetryAttemptSeconds", properties.get("RetryAttemptSeconds"), 1, 2_678_000),
    )
    controls = ((properties.get("ExecutionControls") or {}).get("SsmControls")) or {}
    ranges += tuple(
        (f"ExecutionControls.SsmControls.{key}", controls.get(key), 1, 100)
        for key in ("ConcurrentExecutionRatePercentage", "ErrorPercentage")
    )
    for field, value, low, high in ranges:
        if value is not None and not (isinstance(value, int) and low <= value <= high):
            found.add("RANGE", logical, field, f"{value!r} is outside {low}..{high}")
    if not isinstance(properties.get("Automatic", False), bool):
        found.add("AUTOMATIC", logical, "Automatic", "must be true or false")


def _check_remediation_parameters(logical: str, parameters: dict, document, found: _Collector) -> None:
    if len(parameters) > REMEDIATION_PARAMETERS_MAX:
        found.add(
            "REMEDIATION_PARAMETERS",
            logical,
            "Parameters",
            f"{len(parameters)} parameters; at most {REMEDIATION_PARAMETERS_MAX}",
        )
    for name in sorted(set(parameters) - set(document.parameters)):
        found.add(
            "UNDECLARED_PARAMETER", logical, f"Parameters.{name}", f"{document.name} declares no parameter {name}"
        )
    for name in sorted(document.required() - set(parameters)):
        found.add("MISSING_PARAMETER", logical, f"Parameters.{name}", f"{document.name} requires {name}")
    for name, value in parameters.items():
        if name in document.parameters:
            _check_parameter_value(logical, name, value, document.parameters[name], found)


def _check_parameter_value(logical: str, name: str, value: dict, spec: dict, found: _Collector) -> None:
    field = f"Parameters.{name}"
    if "ResourceValue" in value:
        if value["ResourceValue"].get("Value") != "RESOURCE_ID":
            found.add("RESOURCE_VALUE", logical, field, "ResourceValue must be RESOURCE_ID")
        return
    values = (value.get("StaticValue") or {}).get("Values")
    if not isinstance(values, list) or not values or len(values) > STATIC_VALUES_MAX:
        found.add("STATIC_VALUE", logical, field, f"StaticValue.Values must list 1-{STATIC_VALUES_MAX} values")
        return
    for item in values:
        if not isinstance(item, str):
            message = "must be a literal string; AWS Config accepts no intrinsic function here"
            found.add("LITERAL_ROLE_ARN" if name == "AutomationAssumeRole" else "STATIC_VALUE", logical, field, message)
        elif len(item) > STATIC_VALUE_CHARS_MAX:
            found.add(
                "STATIC_VALUE", logical, field, f"a value has {len(item)} chars; at most {STATIC_VALUE_CHARS_MAX}"
            )
        elif not _matches_type(item, spec):
            found.add("ALLOWED_PATTERN", logical, field, f"{item!r} does not match the document's {_expectation(spec)}")
        elif name == "AutomationAssumeRole" and not ROLE_ARN.fullmatch(item):
            found.add("LITERAL_ROLE_ARN", logical, field, f"{item!r} is not a literal IAM role ARN")


def _matches_type(value: str, spec: dict) -> bool:
    kind = spec.get("type")
    if kind == "Boolean":
        return value in ("true", "false")
    if kind == "Integer":
        return re.fullmatch(r"-?\d+", value) is not None
    if "allowedValues" in spec:
        return value in spec["allowedValues"]
    pattern = spec.get("allowedPattern")
    return pattern is None or re.search(pattern, value) is not None


def _expectation(spec: dict) -> str:
    if spec.get("type") in ("Boolean", "Integer"):
        return f"type {spec['type']}"
    return (
        f"allowedValues {spec['allowedValues']}"
        if "allowedValues" in spec
        else f"allowedPattern {spec.get('allowedPattern')}"
    )


def lint_files(paths: list[Path]) -> list[Finding]:
    """cfn-lint over templates; each match becomes a finding naming the file and line."""
    return [finding for path in paths for finding in _lint(str(path), _digest(path))]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.cache
def _lint(path: str, digest: str) -> tuple[Finding, ...]:
    """cfn-lint over one template, as `cfn-lint --template PATH` would; a file already linted with the same
    content is not linted again."""
    from cfnlint.config import ConfigMixIn  # noqa: PLC0415  (0.9 s to import: only when templates are linted)
    from cfnlint.runner.template import run_template_by_file_paths  # noqa: PLC0415

    matches = run_template_by_file_paths(ConfigMixIn(["--template", path]), _cfn_lint_rules())
    return tuple(
        Finding(
            f"CFN_LINT_{match.rule.id}",
            path,
            f"line {match.linenumber}",
            f"column {match.columnnumber}",
            match.message,
            "error" if match.rule.id.startswith("E") else "warning",
        )
        for match in matches
    )


@functools.cache
def _cfn_lint_rules():
    """cfn-lint's rule set, loaded once: loading it is half a second, and cfn-lint's API loads it per template."""
    from cfnlint.config import ConfigMixIn  # noqa: PLC0415
    from cfnlint.runner import Runner  # noqa: PLC0415

    return Runner(ConfigMixIn([])).rules


def validate_project(project: Project, pack_files: dict[str, Path], other_files: list[Path]) -> list[Finding]:
    """Every committed pack against the limits, then cfn-lint over packs and prerequisites."""
    build.approved_layer_patterns(project)  # a ConfigError when a layer pattern cannot scope the role
    findings = []
    for name, path in pack_files.items():
        body = files.read_text(path)
        findings += validate_pack(name, files.parse_template(body, path, load_yaml), body, project, str(path))
    for path in sorted((project.root / "preventive").glob("*/scp.json")):
        findings += validate_scp(files.read_text(path), str(path))
    for path in sorted((project.root / "preventive").glob("*/*.guard")):
        findings += validate_guard(files.read_text(path), str(path))
    findings += template_limits.measure(project, other_files, Finding)
    return findings + lint_files([*pack_files.values(), *other_files])


def validate_guard(rules: str, file: str) -> list[Finding]:
    """Guard rules that cfn-guard's own engine parses (run over an empty template: nothing to check)."""
    from cfn_guard_rs.cfn_guard_rs import run_checks_rs  # noqa: PLC0415  (only when rules exist to parse)

    try:
        run_checks_rs('{"Resources": {}}', rules, False)
    except Exception as error:  # cfn-guard-rs raises its own parse errors, not exported for catching
        return [Finding("GUARD_PARSE", file, "(rules)", "(document)", f"cfn-guard cannot parse it: {error}")]
    return []


def validate_scp(body: str, file: str) -> list[Finding]:
    """A service control policy: AWS Organizations' size limit and a deny-only shape."""
    found = _Collector(file)
    if len(body) > SCP_CHARACTERS_MAX:
        found.add("SCP_SIZE", "(policy)", "(document)", f"{len(body)} characters; an SCP holds {SCP_CHARACTERS_MAX}")
    try:
        statements = json.loads(body).get("Statement", [])
    except (ValueError, AttributeError, RecursionError) as error:
        found.add("SCP_JSON", "(policy)", "(document)", f"not a JSON policy document: {error}")
        return found.findings
    if isinstance(statements, dict):  # a single statement, as IAM also accepts
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(statement, dict) for statement in statements):
        found.add("SCP_JSON", "(policy)", "Statement", "not a statement or a list of statements")
        return found.findings
    for index, statement in enumerate(statements):
        sid = statement.get("Sid") or f"Statement[{index}]"
        if statement.get("Effect") != "Deny":
            found.add("SCP_EFFECT", sid, "Effect", "a guardrail SCP only denies; Allow would widen what the OU allows")
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else actions if isinstance(actions, list) else []
        for action in actions:
            if not isinstance(action, str):
                found.add(
                    "SCP_ACTION", sid, "Action", f"{action!r}: an action is a string such as lambda:CreateFunction"
                )
            elif "*" in action:
                found.add("SCP_ACTION", sid, "Action", f"{action!r}: name the actions the guardrail denies")
    return found.findings
