"""Every remediation a pack attaches, end to end as AWS Config and Systems Manager would run it.

For each pack and each rule with a RemediationConfiguration: a NON_COMPLIANT resource is seeded in moto, the rule
(its own Lambda handler, on a Config event built from the item) finds it NON_COMPLIANT, the committed document runs
with exactly the parameters Config sends for that resource (the pack's role ARN moved into the moto account), its
step in a fresh Python 3.11 process that reaches moto over HTTP, and the rule then finds the resource fixed.
Where the document refuses without an approval (deleting an endpoint, widening a rule that expires objects), the run
with Config's parameters must fail with the refusal and change nothing, and the run with the approval must fix it.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from rdkpack.account import demo_account, local_endpoint
from rdkpack.account.inventory import collect
from rdkpack.account.scan import evaluate_with_handler, tagged_types
from rdkpack.automation.config_remediation import remediation_configurations
from rdkpack.automation.hosts import host_for
from rdkpack.automation.runbook import load_runbook
from rdkpack.automation.runner import Runner, document_outputs
from rdkpack.project.config import load_project
from tests.support.project import ROOT

PROJECT = load_project(ROOT)
PACKS = sorted(path.stem for path in (ROOT / "conformance-packs").glob("*.yaml"))
CHAINS = [
    pytest.param(pack, rule, id=f"{pack}-{rule}")
    for pack in PACKS
    for rule in sorted(remediation_configurations(ROOT, pack))
]
# What a run with only Config's parameters refuses, and the approval that lets it through.
APPROVALS = {
    "DeleteIdleVpcEndpoint": ("ApproveDeletion", "re-run with ApproveDeletion=true. Nothing was changed."),
    "FixS3LifecycleAsteriskPrefix": ("IncludeExpiringRules", "re-run with IncludeExpiringRules=true."),
}
# What the rule says of a fixed resource: COMPLIANT, but a deleted endpoint is NOT_APPLICABLE or no longer listed.
FIXED = {"DeleteIdleVpcEndpoint": (["NOT_APPLICABLE"], [])}
# The account's code-signing config (the shared value the demo account holds), with the policy the strictest pack
# rule asks for (RequireEnforce): moto has no code-signing configs, so the rule's GetCodeSigningConfig is answered.
SIGNING_CONFIG = {**demo_account.DEMO_CONFIG, "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"}}


def test_every_remediation_of_every_pack_has_a_chain():
    assert {"rdk-guardrails-org-baseline", "rdk-guardrails-sandbox"} <= set(PACKS)
    for pack in PACKS:
        attached = {rule.name for rule in PROJECT.packs[pack].rules if rule.remediation.attach}
        assert set(remediation_configurations(ROOT, pack)) == attached, pack
        assert attached <= set(SEEDS), f"{pack}: seed a NON_COMPLIANT resource for {sorted(attached - set(SEEDS))}"


def get_code_signing_config(params, **_):
    arn = params["url_path"].split("/code-signing-configs/")[1]
    assert arn.endswith(SIGNING_CONFIG["CodeSigningConfigId"]), arn
    return SimpleNamespace(status_code=200, headers={}), {"CodeSigningConfig": SIGNING_CONFIG}


@pytest.fixture(scope="module")
def account():
    """One embedded account for the module (each test seeds resources of its own): the shared values set, the
    approved layer's versions published, the packs' automation role made, moto served to the steps over HTTP."""
    with demo_account.embedded_aws() as session, local_endpoint.serve(demo_account.ROUTES) as endpoint:
        session.events.register("before-call.lambda.GetCodeSigningConfig", get_code_signing_config)
        demo_account.put_shared_values(session, PROJECT.shared_values)
        lambda_client = session.client("lambda")
        for _ in range(2):  # company-base:2 is the approved version (sharedValues ApprovedLayerVersionArn)
            lambda_client.publish_layer_version(LayerName="company-base", Content={"ZipFile": b"PK"})
        roles = {
            configuration.parameters["AutomationAssumeRole"]["StaticValue"]["Values"][0].split(":role/", 1)[1]
            for pack in PACKS
            for configuration in remediation_configurations(ROOT, pack).values()
        }
        assert len(roles) == 1, f"the packs name one automation role: {roles}"
        # The packs name their own account's role: the same role, made in the moto account.
        role = demo_account.remediation_role(session, f"arn:aws:iam::{demo_account.ACCOUNT}:role/{roles.pop()}")
        function_role = session.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]
        host = host_for((3, 11), ROOT)
        assert not host.note, f"{host.note} (`make venv` makes .venv/py311)"  # the steps run on SSM's Python 3.11
        runner = Runner(session, demo_account.REGION, host=host, endpoint_url=endpoint, project_root=ROOT)
        yield SimpleNamespace(session=session, role=role, function_role=function_role["Arn"], runner=runner)


# ---- one NON_COMPLIANT resource a rule: its resource ID ----


def seed_function(account, name: str) -> str:
    """A Zip function with no layer and no code-signing config."""
    account.session.client("lambda").create_function(
        FunctionName=name,
        Role=account.function_role,
        Runtime="python3.12",
        Handler="app.handler",
        Code={"ZipFile": b"PK"},
    )
    return name


def seed_bucket(account, name: str) -> str:
    """A bucket whose one lifecycle rule expires objects under the prefix '*' (which S3 matches literally)."""
    s3 = account.session.client("s3")
    s3.create_bucket(Bucket=name)
    rule = demo_account.lifecycle_rule("expire-everything", Filter={"Prefix": "*"})
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [rule]})
    s3.put_object(Bucket=name, Key="logs/app.log", Body=b"demo")
    return name


def seed_endpoint(account, service: str, azs: str) -> str:
    """An interface endpoint in a VPC of its own, one subnet in each of `azs` (letters)."""
    ec2 = account.session.client("ec2")
    count = len(ec2.describe_vpcs()["Vpcs"])
    vpc = ec2.create_vpc(CidrBlock=f"10.{count}.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{count}.{n}.0/24", AvailabilityZone=f"{demo_account.REGION}{az}")
        for n, az in enumerate(azs)
    ]
    return ec2.create_vpc_endpoint(
        VpcId=vpc,
        VpcEndpointType="Interface",
        ServiceName=f"com.amazonaws.{demo_account.REGION}.{service}",
        SubnetIds=[subnet["Subnet"]["SubnetId"] for subnet in subnets],
    )["VpcEndpoint"]["VpcEndpointId"]


def seed_idle_endpoint(account, _name: str) -> str:
    """An endpoint older than the idle rule's 30 days that carried no traffic."""
    endpoint_id = seed_endpoint(account, "secretsmanager", "a")
    demo_account.backdate(endpoint_id, demo_account.ENDPOINT_AGE)
    return endpoint_id


