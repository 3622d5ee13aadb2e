"""rdkpack remediate --pack P --rule R across accounts and regions: AWS Config's remediation control plane faked in
front of the in-process moto (tests/support/config_remediation_fake.py), the committed document run by Config's
stand-in in a fresh Python 3.11 process against moto's backends served on 127.0.0.1."""

from __future__ import annotations

import functools
import json
from xml.etree import ElementTree

import boto3
import pytest
from moto import mock_aws

from rdkpack.account import local_endpoint
from rdkpack.cli import main
from rdkpack.project.config import load_project
from rdkpack.remediate import bulk
from tests.support.config_remediation_fake import BUCKET, ConfigRemediationFake, Member, deployed_rule_name
from tests.support.project import ROOT

PACK = "rdk-guardrails-org-baseline"
RULE = "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"
RULE_NAME = deployed_rule_name(RULE)
ACCOUNTS = ("555555555555", "666666666666")
DENIED = "777777777777"
REGIONS = ("us-east-1", "eu-west-1")
PAIRS = [(account, region) for account in ACCOUNTS for region in REGIONS]
ROLE = "RdkGuardrailsRemediationStarter"
TEMPLATE_ROLE = "arn:aws:iam::222222222222:role/RdkGuardrailsRemediationRole"
ABORT_UPLOADS = {
    "ID": "abort-uploads",
    "Status": "Enabled",
    "Filter": {"Prefix": "*"},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
}
EXPIRING = {"ID": "expire-all", "Status": "Enabled", "Filter": {"Prefix": "*"}, "Expiration": {"Days": 30}}


def fixable(account: str, region: str) -> str:
    return f"fix-{account}-{region}"


def expiring(account: str, region: str) -> str:
    return f"expiring-{account}-{region}"


def command(*extra: str, accounts=ACCOUNTS, regions=REGIONS) -> list[str]:
    """rdkpack remediate of the rule in `accounts` (none: the caller's own account) and `regions`."""
    argv = ["remediate", "--pack", PACK, "--rule", RULE, "--regions", *regions]
    if accounts:
        argv += ["--accounts", *accounts, "--role-name", ROLE]
    return [*argv, *extra]


def s3_in(account: str, region: str):
    """An S3 client in the member account (moto's STS answers that account's credentials)."""
    arn = f"arn:aws:iam::{account}:role/seed"
    keys = boto3.client("sts").assume_role(RoleArn=arn, RoleSessionName="seed")["Credentials"]
    return boto3.client(
        "s3",
        region_name=region,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )


def lifecycle(account: str, region: str, bucket: str) -> list[dict]:
    return s3_in(account, region).get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]


@pytest.fixture(scope="module")
def endpoint():
    """moto's in-process backends over HTTP, for the documents' steps in their own Python 3.11 processes."""
    with local_endpoint.serve() as url:
        yield url


@pytest.fixture
def fake(endpoint, monkeypatch):
    """Two member accounts x two regions, each with a fixable and an expiring `*` bucket, both NON_COMPLIANT in
    Config (and a COMPLIANT one), the pack deployed by the organization; rdkpack polls without pausing."""
    with mock_aws():
        config = ConfigRemediationFake(ROOT, PACK, endpoint_url=endpoint)
        config.install(monkeypatch)
        monkeypatch.setattr(bulk, "Request", functools.partial(bulk.Request, poll_seconds=0.0, sleep=config.sleep))
        for account, region in PAIRS:
            s3 = s3_in(account, region)
            location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            for bucket, rule in ((fixable(account, region), ABORT_UPLOADS), (expiring(account, region), EXPIRING)):
                s3.create_bucket(Bucket=bucket, **location)
                s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule]})
            config.deploy(account, region)
            config.evaluate(account, region, RULE, [fixable(account, region), expiring(account, region)])
            config.evaluate(account, region, RULE, [f"clean-{account}-{region}"], compliance="COMPLIANT")
        yield config


def rows(report: dict) -> dict[tuple[str, str, str], dict]:
    return {(row["account"], row["region"], row["resource_id"]): row for row in report["outcomes"]}


