"""scan --accounts/--org --output FILE.jsonl: rows written as each account and region finishes, --resume from
them, and the progress bar; against the same seeded organization as test_org_scan (moto_server over HTTP)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from rich.console import Console

from rdkpack import cli
from rdkpack.account import org
from rdkpack.cli import main
from rdkpack.report import stream
from tests.support.org_scan import (
    ACCOUNTS,
    DENIED,
    ITEM_ONLY,
    PACK,
    REGIONS,
    ROLE,
)
from tests.support.project import ROOT

PAIRS = 6  # ACCOUNTS and DENIED x REGIONS


@pytest.fixture
def scan_cli(organization, monkeypatch, capsys):
    """`rdkpack scan` over the organization's accounts (the third refuses its role); each call returns the exit
    code, stderr and the pairs the scan really scanned (those not taken from a stream)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    scanned, assumed = [], []
    region, credentials = org.RoleScan.region, org.RoleScan.credentials

    def counted(plan, credentials, account, where):
        scanned.append((account, where))
        return region(plan, credentials, account, where)

    monkeypatch.setattr(org.RoleScan, "region", counted)

    def assume(plan, sts, account):  # the CLI's own session: the third account refuses the role here
        assumed.append(account)
        if account == DENIED:
            raise org.ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole")
        return credentials(plan, sts, account)

    monkeypatch.setattr(org.RoleScan, "credentials", assume)

    def run(*extra, rules=ITEM_ONLY):
        scanned.clear()
        assumed.clear()
        argv = ["scan", "--pack", PACK, "--rules", *rules, "--source", "api", "--accounts", *ACCOUNTS, DENIED]
        code = main([*argv, "--role-name", ROLE, "--regions", *REGIONS, *extra])
        run.assumed = sorted(set(assumed))
        return code, capsys.readouterr().err, sorted(scanned)

    return run


def stream_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def rows(path) -> list[tuple]:
    """The stream's rows in a fixed order (pairs finish in any order at a concurrency over 1)."""
    return sorted(tuple(sorted(line.items())) for line in stream_lines(path)[1:])


def test_the_stream_holds_every_pair_once_whatever_the_concurrency_and_matches_the_json_report(scan_cli, tmp_path):
    one, many = tmp_path / "one.jsonl", tmp_path / "many.jsonl"
    code, _, _ = scan_cli("--output", str(one), "--output", str(tmp_path / "one.json"), "--concurrency", "1")
    assert code == 1  # the refused account
    assert scan_cli("--output", str(many), "--output", str(tmp_path / "many.json"), "--concurrency", "8")[0] == 1
    assert rows(one) == rows(many)
    assert (tmp_path / "one.json").read_text() == (tmp_path / "many.json").read_text()
    lines = stream_lines(one)
    assert lines[0]["format"] == stream.STREAM_FORMAT and lines[0]["plan"]["role"] == ROLE
    done = [(line["account"], line["region"]) for line in lines if line["kind"] == "done"]
    assert sorted(done) == sorted((a, r) for a in (*ACCOUNTS, DENIED) for r in REGIONS)
    report = json.loads((tmp_path / "one.json").read_text())
    results = [line for line in lines if line["kind"] == "result"]
    assert len(results) == sum(len(group["results"]) for group in report["accounts"]) > 0
    failures = [line for line in lines if line["kind"] == "failure"]
    assert {f["account"] for f in failures} == {DENIED} and len(failures) == len(report["failures"]) == 2


def test_resume_scans_only_the_pairs_an_interrupted_scan_did_not_finish_and_ends_with_the_same_reports(
    scan_cli, tmp_path
):
    whole, cut = tmp_path / "whole.jsonl", tmp_path / "cut.jsonl"
    scan_cli("--output", str(whole), "--output", str(tmp_path / "whole.sarif"), "--concurrency", "1")
    lines = whole.read_text().splitlines(keepends=True)
    # Interrupted while writing the third pair: its lines are there, but not its done line, and half a line more.
    dones = [n for n, line in enumerate(lines) if '"kind":"done"' in line]
    cut.write_text("".join(lines[: dones[2]]) + lines[dones[2]][:25])
    code, err, scanned = scan_cli("--output", str(cut), "--output", str(tmp_path / "cut.sarif"), "--resume")
    assert code == 1
    complete = [(json.loads(lines[n])["account"], json.loads(lines[n])["region"]) for n in dones[:2]]
    assert f"--resume: {len(complete)} account/region pair(s) complete in {cut}" in err
    every = [(a, r) for a in (*ACCOUNTS, DENIED) for r in REGIONS]
    assert scanned == sorted(pair for pair in every if pair not in complete and pair[0] != DENIED)
    assert (tmp_path / "cut.sarif").read_text() == (tmp_path / "whole.sarif").read_text()
    assert stream.read_stream(cut, stream_lines(whole)[0])[0] == stream.read_stream(whole, stream_lines(whole)[0])[0]
    assert all(line.endswith("\n") for line in cut.read_text().splitlines(keepends=True))


