"""Every parameter of every committed Automation document, taken as Systems Manager takes it.

Each value goes through `rdkpack.automation.parameters.resolve` (RE2 patterns, the declared type, the document's
limits and StartAutomationExecution's), never through Python's `re`: what AWS Config sends (strings in a list:
"true", "30", resource IDs, role ARNs of every partition), the pattern registry's accept and reject strings
(tests/support/pattern_cases.py) and hostile values. Runs under Python 3.11 with the remediation tests (no rdklib).
"""

from __future__ import annotations

import json

import pytest

from rdkpack.automation import interpolate, parameters
from rdkpack.automation.config_remediation import remediation_configurations
from rdkpack.automation.runbook import load_runbook
from rdkpack.errors import AutomationRefused
from rdkpack.project import documents
from rdkpack.project.documents import compile_pattern
from tests.support.pattern_cases import PARTITIONS, PATTERN_CASES, REGIONS
from tests.support.project import ROOT

DOC_NAMES = [folder.name for folder in documents.remediation_dirs(ROOT)]
RUNBOOKS = {name: load_runbook(ROOT, name) for name in DOC_NAMES}
PACKS = sorted(path.stem for path in (ROOT / "conformance-packs").glob("*.yaml"))
REFUSED = "refused"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/RdkGuardrailsRemediationRole"
ROLE_PREFIX = f"arn:aws:iam::{ACCOUNT}:role/"
# Values for the parameters a document requires, where a case is about another parameter.
REQUIRED = {
    "FunctionName": ["orders"],
    "BucketName": ["logs-bucket"],
    "VpcEndpointId": ["vpce-0123456789abcdef0"],
    "AutomationAssumeRole": [ROLE],
}
# Resource IDs as Config passes them (ResourceValue RESOURCE_ID): a function's name, a bucket's, an endpoint's ID.
RESOURCE_IDS = {"FunctionName": "orders-api_v2", "BucketName": "logs-bucket", "VpcEndpointId": "vpce-0123456789abcdef0"}
INJECTIONS = ["x'; rm -rf /", 'a"b', "line\nbreak", "{{ssm:secret}}", "a b", "$(id)"]
LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:company-base:7"
# The account's Parameter Store, for values given as {{ssm:/name}}.
PARAMETER_STORE = {
    "/rdk-guardrails/ApprovedLayerVersionArn": ("String", LAYER),
    "/rdk-guardrails/ExcludedServiceNames": ("String", "com.amazonaws.*.s3,*.secretsmanager"),
    "/long/1024": ("String", "x" * 1024),
    "/long/1025": ("String", "x" * 1025),
    "/hostile": ("String", "$(id)"),
    "/secret": ("SecureString", "com.amazonaws.*.s3"),
}


def parameter_store(name: str) -> tuple[str, str]:
    """ssm:GetParameter on PARAMETER_STORE; a missing name is refused as the runner refuses ParameterNotFound."""
    if name not in PARAMETER_STORE:
        raise AutomationRefused(f"{{{{ssm:{name}}}}}: Parameter {name} not found.")
    return PARAMETER_STORE[name]


def hostile(valid: str) -> list:
    """Values no String parameter takes, whatever its pattern (valid: one it does take)."""
    return [([value], REFUSED) for value in INJECTIONS] + [
        ([""], REFUSED),  # StartAutomationExecution (and Config's StaticValue) take values of 1 to 512 characters
        ([valid + "\n"], REFUSED),  # Python's `$` matches before a final newline; RE2's does not
        ([" " + valid], REFUSED),
        (["x" * 513], REFUSED),
        ([valid, valid], REFUSED),  # a String takes one value
        ([], REFUSED),
        (["{{ssm:/missing}}"], REFUSED),
        (["{{ssm:/secret}}"], REFUSED),
    ]


def string_table(name: str, extra: tuple = ()) -> list:
    """The registry's strings for a String parameter: each accept string converts to itself (the empty one only by
    leaving the parameter out, as StartAutomationExecution takes no empty value), each reject string is refused."""
    accept, reject = PATTERN_CASES[name]
    cases = [([value], value) if value else (None, "") for value in accept]
    cases += [([value], REFUSED) for value in reject]
    return cases + list(extra) + hostile(next(value for value in accept if value))


def boolean_table() -> list:
    refused = ["yes", "no", "1", "0", "", "null", " true", "true ", "t", "{{ssm:/missing}}"]
    return [
        (None, False),
        (["true"], True),  # what Config sends
        (["false"], False),
        *(([value], REFUSED) for value in refused),
        (["true", "false"], REFUSED),
        ([], REFUSED),
    ]


