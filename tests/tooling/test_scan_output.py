"""What a scan prints and writes: ERROR rows for resources it cannot read, and AWS data shown literally."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from rich.console import Console

from rdkpack import report
from rdkpack.account import scan
from rdkpack.account.demo import RemediationRun
from rdkpack.account.demo_account import seed
from rdkpack.account.org import OrgReport
from rdkpack.account.scan import Result
from rdkpack.cli import main
from rdkpack.project.config import load_project
from rdkpack.report import markdown, terminal
from tests.support.project import ROOT

PROJECT = load_project(ROOT)
S3_RULE = "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"
SPOOFS = ("[/]", "[bold red]x[/]")
GRANT = "grant it to the scanning identity (read-only)"


@pytest.fixture
def session(moto_server_url, monkeypatch):
    """A seeded account behind moto_server; the CLI gets this session."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    account = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    seed(account)
    monkeypatch.setattr(boto3, "Session", lambda **_: account)
    return account


def deny(session, operation: str, url_part: str, service: str | None = None) -> None:
    """AccessDenied for one operation on one resource (matched in the request URL), as a bucket policy would.

    With `service`, registered ahead of the seed's fakes for what moto lacks (same event name, first).
    """

    def answer(model, params, **_):
        if model.name == operation and url_part in params["url"]:
            error = {"Error": {"Code": "AccessDenied", "Message": "simulated"}, "ResponseMetadata": {}}
            return AWSResponse(None, 403, {}, None), error
        return None

    session.events.register_first(f"before-call.{service}.{operation}" if service else "before-call", answer)


def test_one_unreadable_bucket_is_an_error_row_and_the_scan_finishes(session, tmp_path, monkeypatch, capsys):
    deny(session, "GetBucketLifecycleConfiguration", "/demo-star-0?")
    monkeypatch.chdir(tmp_path)  # outside the project: --project names it
    page, data = tmp_path / "scan.md", tmp_path / "scan.json"
    assert main(["--project", str(ROOT), "scan", "--json", "--rules", S3_RULE, "--report", str(page)]) == 1
    out, err = capsys.readouterr()
    assert err == "warning: 1 evaluation(s) could not run: see the ERROR rows\n"
    output = json.loads(out)
    assert output["summary"] == {"COMPLIANT": 1, "NON_COMPLIANT": 3, "NOT_APPLICABLE": 1, "ERROR": 1}
    errors = [r for r in output["results"] if r["compliance"] == "ERROR"]
    assert errors == [
        {
            "rule": S3_RULE,
            "resource_type": "AWS::S3::Bucket",
            "resource_id": "demo-star-0",
            "compliance": "ERROR",
            "annotation": f"access denied for s3:GetLifecycleConfiguration: {GRANT}",
        }
    ]
    assert "| demo-star-0 | S3_LIFECYCLE_ASTERISK_PREFIX_CHECK | ERROR | access denied for s3:GetLi" in page.read_text()
    assert "| ERROR | 1 | - |" in page.read_text()
    assert main(["scan", "--project", str(ROOT), "--rules", S3_RULE, "--report", str(data)]) == 1
    assert json.loads(data.read_text())["summary"]["ERROR"] == 1
    assert main(["scan", "--project", str(ROOT), "--rules", S3_RULE, "--report", str(tmp_path / "scan.html")]) == 1
    assert '<td class="ERROR">ERROR</td>' in (tmp_path / "scan.html").read_text()


def test_a_denied_list_inside_a_rule_makes_error_rows_naming_the_rules_action(session, capsys):
    deny(session, "ListFunctionsByCodeSigningConfig", "/code-signing-configs/", service="lambda")
    assert main(["scan", "--json", "--rules", "LAMBDA_CODE_SIGNING_CHECK", "LAMBDA_LAYER_CHECK"]) == 1
    results = json.loads(capsys.readouterr().out)["results"]
    errors = {(r["rule"], r["annotation"]) for r in results if r["compliance"] == "ERROR"}
    # the sweep's lists judge every function at once: without them no function can be judged
    denied = f"access denied for lambda:ListFunctionsByCodeSigningConfig: {GRANT}"
    assert errors == {("LAMBDA_CODE_SIGNING_CHECK", denied)}
    assert sum(1 for r in results if r["compliance"] == "ERROR") == 4
    assert {r["rule"] for r in results if r["compliance"] != "ERROR"} == {"LAMBDA_LAYER_CHECK"}, "the scan goes on"


