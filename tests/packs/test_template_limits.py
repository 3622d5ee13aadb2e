"""validate measures every generated template against the API that receives it."""

from __future__ import annotations

import dataclasses
import json

from rdkpack.packs import template_limits, validate
from rdkpack.packs.limits import FUNCTION_POLICY_MAX, STACK_TEMPLATE_BODY_MAX
from rdkpack.project.config import load_project
from tests.support.project import ROOT

PROJECT = load_project(ROOT)


def measured(project, files):
    return template_limits.measure(project, files, validate.Finding)


def test_a_prerequisite_over_the_inline_limit_is_noted_as_staged_and_one_over_1_mb_fails(tmp_path):
    small, staged, huge = tmp_path / "small.yaml", tmp_path / "staged.yaml", tmp_path / "huge.yaml"
    small.write_text("Resources: {}\n# " + "x" * (STACK_TEMPLATE_BODY_MAX - 20) + "\n")
    staged.write_text("Resources: {}\n# " + "x" * STACK_TEMPLATE_BODY_MAX + "\n")
    huge.write_text("Resources: {}\n# " + "x" * 1_000_001 + "\n")
    found = {(f.file.rsplit("/", 1)[-1], f.code, f.severity) for f in measured(PROJECT, [small, staged, huge])}
    assert found == {("staged.yaml", "TEMPLATE_VIA_S3", "note"), ("huge.yaml", "TEMPLATE_SIZE", "error")}


def test_the_committed_ssm_documents_template_goes_through_s3_and_each_document_fits_ssm():
    path = ROOT / "conformance-packs" / "prerequisites" / "ssm-documents.yaml"
    assert path.stat().st_size > STACK_TEMPLATE_BODY_MAX  # the reason rollout stages it
    assert [f.code for f in measured(PROJECT, [path])] == ["TEMPLATE_VIA_S3"]


def test_an_ssm_document_over_64_kb_is_an_error(tmp_path):
    content = {"schemaVersion": "0.3", "description": "x" * 70_000, "mainSteps": []}
    path = tmp_path / "docs.yaml"
    path.write_text(
        json.dumps({"Resources": {"Big": {"Type": "AWS::SSM::Document", "Properties": {"Content": content}}}})
    )
    [finding] = [f for f in measured(PROJECT, [path]) if f.code == "DOCUMENT_SIZE"]
    assert (finding.resource, finding.field, finding.severity) == ("Big", "Properties.Content", "error")


def test_central_functions_whose_invoke_statements_would_not_fit_20_kb_are_refused_naming_the_stackset_mode():
    statement = template_limits.invoke_statement_bytes(PROJECT)
    fits = (FUNCTION_POLICY_MAX - template_limits.policy_envelope_bytes()) // statement
    accounts = tuple(f"{n:012d}" for n in range(fits + 1))
    assert 40 <= fits <= 60  # what the README tells a small organization
    ok = dataclasses.replace(PROJECT, lambda_location="central", invoker_account_ids=accounts[:fits])
    assert measured(ok, []) == []
    too_many = dataclasses.replace(PROJECT, lambda_location="central", invoker_account_ids=accounts)
    [finding] = measured(too_many, [])
    assert finding.code == "FUNCTION_POLICY_SIZE"
    assert f"{fits + 1} invoking accounts" in finding.message and '"local"' in finding.message