def integer_table(default: int, config_value: str) -> list:
    refused = ["1.5", "1e3", "99999999999", "2147483648", "-2147483649", "0x1F", "1_000", " 30", "30 ", "٣", "", "true"]
    return [
        (None, default),
        ([config_value], int(config_value)),  # what the packs' Config remediations send
        (["30"], 30),
        (["0"], 0),
        (["-1"], -1),  # SSM's Integer takes any sign: the scripts bound their counts themselves
        (["007"], 7),
        (["2147483647"], 2**31 - 1),
        (["-2147483648"], -(2**31)),
        *(([value], REFUSED) for value in refused),
        (["30", "31"], REFUSED),
        ([], REFUSED),
    ]


def role(path: str) -> str:
    return ROLE_PREFIX + path


ZONES = [f"{region}a" for region in REGIONS]
TABLE = {
    "AutomationAssumeRole": [
        (None, REFUSED),
        ([ROLE], ROLE),
        ([role("r" * 481)], role("r" * 481)),  # 512 characters: the longest value StartAutomationExecution takes
        ([role("r" * 482)], REFUSED),  # the pattern allows it; the API does not
        *string_table("AutomationAssumeRole"),
    ],
    "FunctionName": [
        (None, REFUSED),
        (["a" * 64], "a" * 64),
        *string_table("FunctionName", ((["orders\n"], REFUSED),)),
    ],
    "LayerVersionArn": string_table(
        "LayerVersionArn",
        ((["{{ssm:/rdk-guardrails/ApprovedLayerVersionArn}}"], LAYER), (["{{ssm:/hostile}}"], REFUSED)),
    ),
    "LayerVersionArnParameterName": string_table(
        "LayerVersionArnParameterName",
        ((["/rdk-guardrails/ApprovedLayerVersionArn"], "/rdk-guardrails/ApprovedLayerVersionArn"),),
    ),
    "CodeSigningConfigArn": string_table("CodeSigningConfigArn"),
    "CodeSigningConfigArnParameterName": string_table("CodeSigningConfigArnParameterName"),
    "BucketName": [(None, REFUSED), *string_table("BucketName")],
    "VpcEndpointId": [(None, REFUSED), *string_table("VpcEndpointId", ((["vpce-12345678\n"], REFUSED),))],
    "MaxIdleBytes": [(None, "0"), *string_table("MaxIdleBytes")],
    "ExemptionTag": [(["x" * 300], "x" * 300), *string_table("ExemptionTag")],
    "ExcludedServiceNames": string_table(
        "ExcludedServiceNames",
        (
            (["x" * 512], "x" * 512),
            (["{{ssm:/rdk-guardrails/ExcludedServiceNames}}"], "com.amazonaws.*.s3,*.secretsmanager"),
            (["{{ssm:/long/1024}}"], "x" * 1024),  # Parameter Store values may be longer than 512 characters
            (["{{ssm:/long/1025}}"], REFUSED),  # maxChars 1024
            (["{{ssm:/hostile}}"], REFUSED),
        ),
    ),
    "KeepAvailabilityZones": string_table(
        "KeepAvailabilityZones",
        (
            *(([zone], zone) for zone in ZONES),
            ([",".join(ZONES)], ",".join(ZONES)),
            ([",".join(["use1-az1"] * 10)], ",".join(["use1-az1"] * 10)),
            ([",".join(["use1-az1"] * 11)], REFUSED),
            (["us-east-1a", "use1-az4"], REFUSED),  # one String, comma-separated: not a list
        ),
    ),
    "IdleDays": integer_table(30, "30"),
    "MaxAzCount": integer_table(1, "1"),
    "DryRun": boolean_table(),
    "ApproveDeletion": boolean_table(),
    "IncludeExpiringRules": boolean_table(),
    "IncludeRestoreRequiredTransitions": boolean_table(),
}
DOCUMENT_PARAMETERS = [(name, param) for name in DOC_NAMES for param in RUNBOOKS[name].parameters]


def outcome(document: str, param: str, sent: list | None):
    """resolve()'s value for param when sent (None: left out), or REFUSED when the refusal names the document and
    this parameter (any other refusal is returned as its text, so that it shows as a mismatch)."""
    runbook = RUNBOOKS[document]
    given = {name: REQUIRED[name] for name, spec in runbook.parameters.items() if "default" not in spec}
    given.pop(param, None)
    if sent is not None:
        given[param] = sent
    try:
        typed, reported = parameters.resolve(document, runbook.parameters, given, parameter_store)
    except AutomationRefused as error:
        return REFUSED if str(error).startswith(f"{document}: parameter {param}: ") else f"refused: {error}"
    if sent is not None and "{{" not in "".join(sent):
        assert reported[param] == sent, "GetAutomationExecution reports the strings sent"
    return typed[param]


def same(actual, expected) -> bool:
    """Equal and of the same JSON type (True is not 1)."""
    return actual == expected and json.dumps(actual) == json.dumps(expected)


@pytest.mark.parametrize(("document", "param"), DOCUMENT_PARAMETERS, ids=[f"{d}.{p}" for d, p in DOCUMENT_PARAMETERS])
def test_each_value_is_converted_or_refused_as_systems_manager_would(document, param):
    wrong = []
    for sent, expected in TABLE[param]:
        actual = outcome(document, param, sent)
        if not same(actual, expected):
            wrong.append({"sent": sent, "expected": expected, "got": actual})
    assert wrong == []


