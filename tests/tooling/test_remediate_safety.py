"""Bulk remediation's judgements that decide what a user is told: refused or failed, a stale status, a resource
selector, AWS's clock; and a Ctrl-C that must stop a step's own process, not leave it writing."""

from __future__ import annotations

import signal
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from rdkpack.automation.hosts import ForkServerHost, ScriptJob, SubprocessHost
from rdkpack.remediate import bulk
from rdkpack.remediate.config_reads import selected, server_time

TRACEBACK = """Traceback (most recent call last):
  File "<aws:executeScript>", line 120, in handler
    raise RemediationRefused(f"...")
{last}"""


@pytest.mark.parametrize(
    ("message", "outcome"),
    [
        ("RemediationRefused: Bucket b: widening these prefixes would delete objects.", bulk.REFUSED),
        (TRACEBACK.format(last="RemediationRefused: Deleting needs ApproveDeletion=true."), bulk.REFUSED),
        ("RemediationError: VPC endpoint vpce-1 was asked to delete but is available.", bulk.FAILED),
        (TRACEBACK.format(last="RemediationError: verify failed after the write"), bulk.FAILED),
        ("Step fails when it is Poll action status for completion. ClientError: AccessDenied", bulk.FAILED),
        ("", bulk.FAILED),
    ],
    ids=["refused", "refused-traceback", "failed-after-write", "traceback-names-refused-but-failed", "aws", "empty"],
)
def test_only_a_final_remediation_refused_is_a_refusal(message, outcome):
    assert bulk.refusal_or_failure(message) == outcome


@pytest.mark.parametrize(
    ("selector", "account", "region", "resource", "matches"),
    [
        ("api", "111111111111", "us-east-1", "api", True),
        ("api", "222222222222", "eu-west-1", "api", True),
        ("111111111111:us-east-1:api", "111111111111", "us-east-1", "api", True),
        ("111111111111:us-east-1:api", "222222222222", "us-east-1", "api", False),
        ("111111111111:us-east-1:api", "111111111111", "eu-west-1", "api", False),
        ("111111111111:us-east-1:api", "111111111111", "us-east-1", "other", False),
    ],
)
def test_a_qualified_resource_selector_names_one_account_and_region(selector, account, region, resource, matches):
    assert selected(selector, account, region, resource) is matches


def test_aws_clock_is_read_from_the_date_header():
    answer = {"ResponseMetadata": {"HTTPHeaders": {"date": "Mon, 07 Dec 2026 17:00:05 GMT"}}}
    assert server_time(answer) == datetime(2026, 12, 7, 17, 0, 5, tzinfo=UTC)
    assert server_time({}) is None
    assert server_time({"ResponseMetadata": {"HTTPHeaders": {"date": "not a date"}}}) is None


def test_a_status_invoked_before_the_start_is_an_earlier_executions_and_is_waited_past():
    pair = bulk.Pair.__new__(bulk.Pair)
    started = datetime(2026, 12, 7, 17, 0, 5, tzinfo=UTC)
    pair.started = {("AWS::S3::Bucket", "b"): started - bulk.CLOCK_SLACK}
    yesterday = {"State": "FAILED", "InvocationTime": started - timedelta(days=1)}
    ours = {"State": "SUCCEEDED", "InvocationTime": started + timedelta(seconds=3)}
    assert pair.stale(("AWS::S3::Bucket", "b"), yesterday)
    assert not pair.stale(("AWS::S3::Bucket", "b"), ours)
    assert not pair.stale(("AWS::S3::Bucket", "other"), yesterday), "no start time known: taken as it is"


WRITER = textwrap.dedent(
    """
    import time
    from pathlib import Path

    def handler(events, context):
        time.sleep(1.5)
        Path(events["Marker"]).write_text("written")
        return {}
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")
@pytest.mark.parametrize("host", [ForkServerHost(sys.executable), SubprocessHost(sys.executable)], ids=type)
def test_ctrl_c_during_a_step_kills_the_steps_process_before_it_writes(host, tmp_path):
    marker = tmp_path / "marker"
    job = ScriptJob(WRITER, "handler", {"Marker": str(marker)}, {}, 60, {"AWS_DEFAULT_REGION": "us-east-1"})
    host.run(ScriptJob("def handler(e, c):\n    return {}\n", "handler", {}, {}, 60, {}))  # warm
    assert threading.current_thread() is threading.main_thread()

    def interrupt(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.4)
    try:
        with pytest.raises(KeyboardInterrupt):
            host.run(job)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    time.sleep(2.0)
    assert not marker.exists(), "the step kept running after Ctrl-C and wrote"
