"""rdkpack check through the CLI: verdicts with file, line and resource on CloudFormation, SAM (source and transform
output), CDK output and Terraform plans, for each pack; exit codes; every report format; folder walking; waivers
(Metadata, the waivers file, expiry) and the rule judged only in the account.

The tests run from the repository root (the fixtures' paths are shown relative to it) with its rdk-config.json.
Fixtures: tests/fixtures/check/cloudformation, terraform (the readers' own) and cli (clean, waived and lapsed-waiver
templates).
"""

from __future__ import annotations

import json
import shutil
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from io import StringIO
from xml.etree import ElementTree

import jsonschema
import pytest

from rdkpack.check import run
from rdkpack.check.waivers import address_matches
from rdkpack.cli import main
from rdkpack.project.config import load_project
from tests.support.project import ROOT, copy_project

FIXTURES = "tests/fixtures/check"
CFN, TF, CLI = f"{FIXTURES}/cloudformation", f"{FIXTURES}/terraform", f"{FIXTURES}/cli"
ALL = [
    f"{CFN}/stack.yaml",
    f"{CFN}/sam",
    f"{CFN}/cdk.out",
    f"{TF}/functions.plan.json",
    f"{TF}/storage-network.plan.json",
]
SARIF = json.loads((ROOT / "tests" / "support" / "schemas" / "sarif-schema-2.1.0.json").read_text())
LAYER, SIGNING = "LAMBDA_LAYER_CHECK", "LAMBDA_CODE_SIGNING_CHECK"
S3, AZ = "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "VPC_ENDPOINT_AZ_COUNT_CHECK"
OK, BAD, NA, UNKNOWN = "COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "UNKNOWN"
IDLE_NOTE = (
    "note: VPC_ENDPOINT_IDLE_CHECK is not applicable here: its verdict is the endpoint's traffic over IdleDays, "
    "which only the account has"
)
CDK_FILE = f"{CFN}/cdk.out/OrdersStack.template.json"

