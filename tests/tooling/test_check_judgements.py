"""rdkpack.check's judgement of values known only at deploy time (variants.py) and each rule's verdict on a template's
resource (judge.py), and the parity that makes a template check worth having: for the same settings, `rdkpack check`
on a template and `rdkpack scan`'s judge on the live resource give the same verdict."""

from __future__ import annotations

import fnmatch
import functools
import io
import json
import zipfile

import boto3
import pytest

from rdkpack.account import inventory, scan
from rdkpack.check import run
from rdkpack.check.cloudformation import read_template
from rdkpack.check.judge import Judgement, RuleJudge, TemplateClients, TemplateLambda
from rdkpack.check.model import LAMBDA_FUNCTION, VPC_ENDPOINT, TemplateResource, Unknown, template_arn
from rdkpack.check.terraform import read_plan
from rdkpack.check.variants import Place, candidates, variants
from rdkpack.project.config import load_project
from tests.support.project import ROOT

PROJECT = load_project(ROOT)
SANDBOX, BASELINE = "rdk-guardrails-sandbox", "rdk-guardrails-org-baseline"
LAYER, SIGNING = "LAMBDA_LAYER_CHECK", "LAMBDA_CODE_SIGNING_CHECK"
S3, AZ = "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "VPC_ENDPOINT_AZ_COUNT_CHECK"
APPROVED = "arn:aws:lambda:eu-west-1:123456789012:layer:company-base"  # LayerArn's pattern, MinLayerVersion 2
EXTERNAL_CSC = "arn:aws:lambda:eu-west-1:123456789012:code-signing-config:csc-0123456789abcdef0"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]


@functools.cache
def rule_judge(pack: str, rule: str) -> RuleJudge:
    pack_rule = next(found for found in PROJECT.packs[pack].rules if found.name == rule)
    return RuleJudge.load(ROOT, rule, scan.scan_parameters(pack_rule))


def judge(pack: str, rule: str, resource: TemplateResource, *others: TemplateResource) -> tuple[str, str]:
    """(compliance, message) of the pack's rule on `resource`, in a template that also holds `others`."""
    lam = TemplateLambda([resource, *others])
    found = rule_judge(pack, rule).judge(resource, lam, TemplateClients(lam))
    assert isinstance(found, Judgement) and found.resource is resource and found.rule == rule
    return found.compliance, found.message


def function(logical_id: str = "Fn", **properties) -> TemplateResource:
    base = {"FunctionName": "orders", "PackageType": "Zip", "Layers": [], "CodeSigningConfigArn": None, "Tags": {}}
    return TemplateResource("t.yaml", logical_id, LAMBDA_FUNCTION, base | properties, 3)


def endpoint(service, subnets=SUBNETS) -> TemplateResource:
    properties = {
        "VpcEndpointId": "Endpoint",
        "VpcEndpointType": "Interface",
        "ServiceName": service,
        "SubnetIds": subnets,
        "Tags": {},
    }
    return TemplateResource("t.yaml", "Endpoint", VPC_ENDPOINT, properties, 9)


# --- variants: the values an unknown stands for ---------------------------------------------------------------------


def test_variants_of_known_properties_are_the_properties_alone():
    assert variants({"Layers": [f"{APPROVED}:3"]}, {"LayerArn": APPROVED}) == ([{"Layers": [f"{APPROVED}:3"]}], [])


def test_variants_of_an_unknown_with_choices_are_exactly_its_choices():
    unknown = Unknown("Ref parameter Version", (f"{APPROVED}:3", f"{APPROVED}:4"))
    assert variants({"Layers": ["x", unknown]}, {"MinLayerVersion": "2"}) == (
        [{"Layers": ["x", f"{APPROVED}:3"]}, {"Layers": ["x", f"{APPROVED}:4"]}],
        [unknown],
    )


def test_an_unknown_name_takes_no_variants_and_is_no_unknown():
    assert variants({"FunctionName": Unknown("Fn::Sub ${AWS::StackName}-api"), "Layers": []}, {}) == (
        [{"FunctionName": None, "Layers": []}],
        [],
    )


