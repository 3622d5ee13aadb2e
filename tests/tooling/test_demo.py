"""rdkpack demo: the whole loop on the embedded account, end to end."""

from __future__ import annotations

import json
import os
import shutil
import threading

import pytest

from rdkpack.account import demo_account
from rdkpack.account.demo import DEMO_PACK, run_demo
from rdkpack.account.scan import counts
from rdkpack.cli import main
from rdkpack.project.config import load_project
from tests.support.project import ROOT

PROJECT = load_project(ROOT)


@pytest.fixture(scope="module")
def report():
    return run_demo(PROJECT)


def verdicts(results):
    return {(r.rule, r.resource_id): r.compliance for r in results}


def test_demo_evaluates_every_seeded_resource_with_every_rule(report):
    assert report.resources == 17
    assert counts(report.before) == {"COMPLIANT": 7, "NON_COMPLIANT": 11, "NOT_APPLICABLE": 10}
    before = verdicts(report.before)
    assert before[("LAMBDA_LAYER_CHECK", "orders-no-layer-0")] == "NON_COMPLIANT"
    assert before[("LAMBDA_LAYER_CHECK", "billing-old-layer-0")] == "NON_COMPLIANT"
    assert before[("LAMBDA_LAYER_CHECK", "search-current-layer-0")] == "COMPLIANT"
    assert before[("LAMBDA_CODE_SIGNING_CHECK", "ml-image-0")] == "NOT_APPLICABLE"
    assert before[("LAMBDA_CODE_SIGNING_CHECK", "orders-no-layer-0")] == "COMPLIANT"
    assert before[("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "demo-clean-0")] == "COMPLIANT"
    assert before[("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "demo-no-lifecycle-0")] == "NOT_APPLICABLE"


@pytest.mark.parametrize("rule", sorted(rule.name for rule in PROJECT.packs[DEMO_PACK].rules))
def test_the_demo_seeds_a_compliant_and_a_non_compliant_resource_for_every_rule(report, rule):
    seen = {r.compliance for r in report.before if r.rule == rule}
    for verdict in ("COMPLIANT", "NON_COMPLIANT"):
        assert verdict in seen, (
            f"the demo seeds no {verdict} resource for {rule}: add one in rdkpack/account/demo_account.py"
        )


def test_a_code_signed_function_with_an_unsigned_layer_is_named_by_layer_and_publishers(report):
    found = {(r.rule, r.resource_id): r for r in report.before}[("LAMBDA_CODE_SIGNING_CHECK", "search-current-layer-0")]
    assert found.compliance == "NON_COMPLIANT"
    assert found.annotation.startswith("Layer arn:aws:lambda:us-east-1:123456789012:layer:other-tools:1 is unsigned;")
    assert found.annotation.endswith(f"allows publishers: {demo_account.SIGNING_PROFILE}.")


def test_remediation_fixes_all_but_the_unsigned_layer_and_the_expiring_and_star_dot_log_buckets(report):
    assert counts(report.after) == {"COMPLIANT": 13, "NON_COMPLIANT": 5, "NOT_APPLICABLE": 10}
    remaining = [r for r in report.after if r.compliance == "NON_COMPLIANT"]
    idle = idle_endpoint(report)
    assert [(r.rule, r.resource_id) for r in remaining] == [
        ("LAMBDA_CODE_SIGNING_CHECK", "search-current-layer-0"),  # attaching a config cannot sign a layer
        ("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "demo-star-0"),
        ("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "demo-logs-star-0"),
        ("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "demo-star-dot-log-0"),
        ("VPC_ENDPOINT_IDLE_CHECK", idle.resource_id),  # deleting needs ApproveDeletion=true
    ]
    runs = {run.resource_id: run for run in report.remediations}
    assert len(report.remediations) == 11
    assert runs["demo-star-dot-log-0"].status == "FAILED"
    assert "'*.log' has '*' before the end of the prefix" in runs["demo-star-dot-log-0"].message
    refused = {"demo-star-0", "demo-logs-star-0", "demo-star-dot-log-0", idle.resource_id}
    unsigned = next(run for run in report.remediations if run.resource_id == "search-current-layer-0")
    assert (unsigned.rule, unsigned.status) == ("LAMBDA_CODE_SIGNING_CHECK", "NO_CHANGE")
    changed = [run for run in report.remediations if run.resource_id not in refused and run is not unsigned]
    assert all(run.status == "CHANGED" for run in changed)


@pytest.mark.parametrize(
    ("bucket", "rewrite"),
    [
        ("demo-star-0", "rule expire-everything Prefix '*' -> '' (expires objects: Expiration.Days=30; "),
        ("demo-logs-star-0", "rule expire-logs Filter.And.Prefix 'logs/*' -> 'logs/' (expires objects: "),
    ],
)
def test_automatic_fix_refuses_expiring_buckets_with_their_blast_radius_and_leaves_them_unchanged(
    report, bucket, rewrite
):
    run = {run.resource_id: run for run in report.remediations}[bucket]
    assert (run.status, run.plan) == ("FAILED", "refused")
    assert rewrite in run.message
    matched = "5 objects" if bucket == "demo-star-0" else "3 objects"
    assert f"the new prefix matches {matched}" in run.message
    assert "re-run with IncludeExpiringRules=true" in run.message and run.message.endswith("Nothing was changed.")
    after = {r.resource_id: r for r in report.after if r.rule == "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"}[bucket]
    before = {r.resource_id: r for r in report.before if r.rule == "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"}[bucket]
    assert (after.compliance, after.annotation) == ("NON_COMPLIANT", before.annotation), "left unchanged"


def test_automatic_fix_rewrites_the_transition_only_bucket_and_shows_its_blast_radius(report):
    run = {run.resource_id: run for run in report.remediations}["demo-slash-star-0"]
    assert run.plan.startswith(
        "Would rewrite rule archive-root Filter.Prefix '/*' -> '' "
        "(expires no objects; the new prefix matches 5 objects)."
    )
    assert run.status == "CHANGED"
    assert verdicts(report.after)[("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "demo-slash-star-0")] == "COMPLIANT"


def idle_endpoint(report):
    """The demo's idle endpoint: the one the idle rule finds NON_COMPLIANT before remediation."""
    found = [r for r in report.before if r.rule == "VPC_ENDPOINT_IDLE_CHECK" and r.compliance == "NON_COMPLIANT"]
    assert len(found) == 1, found
    return found[0]


def test_the_idle_endpoint_is_found_and_the_busy_one_is_compliant_by_their_traffic(report):
    idle = idle_endpoint(report)
    assert idle.annotation == (
        "The endpoint processed 0 bytes in the last 30 day(s) (MaxIdleBytes 0): idle. Its 1 AZ(s) bill about "
        "$7.30 a month (1 x $0.01/AZ-hour x 730 h)."
    )
    busy = [r for r in report.before if r.rule == "VPC_ENDPOINT_IDLE_CHECK" and r.compliance == "COMPLIANT"]
    assert [r.annotation for r in busy] == ["The endpoint processed 53,477,376 bytes in the last 30 day(s)."]
    young = [
        r for r in report.before if r.rule == "VPC_ENDPOINT_IDLE_CHECK" and "younger than IdleDays" in r.annotation
    ]
    assert len(young) == 4, "the endpoints created by the demo itself are too young to judge"


def test_deleting_the_idle_endpoint_is_refused_without_approval_and_shows_the_blast_radius(report):
    idle = idle_endpoint(report)
    run = {run.resource_id: run for run in report.remediations}[idle.resource_id]
    assert (run.document, run.status) == ("DeleteIdleVpcEndpoint", "FAILED")
    assert run.plan.startswith("Would delete: Deleting ") and run.plan.endswith("needs ApproveDeletion=true.")
    assert "com.amazonaws.us-east-1.secretsmanager" in run.message and "Private DNS is on" in run.message
    assert '"ServiceName": "com.amazonaws.us-east-1.secretsmanager"' in run.message, "the recreate spec"
    assert run.message.endswith("then re-run with ApproveDeletion=true. Nothing was changed.")
    after = {(r.rule, r.resource_id): r.compliance for r in report.after}
    assert after[("VPC_ENDPOINT_IDLE_CHECK", idle.resource_id)] == "NON_COMPLIANT", "still there"


def test_demo_runs_a_dry_run_plan_before_each_change(report):
    endpoint_runs = [run for run in report.remediations if run.document == "ReduceVpcEndpointAzCount"]
    assert sorted(run.plan for run in endpoint_runs) == [
        "Would remove the subnets in us-east-1a.",
        "Would remove the subnets in us-east-1c, us-east-1a.",
    ]


def test_no_remediate_evaluates_only():
    report = run_demo(PROJECT, remediation=False)
    assert report.remediations == [] and report.after == []
    assert counts(report.before)["NON_COMPLIANT"] == 11


def test_scale_multiplies_the_resources():
    report = run_demo(PROJECT, scale=2, remediation=False)
    assert report.resources == 34
    assert counts(report.before) == {"COMPLIANT": 14, "NON_COMPLIANT": 22, "NOT_APPLICABLE": 20}


def test_demo_restores_the_environment_and_leaves_nothing_running():
    environment, threads = dict(os.environ), threading.active_count()
    run_demo(PROJECT, remediation=False)
    assert dict(os.environ) == environment
    assert threading.active_count() == threads


@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    for item in ("rules", "remediations", "conformance-packs", "preventive", "rdk-config.json"):
        copy = shutil.copytree if (ROOT / item).is_dir() else shutil.copy
        copy(ROOT / item, tmp_path / item)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_demo_json_and_reports(project_copy, capsys):
    assert main(["demo", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["format"] == "rdkpack-demo-report/1"
    assert output["summary"] == {
        "before": {"COMPLIANT": 7, "NON_COMPLIANT": 11, "NOT_APPLICABLE": 10},
        "after": {"COMPLIANT": 13, "NON_COMPLIANT": 5, "NOT_APPLICABLE": 10},
    }
    markdown = (project_copy / "reports" / "demo-report.md").read_text()
    page = (project_copy / "reports" / "demo-report.html").read_text()
    assert "## After remediation" in markdown and "demo-star-dot-log-0" in markdown
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "src=" not in page and "<link" not in page, "the page must be self-contained"


def test_cli_demo_prints_tables(project_copy, capsys):
    assert main(["demo", "--no-remediate"]) == 0
    out = capsys.readouterr().out
    assert "Before: pack rdk-guardrails-sandbox, 17 seeded resources" in out
    assert "NON_COMPLIANT" in out