# The default pack (rdk-guardrails-sandbox: MaxAzCount 1, no RequireEnforce): (file, line, resource) -> verdicts.
SANDBOX = {
    (f"{CFN}/stack.yaml", 49, "OrdersFunction"): {LAYER: UNKNOWN, SIGNING: OK},  # layers from parameters, imports
    (f"{CFN}/stack.yaml", 74, "ReportsFunction"): {LAYER: NA, SIGNING: NA},  # an Image function
    (f"{CFN}/stack.yaml", 102, "ApiEndpoint"): {AZ: BAD},  # 3 subnets by Ref
    (f"{CFN}/stack.yaml", 114, "S3GatewayEndpoint"): {AZ: NA},
    (f"{CFN}/sam/template.yaml", 27, "CreateOrderFunction"): {LAYER: BAD, SIGNING: OK},  # Globals' layer appended
    (f"{CFN}/sam/template.yaml", 43, "ListOrdersFunction"): {LAYER: BAD, SIGNING: BAD},
    (f"{CFN}/sam/transformed.json", 15, "CreateOrderFunction"): {LAYER: BAD, SIGNING: OK},
    (f"{CFN}/sam/transformed.json", 111, "ListOrdersFunction"): {LAYER: BAD, SIGNING: BAD},
    (CDK_FILE, 37, "OrdersFunction1A2B3C4D"): {LAYER: UNKNOWN, SIGNING: BAD},  # a layer the stack publishes
    (CDK_FILE, 98, "ThumbnailerFunction9C8D7E6F"): {LAYER: NA, SIGNING: NA},
    (CDK_FILE, 118, "ArchiveBucketF1A2B3C4"): {S3: OK},
    (CDK_FILE, 161, "VpcLambdaEndpoint0C1D2E3F"): {AZ: BAD},
    (f"{TF}/functions.plan.json", 1, 'aws_lambda_function.api["billing"]'): {LAYER: BAD, SIGNING: BAD},
    (f"{TF}/functions.plan.json", 1, 'aws_lambda_function.api["orders"]'): {LAYER: UNKNOWN, SIGNING: BAD},
    (f"{TF}/functions.plan.json", 1, "aws_lambda_function.legacy"): {LAYER: BAD, SIGNING: BAD},
    (f"{TF}/functions.plan.json", 1, "module.app.aws_lambda_function.worker"): {LAYER: BAD, SIGNING: OK},
    (f"{TF}/functions.plan.json", 1, "module.app.module.audit.aws_lambda_function.audit[0]"): {LAYER: NA, SIGNING: NA},
    (f"{TF}/storage-network.plan.json", 8, "aws_s3_bucket.data"): {S3: NA},  # its rules are the lifecycle resource's
    (f"{TF}/storage-network.plan.json", 33, "aws_s3_bucket.logs"): {S3: BAD},
    (f"{TF}/storage-network.plan.json", 215, "aws_s3_bucket_lifecycle_configuration.data"): {S3: BAD},
    (f"{TF}/storage-network.plan.json", 557, "module.network.aws_vpc_endpoint.interface[0]"): {AZ: BAD},
    (f"{TF}/storage-network.plan.json", 640, "module.network.aws_vpc_endpoint.interface[1]"): {AZ: BAD},
    (f"{TF}/storage-network.plan.json", 691, 'module.network.module.gateways.aws_vpc_endpoint.gateway["dynamodb"]'): {
        AZ: NA
    },
    (f"{TF}/storage-network.plan.json", 722, 'module.network.module.gateways.aws_vpc_endpoint.gateway["s3"]'): {AZ: NA},
}
# rdk-guardrails-org-baseline: MinAzCount 2 instead of MaxAzCount 1, and RequireEnforce (the SAM config warns).
ORG_BASELINE = SANDBOX | {
    (f"{CFN}/stack.yaml", 102, "ApiEndpoint"): {AZ: OK},
    (f"{CFN}/sam/template.yaml", 27, "CreateOrderFunction"): {LAYER: BAD, SIGNING: BAD},
    (f"{CFN}/sam/transformed.json", 15, "CreateOrderFunction"): {LAYER: BAD, SIGNING: BAD},
    (CDK_FILE, 161, "VpcLambdaEndpoint0C1D2E3F"): {AZ: OK},
    (f"{TF}/storage-network.plan.json", 557, "module.network.aws_vpc_endpoint.interface[0]"): {AZ: OK},
    (f"{TF}/storage-network.plan.json", 640, "module.network.aws_vpc_endpoint.interface[1]"): {AZ: OK},
}


@pytest.fixture(autouse=True)
def _from_the_repository_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """One run of the default pack over every fixture, written in every format: (exit code, folder, stderr)."""
    folder = tmp_path_factory.mktemp("reports")
    outputs = [
        argument for suffix in ("sarif", "json", "md", "xml") for argument in ("--output", f"{folder}/r.{suffix}")
    ]
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(StringIO()), redirect_stderr(StringIO()) as err:
        patch.chdir(ROOT)
        code = main(["check", *ALL, *outputs])
    return code, folder, err.getvalue()


