"""Parity of the Guard twins and `rdkpack check` (issue 29, item 7): every fixture template under
tests/fixtures/check/parity/ goes to the pack's Guard rule (cfn-guard's own engine through cfn-guard-rs, offline,
as tests/packs/test_guard.py runs it) and to `rdkpack.check.run.check`, and each resource must get the same
verdict from both: Guard FAIL <-> NON_COMPLIANT, Guard PASS or SKIP <-> COMPLIANT or NOT_APPLICABLE.

The Python judge is the reference. Where Guard cannot see what decides the verdict (a value an intrinsic function
gives, a SAM resource before the transform, a resource Condition, the date a waiver tag expires), the case names
Guard's verdict and the reason; any other disagreement fails.

Guard judges one resource at a time: cfn-guard-rs 0.3.3's non-verbose report (run_checks_rs(..., False)) is cut
short, not valid JSON, once a document has two failing resources or a rule with the exemption filter, so the
verdict is read from the verbose report's top status, one resource per document. The whole file, as `cfn-guard
validate` reads it (YAML short forms included), is checked once per file against the resources' verdicts.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import pytest
from cfn_guard_rs.cfn_guard_rs import run_checks_rs

from rdkpack.check.cloudformation import load_template
from rdkpack.check.run import check
from rdkpack.packs import guard
from rdkpack.project.config import load_project
from tests.support.project import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "check" / "parity"
PROJECT = load_project(ROOT)
SANDBOX, ORG = "rdk-guardrails-sandbox", "rdk-guardrails-org-baseline"
L, S, V = guard.GUARDED_RULES
C, N, NA, U = "COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "UNKNOWN"
ABSENT = "(no result)"  # check() reports nothing on the resource
GUARD_FAILS = {"FAIL": True, "PASS": False, "SKIP": False}
EVERY_PACK_FIXTURE = (
    "lambda_layers.yaml",
    "lambda_layers_sam.yaml",
    "lambda_layers_sam_no_globals.yaml",
    "s3_lifecycle.yaml",
    "vpc_endpoints.yaml",
    "cdk_stack.template.json",
)


@dataclasses.dataclass(frozen=True)
class Variant:
    """A committed pack (its Guard rules read from preventive/), or one with changed parameters (its Guard rules
    written by rdkpack.packs.guard from them), and the fixtures it judges."""

    pack: str
    overrides: dict
    fixtures: tuple[str, ...]


VARIANTS = {
    SANDBOX: Variant(SANDBOX, {}, EVERY_PACK_FIXTURE),
    ORG: Variant(ORG, {}, EVERY_PACK_FIXTURE),
    "sandbox, enabled lifecycle rules only": Variant(
        SANDBOX, {S: {"IncludeDisabledRules": "false"}}, ("s3_lifecycle.yaml",)
    ),
    "sandbox, exemption tags": Variant(
        SANDBOX,
        {
            L: {"ExemptionTag": "guardrail-exempt"},
            S: {"ExemptionTag": "team=platform"},
            V: {"ExemptionTag": "guardrail-exempt"},
        },
        ("exemptions.yaml",),
    ),
}


@dataclasses.dataclass(frozen=True)
class Case:
    variant: str
    fixture: str
    rule: str
    resource: str
    expected: str  # check()'s verdict, the reference (ABSENT: no result)
    guard: str | None = None  # Guard's own status (PASS, SKIP, FAIL) where it differs, with the reason
    why: str = ""

    @property
    def id(self) -> str:
        return f"{self.variant}:{self.fixture}:{self.resource}:{self.rule}"


def agree(variants, fixture: str, rule: str, **expected: str) -> list[Case]:
    return [Case(v, fixture, rule, resource, verdict) for v in variants for resource, verdict in expected.items()]


def differ(variants, fixture: str, rule: str, resource: str, *, expected: str, guard: str, why: str) -> list[Case]:
    return [Case(v, fixture, rule, resource, expected, guard, why) for v in variants]


BOTH = (SANDBOX, ORG)
SUB_IS_A_STRUCT = "Guard sees an Fn::Sub as a struct and passes it; the judge reads the text around the variables"
ANY_VALUE = "a parameter with no AllowedValues can be anything: unknown until deployed; Guard passes any intrinsic"
SAM_SOURCE = (
    "Guard's twin targets AWS::Lambda::Function; a SAM source template holds AWS::Serverless::Function, which only "
    "the SAM transform turns into one (the Guard hook sees the transformed function); check applies SAM as AWS does"
)
NO_CLOCK = "Guard has no clock: the twin's filter exempts any resource that carries the tag, expired or not"

CASES = [
    # --- LAMBDA_LAYER_CHECK: approved company-base of 123456789012 at version >= 2, in both packs -----------------
    *agree(
        BOTH,
        "lambda_layers.yaml",
        L,
        NoLayers=N,
        EmptyLayers=N,
        AtMinimum=C,
        AboveMinimum=C,
        BelowMinimum=N,
        ForeignAccount=N,
        ApprovedBesideOther=C,
        ImageFunction=NA,
        AllowedVersions=C,  # Fn::Sub of a parameter whose AllowedValues are all at or above the minimum
        RegionOnlyApproved=C,  # Fn::Sub of AWS::Region only: approved in every region
    ),
    *differ(BOTH, "lambda_layers.yaml", L, "ParameterLayer", expected=U, guard="PASS", why=ANY_VALUE),
    *differ(
        BOTH,
        "lambda_layers.yaml",
        L,
        "RegionalApproved",
        expected=U,
        guard="PASS",
        why="${AWS::Partition}: LayerArn names the aws partition only, so aws-cn or aws-us-gov would not be approved; "
        + SUB_IS_A_STRUCT,
    ),
    *differ(
        BOTH,
        "lambda_layers.yaml",
        L,
        "RegionalForeign",
        expected=N,
        guard="PASS",
        why=SUB_IS_A_STRUCT + " (account 999999999999)",
    ),
    *differ(
        BOTH,
        "lambda_layers.yaml",
        L,
        "PackagingChoice",
        expected=U,
        guard="SKIP",
        why="PackageType from a parameter: Zip without layers fails, Image is not applicable; Guard's filter compares "
        "the struct with 'Image' and drops the function",
    ),
    *differ(
        BOTH,
        "lambda_layers.yaml",
        L,
        "NeverCreated",
        expected=ABSENT,
        guard="FAIL",
        why="its Condition is false for every parameter value, so the stack never creates it; Guard ignores Conditions",
    ),
    *agree(BOTH, "lambda_layers_sam.yaml", L, FromGlobals=C, GlobalsPlusOwn=C, PlainNoLayers=N),
    *agree(BOTH, "lambda_layers_sam_no_globals.yaml", L, SamImage=NA),
    *differ(BOTH, "lambda_layers_sam_no_globals.yaml", L, "SamNoLayers", expected=N, guard="SKIP", why=SAM_SOURCE),
    *differ(BOTH, "lambda_layers_sam_no_globals.yaml", L, "SamBelowMinimum", expected=N, guard="SKIP", why=SAM_SOURCE),
    *agree(BOTH, "cdk_stack.template.json", L, ApiHandler5E7490E8=C),
    *differ(
        BOTH,
        "cdk_stack.template.json",
        L,
        "WorkerFn0A1B2C3D",
        expected=U,
        guard="PASS",
        why="a Ref to a LayerVersion of the same template: its ARN exists only once deployed; Guard passes any Ref",
    ),
    # --- S3_LIFECYCLE_ASTERISK_PREFIX_CHECK: both packs check disabled rules too ---------------------------------
    *agree(
        (*BOTH, "sandbox, enabled lifecycle rules only"),
        "s3_lifecycle.yaml",
        S,
        StarPrefix=N,
        LogsStar=N,
        CleanPrefixes=C,
        NoLifecycle=NA,
        NoProperties=NA,
        StarWithTagFilters=N,  # Prefix and TagFilters: S3's And filter, whose prefix operand has the '*'
        CleanWithTagFilters=C,  # a '*' in a tag value is no prefix
        TagFiltersOnly=C,
        ObjectSize=C,
        KnownParameterPrefix=C,  # every AllowedValue is free of '*'
    ),
    *agree(BOTH, "s3_lifecycle.yaml", S, DisabledStar=N),
    *agree(("sandbox, enabled lifecycle rules only",), "s3_lifecycle.yaml", S, DisabledStar=C),
    *differ(
        (*BOTH, "sandbox, enabled lifecycle rules only"),
        "s3_lifecycle.yaml",
        S,
        "AnyParameterPrefix",
        expected=U,
        guard="SKIP",
        why=ANY_VALUE + " (the twin checks a Prefix only when it is a string)",
    ),
    *differ(
        (*BOTH, "sandbox, enabled lifecycle rules only"),
        "s3_lifecycle.yaml",
        S,
        "SubCleanPrefix",
        expected=U,
        guard="SKIP",
        why=SUB_IS_A_STRUCT + ": '${Environment}/logs/' has a '*' in it if Environment is '*', which a deploy may pass",
    ),
    *differ(
        (*BOTH, "sandbox, enabled lifecycle rules only"),
        "s3_lifecycle.yaml",
        S,
        "SubStarPrefix",
        expected=N,
        guard="SKIP",
        why=SUB_IS_A_STRUCT + ": '${Environment}/*' ends in a literal '*' whatever Environment is",
    ),
    *agree(BOTH, "cdk_stack.template.json", S, ArchiveBucketF1E2D3C4=N),  # '/*'
    # --- VPC_ENDPOINT_AZ_COUNT_CHECK: sandbox at most 1 AZ (s3, logs excluded); org at least 2 (s3 excluded) ------
    *agree(
        (SANDBOX,),
        "vpc_endpoints.yaml",
        V,
        OneAz=C,  # exactly MaxAzCount
        TwoAzs=N,
        ThreeAzsByRef=N,  # Ref and GetAtt of subnets the template creates
        NoSubnetIds=C,
        GatewayS3=NA,
        DefaultTypeIsGateway=NA,
        InterfaceS3ThreeAzs=NA,
        LogsThreeAzs=NA,
        GatewayLoadBalancer=NA,
    ),
    *differ(
        (SANDBOX,),
        "vpc_endpoints.yaml",
        V,
        "RegionalLogsThreeAzs",
        expected=NA,
        guard="FAIL",
        why="an Fn::Sub service name: Guard cannot match it against ExcludedServiceNames, so it judges the AZ count of "
        "an excluded service",
    ),
    *differ((SANDBOX,), "vpc_endpoints.yaml", V, "ParameterSubnets", expected=U, guard="SKIP", why=ANY_VALUE),
    *agree(
        (ORG,),
        "vpc_endpoints.yaml",
        V,
        OneAz=N,
        TwoAzs=C,  # exactly MinAzCount
        ThreeAzsByRef=C,
        NoSubnetIds=N,
        GatewayS3=NA,
        DefaultTypeIsGateway=NA,
        InterfaceS3ThreeAzs=NA,
        LogsThreeAzs=C,
        RegionalLogsThreeAzs=C,
        GatewayLoadBalancer=NA,
    ),
    *differ((ORG,), "vpc_endpoints.yaml", V, "ParameterSubnets", expected=U, guard="PASS", why=ANY_VALUE),
    *differ(
        BOTH,
        "vpc_endpoints.yaml",
        V,
        "KindChoice",
        expected=U,
        guard="SKIP",
        why="VpcEndpointType from a parameter (Interface or Gateway): Guard's type filter drops a struct",
    ),
    *agree((SANDBOX,), "cdk_stack.template.json", V, SsmEndpoint9A8B7C6D=N),
    *agree((ORG,), "cdk_stack.template.json", V, SsmEndpoint9A8B7C6D=C),
    # --- ExemptionTag, with and without an expiry ----------------------------------------------------------------
    *agree(("sandbox, exemption tags",), "exemptions.yaml", L, ExemptForever=NA, ExemptUntil2999=NA, OtherTag=N),
    *differ(
        ("sandbox, exemption tags",), "exemptions.yaml", L, "WaiverExpired", expected=N, guard="SKIP", why=NO_CLOCK
    ),
    *agree(
        ("sandbox, exemption tags",), "exemptions.yaml", S, PlatformBucket=NA, PlatformBucketUntil2999=NA, AppsBucket=N
    ),
    *differ(
        ("sandbox, exemption tags",),
        "exemptions.yaml",
        S,
        "PlatformBucketExpired",
        expected=N,
        guard="SKIP",
        why=NO_CLOCK,
    ),
    *agree(("sandbox, exemption tags",), "exemptions.yaml", V, ExemptEndpoint=NA),
    *differ(
        ("sandbox, exemption tags",), "exemptions.yaml", V, "ExpiredEndpoint", expected=N, guard="SKIP", why=NO_CLOCK
    ),
]


def variant_project(variant: Variant):
    """The project with the variant's parameters in its pack, and that pack."""
    pack = PROJECT.packs[variant.pack]
    rules = [
        dataclasses.replace(rule, parameters={**rule.parameters, **variant.overrides.get(rule.name, {})})
        for rule in pack.rules
    ]
    pack = dataclasses.replace(pack, rules=rules)
    return dataclasses.replace(PROJECT, packs={**PROJECT.packs, variant.pack: pack}), pack