def spoofing_buckets(session, rule_ids=SPOOFS) -> None:
    s3 = session.client("s3")
    for index, rule_id in enumerate(rule_ids):
        s3.create_bucket(Bucket=f"spoof-{index}")
        rule = {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, "Expiration": {"Days": 30}}
        s3.put_bucket_lifecycle_configuration(Bucket=f"spoof-{index}", LifecycleConfiguration={"Rules": [rule]})


def test_markup_in_resource_data_prints_literally(session, monkeypatch, capsys):
    spoofing_buckets(session)
    monkeypatch.setenv("COLUMNS", "250")  # one line per row, so each ID prints whole
    assert main(["scan", "--rules", S3_RULE]) == 0
    out = capsys.readouterr().out
    assert "spoof-0" in out
    assert all(f"{rule_id}: 'logs/*'" in out for rule_id in SPOOFS)


def test_markup_in_resource_data_is_not_styled_but_verdicts_are(session):
    spoofing_buckets(session, ["[bold red]x[/]"])
    result = scan.scan_account(PROJECT, "rdk-guardrails-sandbox", session, only=[S3_RULE])
    console = Console(file=io.StringIO(), force_terminal=True, color_system="standard", width=250, record=True)
    report.print_scan(console, result.before, result.source)
    assert "[bold red]x[/]: 'logs/*'" in console.export_text(styles=False)
    styled = console.file.getvalue()
    assert "\x1b[1;31mNON_COMPLIANT" in styled  # the verdict keeps its style
    assert "\x1b[1;31mx" not in styled  # the bucket's rule ID does not get one


def test_remediation_messages_print_literally():
    run = RemediationRun("R", "Doc", "[/]", "Would rewrite rule [bold red]x[/]", "CHANGED", "[/] done")
    console = Console(file=io.StringIO(), width=250, record=True)
    console.print(terminal.remediation_table([run]))
    text = console.export_text()
    assert "[/]" in text
    assert "Would rewrite rule [bold red]x[/]" in text
    assert "CHANGED: [/] done" in text


def test_control_characters_in_resource_data_never_reach_the_terminal_raw():
    run = RemediationRun("R", "Doc", "bucket\x1b]0;owned\x07", "plan\x1b[2J", "FAILED", "rule \x1b[31mred")
    console = Console(file=io.StringIO(), width=250, force_terminal=True, color_system="standard")
    console.print(terminal.remediation_table([run]))
    printed = console.file.getvalue()
    assert "\x1b]0;" not in printed and "\x1b[2J" not in printed and "\x1b[31mred" not in printed
    assert "bucket\\x1b]0;owned\\x07" in printed
    assert "plan\\x1b[2J" in printed


def test_markdown_report_cells_cannot_add_html():
    assert markdown.markdown_table(("Id",), [("<img src=x onerror=alert(1)>|x",)]).splitlines()[2] == (
        "| &lt;img src=x onerror=alert(1)&gt;\\|x |"
    )


def test_the_terminal_shows_a_large_organization_in_bounded_tables_and_says_how_much_more_there_is():
    """300 accounts x 4 regions would be thousands of table rows (and a minute of rich's layout): the terminal
    shows the first TERMINAL_ROWS of each table and the totals, and points at --output for the rest."""
    accounts = [f"{n:012d}" for n in range(1, 31)]
    results = [
        Result("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "AWS::S3::Bucket", f"b-{a}-{r}", "NON_COMPLIANT", "x", a, r)
        for a in accounts
        for r in ("eu-west-1", "us-east-1")
    ]
    console = Console(file=io.StringIO(), width=250, record=True)
    report.print_org(console, OrgReport("p", "role R", results))
    text = console.export_text()
    shown = terminal.TERMINAL_ROWS
    assert f"... and {60 - shown} more account/region rows: write them all with --output FILE" in text
    assert f"... and {60 - shown} more rows needing attention" in text
    assert f"b-{accounts[24]}-eu-west-1" in text and f"b-{accounts[25]}-us-east-1" not in text
    assert "all 30 accounts" in text and "Needing attention (60 of 60)" in text