def test_a_template_is_filled_with_values_that_keep_its_known_text():
    place = Place(("ServiceName",), Unknown("Fn::Sub", template="com.amazonaws.*.execute-api"), is_list=False)
    found = candidates(place, {"ExcludedServiceNames": "com.amazonaws.*.s3"})
    assert found[0] == "com.amazonaws.us-east-1.execute-api"  # the value a verdict they agree on is told with
    assert all(fnmatch.fnmatchcase(value, "com.amazonaws.*.execute-api") for value in found)


def test_a_templates_literal_asterisk_stays_in_every_value_while_each_unknown_part_is_filled():
    place = Place(("LifecycleRules", 0, "Prefix"), Unknown("Fn::Sub ${Env}/*", template="*/[*]"), is_list=False)
    found = candidates(place, {"IncludeDisabledRules": "true"})
    assert found[:4] == ["us-east-1/*", "/*", "x/*", "*/*"], "'*' is a value a deploy may pass, too"
    assert all(value.endswith("/*") for value in found)


def test_an_open_unknown_list_takes_lengths_around_each_whole_number_parameter():
    place = Place(("SubnetIds",), Unknown("Ref parameter Subnets"), is_list=True)
    lengths = {len(value) for value in candidates(place, {"MinAzCount": "2"})}
    assert {0, 1, 2, 3} <= lengths


# --- judge: one verdict when every value agrees, else UNKNOWN naming the source --------------------------------------


def test_unknown_whose_choices_agree_takes_their_verdict():
    layers = [Unknown("Ref parameter LayerVersion", (f"{APPROVED}:3", f"{APPROVED}:4"))]
    assert judge(SANDBOX, LAYER, function(Layers=layers)) == (
        "COMPLIANT",
        f"Layer {APPROVED} is at version 3 (minimum 2). (the same for every value of Ref parameter LayerVersion)",
    )


def test_unknown_whose_choices_differ_is_unknown_naming_its_source():
    layers = [Unknown("Ref parameter LayerVersion", (f"{APPROVED}:1", f"{APPROVED}:3"))]
    assert judge(SANDBOX, LAYER, function(Layers=layers)) == (
        "UNKNOWN",
        "The verdict depends on values known only at deploy time (Ref parameter LayerVersion): COMPLIANT, "
        "NON_COMPLIANT.",
    )


def test_approved_layer_beside_an_unknown_one_is_compliant_for_any_value():
    layers = [f"{APPROVED}:3", Unknown("Fn::ImportValue tracing-layer")]
    assert judge(SANDBOX, LAYER, function(Layers=layers)) == (
        "COMPLIANT",
        f"Layer {APPROVED} is at version 3 (minimum 2). (the same for every value of Fn::ImportValue tracing-layer)",
    )


def test_unknown_layer_alone_is_unknown():
    assert judge(SANDBOX, LAYER, function(Layers=[Unknown("Fn::ImportValue tracing-layer")])) == (
        "UNKNOWN",
        "The verdict depends on values known only at deploy time (Fn::ImportValue tracing-layer): COMPLIANT, "
        "NON_COMPLIANT.",
    )


def test_unknown_function_name_does_not_make_a_verdict_unknown():
    name = Unknown("Fn::Sub ${AWS::StackName}-orders")
    resource = function(FunctionName=name, Layers=[f"{APPROVED}:3"], CodeSigningConfigArn=EXTERNAL_CSC)
    assert judge(SANDBOX, LAYER, resource) == ("COMPLIANT", f"Layer {APPROVED} is at version 3 (minimum 2).")
    assert judge(SANDBOX, SIGNING, resource) == ("COMPLIANT", f"Code-signing config {EXTERNAL_CSC} is attached.")


def test_terraform_function_named_only_after_apply_is_judged_not_taken_for_no_function():
    """The address (dots, brackets, quotes) is no function name; the rule must still judge the function."""
    resource = function('module.app.aws_lambda_function.api["orders"]', FunctionName=None, CodeSigningConfigArn="")
    assert judge(SANDBOX, SIGNING, resource) == (
        "NON_COMPLIANT",
        "No code-signing configuration is attached to the function.",
    )