@functools.cache
def guard_text(variant_name: str, rule: str) -> str:
    variant = VARIANTS[variant_name]
    if not variant.overrides:
        return (ROOT / "preventive" / variant.pack / f"{rule}.guard").read_text(encoding="utf-8")
    _, pack = variant_project(variant)
    return guard.WRITERS[rule](next(r for r in pack.rules if r.name == rule))


def guard_status(document: str, rules: str) -> str:
    """PASS, FAIL or SKIP: the top status of cfn-guard's verbose report (its short report can come out cut)."""
    return json.loads(run_checks_rs(document, rules, True))["container"]["FileCheck"]["status"]


@functools.cache
def template(fixture: str) -> dict:
    return load_template(FIXTURES / fixture, fixture)


@functools.cache
def guard_resource_status(variant_name: str, fixture: str, rule: str, resource: str) -> str:
    """The Guard rule over one resource of the fixture, alone in a template (intrinsics in their long form)."""
    document = {"Resources": {resource: template(fixture)["Resources"][resource]}}
    return guard_status(json.dumps(document), guard_text(variant_name, rule))


@functools.cache
def check_verdicts(variant_name: str, fixture: str) -> dict[tuple[str, str], str]:
    """(resource, rule) -> check()'s verdict for one fixture file with the variant's pack."""
    project, pack = variant_project(VARIANTS[variant_name])
    report = check(project, pack.name, [FIXTURES / fixture])
    verdicts: dict[tuple[str, str], str] = {}
    for row in report.rows:
        key = (row.resource, row.rule)
        assert key not in verdicts, f"two results for {key} in {fixture}"
        verdicts[key] = row.compliance
    return verdicts


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_the_guard_twin_and_check_give_each_resource_the_same_verdict(case: Case):
    python = check_verdicts(case.variant, case.fixture).get((case.resource, case.rule), ABSENT)
    status = guard_resource_status(case.variant, case.fixture, case.rule, case.resource)
    assert python == case.expected
    if case.guard is None:
        assert python in (C, N, NA)
        assert GUARD_FAILS[status] is (python == N), f"Guard {status}, check {python}"
    else:
        assert status == case.guard, f"Guard now says {status} where it differed by design ({case.why})"


