"""Exemption tags with an expiry (`expires=YYYY-MM-DD` in the tag's value) everywhere a live resource is judged:
the rule kit, the deletion remediation that must spare exactly what the idle rule exempts, a scan of an account,
and `expiring_waivers`, the list of waivers that end soon."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import boto3
import pytest

from rdkpack.account import scan
from rdkpack.account.demo_account import seed
from rdkpack.account.scan import Result, expiring_waivers
from rdkpack.project import kit
from rdkpack.project.config import load_project
from tests.support.project import ROOT, load_module, load_remediation_script

rule_kit = load_module(kit.CANONICAL, "expiry_rule_kit")
TODAY = date(2027, 1, 1)
IDLE = "VPC_ENDPOINT_IDLE_CHECK"


def exempt_until(until: date, tag: str = "idle-exempt", value: str = "") -> str:
    """The annotation the rules give a resource exempt until `until`, made by the kit itself."""
    key = tag.partition("=")[0]
    parsed = rule_kit.parse_exemption_tag({"ExemptionTag": tag})
    found = parsed.exemption({key: f"{value} expires={until.isoformat()}".strip()}, TODAY)
    return found.reason("endpoint")


def result(resource_id: str, annotation: str, compliance="NOT_APPLICABLE", rule=IDLE, **where) -> Result:
    return Result(rule, "AWS::EC2::VPCEndpoint", resource_id, compliance, annotation, **where)


def test_expiring_waivers_lists_those_ending_within_30_days_soonest_first():
    results = [
        result("vpce-late", exempt_until(TODAY + timedelta(days=30), "team=platform", "platform")),
        result("vpce-soon", exempt_until(TODAY, value="DR standby")),
        result("vpce-later", exempt_until(TODAY + timedelta(days=31))),
        result("vpce-gone", exempt_until(TODAY - timedelta(days=1))),
        result("vpce-forever", "Exempt: the endpoint carries tag idle-exempt."),
        result("vpce-judged", "The endpoint processed 5 bytes in the last 30 day(s).", "COMPLIANT"),
    ]
    assert expiring_waivers(results, TODAY) == [
        f"{IDLE} vpce-soon: exempt until 2027-01-01 (tag idle-exempt)",
        f"{IDLE} vpce-late: exempt until 2027-01-31 (tag team=platform)",
    ]
    assert expiring_waivers(results, TODAY, days=0) == [f"{IDLE} vpce-soon: exempt until 2027-01-01 (tag idle-exempt)"]


def test_expiring_waivers_names_the_account_and_region_when_the_scan_set_them():
    annotation = exempt_until(TODAY + timedelta(days=3))
    results = [
        result("vpce-b", annotation, account="222222222222", region="eu-west-1"),
        result("vpce-a", annotation, account="111111111111", region="us-east-1"),
        result("fn", annotation.replace("endpoint", "function"), rule="LAMBDA_LAYER_CHECK", region="us-east-1"),
    ]
    assert expiring_waivers(results, TODAY) == [
        "LAMBDA_LAYER_CHECK fn (us-east-1): exempt until 2027-01-04 (tag idle-exempt)",
        f"{IDLE} vpce-a (111111111111 us-east-1): exempt until 2027-01-04 (tag idle-exempt)",
        f"{IDLE} vpce-b (222222222222 eu-west-1): exempt until 2027-01-04 (tag idle-exempt)",
    ]


def test_expiring_waivers_reads_an_annotation_cut_to_256_characters_and_skips_one_with_no_such_day():
    long_value = exempt_until(TODAY + timedelta(days=1), value="x" * 240)
    assert len(long_value) == 256 and long_value.endswith("...).")
    results = [
        result("vpce-long", long_value),
        result("vpce-cut", "Exempt until 2027-01-05: the endpoint carries tag idle-exempt (expires=2027-01-05 lo..."),
        result("vpce-edited", "Exempt until 2027-02-30: the endpoint carries tag idle-exempt (expires=2027-02-30)."),
    ]
    assert expiring_waivers(results, TODAY) == [
        f"{IDLE} vpce-long: exempt until 2027-01-02 (tag idle-exempt)",
        f"{IDLE} vpce-cut: exempt until 2027-01-05 (tag idle-exempt)",
    ]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("idle-exempt", ""),
        ("idle-exempt", "DR standby"),
        ("idle-exempt", "expires=2027-01-01 DR standby"),
        ("idle-exempt", "DR expires=2026-12-31"),
        ("idle-exempt", "Expires=2027-06-30"),
        ("idle-exempt", "expires=2027-02-30"),
        ("idle-exempt", "expires=27-1-1"),
        ("idle-exempt", "expires=2027-06-30 expires=2020-01-01"),
        ("team=platform", "platform"),
        ("team=platform", "platform expires=2027-01-01"),
        ("team=platform", "platform expires=2026-12-31"),
        ("team=platform", "platformer expires=2027-06-30"),
        ("team=platform", "ops platform"),
        ("team=platform ops", "platform ops expires=2027-06-30"),
        ("team=", ""),
        ("team=", "expires=2027-06-30"),
        ("team=", "platform"),
        ("other", "expires=2027-06-30"),
    ],
)
def test_the_deletion_refuses_exactly_while_the_idle_rule_exempts_the_endpoint(parameter, value):
    """The script ships alone, so it carries its own reading of the tag: it must agree with the kit's."""
    script = load_remediation_script("DeleteIdleVpcEndpoint")
    tags = {"idle-exempt": value, "team": value}
    exemption = rule_kit.parse_exemption_tag({"ExemptionTag": parameter}).exemption(tags, TODAY)
    rule_exempts = bool(exemption and exemption.in_force)
    endpoint = script.Endpoint(
        "vpce-0123456789abcdef0",
        "Interface",
        "available",
        False,
        "vpc-0123456789abcdef0",
        "com.amazonaws.us-east-1.ssm",
        (),
        False,
        None,
        "",
        {"Tags": [{"Key": key, "Value": tag_value} for key, tag_value in tags.items()]},
    )
    try:
        script.check_not_excluded(endpoint, script.parse_exemption(parameter), (), TODAY)
        script_refuses = False
    except script.RemediationRefused as refusal:
        script_refuses = True
        until = f" until {exemption.expires.isoformat()}" if exemption.expires else ""
        assert f"carries the exemption tag {parameter.strip()}{until}: it is not deleted" in str(refusal)
    assert script_refuses is rule_exempts


