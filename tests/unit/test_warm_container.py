"""A warm rule container reuses assumed-role credentials and clients: one call per change evaluation."""

from __future__ import annotations

import json
from collections import Counter

import boto3
import pytest
import rdklib.evaluator
from rdklib.clientfactory import ClientFactory

from tests.support.project import load_rule

RULE = "VPC_ENDPOINT_AZ_COUNT_CHECK"  # reads nothing: PutEvaluations is the whole floor
ACCOUNTS = ("111111111111", "555555555555")


class KitNamespace:
    """The rule's own kit copy, by its globals: another rule folder's kit may hold the name rule_kit."""

    def __init__(self, namespace: dict):
        self.__dict__ = namespace


@pytest.fixture
def rule(aws, monkeypatch):
    boto3.setup_default_session()
    module = load_rule(RULE, "warm_container")
    kit = KitNamespace(module.handle_event.__globals__)
    monkeypatch.setattr(kit, "WARM_CLIENTS", {})
    monkeypatch.setattr(kit, "WARM_CREDENTIALS", {})
    monkeypatch.setattr(rdklib.evaluator, "ClientFactory", rdklib.evaluator.ClientFactory)  # restored after
    calls = Counter()
    boto3.DEFAULT_SESSION.events.register("before-send", lambda event_name, **_: calls.update([event_name]))
    yield module, kit, calls
    boto3.DEFAULT_SESSION = None


def change_event(account: str = ACCOUNTS[0], endpoint: str = "vpce-0123456789abcdef0") -> dict:
    item = {
        "resourceType": "AWS::EC2::VPCEndpoint",
        "resourceId": endpoint,
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
        "configuration": {
            "vpcEndpointType": "Interface",
            "serviceName": "com.amazonaws.us-east-1.ssm",
            "subnetIds": ["subnet-1", "subnet-2"],
            "state": "available",
        },
        "tags": {},
    }
    invoking = {
        "messageType": "ConfigurationItemChangeNotification",
        "configurationItem": item,
        "notificationCreationTime": "2026-11-22T10:00:00.000Z",
    }
    return {
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps({"MaxAzCount": "1"}),
        "resultToken": "TESTMODE",
        "eventLeftScope": False,
        "executionRoleArn": f"arn:aws:iam::{account}:role/config-role",
        "accountId": account,
    }


def operations(calls: Counter) -> Counter:
    return Counter({name.split(".")[-1]: n for name, n in calls.items()})


def test_a_warm_container_makes_only_put_evaluations(rule):
    module, _, calls = rule
    module.lambda_handler(change_event(), None)
    assert operations(calls) == {"AssumeRole": 1, "PutEvaluations": 1}, "cold: the role, then the result"
    calls.clear()
    for _ in range(3):
        assert module.lambda_handler(change_event(), None)[0]["ComplianceType"] == "NON_COMPLIANT"
    assert operations(calls) == {"PutEvaluations": 3}


def test_each_role_gets_its_own_credentials_and_clients(rule):
    module, kit, calls = rule
    for account in ACCOUNTS * 2:
        module.lambda_handler(change_event(account), None)
    assert operations(calls) == {"AssumeRole": 2, "PutEvaluations": 4}
    assert {key[1] for key in kit.WARM_CREDENTIALS} == {f"arn:aws:iam::{a}:role/config-role" for a in ACCOUNTS}
    assert len(kit.WARM_CLIENTS) == 2


def test_credentials_close_to_expiry_are_assumed_again(rule, monkeypatch):
    module, kit, calls = rule
    monkeypatch.setattr(kit, "CREDENTIALS_REFRESH_SECONDS", 15 * 60 + 1)  # every 900 s credential is "expiring"
    for _ in range(2):
        module.lambda_handler(change_event(), None)
    assert operations(calls) == {"AssumeRole": 2, "PutEvaluations": 2}
    assert len(kit.WARM_CLIENTS) == 2, "new credentials, new client"


def test_the_client_cache_keeps_the_most_recently_used(rule, monkeypatch):
    module, kit, _ = rule
    monkeypatch.setattr(kit, "CLIENTS_KEPT", 1)
    for account in ACCOUNTS:
        module.lambda_handler(change_event(account), None)
    assert [key[3] for key in kit.WARM_CLIENTS] == [
        kit.WARM_CREDENTIALS[next(reversed(kit.WARM_CREDENTIALS))]["AccessKeyId"]
    ]


def test_a_factory_someone_else_installed_is_left_alone(rule, monkeypatch):
    module = rule[0]
    built = []

    class Recording(ClientFactory):  # rdklib's own, not whatever a previous test left installed
        def build_client(self, service, *args, **kwargs):
            built.append(service)
            return super().build_client(service, *args, **kwargs)

    monkeypatch.setattr(rdklib.evaluator, "ClientFactory", Recording)
    module.lambda_handler(change_event(), None)
    assert built == ["config"] and rdklib.evaluator.ClientFactory is Recording


def test_a_rate_cap_attached_twice_to_a_reused_client_paces_once(rule):
    _, kit, _ = rule
    client = boto3.client("lambda", region_name="us-east-1")
    waits = []
    first, second = kit.RateCap(5, clock=lambda: 0.0, sleep=waits.append), kit.RateCap(5, sleep=waits.append)
    first.attach(client)
    second.attach(client)
    client.list_functions()
    assert first.next_slot is not None and second.next_slot is None