def test_az_rule_on_a_service_name_template_not_excluded_in_any_region_is_non_compliant():
    service = Unknown("Fn::Sub com.amazonaws.${AWS::Region}.execute-api", template="com.amazonaws.*.execute-api")
    assert judge(SANDBOX, AZ, endpoint(service)) == (
        "NON_COMPLIANT",
        "The endpoint spans 3 AZs; the maximum is 1. The 2 extra AZ(s) cost about $14.60 a month (2 x $0.01/AZ-hour "
        "x 730 h). (the same for every value of Fn::Sub com.amazonaws.${AWS::Region}.execute-api)",
    )


def test_az_rule_on_a_service_name_template_excluded_in_every_region_is_not_applicable():
    service = Unknown("Fn::Sub com.amazonaws.${AWS::Region}.s3", template="com.amazonaws.*.s3")
    assert judge(SANDBOX, AZ, endpoint(service)) == (
        "NOT_APPLICABLE",
        "Service com.amazonaws.us-east-1.s3 is in ExcludedServiceNames. (the same for every value of Fn::Sub "
        "com.amazonaws.${AWS::Region}.s3)",
    )


def test_az_rule_on_subnets_known_only_at_deploy_time_is_unknown():
    assert judge(BASELINE, AZ, endpoint("com.amazonaws.eu-west-1.ssm", Unknown("Ref parameter Subnets"))) == (
        "UNKNOWN",
        "The verdict depends on values known only at deploy time (Ref parameter Subnets): COMPLIANT, NON_COMPLIANT.",
    )


def test_s3_rule_on_a_prefix_that_ends_in_a_literal_asterisk_whatever_the_variable_is_non_compliant(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "Parameters:\n  Environment: {Type: String}\nResources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
        "    Properties:\n      LifecycleConfiguration:\n        Rules:\n"
        '          - {Id: per-env, Status: Enabled, Prefix: !Sub "${Environment}/*", ExpirationInDays: 30}\n'
    )
    (bucket,) = read_template(path, "t.yaml")
    assert judge(SANDBOX, S3, bucket) == (
        "NON_COMPLIANT",
        "S3 matches '*' in a lifecycle prefix literally, so 1 prefix(es) select no keys: per-env: 'us-east-1/*' (the "
        "same for every value of Fn::Sub ${Environment}/*)",
    )


# --- code signing: a config the template creates is judged from it ---------------------------------------------------

SIGNED = """Parameters:
  Policy: {{Type: String, AllowedValues: [Warn, Enforce]}}
  Stage: {{Type: String, AllowedValues: [dev, prod]}}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Signing:
    Type: AWS::Lambda::CodeSigningConfig
    Properties:
      AllowedPublishers: {{SigningProfileVersionArns: [arn:aws:signer:eu-west-1:123456789012:/signing-profiles/P/1]}}
      CodeSigningPolicies: {{UntrustedArtifactOnDeployment: {policy}}}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Layers: [{APPROVED}:3]
      CodeSigningConfigArn: {arn}
"""


def deployed(arn: str) -> str:
    """A config the template creates, as its ARN reads in the example account and region the rule is judged in."""
    return arn.replace(":us-east-1:000000000000:", ":us-east-1:123456789012:")


def signed(tmp_path, policy: str, arn: str = "!Ref Signing") -> tuple[TemplateResource, TemplateResource]:
    path = tmp_path / "t.yaml"
    path.write_text(SIGNED.format(policy=policy, arn=arn, APPROVED=APPROVED))
    config, fn = read_template(path, "t.yaml")
    return fn, config


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param("Enforce", ("COMPLIANT", "Code-signing config {arn} enforces signatures."), id="enforce"),
        pytest.param(
            "Warn",
            ("NON_COMPLIANT", "Code-signing config {arn} has UntrustedArtifactOnDeployment Warn; Enforce is required."),
            id="warn",
        ),
    ],
)
def test_require_enforce_judges_the_policy_of_a_config_the_template_creates(tmp_path, policy, expected):
    arn = deployed(template_arn("t.yaml", "Signing"))
    assert judge(BASELINE, SIGNING, *signed(tmp_path, policy)) == (expected[0], expected[1].format(arn=arn))