@pytest.fixture
def account(moto_server_url, monkeypatch):
    """The demo account behind moto_server, with two idle-exempt endpoints: one dated ahead, one expired."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    seed(session)
    ec2 = session.client("ec2")
    interface = [e for e in ec2.describe_vpc_endpoints()["VpcEndpoints"] if e["VpcEndpointType"] == "Interface"]
    today = datetime.now(UTC).date()
    soon, lapsed = (today + timedelta(days=10)).isoformat(), (today - timedelta(days=1)).isoformat()
    waived, expired = interface[0]["VpcEndpointId"], interface[1]["VpcEndpointId"]
    ec2.create_tags(Resources=[waived], Tags=[{"Key": "idle-exempt", "Value": f"DR standby expires={soon}"}])
    ec2.create_tags(Resources=[expired], Tags=[{"Key": "idle-exempt", "Value": f"expires={lapsed}"}])
    return session, waived, expired, soon, lapsed


def test_a_scan_judges_dated_exemption_tags_and_lists_the_waiver_that_ends_soon(account):
    session, waived, expired, soon, lapsed = account
    report = scan.scan_account(load_project(ROOT), "rdk-guardrails-sandbox", session, only=[IDLE])
    found = {r.resource_id: r for r in report.before}
    assert (found[waived].compliance, found[waived].annotation) == (
        "NOT_APPLICABLE",
        f"Exempt until {soon}: the endpoint carries tag idle-exempt (DR standby expires={soon}).",
    )
    assert found[expired].annotation.endswith(f" Waiver (tag idle-exempt) expired on {lapsed}.")
    assert not found[expired].annotation.startswith("Exempt")
    today = datetime.now(UTC).date()
    assert expiring_waivers(report.before, today) == [f"{IDLE} {waived}: exempt until {soon} (tag idle-exempt)"]