def test_the_table_covers_every_parameter_of_every_document_and_nothing_else():
    missing = sorted(f"{name}.{param}" for name, param in DOCUMENT_PARAMETERS if param not in TABLE)
    assert missing == [], "add each new parameter's values (Config's, the registry's, hostile ones) to TABLE"
    assert set(TABLE) == {param for _, param in DOCUMENT_PARAMETERS}, "TABLE names a parameter no document has"
    for param, cases in TABLE.items():
        outcomes = [expected for _, expected in cases]
        assert REFUSED in outcomes and any(value != REFUSED for value in outcomes), param


@pytest.mark.parametrize(("document", "param"), DOCUMENT_PARAMETERS, ids=[f"{d}.{p}" for d, p in DOCUMENT_PARAMETERS])
def test_every_string_parameter_is_constrained_and_registered(document, param):
    spec = RUNBOOKS[document].parameters[param]
    if spec["type"] != "String":
        return
    assert "allowedPattern" in spec or "allowedValues" in spec, f"{document}.{param} takes any string"
    if "allowedPattern" in spec:
        assert param in PATTERN_CASES, f"register {param}'s pattern with cases in tests/support/pattern_cases.py"


def test_the_arn_parameters_take_every_partition():
    for param in ("AutomationAssumeRole", "FunctionName", "LayerVersionArn", "CodeSigningConfigArn"):
        accepted = [sent[0] for sent, expected in TABLE[param] if sent and expected != REFUSED]
        partitions = {value.split(":")[1] for value in accepted if value.startswith("arn:")}
        assert partitions == set(PARTITIONS), param


def test_excluded_service_names_over_1024_characters_are_refused_by_max_chars_not_the_pattern():
    spec = RUNBOOKS["DeleteIdleVpcEndpoint"].parameters["ExcludedServiceNames"]
    assert compile_pattern(spec["allowedPattern"]).search("x" * 1025), "the pattern alone takes any length"
    given = {"VpcEndpointId": REQUIRED["VpcEndpointId"], "AutomationAssumeRole": [ROLE]}
    with pytest.raises(AutomationRefused) as refusal:
        parameters.resolve(
            "DeleteIdleVpcEndpoint",
            RUNBOOKS["DeleteIdleVpcEndpoint"].parameters,
            {**given, "ExcludedServiceNames": ["{{ssm:/long/1025}}"]},
            parameter_store,
        )
    assert str(refusal.value) == (
        "DeleteIdleVpcEndpoint: parameter ExcludedServiceNames: 1025 characters; the document allows 0 to 1024"
    )
    with pytest.raises(AutomationRefused) as refusal:
        parameters.resolve(
            "DeleteIdleVpcEndpoint",
            RUNBOOKS["DeleteIdleVpcEndpoint"].parameters,
            {**given, "ExcludedServiceNames": ["x" * 1025]},
        )
    assert str(refusal.value) == (
        "DeleteIdleVpcEndpoint: parameter ExcludedServiceNames: a value of 1025 characters; each is 1 to 512 "
        "(leave it out for the default)"
    )


# --- what AWS Config sends from the packs' remediation configurations --------------------------------------------

CONFIGURATIONS = [
    (pack, configuration) for pack in PACKS for configuration in remediation_configurations(ROOT, pack).values()
]


def test_every_document_is_some_packs_remediation():
    assert PACKS, "no conformance-packs/*.yaml"
    assert sorted({configuration.document for _, configuration in CONFIGURATIONS}) == DOC_NAMES


@pytest.mark.parametrize(
    ("pack", "configuration"), CONFIGURATIONS, ids=[f"{pack}.{c.rule}" for pack, c in CONFIGURATIONS]
)
def test_what_config_sends_is_accepted_and_reaches_the_script_without_the_role(pack, configuration):
    runbook = RUNBOOKS[configuration.document]
    resource = [name for name, spec in configuration.parameters.items() if "ResourceValue" in spec]
    assert len(resource) == 1, "one parameter takes the resource ID"
    sent = configuration.automation_parameters(RESOURCE_IDS[resource[0]])
    typed, reported = parameters.resolve(runbook.name, runbook.parameters, sent, parameter_store)
    assert {name: reported[name] for name in sent} == sent
    assert typed[resource[0]] == RESOURCE_IDS[resource[0]]
    assert typed["AutomationAssumeRole"].startswith("arn:aws:iam::") and ":role/" in typed["AutomationAssumeRole"]
    wanted = {name: value for name, value in typed.items() if name != "AutomationAssumeRole"}
    for step in runbook.steps:
        payload = interpolate.interpolate(step.payload, typed)
        assert payload == wanted and json.dumps(payload, sort_keys=True) == json.dumps(wanted, sort_keys=True)