def check(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def verdicts(report: dict) -> dict:
    """(file, line, resource) -> {rule: verdict} of a JSON report."""
    found: dict = {}
    for row in report["results"]:
        found.setdefault((row["file"], row["line"], row["resource"]), {})[row["rule"]] = row["compliance"]
    return found


def sarif(text: str) -> dict:
    document = json.loads(text)
    jsonschema.Draft4Validator(SARIF).validate(document)
    return document


def located(result: dict) -> tuple:
    (location,) = result["locations"]
    physical, (logical,) = location["physicalLocation"], location["logicalLocations"]
    where = (physical["artifactLocation"]["uri"], physical["region"]["startLine"], logical["name"])
    return (result["ruleId"], *where, result["level"])


# --- verdicts with file, line and resource, for each pack ------------------------------------------------------------


def test_default_pack_judges_cloudformation_sam_cdk_and_terraform_with_file_line_and_resource(reports):
    code, folder, _ = reports
    report = json.loads((folder / "r.json").read_text())
    assert (code, report["pack"], verdicts(report)) == (1, "rdk-guardrails-sandbox", SANDBOX)
    assert report["files"] == [
        f"{CFN}/stack.yaml",
        f"{CFN}/sam/template.yaml",
        f"{CFN}/sam/transformed.json",
        CDK_FILE,  # cdk.out/manifest.json is no template: walked past
        f"{TF}/functions.plan.json",
        f"{TF}/storage-network.plan.json",
    ]
    assert report["summary"] == {OK: 5, NA: 10, BAD: 19, UNKNOWN: 3, "findings": 19}


def test_org_baseline_pack_judges_with_its_own_parameters(capsys):
    code, out, _ = check(capsys, "--pack", "rdk-guardrails-org-baseline", "--json", *ALL)
    report = json.loads(out)
    assert (code, report["pack"], verdicts(report)) == (1, "rdk-guardrails-org-baseline", ORG_BASELINE)
    messages = {(row["resource"], row["rule"]): row["message"] for row in report["results"]}
    assert messages[("CreateOrderFunction", SIGNING)].endswith(
        "has UntrustedArtifactOnDeployment Warn; Enforce is required."
    )


def test_idle_rule_is_reported_once_as_not_applicable_here_and_judges_nothing(reports):
    _, folder, err = reports
    report = json.loads((folder / "r.json").read_text())
    assert err.splitlines().count(IDLE_NOTE) == 1
    assert report["notes"].count(IDLE_NOTE.removeprefix("note: ")) == 1
    assert not [row for row in report["results"] if row["rule"] == "VPC_ENDPOINT_IDLE_CHECK"]


# --- reports --------------------------------------------------------------------------------------------------------


def test_sarif_follows_the_schema_with_a_result_per_finding_and_a_note_per_unknown(reports):
    _, folder, _ = reports
    document = sarif((folder / "r.sarif").read_text())
    (run_,) = document["runs"]
    expected = sorted(
        (rule, file, line, resource, "error" if verdict == BAD else "note")
        for (file, line, resource), found in SANDBOX.items()
        for rule, verdict in found.items()
        if verdict in (BAD, UNKNOWN)
    )
    assert sorted(map(located, run_["results"])) == expected
    assert [rule["id"] for rule in run_["tool"]["driver"]["rules"]] == sorted({rule for rule, *_ in expected})
    assert all(run_["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in run_["results"])


def test_sarif_names_the_cdk_construct_path_as_the_fully_qualified_name(reports):
    _, folder, _ = reports
    results = sarif((folder / "r.sarif").read_text())["runs"][0]["results"]
    names = {
        logical["name"]: logical.get("fullyQualifiedName")
        for result in results
        for logical in result["locations"][0]["logicalLocations"]
        if result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == CDK_FILE
    }
    assert names == {
        "OrdersFunction1A2B3C4D": "OrdersStack/OrdersFunction/Resource",
        "VpcLambdaEndpoint0C1D2E3F": "OrdersStack/Vpc/LambdaEndpoint/Resource",
    }


def test_json_markdown_and_junit_reports_hold_the_same_verdicts(reports):
    _, folder, _ = reports
    page = (folder / "r.md").read_text()
    assert page.startswith(
        "# rdk guardrails check with rdk-guardrails-sandbox\n\nPack `rdk-guardrails-sandbox`; 6 file(s)."
    )
    assert "Summary: COMPLIANT 5, NON_COMPLIANT 19, NOT_APPLICABLE 10, UNKNOWN 3." in page
    assert (
        f"| {TF}/storage-network.plan.json | 33 | aws_s3_bucket.logs | {S3} | NON_COMPLIANT | S3 matches '\\*' in a "
        "lifecycle prefix literally, so 1 prefix(es) select no keys: expire-logs: 'logs/\\*' |"
    ) in page
    suites = ElementTree.fromstring((folder / "r.xml").read_text())
    counts = {suite.get("name"): (suite.get("tests"), suite.get("failures"), suite.get("skipped")) for suite in suites}
    verdicts_by_rule: dict = {}
    for found in SANDBOX.values():
        for rule, verdict in found.items():
            verdicts_by_rule.setdefault(rule, []).append(verdict)
    assert counts == {  # a failure per finding; not applicable and (without --strict) unknown skipped
        rule: (str(len(found)), str(found.count(BAD)), str(found.count(NA) + found.count(UNKNOWN)))
        for rule, found in verdicts_by_rule.items()
    }
    failed = [case.get("name") for case in suites.iter("testcase") if case.find("failure") is not None]
    assert f"{TF}/storage-network.plan.json:33 aws_s3_bucket.logs" in failed


def test_output_dash_writes_only_the_sarif_to_standard_output(capsys):
    code, out, err = check(capsys, f"{CFN}/stack.yaml", "--output", "-", "--format", "sarif")
    results = sarif(out)["runs"][0]["results"]
    assert (code, sorted(map(located, results))) == (
        1,
        [
            (LAYER, f"{CFN}/stack.yaml", 49, "OrdersFunction", "note"),
            (AZ, f"{CFN}/stack.yaml", 102, "ApiEndpoint", "error"),
        ],
    )
    assert err.splitlines()[0] == IDLE_NOTE


def test_output_in_a_format_check_does_not_write_is_refused(capsys):
    code, out, err = check(capsys, f"{CLI}/clean.yaml", "--output", "-", "--format", "html")
    assert (code, out) == (2, "")
    assert err == "error: --output -: check writes sarif, json, markdown, junit (.sarif, .json, .md, .xml), not html\n"


# --- exit codes -----------------------------------------------------------------------------------------------------


def test_clean_template_exits_0_with_the_table_summary(capsys):
    code, out, _ = check(capsys, f"{CLI}/clean.yaml")
    assert code == 0
    assert out.splitlines()[-1] == "1 file(s); COMPLIANT 4"


@pytest.mark.parametrize(
    ("path", "error"),
    [
        pytest.param(
            f"{CFN}/broken.yaml",
            f"{CFN}/broken.yaml:8: not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence at "
            "line 7)",
            id="broken-yaml",
        ),
        pytest.param(
            f"{TF}/truncated.plan.json",
            f"{TF}/truncated.plan.json:41: not valid JSON: Expecting value (column 20)",
            id="truncated-plan",
        ),
        pytest.param("nowhere/template.yaml", "nowhere/template.yaml: no such file or folder", id="missing-path"),
    ],
)
def test_a_template_that_cannot_be_checked_exits_2_with_one_error_line(capsys, path, error):
    code, out, err = check(capsys, f"{CLI}/clean.yaml", path)
    assert (code, out, err) == (2, "", f"error: {error}\n")


def test_a_named_yaml_file_that_is_no_template_is_skipped_with_a_note(capsys):
    """pre-commit hands the hook every YAML and JSON file a commit touches: a workflow or a config is no finding."""
    code, _, err = check(capsys, "--json", f"{CLI}/clean.yaml", f"{CFN}/not_a_template.yaml")
    assert code == 0
    assert f"note: {CFN}/not_a_template.yaml: not a CloudFormation template or Terraform plan: skipped" in err


def test_a_template_saved_in_another_encoding_names_it_and_the_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "utf16.json").write_bytes('{"Resources": {}}'.encode("utf-16"))
    (tmp_path / "latin1.yaml").write_bytes("Resources: {}\nDescription: caf\u00e9\n".encode("latin-1"))
    assert check(capsys, "--project", str(ROOT), "utf16.json") == (
        2,
        "",
        "error: utf16.json: is UTF-16 (some Windows editors save that); rdkpack reads UTF-8: save it as UTF-8, e.g. "
        "`iconv -f UTF-16 -t UTF-8 utf16.json`\n",
    )
    assert check(capsys, "--project", str(ROOT), "latin1.yaml") == (
        2,
        "",
        "error: latin1.yaml: byte 30 (line 2) is b'\\xe9', not UTF-8 (Latin-1 or Windows-1252?): save the file as "
        "UTF-8\n",
    )


def test_unknown_pack_exits_2_naming_the_packs(capsys):
    code, out, err = check(capsys, "--pack", "rdk-guardrails-nope", f"{CLI}/clean.yaml")
    assert (code, out) == (2, "")
    assert err == (
        "error: --pack rdk-guardrails-nope: not a pack of rdk-config.json (rdk-guardrails-sandbox, "
        "rdk-guardrails-org-baseline)\n"
    )


def test_strict_makes_a_verdict_unknown_until_deployment_a_finding(capsys):
    """stack.json: the layer comes from a parameter's Default (an account the pack does not approve: a finding either
    way), the endpoint's subnets from a List parameter (unknown until deployment: a note, an error with --strict)."""
    code, out, _ = check(capsys, f"{CFN}/stack.json", "--output", "-", "--format", "sarif")
    strict_code, strict_out, _ = check(capsys, f"{CFN}/stack.json", "--strict", "--output", "-", "--format", "sarif")
    expected = [(LAYER, f"{CFN}/stack.json", 31, "BillingFunction"), (AZ, f"{CFN}/stack.json", 58, "SecretsEndpoint")]
    assert (code, sorted(map(located, sarif(out)["runs"][0]["results"]))) == (
        1,
        [(*expected[0], "error"), (*expected[1], "note")],
    )
    assert (strict_code, sorted(map(located, sarif(strict_out)["runs"][0]["results"]))) == (
        1,
        [(*where, "error") for where in expected],
    )


# --- folder walking -------------------------------------------------------------------------------------------------


def test_folder_walk_reads_templates_and_plans_and_skips_other_files_terraform_and_node_modules(
    capsys, tmp_path, monkeypatch
):
    repo = tmp_path / "repo"
    for folder in ("infra", "plans", "infra/.terraform/modules/x", "web/node_modules/pkg", "cdk.out"):
        (repo / folder).mkdir(parents=True)
    shutil.copy(ROOT / CFN / "lifecycle.yaml", repo / "infra")
    shutil.copy(ROOT / TF / "storage-network.plan.json", repo / "plans")
    for hidden in ("infra/.terraform/modules/x/template.yaml", "web/node_modules/pkg/template.yaml"):
        shutil.copy(ROOT / CFN / "lifecycle.yaml", repo / hidden)  # would be findings: never read
    (repo / "infra" / "serverless.yml").write_text(  # YAML of another tool, with an indented Resources key
        "service: orders\nresources:\n  Resources:\n    Bucket:\n      Type: AWS::S3::Bucket\n"
    )
    (repo / "cdk.out" / "manifest.json").write_text('{"version": "36.0.0", "artifacts": {}}')
    (repo / "web" / "package.json").write_text('{"name": "web", "Resources": "none"}')
    (repo / "README.md").write_text("Resources: see infra/\n")
    (repo / "plans" / "notes.txt").write_text('"planned_values"')
    monkeypatch.chdir(tmp_path)
    code, out, _ = check(capsys, "--project", str(ROOT), "--json", "repo")
    report = json.loads(out)
    assert (code, report["files"]) == (1, ["repo/infra/lifecycle.yaml", "repo/plans/storage-network.plan.json"])


def test_a_folder_without_a_template_exits_2_with_one_error_line(capsys, tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.yaml").write_text("title: notes\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = check(capsys, "--project", str(ROOT), "docs")
    errors = [line for line in err.splitlines() if not line.startswith("note: ")]  # notes a pack prints once
    assert (code, out, errors) == (
        2,
        "",
        ["error: docs: no CloudFormation template or Terraform plan found (expected .yaml, .json, .template)"],
    )


def test_a_minified_one_line_json_template_in_a_folder_is_found(capsys, tmp_path, monkeypatch):
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "min.json").write_text(
        '{"AWSTemplateFormatVersion":"2010-09-09","Resources":{"Fn":{"Type":"AWS::Lambda::Function",'
        '"Properties":{"Layers":["arn:aws:lambda:us-east-1:123456789012:layer:company-base:4"]}}}}'
    )
    monkeypatch.chdir(tmp_path)
    _, out, _ = check(capsys, "--project", str(ROOT), "--json", "infra")
    assert json.loads(out)["files"] == ["infra/min.json"]


# --- waivers --------------------------------------------------------------------------------------------------------


def test_active_metadata_waiver_is_a_sarif_suppression_with_its_comment_and_expiry_and_no_finding(capsys):
    code, out, _ = check(capsys, f"{CLI}/waived.yaml", "--output", "-", "--format", "sarif")
    (result,) = sarif(out)["runs"][0]["results"]
    assert code == 0
    assert located(result) == (LAYER, f"{CLI}/waived.yaml", 5, "ReportsFunction", "error")
    assert result["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "waived until 2099-12-31 (Metadata of ReportsFunction): Reports moves to the company "
            "layer with the v2 runtime (PLAT-42)",
        }
    ]
    code, out, _ = check(capsys, f"{CLI}/waived.yaml", "--json")
    assert json.loads(out)["summary"] == {"WAIVED": 1, OK: 1, "findings": 0}


def test_expired_waiver_is_a_finding_saying_when_and_one_without_expiry_is_a_waiver_finding(capsys):
    code, out, _ = check(capsys, f"{CLI}/lapsed-waivers.yaml", "--output", "-", "--format", "sarif")
    results = sarif(out)["runs"][0]["results"]
    assert code == 1
    assert [(located(r), r["message"]["text"], "suppressions" in r) for r in results] == [
        (
            (LAYER, f"{CLI}/lapsed-waivers.yaml", 5, "IngestFunction", "error"),
            "The function has no layers; expected arn:aws:lambda:*:123456789012:layer:company-base at version >= 2. "
            "(waiver of LAMBDA_LAYER_CHECK (Metadata of IngestFunction) expired on 2024-01-31: Until the 2023 "
            "migration)",
            False,
        ),
        (
            (LAYER, f"{CLI}/lapsed-waivers.yaml", 22, "ExportFunction", "error"),
            "The function has no layers; expected arn:aws:lambda:*:123456789012:layer:company-base at version >= 2.",
            False,  # a waiver without an expiry waives nothing
        ),
        (
            ("RDK_WAIVER", f"{CLI}/lapsed-waivers.yaml", 22, "ExportFunction", "error"),
            "waiver of LAMBDA_LAYER_CHECK (Metadata of ExportFunction) has no expires: each says why and until when",
            False,
        ),
    ]


WAIVERS_FILE = """waivers:
  - file: "infra/*.yaml"
    resource: "Legacy*"
    id: LAMBDA_LAYER_CHECK
    comment: Legacy functions take the company layer in Q3 (PLAT-7)
    expires: 2099-06-30
  - file: "plans/*.plan.json"
    resource: 'aws_lambda_function.api["billing"]'
    id: LAMBDA_CODE_SIGNING_CHECK
    comment: Billing is signed by the new pipeline (PLAT-9)
    expires: 2099-06-30
  - file: "other/*.yaml"
    resource: "*"
    id: LAMBDA_CODE_SIGNING_CHECK
    comment: Not these templates
    expires: 2099-06-30
  - file: "infra/lapsed-waivers.yaml"
    resource: IngestFunction
    id: LAMBDA_LAYER_CHECK
    comment: Renewed until the 2099 migration (PLAT-11)
    expires: 2099-01-31
"""
APP = """Resources:
  LegacyReports:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: legacy-reports}
  NewReports:
    Type: AWS::Lambda::Function
    Properties: {FunctionName: new-reports}
"""


def test_waivers_file_beside_rdk_config_matches_file_and_resource_globs_terraform_addresses_too(capsys, tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "rdk-waivers.yaml").write_text(WAIVERS_FILE)
    (project / "infra").mkdir()
    (project / "plans").mkdir()
    (project / "infra" / "app.yaml").write_text(APP)
    shutil.copy(ROOT / CLI / "lapsed-waivers.yaml", project / "infra")  # its Metadata waiver expired: renewed here
    shutil.copy(ROOT / TF / "functions.plan.json", project / "plans")
    code, out, _ = check(capsys, "--project", str(project), "--json", str(project / "infra"), str(project / "plans"))
    report = json.loads(out)
    waived = {(row["resource"], row["rule"]): row["waiver_note"] for row in report["results"] if row["waiver"]}
    assert (code, waived) == (
        1,
        {
            ("LegacyReports", LAYER): "waived until 2099-06-30 (rdk-waivers.yaml entry 1): Legacy functions take the "
            "company layer in Q3 (PLAT-7)",
            ("IngestFunction", LAYER): "waived until 2099-01-31 (rdk-waivers.yaml entry 4): Renewed until the 2099 "
            "migration (PLAT-11)",
            ("ExportFunction", LAYER): "waiver of LAMBDA_LAYER_CHECK (Metadata of ExportFunction) has no expires: "
            "each says why and until when",  # the RDK_WAIVER finding
            ('aws_lambda_function.api["billing"]', SIGNING): "waived until 2099-06-30 (rdk-waivers.yaml entry 2): "
            "Billing is signed by the new pipeline (PLAT-9)",
        },
    )
    unwaived = {(row["resource"], row["rule"]) for row in report["results"] if row["compliance"] == BAD}
    assert {("NewReports", LAYER), ("LegacyReports", SIGNING), ('aws_lambda_function.api["orders"]', SIGNING)} <= (
        unwaived - set(waived)
    )


@pytest.mark.parametrize(
    ("address", "pattern", "matches"),
    [
        pytest.param('aws_lambda_function.api["billing"]', 'aws_lambda_function.api["billing"]', True, id="for-each"),
        pytest.param('aws_lambda_function.api["orders"]', 'aws_lambda_function.api["billing"]', False, id="other-key"),
        pytest.param("module.net.aws_vpc_endpoint.interface[0]", "*.aws_vpc_endpoint.interface[0]", True, id="count"),
        pytest.param("module.net.aws_vpc_endpoint.interface0", "*.aws_vpc_endpoint.interface[0]", False, id="literal"),
        pytest.param('aws_lambda_function.api["orders"]', "aws_lambda_function.api[*]", True, id="any-key"),
        pytest.param("OrdersFunction1A2B3C4D", "OrdersFunction????????", True, id="question-marks"),
        pytest.param("OrdersFunction", "orders*", False, id="case-sensitive"),
    ],
)
def test_waiver_resource_globs_take_brackets_literally(address, pattern, matches):
    assert address_matches(address, pattern) is matches


@pytest.mark.parametrize(
    ("today", "notes"),
    [
        pytest.param(
            date(2099, 12, 1),
            [f"{CLI}/waived.yaml:5 ReportsFunction: the waiver of {LAYER} expires on 2099-12-31"],
            id="30-days-before",
        ),
        pytest.param(
            date(2099, 12, 31),
            [f"{CLI}/waived.yaml:5 ReportsFunction: the waiver of {LAYER} expires on 2099-12-31"],
            id="on-the-day",
        ),
        pytest.param(date(2099, 11, 30), [], id="31-days-before"),
        pytest.param(date(2100, 1, 1), [], id="expired"),
    ],
)
def test_waivers_expiring_within_30_days_are_listed_as_notes(today, notes):
    report = run.check(load_project(ROOT), "rdk-guardrails-sandbox", [ROOT / CLI / "waived.yaml"], today=today)
    assert [note for note in report.notes if "waiver" in note] == notes
    assert [row.waiver for row in report.rows if row.rule == LAYER] == ["expired" if today.year == 2100 else "active"]


def test_a_waiver_naming_no_rule_of_the_pack_is_a_waiver_finding(capsys, tmp_path, monkeypatch):
    """A typo (the rule is S3_LIFECYCLE_ASTERISK_PREFIX_CHECK) waives nothing and says so."""
    (tmp_path / "bucket.yaml").write_text(
        "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Metadata:\n      rdk-guardrails:\n        skip:\n"
        "          - id: S3_LIFECYCLE_ASTERISK_PREFIX\n            comment: typo\n            expires: 2099-12-31\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = check(capsys, "--project", str(ROOT), "bucket.yaml", "--output", "-", "--format", "sarif")
    results = [r for r in sarif(out)["runs"][0]["results"] if r["ruleId"] == "RDK_WAIVER"]
    assert code == 1
    assert [(r["level"], r["message"]["text"]) for r in results] == [
        (
            "error",
            "waiver of S3_LIFECYCLE_ASTERISK_PREFIX (Metadata of Bucket) names no rule of this pack: it waives nothing",
        )
    ]
