"""Machine formats of a scan: JSON with a versioned, documented shape (a JSON Schema in the package), and
JUnit XML as CI readers take it."""

from __future__ import annotations

import json
from importlib import resources
from xml.etree import ElementTree

import jsonschema
import pytest

from rdkpack import report
from rdkpack.account.org import Failure, OrgReport
from rdkpack.account.scan import REPORT_FORMAT, Result, ScanReport
from tests.support.project import ROOT

SCHEMA = json.loads(resources.files("rdkpack.project.schemas").joinpath("scan-report.schema.json").read_text())
HOSTILE = 'a <b> & "c" \x07 ]]> end'
RESULTS = [
    Result("LAMBDA_LAYER_CHECK", "AWS::Lambda::Function", "orders", "NON_COMPLIANT", "The function has no layers."),
    Result("LAMBDA_LAYER_CHECK", "AWS::Lambda::Function", "search", "COMPLIANT", "ok"),
    Result("LAMBDA_LAYER_CHECK", "AWS::Lambda::Function", "ml", "NOT_APPLICABLE", "Image package type."),
    Result("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "AWS::S3::Bucket", "logs", "ERROR", "access denied for s3:x"),
    Result("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "AWS::S3::Bucket", HOSTILE, "NON_COMPLIANT", HOSTILE),
]


def single() -> ScanReport:
    return ScanReport("rdk-guardrails-sandbox", "api", RESULTS)


def organization() -> OrgReport:
    results = [
        Result(r.rule, r.resource_type, r.resource_id, r.compliance, r.annotation, "555555555555", "eu-west-1")
        for r in RESULTS
    ]
    failures = [Failure("777777777777", "us-east-1", "cannot assume R: access denied for sts:AssumeRole")]
    return OrgReport("rdk-guardrails-org-baseline", "role R", results, failures, {"X": "reads live APIs"})


@pytest.mark.parametrize("made", [single, organization])
def test_the_json_follows_its_versioned_schema(made):
    document = json.loads(report.to_json(made(), "t"))
    assert document["format"] == REPORT_FORMAT == SCHEMA["properties"]["format"]["const"]
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def test_the_schema_rejects_a_document_of_another_version_or_with_an_unknown_verdict():
    document = json.loads(report.to_json(single(), "t"))
    for broken in (
        {**document, "format": "rdkpack-scan-report/0"},
        {**document, "results": [{**document["results"][0], "compliance": "MAYBE"}]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.Draft202012Validator(SCHEMA).validate(broken)


@pytest.mark.parametrize("made", [single, organization])
def test_junit_has_a_suite_per_rule_a_case_per_evaluation_and_the_counts(made):
    root = ElementTree.fromstring(report.to_junit(made(), "rdk scan"))
    assert root.tag == "testsuites" and root.get("name") == "rdk scan"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "5",
        "failures": "2",
        "errors": "1",
        "skipped": "1",
    }
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert sorted(suites) == ["LAMBDA_LAYER_CHECK", "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"]
    layer = suites["LAMBDA_LAYER_CHECK"]
    assert (layer.get("tests"), layer.get("failures"), layer.get("skipped")) == ("3", "1", "1")
    cases = {case.get("name"): case for suite in root for case in suite.findall("testcase")}
    failure = cases[next(name for name in cases if "orders" in name)].find("failure")
    assert (failure.get("type"), failure.get("message")) == ("NON_COMPLIANT", "The function has no layers.")
    assert cases[next(name for name in cases if "logs" in name)].find("error").get("type") == "ERROR"
    hostile = next(name for name in cases if "<b>" in name)
    assert "\x07" not in hostile and cases[hostile].find("failure").get("message") == HOSTILE.replace("\x07", "\\x07")
    if made is organization:
        assert all("(555555555555 eu-west-1)" in name for name in cases)


def test_a_report_path_ending_in_xml_is_junit(tmp_path):
    assert report.renderer(tmp_path / "results.xml") is report.to_junit


SARIF = json.loads((ROOT / "tests" / "support" / "schemas" / "sarif-schema-2.1.0.json").read_text())


@pytest.mark.parametrize("made", [single, organization])
def test_sarif_follows_the_sarif_2_1_0_schema_with_a_rule_per_guardrail_and_a_result_per_finding(made):
    built = made()
    built.descriptions = {"LAMBDA_LAYER_CHECK": "Checks the layer.", "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK": "Checks S3."}
    document = json.loads(report.to_sarif(built, "t"))
    jsonschema.Draft4Validator(SARIF).validate(document)
    run = document["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == sorted(built.descriptions)
    assert run["tool"]["driver"]["rules"][0]["fullDescription"]["text"] == "Checks the layer."
    results = run["results"]
    assert [(r["ruleId"], r["message"]["text"]) for r in results] == [
        ("LAMBDA_LAYER_CHECK", "The function has no layers."),
        ("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", HOSTILE),
    ]
    where = results[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
    prefix = "555555555555/eu-west-1/" if made is organization else ""
    assert where == f"{prefix}AWS::Lambda::Function/orders"
    assert len({r["partialFingerprints"]["rdkpackResource/v1"] for r in results}) == 2, "stable, one per finding"


def test_the_sarif_check_would_catch_a_broken_document():
    document = json.loads(report.to_sarif(single(), "t"))
    document["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SARIF).validate(document)


def test_a_report_path_ending_in_sarif_is_sarif(tmp_path):
    assert report.renderer(tmp_path / "scan.sarif") is report.to_sarif