def test_resume_scans_failed_pairs_again(scan_cli, tmp_path):
    path = tmp_path / "r.jsonl"
    scan_cli("--output", str(path))
    _, _, scanned = scan_cli("--output", str(path), "--resume")
    assert scanned == [] and scan_cli.assumed == [DENIED]  # only the refused account is tried again
    assert sum(line["kind"] == "done" and line["account"] == DENIED for line in stream_lines(path)) == 2 * len(REGIONS)


def test_resume_refuses_another_scans_stream(scan_cli, tmp_path):
    path = tmp_path / "r.jsonl"
    scan_cli("--output", str(path))
    before = path.read_text()
    code, err, scanned = scan_cli("--output", str(path), "--resume", rules=ITEM_ONLY[:1])
    assert code == 2 and scanned == []
    assert f"error: --resume: {path} holds another scan (its rules differ from this one's" in err
    assert path.read_text() == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["scan", "--resume", "--output", "r.jsonl"], "--resume continues a scan with --accounts or --org"),
        (
            ["scan", "--resume", "--accounts", "555555555555", "--role-name", "R", "--output", "r.json"],
            "--resume needs exactly one --output FILE.jsonl to continue, got 0",
        ),
    ],
)
def test_resume_misused_is_one_line_and_exit_2(argv, message, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(org, "organization_accounts", lambda *_: pytest.fail("no AWS call before the check"))
    assert main(["--project", str(ROOT), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


FIRST = stream.header(PACK, f"role {ROLE}", {"role": ROLE})
WHERE = {"account": ACCOUNTS[0], "region": "us-east-1"}


@pytest.mark.parametrize(
    "line",
    [
        "{not json",
        "[1, 2]",
        '"a string"',
        json.dumps({"kind": "result", **WHERE}),  # no rule
        json.dumps({"kind": "result", **WHERE, **dict.fromkeys(stream.RESULT_FIELDS, 5)}),
        json.dumps({"kind": "failure", **WHERE}),  # no reason
        json.dumps({"kind": "failure", **WHERE, "reason": "r", "rules": 5}),
        json.dumps({"kind": "failure", **WHERE, "reason": "r", "rules": "abc"}),
        json.dumps({"kind": "note", "account": ["x"], "region": "r", "text": "t"}),
        json.dumps({"kind": "done", **WHERE, "results": "1", "failures": 0}),
        json.dumps({"kind": "surprise", **WHERE}),
    ],
)
def test_a_hand_edited_stream_line_is_named_not_a_traceback(tmp_path, line):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(FIRST) + "\n" + line + "\n" + json.dumps({"kind": "done", **WHERE}) + "\n")
    with pytest.raises(stream.ScanError, match=rf"^--resume: {path} line 2 is not a stream line of "):
        stream.read_stream(path, FIRST)


def test_a_stream_of_another_kind_or_encoding_is_named(tmp_path):
    path = tmp_path / "r.jsonl"
    for body in (b"", b"\xff\xfe{", b'{"plan": []}\n', json.dumps({**FIRST, "plan": []}).encode() + b"\n"):
        path.write_bytes(body)
        with pytest.raises(stream.ScanError, match=r"^--resume: .* (is not a scan stream|holds another scan)"):
            stream.read_stream(path, FIRST)


def test_line_separators_in_a_resources_text_survive_the_round_trip(tmp_path):
    """U+2028, U+2029 and U+0085 are line breaks to str.splitlines: they stay escapes in the file."""
    path = tmp_path / "r.jsonl"
    hostile = "a\u2028b\u2029c\x85d\re"
    result = org.Result("R", "AWS::S3::Bucket", hostile, "NON_COMPLIANT", hostile, *WHERE.values())
    lines = [FIRST, *stream.pair_lines(*WHERE.values(), ([result], [], [hostile]))]
    path.write_text(stream.encode(lines))
    assert path.read_bytes().count(b"\n") == len(lines)
    assert stream.read_stream(path, FIRST) == ({tuple(WHERE.values()): ([result], [], [hostile])}, path.stat().st_size)


def test_a_done_line_without_its_newline_is_not_complete_and_is_what_a_resume_drops(tmp_path):
    path = tmp_path / "r.jsonl"
    one = stream.pair_lines(ACCOUNTS[0], "us-east-1", ([], [], []))
    two = stream.pair_lines(ACCOUNTS[1], "us-east-1", ([], [], []))
    body = stream.encode([FIRST, *one, *two])
    path.write_text(body[:-1])  # the last pair's done line lost its newline
    finished, keep = stream.read_stream(path, FIRST)
    assert list(finished) == [(ACCOUNTS[0], "us-east-1")]
    assert keep == len(stream.encode([FIRST, *one]))
    stream.StreamWriter(path, FIRST, keep=keep).close()
    assert path.read_text() == stream.encode([FIRST, *one])


def test_a_new_scan_refuses_to_overwrite_a_stream_without_resume(scan_cli, tmp_path):
    path = tmp_path / "r.jsonl"
    scan_cli("--output", str(path))
    before = path.read_text()
    code, err, scanned = scan_cli("--output", str(path))
    assert code == 2 and scanned == [] and path.read_text() == before
    assert f"error: --output {path} already holds a scan: add --resume to continue it" in err


def test_an_account_or_region_named_twice_is_scanned_once(scan_cli, tmp_path):
    # the last --accounts and --regions given are the ones argparse keeps
    _, _, scanned = scan_cli("--accounts", ACCOUNTS[0], ACCOUNTS[0], "--regions", *REGIONS, REGIONS[0])
    assert scanned == sorted((ACCOUNTS[0], region) for region in REGIONS)


def test_the_progress_bar_counts_pairs_and_accounts_done_and_failed_from_resumed_ones_on():
    console = Console(file=StringIO(), force_terminal=True, width=160)
    progress = cli.PairProgress(console)
    pairs = [(a, r) for a in (*ACCOUNTS, DENIED) for r in REGIONS]
    tick = progress(pairs, pairs[:1])  # resumed: the first account's first region
    for pair, failed in ((pairs[4], True), (pairs[1], False), (pairs[5], True)):
        tick(pair, failed)
    task = progress.bar.tasks[0]
    assert (task.completed, task.total, task.fields["failed"]) == (4, PAIRS, 2)
    assert task.fields["accounts"] == "2/3"  # the first account (both regions) and the refused one
    tick(pairs[2], False)
    tick(pairs[3], False)
    assert progress.bar.tasks[0].fields["accounts"] == "3/3"
    assert progress.bar.finished and not progress.bar.live.is_started


def test_json_output_shows_no_progress_bar(scan_cli, monkeypatch):
    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: True)
    code, err, _ = scan_cli("--json")
    assert code == 1
    assert "account x region" not in err and "pairs/s" not in err


def test_ctrl_c_keeps_the_finished_pairs_starts_no_other_and_resume_finishes(scan_cli, tmp_path, monkeypatch):
    path = tmp_path / "r.jsonl"
    region = org.RoleScan.region
    started = []

    def interrupted_at_the_third(plan, credentials, account, where):
        started.append((account, where))
        if len(started) == 3:
            raise KeyboardInterrupt
        return region(plan, credentials, account, where)

    with monkeypatch.context() as patch:
        patch.setattr(org.RoleScan, "region", interrupted_at_the_third)
        code, err, _ = scan_cli("--output", str(path), "--concurrency", "1")
    assert code == 2 and len(started) == 3
    assert err.strip() == (
        f"error: interrupted: the finished account and region pairs are in {path}: run the same command with "
        "--resume to scan only the rest"
    )
    assert len(stream.read_stream(path, stream_lines(path)[0])[0]) == 2
    code, _, scanned = scan_cli("--output", str(path), "--resume")
    assert code == 1 and len(scanned) == 2 * len(REGIONS) - 2  # the refused account's pairs never reach a region
    assert len(stream.read_stream(path, stream_lines(path)[0])[0]) == 2 * len(REGIONS)