def test_each_account_and_region_is_remediated_and_a_refusal_is_not_a_failure(fake, tmp_path):
    assert main(command("--output", str(tmp_path / "r.json"))) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    found = rows(report)
    assert len(report["outcomes"]) == 8 and not report["failures"]
    assert report["summary"]["REMEDIATED"] == 4 and report["summary"]["REFUSED"] == 4
    for account, region in PAIRS:
        fixed, refused = (
            found[(account, region, fixable(account, region))],
            found[(account, region, expiring(account, region))],
        )
        assert (fixed["outcome"], fixed["resource_type"], fixed["rule"]) == ("REMEDIATED", BUCKET, RULE)
        assert refused["outcome"] == "REFUSED"
        assert refused["message"].startswith(f"RemediationRefused: Bucket {expiring(account, region)}: widening")
        assert "IncludeExpiringRules=true" in refused["message"] and "Nothing was changed" in refused["message"]
        # The lifecycle really rewritten in the member's account and region; the expiring one left alone.
        assert lifecycle(account, region, fixable(account, region))[0]["Filter"] == {"Prefix": ""}
        assert lifecycle(account, region, expiring(account, region))[0]["Filter"] == {"Prefix": "*"}
        ran = fake.executions[(account, region, fixable(account, region))]
        assert ran.parameters == {
            "BucketName": [fixable(account, region)],
            "AutomationAssumeRole": [f"arn:aws:iam::{account}:role/RdkGuardrailsRemediationRole"],
        }
    assert len(fake.starts) == 4 and all(len(keys) == 2 for *_, keys in fake.starts)
    assert {(account, region, rule) for account, region, rule, _ in fake.starts} == {(*p, RULE_NAME) for p in PAIRS}
    # Each pair reads the statuses twice: still IN_PROGRESS right after the start, then ended; a pause before each.
    assert fake.calls["DescribeRemediationExecutionStatus"] == 8 and fake.sleeps == 8 * [0.0]
    assert fake.most_in_flight == {pair: 2 for pair in PAIRS}
    assert (report["format"], report["pack"], report["rule"], report["dry_run"]) == (
        "rdkpack-remediation-report/1",
        PACK,
        RULE,
        False,
    )


def test_a_dry_run_starts_nothing_and_lists_what_config_would_send(fake, capsys):
    assert main(command("--dry-run", "--json")) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] is True and report["summary"]["WOULD_START"] == 8
    for account, region in PAIRS:
        for bucket in (fixable(account, region), expiring(account, region)):
            row = rows(report)[(account, region, bucket)]
            assert row["outcome"] == "WOULD_START"
            # The parameters Config builds from the deployed RemediationConfiguration, as the pack declares them.
            assert row["message"] == (
                f"FixS3LifecycleAsteriskPrefix with BucketName={bucket}, AutomationAssumeRole={TEMPLATE_ROLE}"
            )
    assert fake.calls["StartRemediationExecution"] == 0 and not fake.executions
    assert fake.calls["DescribeRemediationExecutionStatus"] == 0
    assert lifecycle(*PAIRS[0], fixable(*PAIRS[0]))[0]["Filter"] == {"Prefix": "*"}


def test_resources_limit_the_run_and_an_id_config_does_not_list_as_noncompliant_gets_one_note(fake, capsys):
    account, region = PAIRS[0]
    wanted = (fixable(account, region), f"clean-{account}-{region}", "no-such-bucket")
    assert main(command("--resources", *wanted, "--json")) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert [(r["account"], r["region"], r["resource_id"], r["outcome"]) for r in report["outcomes"]] == [
        (account, region, fixable(account, region), "REMEDIATED")
    ]
    # One note for the run, not one per account and region: an ID is not expected everywhere.
    note = f"note: not NON_COMPLIANT in Config in any account and region, left alone: {wanted[1]}, {wanted[2]}"
    assert captured.err.splitlines()[1:] == [note], "after the line naming the run's targets"
    assert captured.err.splitlines()[0].startswith(f"remediating {RULE} of ")
    assert report["notes"] == [note.removeprefix("note: ")]
    assert [(a, r, keys) for a, r, _, keys in fake.starts] == [
        (account, region, [{"resourceType": BUCKET, "resourceId": fixable(account, region)}])
    ]
    assert lifecycle(account, region, expiring(account, region))[0]["Filter"] == {"Prefix": "*"}


MANY = 250
BIG_REGION = "eu-central-1"