def test_without_require_enforce_the_attached_config_is_enough_whatever_its_policy(tmp_path):
    arn = deployed(template_arn("t.yaml", "Signing"))
    assert judge(SANDBOX, SIGNING, *signed(tmp_path, "Warn")) == (
        "COMPLIANT",
        f"Code-signing config {arn} is attached.",
    )


def test_require_enforce_with_a_config_from_outside_the_template_is_judged_only_in_the_account(tmp_path):
    assert judge(BASELINE, SIGNING, *signed(tmp_path, "Enforce", arn=EXTERNAL_CSC)) == (
        "NOT_APPLICABLE",
        f"Judged only in the account: code-signing config {EXTERNAL_CSC} is not created by this template.",
    )


def test_require_enforce_with_a_config_from_outside_only_in_some_deploys_is_unknown(tmp_path):
    """The deploys without a config are findings, the others need the account: the template does not decide."""
    arn = f"!If [IsProd, {EXTERNAL_CSC}, !Ref AWS::NoValue]"
    assert judge(BASELINE, SIGNING, *signed(tmp_path, "Enforce", arn=arn)) == (
        "UNKNOWN",
        "The verdict depends on values known only at deploy time (Fn::If IsProd): NON_COMPLIANT, judged only in the "
        "account.",
    )


def test_require_enforce_with_the_policy_from_a_parameter_is_unknown_naming_it(tmp_path):
    assert judge(BASELINE, SIGNING, *signed(tmp_path, "!Ref Policy")) == (
        "UNKNOWN",
        "The verdict depends on values known only at deploy time (Ref parameter Policy).",
    )


def test_config_created_in_the_plan_is_judged_though_its_signing_profile_is_known_only_after_apply():
    plan = "infra/functions.plan.json"
    resources = read_plan(ROOT / "tests" / "fixtures" / "check" / "terraform" / "functions.plan.json", plan)
    worker = next(r for r in resources if r.logical_id == "module.app.aws_lambda_function.worker")
    arn = deployed(template_arn(plan, "module.app.aws_lambda_code_signing_config.signing"))
    assert judge(BASELINE, SIGNING, worker, *resources) == (
        "COMPLIANT",
        f"Code-signing config {arn} enforces signatures.",
    )


def test_a_config_the_template_creates_is_judged_in_the_account_and_region_the_parameters_pin(tmp_path):
    """AllowedCodeSigningConfigArns pins 123456789012 in eu-west-1: the template's config deploys there, no finding."""
    pinned = RuleJudge.load(
        ROOT, SIGNING, {"AllowedCodeSigningConfigArns": "arn:aws:lambda:eu-west-1:123456789012:code-signing-config:*"}
    )
    fn, config = signed(tmp_path, "Enforce")
    lam = TemplateLambda([fn, config])
    arn = template_arn("t.yaml", "Signing").replace(":us-east-1:000000000000:", ":eu-west-1:123456789012:")
    assert (found := pinned.judge(fn, lam, TemplateClients(lam))).compliance == "COMPLIANT"
    assert found.message.startswith(f"Code-signing config {arn} is attached.")


def template_function(tmp_path, text: str) -> TemplateResource:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    return next(r for r in read_template(path, "t.yaml") if r.type == LAMBDA_FUNCTION)


def test_a_layer_arn_and_version_from_parameters_without_defaults_is_unknown_not_a_finding(tmp_path):
    """A part may be a whole ARN: `${SharedLayerArn}` may be the approved layer, so the template does not decide."""
    fn = template_function(
        tmp_path,
        "Parameters:\n  SharedLayerArn: {Type: String}\n  LayerVersion: {Type: String}\nResources:\n  Fn:\n"
        '    Type: AWS::Lambda::Function\n    Properties:\n      Layers: [!Sub "${SharedLayerArn}:${LayerVersion}"]\n',
    )
    assert judge(SANDBOX, LAYER, fn)[0] == "UNKNOWN"