def test_every_difference_says_why_guard_cannot_see_it():
    for case in CASES:
        if case.guard is not None:
            assert case.why, case.id
            assert case.expected in (U, ABSENT) or GUARD_FAILS[case.guard] is not (case.expected == N), case.id


@pytest.mark.parametrize(
    ("variant_name", "fixture"),
    [(name, fixture) for name, variant in VARIANTS.items() for fixture in variant.fixtures],
)
def test_every_resource_either_judge_reports_on_is_a_case(variant_name: str, fixture: str):
    listed = {(c.resource, c.rule) for c in CASES if c.variant == variant_name and c.fixture == fixture}
    reported = set(check_verdicts(variant_name, fixture))
    for rule in guard.GUARDED_RULES:
        for resource in template(fixture)["Resources"]:
            if guard_resource_status(variant_name, fixture, rule, resource) == "FAIL":
                reported.add((resource, rule))
    reported = {key for key in reported if key[1] in guard.GUARDED_RULES}
    assert sorted(reported - listed) == [], "results no case expects"
    assert sorted(listed - reported) == [], "cases neither judge reports on"


@pytest.mark.parametrize(
    ("variant_name", "fixture"),
    [(name, fixture) for name, variant in VARIANTS.items() for fixture in variant.fixtures],
)
def test_guard_on_the_whole_file_fails_exactly_when_one_of_its_resources_fails(variant_name: str, fixture: str):
    """The file as `cfn-guard validate` reads it (YAML short forms and all) against the resources one by one."""
    text = Path(FIXTURES / fixture).read_text(encoding="utf-8")
    for rule in guard.GUARDED_RULES:
        statuses = {guard_resource_status(variant_name, fixture, rule, r) for r in template(fixture)["Resources"]}
        whole = guard_status(text, guard_text(variant_name, rule))
        assert (whole == "FAIL") is ("FAIL" in statuses), rule
