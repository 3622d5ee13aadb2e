"""FixS3LifecycleAsteriskPrefix: pure rewriting, the full loop on moto, Stubber where moto drops fields."""

from __future__ import annotations

import copy

import boto3
import pytest

from tests.conftest import load_remediation_script

script = load_remediation_script("FixS3LifecycleAsteriskPrefix")

TAG = {"Key": "team", "Value": "data"}


@pytest.mark.parametrize(
    ("prefix", "fixed"),
    [
        ("*", ""),
        ("/*", ""),
        ("**", ""),
        ("/**/", ""),
        ("logs/*", "logs/"),
        ("logs/**", "logs/"),
        ("logs*", "logs"),
        ("logs/", "logs/"),
        ("", ""),
        ("*.log", None),
        ("a*b/", None),
        ("logs/*/2026", None),
    ],
)
def test_fixed_prefix(prefix, fixed):
    assert script.fixed_prefix(prefix) == fixed


def every_filter_form():
    """Rules of every filter form, offending and clean, with other fields that must survive."""
    expire = {"Expiration": {"Days": 30}}
    return [
        {"ID": "legacy-star", "Status": "Enabled", "Prefix": "*", **expire},
        {"ID": "legacy-clean", "Status": "Enabled", "Prefix": "tmp/", **expire},
        {
            "ID": "filter-trailing",
            "Status": "Enabled",
            "Filter": {"Prefix": "logs/*"},
            "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
            "NoncurrentVersionExpiration": {"NoncurrentDays": 10},
        },
        {"ID": "filter-slash-star", "Status": "Disabled", "Filter": {"Prefix": "/*"}, **expire},
        {"ID": "filter-clean", "Status": "Enabled", "Filter": {"Prefix": "data/"}, **expire},
        {
            "ID": "and-prefix-tags",
            "Status": "Enabled",
            "Filter": {"And": {"Prefix": "raw/**", "Tags": [TAG]}},
            **expire,
        },
        {"ID": "tag-only", "Status": "Enabled", "Filter": {"Tag": TAG}, **expire},
        {
            "ID": "whole-bucket",
            "Status": "Enabled",
            "Filter": {},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        },
    ]


def expected_after():
    rules = every_filter_form()
    rules[0]["Prefix"] = ""
    rules[2]["Filter"]["Prefix"] = "logs/"
    rules[3]["Filter"]["Prefix"] = ""
    rules[5]["Filter"]["And"]["Prefix"] = "raw/"
    return rules


def test_plan_rewrites_only_offending_prefixes_and_keeps_everything_else():
    rules = every_filter_form()
    plan = script.plan_change(script.Lifecycle(rules, "varies_by_storage_class"))
    assert plan.rules_after == expected_after()
    assert rules == every_filter_form(), "the plan must not mutate what was read"
    assert [(c.rule_id, c.field, c.before, c.after) for c in plan.changes] == [
        ("legacy-star", "Prefix", "*", ""),
        ("filter-trailing", "Filter.Prefix", "logs/*", "logs/"),
        ("filter-slash-star", "Filter.Prefix", "/*", ""),
        ("and-prefix-tags", "Filter.And.Prefix", "raw/**", "raw/"),
    ]
    assert plan.unfixable == ()


@pytest.mark.parametrize(
    ("and_filter", "expected_filter"),
    [
        pytest.param({"Prefix": "*", "Tags": [TAG]}, {"Tag": TAG}, id="one-tag-left"),
        pytest.param({"Prefix": "*", "Tags": [TAG, TAG]}, {"And": {"Tags": [TAG, TAG]}}, id="two-tags-left"),
        pytest.param({"Prefix": "*", "ObjectSizeGreaterThan": 5}, {"ObjectSizeGreaterThan": 5}, id="one-size-left"),
        pytest.param(
            {"Prefix": "/*", "ObjectSizeGreaterThan": 5, "ObjectSizeLessThan": 9},
            {"And": {"ObjectSizeGreaterThan": 5, "ObjectSizeLessThan": 9}},
            id="two-sizes-left",
        ),
    ],
)
def test_emptied_and_prefix_leaves_a_valid_filter(and_filter, expected_filter):
    rule = {"ID": "r", "Status": "Enabled", "Filter": {"And": and_filter}, "Expiration": {"Days": 1}}
    plan = script.plan_change(script.Lifecycle([rule], None))
    assert plan.rules_after == [{"ID": "r", "Status": "Enabled", "Filter": expected_filter, "Expiration": {"Days": 1}}]


def test_unfixable_prefixes_are_all_named():
    rules = [
        {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "*.log"}},
        {"ID": "fine", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}},
        {"Status": "Enabled", "Prefix": "a*b/"},
    ]
    plan = script.plan_change(script.Lifecycle(rules, None))
    assert plan.unfixable == (("logs", "Filter.Prefix", "*.log"), ("#3", "Prefix", "a*b/"))


# ---- the full loop against moto ----


@pytest.fixture
def s3(aws):
    client = boto3.client("s3")

    def bucket(name, rules=None):
        client.create_bucket(Bucket=name)
        if rules is not None:
            client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
        return name

    return client, bucket


def rules_of(client, bucket):
    return client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]


def run(bucket, dry_run=False):
    return script.handler({"BucketName": bucket, "DryRun": dry_run}, None)


