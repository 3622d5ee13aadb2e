"""The rule kit on its own: parameter parsing, exemption tags, ARN patterns, annotations, the event guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from rdklib import InvalidParametersError

from rdkpack.project import kit
from tests.support.project import ROOT, load_module

rule_kit = load_module(kit.CANONICAL, "canonical_rule_kit")


def scheduled_event() -> dict:
    """A ScheduledNotification event as AWS Config sends it."""
    invoking = {"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-22T10:00:00.000Z"}
    return {"invokingEvent": json.dumps(invoking), "executionRoleArn": "r", "resultToken": "t", "eventLeftScope": False}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: rule_kit.parse_int({"MaxAzCount": "0"}, "MaxAzCount", None), "MaxAzCount", id="int"),
        pytest.param(lambda: rule_kit.parse_bool({"Flag": "yes"}, "Flag", False), "Flag must be 'true'", id="bool"),
        pytest.param(
            lambda: rule_kit.parse_decimal({"Price": "1e-2"}, "Price", 0.01),
            "Price must be a non-negative number such as 0.01, got '1e-2'",
            id="decimal",
        ),
        pytest.param(
            lambda: rule_kit.parse_exemption_tag({"ExemptionTag": "=x"}), "ExemptionTag must be 'key'", id="tag"
        ),
        pytest.param(
            lambda: rule_kit.reject_unknown_parameters({"Typo": "1"}, ("LayerArn",)),
            "Unknown parameter(s): Typo. Accepted parameter names: LayerArn, ExecutionRoleName",
            id="unknown",
        ),
        pytest.param(
            lambda: rule_kit.parse_arn_pattern("arn:aws:lambda", "LayerArn", "lambda", r"layer:[\w-]+", "arn:..."),
            "LayerArn",
            id="arn",
        ),
    ],
)
def test_bad_parameters_raise_invalid_parameters_error_naming_the_parameter(call, message):
    with pytest.raises(InvalidParametersError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_parameters_parse_with_defaults():
    assert rule_kit.parse_int({}, "MinLayerVersion", 1) == 1
    assert rule_kit.parse_int({"MinLayerVersion": " 10 "}, "MinLayerVersion", 1) == 10
    assert rule_kit.parse_bool({"RequireEnforce": "TRUE"}, "RequireEnforce", False) is True
    assert rule_kit.parse_decimal({}, "HourlyCostPerAz", 0.01) == 0.01
    assert rule_kit.parse_decimal({"HourlyCostPerAz": " 0.013 "}, "HourlyCostPerAz", 0.01) == 0.013
    assert rule_kit.parse_csv({"Names": "a, ,b"}, "Names") == ("a", "b")
    rule_kit.reject_unknown_parameters({"LayerArn": "x", "AssumeRoleMode": "false"}, ("LayerArn",))


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("0", True),
        ("455", True),
        ("456", False),
        ("0455", True),
        ("0456", False),
        ("٣", False),
        ("99999999999", False),
        ("-1", False),
    ],
)
def test_integers_are_bounded_on_both_sides_and_the_error_gives_the_range_and_why(text, accepted):
    def parse():
        return rule_kit.parse_int({"IdleDays": text}, "IdleDays", 30, minimum=0, maximum=455, why="retention")

    if accepted:
        assert parse() == int(text)
        return
    with pytest.raises(InvalidParametersError) as caught:
        parse()
    assert str(caught.value) == f"Parameter IdleDays must be an integer from 0 to 455 (retention), got {text!r}."


def test_an_integer_without_a_maximum_is_only_bounded_below():
    assert rule_kit.parse_int({"MinLayerVersion": "123456789012"}, "MinLayerVersion", 1) == 123_456_789_012
    with pytest.raises(InvalidParametersError) as caught:
        rule_kit.parse_int({"MinLayerVersion": "0"}, "MinLayerVersion", 1)
    assert str(caught.value) == "Parameter MinLayerVersion must be an integer >= 1, got '0'."


def test_exemption_tag_with_and_without_value():
    keyed = rule_kit.parse_exemption_tag({"ExemptionTag": "exempt"})
    valued = rule_kit.parse_exemption_tag({"ExemptionTag": "exempt=yes"})
    assert (str(keyed), str(valued)) == ("exempt", "exempt=yes")
    assert keyed.is_carried_by({"exempt": "anything"}) and not keyed.is_carried_by({})
    assert valued.is_carried_by({"exempt": "yes"}) and not valued.is_carried_by({"exempt": "no"})
    assert rule_kit.parse_exemption_tag({}) is None


def test_arn_pattern_star_segments_match_any_value():
    pattern = rule_kit.parse_arn_pattern(
        "arn:*:lambda:*:123456789012:layer:base", "LayerArn", "lambda", r"layer:[\w-]+", "arn:..."
    )
    assert pattern.matches("aws-cn", "cn-north-1", "123456789012", "layer:base")
    assert not pattern.matches("aws", "us-east-1", "999999999999", "layer:base")
    assert not pattern.matches("aws", "us-east-1", "123456789012", "layer:base-2")


def test_annotation_is_cut_to_256_characters():
    assert rule_kit.fit_annotation("x" * 10) == "x" * 10
    cut = rule_kit.fit_annotation("x" * 300)
    assert len(cut) == 256 and cut.endswith("...")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2026-11-22T10:00:00.000Z", "2026-11-22T10:00:00.000Z"),
        (1795860000, "2026-11-28T10:00:00.000Z"),
        (1795860000000, "2026-11-28T10:00:00.000Z"),
        (None, None),
        (True, None),
        ("", None),
    ],
)
def test_iso_time_accepts_text_and_epoch_seconds_or_milliseconds(value, text):
    assert rule_kit.iso_time(value) == text


def test_ordering_time_falls_back_to_the_notification_time():
    invoking = {"configurationItem": {}, "notificationCreationTime": "2026-11-22T10:00:00.000Z"}
    assert rule_kit.ordering_time(invoking) == "2026-11-22T10:00:00.000Z"


def test_event_problem_names_what_is_missing():
    assert rule_kit.event_problem([]) == "The event is not a JSON object."
    assert rule_kit.event_problem({}).startswith("The event lacks invokingEvent")
    event = scheduled_event()
    assert rule_kit.event_problem(event) is None


def test_importing_a_rule_leaves_the_environment_alone():
    """A scan imports rules: the retry settings must not leak into its process."""
    probe = (
        "import os, sys; sys.path.insert(0, 'rules/LAMBDA_LAYER_CHECK'); before = dict(os.environ); "
        "import LAMBDA_LAYER_CHECK; print(dict(os.environ) == before)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS")}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"


def test_handling_an_event_gives_rdklib_standard_retries(monkeypatch):
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    seen = {}

    class Recording:
        def __init__(self, rule, applicable):
            pass

        def handle(self, event, context):
            seen.update(mode=os.environ.get("AWS_RETRY_MODE"), attempts=os.environ.get("AWS_MAX_ATTEMPTS"))
            return []

    monkeypatch.setattr(rule_kit, "Evaluator", Recording)
    event = scheduled_event()
    assert rule_kit.handle_event(object(), ["AWS::S3::Bucket"], event, None) == []
    assert seen == {"mode": "standard", "attempts": "10"}


def test_source_event_types_come_from_the_parameters_json_beside_the_rule(tmp_path):
    rule_file = tmp_path / "MY_RULE.py"
    body = {"Version": "1.0", "Parameters": {"SourceEvents": "AWS::S3::Bucket, AWS::EC2::VPCEndpoint"}}
    (tmp_path / "parameters.json").write_text(json.dumps(body))
    assert rule_kit.source_event_types(str(rule_file)) == ["AWS::S3::Bucket", "AWS::EC2::VPCEndpoint"]


def test_a_periodic_only_rule_has_no_source_event_types(tmp_path):
    body = {"Version": "1.0", "Parameters": {"SourcePeriodic": "TwentyFour_Hours"}}
    (tmp_path / "parameters.json").write_text(json.dumps(body))
    assert rule_kit.source_event_types(str(tmp_path / "MY_RULE.py")) == []


@pytest.mark.parametrize("content", [None, "{not json", '{"Version": "1.0"}', '{"Parameters": []}'])
def test_an_unreadable_parameters_json_names_the_file(tmp_path, content):
    if content is not None:
        (tmp_path / "parameters.json").write_text(content)
    with pytest.raises(RuntimeError, match=r"parameters\.json: cannot read Parameters\.SourceEvents"):
        rule_kit.source_event_types(str(tmp_path / "MY_RULE.py"))


def test_every_rule_evaluates_the_types_its_parameters_json_declares():
    for folder in kit.rule_folders(ROOT):
        module = load_module(folder / f"{folder.name}.py", f"kit_types_{folder.name}")
        declared = json.loads((folder / "parameters.json").read_text())["Parameters"]["SourceEvents"]
        assert [t.strip() for t in declared.split(",")] == module.APPLICABLE_RESOURCES, folder.name