SEEDS = {
    "LAMBDA_LAYER_CHECK": seed_function,
    "LAMBDA_CODE_SIGNING_CHECK": seed_function,
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK": seed_bucket,
    "VPC_ENDPOINT_AZ_COUNT_CHECK": lambda account, _name: seed_endpoint(account, "ssm", "abc"),
    "VPC_ENDPOINT_IDLE_CHECK": seed_idle_endpoint,
}


# ---- evaluation and remediation ----


def verdicts(account, pack_rule, resource_id: str) -> list[tuple[str, str]]:
    """The rule's (compliance, annotation) for the resource, as its Lambda answers a change notification; [] when
    the resource is gone."""
    kinds = sorted(PROJECT.rules[pack_rule.name].resource_types)
    tagged = frozenset(tagged_types(PROJECT, [pack_rule]))
    items, _ = collect(account.session, kinds, source="api", tagged_types=tagged)
    mine = [item for item in items if item["resourceId"] == resource_id]
    results = evaluate_with_handler(ROOT, pack_rule.name, pack_rule.parameters, mine)
    assert all(result.resource_id == resource_id for result in results), results
    return [(result.compliance, result.annotation) for result in results]


def remediate(account, document: str, parameters: dict) -> dict:
    return account.runner.start(load_runbook(ROOT, document), parameters)


def failure(execution: dict) -> str:
    steps = execution["StepExecutions"]
    log = "\n".join(text for step in steps for text in step["Outputs"].get("ExecutionLog", ()))
    return f"{execution['AutomationExecutionStatus']}: {execution.get('FailureMessage')}\n{log}"


def state(account, document: str, resource_id: str) -> str:
    """What a refused run must leave unchanged, read from moto."""
    if document == "FixS3LifecycleAsteriskPrefix":
        found = account.session.client("s3").get_bucket_lifecycle_configuration(Bucket=resource_id)["Rules"]
        return json.dumps(found, sort_keys=True, default=str)
    endpoint = account.session.client("ec2").describe_vpc_endpoints(VpcEndpointIds=[resource_id])["VpcEndpoints"][0]
    return json.dumps({key: endpoint[key] for key in ("State", "SubnetIds")})


@pytest.mark.parametrize(("pack", "rule"), CHAINS)
def test_a_non_compliant_resource_is_fixed_by_the_document_config_runs(account, pack, rule):
    pack_rule = next(item for item in PROJECT.packs[pack].rules if item.name == rule)
    configuration = remediation_configurations(ROOT, pack)[rule]
    resource_id = SEEDS[rule](account, f"{pack}-{rule.lower().replace('_', '-')}"[:63])

    before = verdicts(account, pack_rule, resource_id)
    assert [compliance for compliance, _ in before] == ["NON_COMPLIANT"], before

    sent = configuration.automation_parameters(resource_id)
    assert sent["AutomationAssumeRole"][0].endswith(account.role.split(":", 5)[5]), "the pack's own role, by name"
    sent["AutomationAssumeRole"] = [account.role]
    approval = APPROVALS.get(configuration.document)
    if approval:
        name, refusal = approval
        assert name not in sent, f"the pack must not approve {name} on anyone's behalf"
        unchanged = state(account, configuration.document, resource_id)
        refused = remediate(account, configuration.document, sent)
        assert refused["AutomationExecutionStatus"] == "Failed", document_outputs(refused)
        assert refused["FailureMessage"].startswith("RemediationRefused: ") and refusal in refused["FailureMessage"]
        assert state(account, configuration.document, resource_id) == unchanged
        assert verdicts(account, pack_rule, resource_id) == before
        sent = {**sent, name: ["true"]}

    execution = remediate(account, configuration.document, sent)
    assert execution["AutomationExecutionStatus"] == "Success", failure(execution)
    output = next(iter(document_outputs(execution).values()))
    assert output["Status"] == "CHANGED", output

    after = verdicts(account, pack_rule, resource_id)
    fixed = FIXED.get(configuration.document, (["COMPLIANT"],))
    assert [compliance for compliance, _ in after] in fixed, after
