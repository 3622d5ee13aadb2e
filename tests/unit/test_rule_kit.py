"""The rule kit on its own: parameter parsing, exemption tags, ARN patterns, annotations, the event guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import boto3
import pytest
from botocore.stub import Stubber
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


TODAY = date(2027, 1, 31)


def tag(text: str):
    return rule_kit.parse_exemption_tag({"ExemptionTag": text})


@pytest.mark.parametrize(
    ("parameter", "value", "expires", "expired", "invalid"),
    [
        pytest.param("idle-exempt", "", None, False, None, id="key-only-empty-value-forever"),
        pytest.param("idle-exempt", "migration to v2", None, False, None, id="key-only-no-expiry-forever"),
        pytest.param("idle-exempt", "expires=2027-01-31 migration to v2", TODAY, False, None, id="key-only-last-day"),
        pytest.param("idle-exempt", "migration expires=2027-01-30", date(2027, 1, 30), True, None, id="key-only-past"),
        pytest.param("idle-exempt", "  EXPIRES=2027-02-01  ", date(2027, 2, 1), False, None, id="any-case-any-spaces"),
        pytest.param("idle-exempt", "expires=2027-02-01 expires=2020-01-01", date(2027, 2, 1), False, None, id="first"),
        pytest.param("team=platform", "platform", None, False, None, id="value-exact-forever"),
        pytest.param("team=platform", "platform expires=2027-01-31", TODAY, False, None, id="value-then-expiry"),
        pytest.param("team=platform", "platform v2 expires=2026-12-31", date(2026, 12, 31), True, None, id="words"),
        pytest.param("team=platform ops", "platform ops expires=2027-03-01", date(2027, 3, 1), False, None, id="2w"),
        pytest.param("team=", "", None, False, None, id="empty-value"),
        pytest.param("team=", "expires=2027-03-01", date(2027, 3, 1), False, None, id="empty-value-then-expiry"),
        pytest.param("idle-exempt", "expires=2027-02-30", None, False, "2027-02-30", id="no-such-day"),
        pytest.param("idle-exempt", "expires=27-1-1", None, False, "27-1-1", id="short-form"),
        pytest.param("idle-exempt", "expires=20270131", None, False, "20270131", id="basic-iso-form"),
        pytest.param("idle-exempt", "expires=", None, False, "", id="empty-expiry"),
        pytest.param("idle-exempt", "expires=2027-01-31.", None, False, "2027-01-31.", id="trailing-dot"),
        pytest.param(
            "idle-exempt",
            "expires=\u0662\u0660\u0662\u0667-01-31",
            None,
            False,
            "\u0662\u0660\u0662\u0667-01-31",
            id="non-ascii-digits",
        ),
    ],
)
def test_an_exemption_tag_value_may_carry_an_expiry_judged_on_the_day_given(
    parameter, value, expires, expired, invalid
):
    key = parameter.partition("=")[0]
    found = tag(parameter).exemption({key: value, "other": "x"}, TODAY)
    assert (found.value, found.expires, found.expired, found.invalid) == (value, expires, expired, invalid)
    assert found.in_force is (not expired and invalid is None)


@pytest.mark.parametrize(
    ("parameter", "tags"),
    [
        ("idle-exempt", {}),
        ("idle-exempt", {"Idle-Exempt": "expires=2027-02-01"}),
        ("idle-exempt", None),
        ("team=platform", {"team": "platformer expires=2099-01-01"}),
        ("team=platform", {"team": "expires=2099-01-01 platform"}),
        ("team=platform", {"team": ""}),
        ("team=platform ops", {"team": "platform expires=2099-01-01"}),
        ("team=", {"team": "platform"}),
    ],
)
def test_a_resource_without_the_tag_or_its_value_has_no_exemption(parameter, tags):
    assert tag(parameter).exemption(tags, TODAY) is None
    assert not tag(parameter).is_carried_by(tags)
    assert rule_kit.exemption_of(None, {"idle-exempt": ""}, TODAY) is None


def test_an_exemption_is_judged_on_the_utc_date_by_default():
    today = datetime.now(UTC).date()
    for until, in_force in ((today, True), (date.fromordinal(today.toordinal() - 1), False)):
        found = tag("idle-exempt").exemption({"idle-exempt": f"expires={until.isoformat()}"})
        assert found.in_force is in_force, until


def test_is_carried_by_holds_whatever_the_expiry():
    for value in ("platform", "platform expires=2001-01-01", "platform expires=2027-02-30"):
        assert tag("team=platform").is_carried_by({"team": value}), value


def test_exemption_annotations_name_the_tag_its_value_and_the_date():
    forever = tag("team=platform").exemption({"team": "platform"}, TODAY)
    until = tag("team=platform").exemption({"team": "platform expires=2027-01-31 v2"}, TODAY)
    lapsed = tag("idle-exempt").exemption({"idle-exempt": "expires=2027-01-30"}, TODAY)
    invalid = tag("idle-exempt").exemption({"idle-exempt": "expires=27-1-1"}, TODAY)
    assert forever.reason("function") == "Exempt: the function carries tag team=platform."
    assert until.reason("bucket") == (
        "Exempt until 2027-01-31: the bucket carries tag team=platform (platform expires=2027-01-31 v2)."
    )
    assert (forever.note(), until.note()) == ("", "")
    assert lapsed.note() == " Waiver (tag idle-exempt) expired on 2027-01-30."
    assert invalid.note() == (
        " Exemption tag idle-exempt has expiry '27-1-1' that is not a date (YYYY-MM-DD): not exempt."
    )


def test_a_long_tag_value_is_cut_inside_the_parenthesis_so_the_annotation_fits():
    value = "expires=2027-01-31 " + "x" * 240
    reason = tag("k" * 128).exemption({"k" * 128: value}, TODAY).reason("endpoint")
    assert len(reason) == 256
    assert reason.startswith(f"Exempt until 2027-01-31: the endpoint carries tag {'k' * 128} (expires=2027-01-31 x")
    assert reason.endswith("xx...).")


def test_a_verdict_keeps_the_expiry_note_whole_when_its_own_annotation_is_cut():
    lapsed = tag("idle-exempt").exemption({"idle-exempt": "expires=2027-01-30"}, TODAY)
    note = " Waiver (tag idle-exempt) expired on 2027-01-30."
    assert rule_kit.Verdict("COMPLIANT", "Fine.").noted(lapsed) == rule_kit.Verdict("COMPLIANT", "Fine." + note)
    assert rule_kit.Verdict("COMPLIANT", "Fine.").noted(None) == rule_kit.Verdict("COMPLIANT", "Fine.")
    cut = rule_kit.Verdict("NON_COMPLIANT", "y" * 300).noted(lapsed).annotation
    assert len(cut) == 256 and cut.endswith("..." + note)
    huge = tag("k" * 128 + "=" + "v" * 120).exemption({"k" * 128: "v" * 120 + " expires=2027-02-30"}, TODAY)
    assert len(rule_kit.exemption_noted("Fine.", huge)) == 256, "a note longer than 256 characters is cut too"


def test_tagged_resources_asks_for_the_key_only_and_returns_each_resource_s_tags():
    client = boto3.client("resourcegroupstaggingapi", region_name="us-east-1")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:legacy"
    answer = {"ResourceTagMappingList": [{"ResourceARN": arn, "Tags": [{"Key": "team", "Value": "platform x"}]}]}
    request = {"ResourceTypeFilters": ["lambda:function"], "TagFilters": [{"Key": "team"}]}

    class Factory:
        def build_client(self, service, *args, **kwargs):
            assert service == "resourcegroupstaggingapi"
            return client

    with Stubber(client) as stub:
        stub.add_response("get_resources", answer, request)
        assert rule_kit.tagged_resources(Factory(), tag("team=platform"), "lambda:function") == {
            arn: {"team": "platform x"}
        }
    assert rule_kit.tagged_resources(Factory(), None, "lambda:function") == {}


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
