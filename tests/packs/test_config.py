"""rdk-config.json: the committed file loads; bad files fail naming the path and what was expected."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from rdkpack.cli import main
from rdkpack.errors import ConfigError, FileError
from rdkpack.project.config import load_project
from tests.support.project import ROOT

CONFIG = json.loads((ROOT / "rdk-config.json").read_text())


def test_committed_config_loads_both_packs():
    project = load_project(ROOT)
    assert set(project.packs) == {"rdk-guardrails-sandbox", "rdk-guardrails-org-baseline"}
    for pack in project.packs.values():
        assert {rule.name for rule in pack.rules} == set(project.rules)


def test_sandbox_pack_has_dev_settings_and_baseline_has_prod_settings():
    packs = load_project(ROOT).packs
    sandbox = {rule.name: rule for rule in packs["rdk-guardrails-sandbox"].rules}
    baseline = {rule.name: rule for rule in packs["rdk-guardrails-org-baseline"].rules}
    assert sandbox["VPC_ENDPOINT_AZ_COUNT_CHECK"].parameters["MaxAzCount"] == "1"
    assert baseline["VPC_ENDPOINT_AZ_COUNT_CHECK"].parameters["MinAzCount"] == "2"
    assert all(rule.remediation.attach for rule in sandbox.values())
    assert [name for name, rule in sandbox.items() if rule.remediation.automatic] == [
        "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"
    ]
    assert not any(rule.remediation.automatic for rule in baseline.values())


def write_variant(tmp_path, mutate) -> None:
    data = copy.deepcopy(CONFIG)
    mutate(data)
    for folder in ("rules", "remediations"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "rdk-config.json").write_text(json.dumps(data))


def load_variant(tmp_path, mutate):
    write_variant(tmp_path, mutate)
    return load_project(tmp_path)


def sandbox(data):
    return data["packs"]["rdk-guardrails-sandbox"]


@pytest.mark.parametrize(
    ("mutate", "fragments"),
    [
        pytest.param(
            lambda d: d.pop("partition"), ["(top level)", "'partition' is a required property"], id="missing-key"
        ),
        pytest.param(lambda d: d.update(partition="aws-moon"), ["partition", "one of ['aws'"], id="bad-enum"),
        pytest.param(
            lambda d: d["packs"]["rdk-guardrails-org-baseline"].update(excludedAccounts=["12345"]),
            ["packs/rdk-guardrails-org-baseline/excludedAccounts/0", "pattern"],
            id="bad-account-id",
        ),
        pytest.param(
            lambda d: d["ruleLambdas"].update(location="central"), ["centralAccountId"], id="central-needs-account"
        ),
        pytest.param(
            lambda d: sandbox(d)["rules"]["LAMBDA_LAYER_CHECK"]["remediation"].update(maximumAutomaticAttempts=26),
            [
                "packs/rdk-guardrails-sandbox/rules/LAMBDA_LAYER_CHECK/remediation/maximumAutomaticAttempts",
                "maximum 25",
            ],
            id="attempts-out-of-range",
        ),
        pytest.param(
            lambda d: sandbox(d)["rules"]["LAMBDA_LAYER_CHECK"]["remediation"].update(percent=5),
            ["packs/rdk-guardrails-sandbox/rules/LAMBDA_LAYER_CHECK/remediation", "'percent' was unexpected"],
            id="unknown-key",
        ),
        pytest.param(lambda d: sandbox(d).pop("accountId"), ["accountId"], id="account-pack-needs-account"),
        pytest.param(
            lambda d: sandbox(d)["rules"].update(NO_SUCH_RULE={"parameters": {}, "remediation": {"attach": False}}),
            ["packs/rdk-guardrails-sandbox/rules/NO_SUCH_RULE", "no such rule folder", "LAMBDA_LAYER_CHECK"],
            id="unknown-rule",
        ),
        pytest.param(
            lambda d: d.pop("organization"),
            ["needs organization.managementAccountId"],
            id="org-pack-needs-management-account",
        ),
        pytest.param(
            lambda d: d["packs"]["rdk-guardrails-org-baseline"].update(excludedAccounts=[]),
            [
                "packs/rdk-guardrails-org-baseline/excludedAccounts",
                "account 111111111111 gets pack rdk-guardrails-sandbox and would get this one too",
                "expected 111111111111 in excludedAccounts",
            ],
            id="account-pack-account-not-excluded-from-org-pack",
        ),
        pytest.param(
            lambda d: d["packs"].update({"second-sandbox": {**sandbox(d), "description": "again"}}),
            ["packs/second-sandbox/accountId", "account 111111111111 already gets pack rdk-guardrails-sandbox"],
            id="two-account-packs-for-one-account",
        ),
        pytest.param(
            lambda d: sandbox(d)["rules"]["VPC_ENDPOINT_IDLE_CHECK"]["remediation"]["parameters"].update(
                ApproveDeletion="True"
            ),
            [
                "packs/rdk-guardrails-sandbox/rules/VPC_ENDPOINT_IDLE_CHECK/remediation/parameters/ApproveDeletion",
                "approves losing data (or access to it) for every run",
            ],
            id="pack-approves-deletion",
        ),
        pytest.param(
            lambda d: sandbox(d)["rules"]["S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"]["remediation"].update(
                parameters={"IncludeExpiringRules": "true"}
            ),
            ["S3_LIFECYCLE_ASTERISK_PREFIX_CHECK/remediation/parameters/IncludeExpiringRules", "a person pass it"],
            id="pack-approves-expiring-objects",
        ),
        pytest.param(
            lambda d: d["remediations"]["LAMBDA_LAYER_CHECK"].update(document="NoSuchDocument"),
            ["remediations/LAMBDA_LAYER_CHECK/document", "NoSuchDocument", "AddRequiredLambdaLayer"],
            id="unknown-document",
        ),
    ],
)
def test_bad_config_is_rejected_naming_path_and_expectation(tmp_path, mutate, fragments):
    with pytest.raises(ConfigError) as caught:
        load_variant(tmp_path, mutate)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "rdk-config.json"))
    for fragment in fragments:
        assert fragment in message


def test_unreadable_json_names_the_line(tmp_path):
    (tmp_path / "rdk-config.json").write_text('{\n  "partition": "aws",\n}')
    with pytest.raises(FileError, match=r"rdk-config.json: line 3 column 1: not valid JSON: "):
        load_project(tmp_path)


def test_a_remediation_document_that_is_not_yaml_is_named_with_its_line(tmp_path):
    load_variant(tmp_path, lambda data: None)
    document = tmp_path / "remediations" / "ReduceVpcEndpointAzCount" / "ReduceVpcEndpointAzCount.yaml"
    document.write_text('schemaVersion: "0.3"\nparameters:\n  AutomationAssumeRole: [unclosed\n')
    with pytest.raises(FileError) as caught:
        load_project(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{document}: line 4 column 1: not valid YAML: "), message


def test_a_tab_that_indents_a_remediation_document_is_named(tmp_path):
    """libyaml parses; a document it rejects is parsed again by PyYAML, whose message names the tab."""
    load_variant(tmp_path, lambda data: None)
    document = tmp_path / "remediations" / "ReduceVpcEndpointAzCount" / "ReduceVpcEndpointAzCount.yaml"
    document.write_text('schemaVersion: "0.3"\nparameters:\n\tAutomationAssumeRole: {}\n')
    with pytest.raises(
        FileError, match=r"line 3 column 1: not valid YAML: found character '\\t' that cannot start any token"
    ):
        load_project(tmp_path)


REFUSED_BY_THE_RULE = "LAMBDA_LAYER_CHECK refuses it: Parameter LayerArn has "
SCOPES_NOTHING = "expected an unversioned layer ARN naming its account"


@pytest.mark.parametrize(
    ("layer_arn", "fragments"),
    [
        # the rule's own parser refuses these first, as the deployed Lambda would
        pytest.param("company-base", (REFUSED_BY_THE_RULE + "'company-base'",), id="not-an-arn"),
        pytest.param(
            "arn:aws:lambda:*:*:layer:company-base",
            ("layer:company-base' cannot scope", SCOPES_NOTHING),
            id="any-account",
        ),
        pytest.param("arn:aws:lambda:*:123456789012:layer:*", (REFUSED_BY_THE_RULE,), id="any-layer"),
    ],
)
@pytest.mark.parametrize("command", ["build", "validate"])
def test_layer_pattern_that_cannot_scope_the_remediation_role_is_refused(
    tmp_path, capsys, layer_arn, fragments, command
):
    def mutate(data):
        sandbox(data)["rules"]["LAMBDA_LAYER_CHECK"]["parameters"]["LayerArn"] = layer_arn

    write_variant(tmp_path, mutate)
    shutil.copytree(ROOT / "conformance-packs", tmp_path / "conformance-packs")
    assert main(["--project", str(tmp_path), command]) == 2
    error = capsys.readouterr().err
    assert error.splitlines() == [error.strip()]
    assert "packs/rdk-guardrails-sandbox/rules/LAMBDA_LAYER_CHECK/parameters/LayerArn" in error
    assert all(fragment in error for fragment in fragments)


def test_the_config_names_the_schema_rdkpack_validates_it_with():
    config = json.loads((ROOT / "rdk-config.json").read_text(encoding="utf-8"))
    assert (ROOT / config["$schema"]).resolve() == ROOT / "rdkpack" / "project" / "schemas" / "rdk-config.schema.json"