def many_noncompliant(fake, account: str, region: str, count: int = MANY) -> list[str]:
    """`count` NON_COMPLIANT buckets in one more region (our pack after 25 others), remediated without documents:
    the n-th stays IN_PROGRESS for 1 to 4 reads, so executions end out of order and room opens a few at a time."""
    fake.add_other_packs(account, region, [f"team-pack-{n:02d}" for n in range(25)])
    fake.deploy(account, region)
    names = [f"bucket-{n:03d}" for n in range(count)]
    fake.evaluate(account, region, RULE, names)
    fake.simulate(account, region, in_progress_polls=lambda resource_id: 1 + int(resource_id[-3:]) % 4)
    return names


def test_many_resources_start_100_at_most_a_call_and_never_more_than_in_flight_running(fake, tmp_path):
    account = ACCOUNTS[0]
    names = many_noncompliant(fake, account, BIG_REGION)
    assert main(command("--output", str(tmp_path / "r.jsonl"), accounts=(account,), regions=(BIG_REGION,))) == 0
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    outcomes = [line["outcome"] for line in lines[1:]]
    assert [o["resource_id"] for o in outcomes] == names, "in Config's order"
    assert {o["outcome"] for o in outcomes} == {"REMEDIATED"}
    started = [key["resourceId"] for *_, keys in fake.starts for key in keys]
    assert sorted(started) == names, "each resource started once"
    assert all(1 <= len(keys) <= bulk.START_BATCH for *_, keys in fake.starts)
    assert len(fake.starts) > MANY // bulk.IN_FLIGHT, "room refilled as executions ended"
    assert fake.most_in_flight[(account, BIG_REGION)] == bulk.IN_FLIGHT
    # Pages as Config gives them: 20 packs, 100 evaluations.
    assert fake.calls["DescribeConformancePacks"] == 2
    assert fake.calls["GetComplianceDetailsByConfigRule"] == 3
    assert fake.sleeps and set(fake.sleeps) == {0.0}


def test_following_stops_after_follow_seconds_even_with_resources_waiting_for_room(fake, monkeypatch, capsys):
    """Executions that never end hold every slot: rdkpack stops, saying which still run and which never started."""
    account = ACCOUNTS[0]
    many_noncompliant(fake, account, BIG_REGION, count=60)
    fake.simulate(account, BIG_REGION, in_progress_polls=lambda resource_id: 10**9)
    monkeypatch.setattr(bulk, "Request", functools.partial(bulk.Request, follow_seconds=0.0))
    assert main(command("--json", accounts=(account,), regions=(BIG_REGION,))) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["STILL_RUNNING"] == bulk.IN_FLIGHT and report["summary"]["NOT_STARTED"] == 10
    messages = {row["outcome"]: row["message"] for row in report["outcomes"]}
    assert messages["STILL_RUNNING"] == "still running: rdkpack stopped following it after 0 s"
    assert messages["NOT_STARTED"] == "not started: rdkpack stopped following it after 0 s"
    assert fake.calls["StartRemediationExecution"] == 1


def test_a_start_aws_refuses_keeps_what_already_started_and_names_the_role(fake, capsys):
    account = ACCOUNTS[0]
    many_noncompliant(fake, account, BIG_REGION, count=60)
    fake.refuse("StartRemediationExecution", "AccessDeniedException", "not authorized", after=1)
    assert main(command("--json", accounts=(account,), regions=(BIG_REGION,))) == 1
    report = json.loads(capsys.readouterr().out)
    # The first 50 are followed to their end; the rest are not started, with AWS's reason naming the role.
    assert report["summary"]["REMEDIATED"] == bulk.IN_FLIGHT and report["summary"]["NOT_STARTED"] == 10
    assert not report["failures"], "the pair's rows stay: 50 remediations ran"
    assert fake.calls["StartRemediationExecution"] == 2
    refused = [row["message"] for row in report["outcomes"] if row["outcome"] == "NOT_STARTED"]
    assert set(refused) == {
        f"not started: access denied for config:StartRemediationExecution: grant it to role {ROLE} in account {account}"
    }