def test_bucket_with_every_filter_form_is_fixed_and_nothing_else_changes(s3):
    client, bucket = s3
    bucket("mixed", every_filter_form())
    before = rules_of(client, "mixed")

    result = run("mixed")

    expected = copy.deepcopy(before)
    expected[0]["Prefix"] = ""
    expected[2]["Filter"]["Prefix"] = "logs/"
    expected[3]["Filter"]["Prefix"] = ""
    expected[5]["Filter"]["And"]["Prefix"] = "raw/"
    assert rules_of(client, "mixed") == expected
    assert result["Status"] == "CHANGED"
    assert result["RulesChanged"] == [
        {"RuleId": "legacy-star", "Field": "Prefix", "Before": "*", "After": ""},
        {"RuleId": "filter-trailing", "Field": "Filter.Prefix", "Before": "logs/*", "After": "logs/"},
        {"RuleId": "filter-slash-star", "Field": "Filter.Prefix", "Before": "/*", "After": ""},
        {"RuleId": "and-prefix-tags", "Field": "Filter.And.Prefix", "Before": "raw/**", "After": "raw/"},
    ]
    assert run("mixed")["Status"] == "NO_CHANGE"
    assert rules_of(client, "mixed") == expected


def test_dry_run_reports_the_plan_and_changes_nothing(s3):
    client, bucket = s3
    bucket("dry", [{"ID": "all", "Status": "Enabled", "Filter": {"Prefix": "*"}, "Expiration": {"Days": 1}}])
    before = rules_of(client, "dry")
    result = run("dry", dry_run="true")
    assert (result["Status"], result["RulesChanged"][0]["After"]) == ("DRY_RUN", "")
    assert rules_of(client, "dry") == before


def test_unfixable_prefix_fails_naming_the_rule_and_changes_nothing(s3):
    client, bucket = s3
    rules = [
        {"ID": "fixable", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, "Expiration": {"Days": 1}},
        {"ID": "star-dot-log", "Status": "Enabled", "Filter": {"Prefix": "*.log"}, "Expiration": {"Days": 1}},
    ]
    bucket("suffix", rules)
    before = rules_of(client, "suffix")
    with pytest.raises(script.RemediationError, match=r"rule star-dot-log Filter.Prefix '\*.log'.*Nothing was changed"):
        run("suffix")
    assert rules_of(client, "suffix") == before


def test_bucket_without_lifecycle_is_left_alone(s3):
    _, bucket = s3
    bucket("plain")
    assert run("plain") == {
        "BucketName": "plain",
        "Status": "NO_CHANGE",
        "Message": "The bucket has no lifecycle configuration.",
        "RulesChanged": [],
    }


def test_missing_bucket_fails_clearly(s3):
    with pytest.raises(script.RemediationError, match="Bucket ghost-bucket does not exist; nothing was changed"):
        run("ghost-bucket")


# ---- what moto drops (object-size filters) and races: Stubber with the exact calls ----


@pytest.fixture
def stubbed(stub_client):
    return stub_client(script, "s3_client", "s3")


SIZE_RULES = [
    {"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 1048576}, "Expiration": {"Days": 5}},
    {
        "ID": "small-logs",
        "Status": "Enabled",
        "Filter": {"And": {"Prefix": "logs/*", "ObjectSizeLessThan": 128, "Tags": [TAG]}},
        "Transitions": [{"Days": 30, "StorageClass": "GLACIER_IR"}],
    },
]
SIZE_RULES_FIXED = copy.deepcopy(SIZE_RULES)
SIZE_RULES_FIXED[1]["Filter"]["And"]["Prefix"] = "logs/"


def expect_get(stub, rules, size="varies_by_storage_class"):
    stub.add_response(
        "get_bucket_lifecycle_configuration",
        {"Rules": rules, "TransitionDefaultMinimumObjectSize": size},
        {"Bucket": "sized"},
    )


def test_object_size_filters_and_default_minimum_size_are_written_back(stubbed):
    expect_get(stubbed, SIZE_RULES)
    expect_get(stubbed, SIZE_RULES)
    stubbed.add_response(
        "put_bucket_lifecycle_configuration",
        {"TransitionDefaultMinimumObjectSize": "varies_by_storage_class"},
        {
            "Bucket": "sized",
            "LifecycleConfiguration": {"Rules": SIZE_RULES_FIXED},
            "TransitionDefaultMinimumObjectSize": "varies_by_storage_class",
        },
    )
    expect_get(stubbed, SIZE_RULES_FIXED)
    assert run("sized")["Status"] == "CHANGED"


def test_concurrent_change_between_read_and_write_is_not_overwritten(stubbed):
    expect_get(stubbed, SIZE_RULES)
    expect_get(stubbed, [*SIZE_RULES, {"ID": "added-meanwhile", "Status": "Enabled", "Prefix": "x/"}])
    with pytest.raises(script.RemediationError, match="changed while the remediation ran; nothing was overwritten"):
        run("sized")


def test_verification_fails_when_read_back_differs(stubbed):
    expect_get(stubbed, SIZE_RULES)
    expect_get(stubbed, SIZE_RULES)
    stubbed.add_response("put_bucket_lifecycle_configuration", {})
    expect_get(stubbed, SIZE_RULES_FIXED, size="all_storage_classes_128K")
    with pytest.raises(script.RemediationError, match="read back after the change is not the planned one"):
        run("sized")