def test_lifecycle_rules_from_a_mapping_by_region_are_unknown_not_a_crash(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "Mappings:\n  Rules:\n    us-east-1: {rule: {Id: a, Status: Enabled, Prefix: 'logs/', ExpirationInDays: 7}}\n"
        "    eu-west-1: {rule: {Id: b, Status: Enabled, Prefix: 'logs/*', ExpirationInDays: 7}}\n"
        "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      LifecycleConfiguration: {Rules: [!FindInMap [Rules, !Ref AWS::Region, rule]]}\n"
    )
    (bucket,) = read_template(path, "t.yaml")
    assert judge(SANDBOX, S3, bucket)[0] == "UNKNOWN"


# --- parity: a template and the live resource it creates get the same verdict ----------------------------------------

ACCOUNT, REGION = "123456789012", "us-east-1"
COMPANY_BASE = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:company-base"
PARITY_TEMPLATE = f"""AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  VpcId: {{Type: AWS::EC2::VPC::Id}}
Resources:
  CurrentLayerFunction:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: parity-current
      Layers: [!Sub "arn:aws:lambda:${{AWS::Region}}:{ACCOUNT}:layer:company-base:3"]  # a template: any region
  OldLayerFunction:
    Type: AWS::Lambda::Function
    Properties: {{FunctionName: parity-old, Layers: [{COMPANY_BASE}:1]}}
  NoLayerFunction:
    Type: AWS::Lambda::Function
    Properties: {{FunctionName: parity-none}}
  StarBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: parity-star
      LifecycleConfiguration:
        Rules: [{{Id: expire-logs, Status: Enabled, Prefix: logs/*, ExpirationInDays: 30}}]
  PrefixBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: parity-prefix
      LifecycleConfiguration:
        Rules: [{{Id: expire-logs, Status: Enabled, TagFilters: [{{Key: class, Value: log}}], Prefix: logs/,
                  ExpirationInDays: 30}}]
  PlainBucket:
    Type: AWS::S3::Bucket
    Properties: {{BucketName: parity-plain}}
  SubnetA: {{Type: AWS::EC2::Subnet, Properties: {{VpcId: !Ref VpcId, CidrBlock: 10.0.0.0/24}}}}
  SubnetB: {{Type: AWS::EC2::Subnet, Properties: {{VpcId: !Ref VpcId, CidrBlock: 10.0.1.0/24}}}}
  SubnetC: {{Type: AWS::EC2::Subnet, Properties: {{VpcId: !Ref VpcId, CidrBlock: 10.0.2.0/24}}}}
  WideEndpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcEndpointType: Interface
      ServiceName: !Sub com.amazonaws.${{AWS::Region}}.execute-api
      VpcId: !Ref VpcId
      SubnetIds: [!Ref SubnetA, !Ref SubnetB, !Ref SubnetC]
  NarrowEndpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcEndpointType: Interface
      ServiceName: com.amazonaws.{REGION}.ssm
      VpcId: !Ref VpcId
      SubnetIds: [!Ref SubnetA]
  S3InterfaceEndpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcEndpointType: Interface
      ServiceName: com.amazonaws.{REGION}.s3
      VpcId: !Ref VpcId
      SubnetIds: [!Ref SubnetA, !Ref SubnetB]
"""


def create_live_resources(session) -> dict[str, str]:
    """What PARITY_TEMPLATE creates, in moto: {logical ID: live resource ID}."""
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    trust = {"Version": "2012-10-17", "Statement": []}
    role = session.client("iam").create_role(RoleName="parity", AssumeRolePolicyDocument=json.dumps(trust))
    lam = session.client("lambda")
    for _ in range(3):
        lam.publish_layer_version(LayerName="company-base", Content={"ZipFile": code.getvalue()})
    for name, layers in (("parity-current", [f"{COMPANY_BASE}:3"]), ("parity-old", [f"{COMPANY_BASE}:1"])):
        zipped = {"ZipFile": code.getvalue()}
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="app.handler",
            Code=zipped,
            Layers=layers,
        )
    lam.create_function(
        FunctionName="parity-none",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )
    s3 = session.client("s3")
    for name in ("parity-star", "parity-prefix", "parity-plain"):
        s3.create_bucket(Bucket=name)
    rule = {"ID": "expire-logs", "Status": "Enabled", "Expiration": {"Days": 30}}
    s3.put_bucket_lifecycle_configuration(
        Bucket="parity-star", LifecycleConfiguration={"Rules": [rule | {"Filter": {"Prefix": "logs/*"}}]}
    )
    tagged = {"And": {"Prefix": "logs/", "Tags": [{"Key": "class", "Value": "log"}]}}
    s3.put_bucket_lifecycle_configuration(
        Bucket="parity-prefix", LifecycleConfiguration={"Rules": [rule | {"Filter": tagged}]}
    )
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("abc")
    ]
    ids = {"CurrentLayerFunction": "parity-current", "OldLayerFunction": "parity-old", "NoLayerFunction": "parity-none"}
    ids |= {"StarBucket": "parity-star", "PrefixBucket": "parity-prefix", "PlainBucket": "parity-plain"}
    for logical_id, service, count in (
        ("WideEndpoint", "execute-api", 3),
        ("NarrowEndpoint", "ssm", 1),
        ("S3InterfaceEndpoint", "s3", 2),
    ):
        made = ec2.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName=f"com.amazonaws.{REGION}.{service}",
            VpcEndpointType="Interface",
            SubnetIds=subnets[:count],
        )
        ids[logical_id] = made["VpcEndpoint"]["VpcEndpointId"]
    return ids