def decide_expiring_refused(fake, pairs=PAIRS) -> None:
    """The expiring buckets' remediations end as the script's refusal, without running it again (it runs in the
    first test): what each test here is about runs for real, the rest stays quick."""
    for account, region in pairs:
        reason = f"RemediationRefused: Bucket {expiring(account, region)}: widening these lifecycle prefixes ..."
        fake.decide(expiring(account, region), "FAILED", reason)


def test_an_account_whose_role_cannot_be_assumed_fails_alone_naming_the_role(fake, tmp_path):
    fake.denied.add(DENIED)
    decide_expiring_refused(fake)
    assert main(command("--output", str(tmp_path / "r.json"), accounts=(*ACCOUNTS, DENIED))) == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert [(f["account"], f["region"]) for f in report["failures"]] == [(DENIED, region) for region in REGIONS]
    arn = f"arn:aws:iam::{DENIED}:role/{ROLE}"
    for failure in report["failures"]:
        assert failure["reason"].startswith(f"cannot assume {ROLE}: access denied for sts:AssumeRole on {arn}: ")
        assert "config:StartRemediationExecution" in failure["reason"]
        assert "scan-role" not in failure["reason"], "the remediation role is not the read-only scan role"
    assert report["summary"]["REMEDIATED"] == 4 and report["summary"]["REFUSED"] == 4
    for account, region in PAIRS:
        assert lifecycle(account, region, fixable(account, region))[0]["Filter"] == {"Prefix": ""}


def test_when_no_account_could_be_remediated_the_summary_says_so_not_that_all_is_compliant(fake, capsys):
    fake.denied.add(DENIED)
    assert main(command(accounts=(DENIED,))) == 1
    printed = " ".join(capsys.readouterr().out.split())  # the terminal's lines, unwrapped
    for region in REGIONS:
        assert (
            f"not remediated: {DENIED} {region}: cannot assume {ROLE}: access denied for sts:AssumeRole on "
            f"arn:aws:iam::{DENIED}:role/{ROLE}: in account {DENIED}, the role is missing or does not trust the "
            "account rdkpack runs in; or the identity rdkpack runs as may not call sts:AssumeRole on it (the role "
            "needs config:DescribeConformancePacks, config:DescribeConformancePackCompliance, "
            "config:DescribeRemediationConfigurations, config:GetComplianceDetailsByConfigRule, "
            "config:DescribeRemediationExecutionStatus, config:StartRemediationExecution)"
        ) in printed
    assert printed.endswith("summary: no resource; 2 account/region pair(s) not remediated, listed above")
    assert fake.calls["AssumeRole"] == 1, "once for the account, whatever its regions"


def test_a_pack_or_remediation_missing_in_a_pair_fails_that_pair_naming_it(fake, capsys):
    del fake.deployments[PAIRS[3]]
    fake.deployments[PAIRS[2]].remediations.clear()
    for account, region in PAIRS:
        fake.decide(fixable(account, region), "SUCCEEDED")
    decide_expiring_refused(fake)
    assert main(command("--json")) == 1
    report = json.loads(capsys.readouterr().out)
    (account, region), (other, other_region) = PAIRS[3], PAIRS[2]
    assert report["failures"] == [
        {
            "account": other,
            "region": other_region,
            "reason": f"{RULE_NAME} in account {other} {other_region} has no remediation configured",
        },
        {"account": account, "region": region, "reason": f"pack {PACK} is not deployed in account {account} {region}"},
    ]
    assert {(r["account"], r["region"]) for r in report["outcomes"]} == set(PAIRS[:2])


def test_a_remediation_failing_otherwise_is_failed_and_each_report_says_so(fake, tmp_path):
    account, region = PAIRS[0]
    message = (
        "Step fails when it is Execute/Cancelling action. An error occurred (AccessDenied) when calling the "
        "PutBucketLifecycleConfiguration operation: Access Denied"
    )
    fake.decide(fixable(account, region), "FAILED", message)
    reports = [tmp_path / name for name in ("r.md", "r.xml", "r.jsonl")]
    argv = command(*(part for path in reports for part in ("--output", str(path))), regions=(region,))
    assert main(argv) == 1
    markdown = reports[0].read_text()
    assert f"| {account} | {region} | AWS::S3::Bucket | {fixable(account, region)} | FAILED |" in markdown
    assert f"| {expiring(account, region)} | REFUSED | RemediationRefused: Bucket" in markdown
    assert "Summary: REMEDIATED 1, REFUSED 2, FAILED 1." in markdown
    suite = ElementTree.parse(reports[1]).getroot().find("testsuite")
    assert {key: suite.get(key) for key in ("tests", "failures", "errors", "skipped")} == {
        "tests": "4",
        "failures": "1",
        "errors": "0",
        "skipped": "2",
    }
    cases = {case.get("name").split(" ")[1]: case for case in suite.iter("testcase")}
    failure = cases[fixable(account, region)].find("failure")
    assert (failure.get("type"), failure.get("message")) == ("FAILED", message)
    skipped = cases[expiring(account, region)].find("skipped")
    assert skipped.get("type") == "REFUSED" and "IncludeExpiringRules=true" in skipped.get("message")
    assert list(cases[fixable(ACCOUNTS[1], region)]) == [], "remediated: a passing case"
    lines = [json.loads(line) for line in reports[2].read_text().splitlines()]
    assert lines[0]["format"] == "rdkpack-remediation-report/1" and len(lines) == 5


def test_the_callers_own_account_without_accounts(fake, capsys):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="own-bucket")
    s3.put_bucket_lifecycle_configuration(Bucket="own-bucket", LifecycleConfiguration={"Rules": [ABORT_UPLOADS]})
    own = "123456789012"  # moto's account for the caller's keys
    fake.deploy(own, "us-east-1", organization=False)
    fake.evaluate(own, "us-east-1", RULE, ["own-bucket"])
    assert main(command("--json", accounts=(), regions=("us-east-1",))) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(r["account"], r["resource_id"], r["outcome"]) for r in report["outcomes"]] == [
        (own, "own-bucket", "REMEDIATED")
    ], "the caller's own account, by its ID"
    assert fake.calls["AssumeRole"] == 0, "the caller's own credentials: rdkpack assumes no role"
    rules = s3.get_bucket_lifecycle_configuration(Bucket="own-bucket")["Rules"]
    assert rules[0]["Filter"] == {"Prefix": ""}


def test_no_account_left_to_remediate_is_no_work_not_the_callers_own_account(fake):
    session = boto3.Session(region_name="us-east-1")
    fake.attach(session, Member("123456789012", {}))
    request = bulk.Request(PACK, RULE, ROLE)
    report = bulk.remediate(request, session, [], list(REGIONS), project=load_project(ROOT))
    assert (report.outcomes, report.failures, report.notes) == ([], [], [])
    assert not fake.calls


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--output", "{tmp}/r.sarif"], "remediate writes json, jsonl, markdown, junit (.json, .jsonl, .md, .xml)"),
        (["--output", "{tmp}/r.html"], "not html"),
        (["--accounts", ACCOUNTS[0]], "--accounts and --org need --role-name"),
        (["--accounts", ACCOUNTS[0], "--org", "--role-name", ROLE], "give --accounts or --org, not both"),
        (["--role-name", ROLE], "--role-name is the role to assume in --accounts or --org"),
        (["--pack", "no-such-pack"], "--pack no-such-pack: not a pack of rdk-config.json"),
        (["--document", "FixS3LifecycleAsteriskPrefix"], "--document, --parameter, --wait and --as-caller go with"),
    ],
    ids=["sarif", "html", "no-role", "accounts-and-org", "role-without-accounts", "unknown-pack", "document"],
)
def test_what_remediate_cannot_do_is_refused_before_any_aws_call(fake, capsys, tmp_path, extra, expected):
    argv = [part.replace("{tmp}", str(tmp_path)) for part in ["remediate", "--rule", RULE, *extra]]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1
    assert captured.err.startswith("error: ") and expected in captured.err, captured.err
    assert not fake.calls and not list(tmp_path.iterdir())


def test_a_rule_without_remediation_in_the_pack_is_refused(fake, capsys):
    argv = ["remediate", "--pack", PACK, "--rule", "VPC_ENDPOINT_AZ_COUNT_CHECK", "--accounts", ACCOUNTS[0]]
    assert main([*argv, "--role-name", ROLE]) == 2
    assert f"--rule VPC_ENDPOINT_AZ_COUNT_CHECK: pack {PACK} has no remediation for it" in capsys.readouterr().err
    assert not fake.calls