def live_verdicts(session, pack: str, rule: str) -> dict[str, tuple[str, str]]:
    pack_rule = next(found for found in PROJECT.packs[pack].rules if found.name == rule)
    kinds = rule_judge(pack, rule).module.APPLICABLE_RESOURCES
    items = [item for kind in kinds for item in inventory.items_from_apis(session, kind, False)]
    factory = scan.SessionClientFactory(session)
    found = scan.evaluate_direct(ROOT, rule, scan.scan_parameters(pack_rule), items, factory)
    return {result.resource_id: (result.compliance, result.annotation) for result in found}


PARITY = {
    SANDBOX: {
        LAYER: {
            "CurrentLayerFunction": "COMPLIANT",
            "OldLayerFunction": "NON_COMPLIANT",
            "NoLayerFunction": "NON_COMPLIANT",
        },
        S3: {"StarBucket": "NON_COMPLIANT", "PrefixBucket": "COMPLIANT", "PlainBucket": "NOT_APPLICABLE"},
        AZ: {"WideEndpoint": "NON_COMPLIANT", "NarrowEndpoint": "COMPLIANT", "S3InterfaceEndpoint": "NOT_APPLICABLE"},
    },
    BASELINE: {  # MinAzCount 2 instead of MaxAzCount 1
        LAYER: {
            "CurrentLayerFunction": "COMPLIANT",
            "OldLayerFunction": "NON_COMPLIANT",
            "NoLayerFunction": "NON_COMPLIANT",
        },
        S3: {"StarBucket": "NON_COMPLIANT", "PrefixBucket": "COMPLIANT", "PlainBucket": "NOT_APPLICABLE"},
        AZ: {"WideEndpoint": "COMPLIANT", "NarrowEndpoint": "NON_COMPLIANT", "S3InterfaceEndpoint": "NOT_APPLICABLE"},
    },
}


@pytest.mark.parametrize("pack", [SANDBOX, BASELINE])
def test_template_and_live_resource_get_the_same_verdict_for_the_layer_s3_and_az_rules(aws, tmp_path, pack):
    session = boto3.Session(region_name=REGION)
    ids = create_live_resources(session)
    (tmp_path / "parity.yaml").write_text(PARITY_TEMPLATE)
    report = run.check(PROJECT, pack, [tmp_path / "parity.yaml"])
    for rule, expected in PARITY[pack].items():
        checked = {row.resource: (row.compliance, row.message) for row in report.rows if row.rule == rule}
        scanned = live_verdicts(session, pack, rule)
        live = {logical_id: scanned[ids[logical_id]] for logical_id in checked}
        assert {logical_id: compliance for logical_id, (compliance, _) in checked.items()} == expected, rule
        assert {logical_id: compliance for logical_id, (compliance, _) in live.items()} == expected, rule
        for logical_id, (_, message) in checked.items():  # the same rule code on the same item: the same words
            annotation = live[logical_id][1]
            assert message == annotation or message.startswith(f"{annotation} (the same for every value of "), rule
