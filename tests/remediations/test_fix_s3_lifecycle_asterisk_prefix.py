"""FixS3LifecycleAsteriskPrefix: pure rewriting, the full loop through the committed document on moto, Stubber where
moto drops fields (script-level: the Stubber replaces the script's own client factory)."""

from __future__ import annotations

import copy
import datetime
import re

import boto3
import pytest

from rdkpack.project.config import load_project
from tests.support.automation import refusal, run_document
from tests.support.project import ROOT, load_remediation_script

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
    assert [(c.rule_id, c.expires, c.enabled) for c in plan.blocked] == [
        ("legacy-star", "Expiration.Days=30", True),
        ("filter-trailing", "NoncurrentVersionExpiration.NoncurrentDays=10", True),
        ("filter-slash-star", "Expiration.Days=30", False),
        ("and-prefix-tags", "Expiration.Days=30", True),
    ]
    approved = script.plan_change(script.Lifecycle(rules, "varies_by_storage_class"), include_expiring=True)
    assert (approved.changes, approved.rules_after, approved.blocked) == (plan.changes, plan.rules_after, ())


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


# ---- which rules delete data, and the all-or-nothing decision (pure) ----

MIDNIGHT = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
# Moves objects to a class they stay readable in: widening it neither deletes nor archives anything.
TRANSITION = {"Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]}
ABORT_UPLOADS = {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}
DELETE_MARKERS = {"Expiration": {"ExpiredObjectDeleteMarker": True}}


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        pytest.param({"Expiration": {"Days": 30}}, ("Expiration.Days=30",), id="days"),
        pytest.param({"Expiration": {"Date": MIDNIGHT}}, ("Expiration.Date=2027-01-01",), id="date"),
        pytest.param(
            {"NoncurrentVersionExpiration": {"NoncurrentDays": 10}},
            ("NoncurrentVersionExpiration.NoncurrentDays=10",),
            id="noncurrent",
        ),
        pytest.param(
            {"NoncurrentVersionExpiration": {"NoncurrentDays": 10, "NewerNoncurrentVersions": 3}},
            (
                "NoncurrentVersionExpiration.NoncurrentDays=10",
                "NoncurrentVersionExpiration.NewerNoncurrentVersions=3",
            ),
            id="noncurrent-keep-newer",
        ),
        pytest.param(
            {"Expiration": {"Days": 1}, "NoncurrentVersionExpiration": {"NoncurrentDays": 2}, **TRANSITION},
            ("Expiration.Days=1", "NoncurrentVersionExpiration.NoncurrentDays=2"),
            id="both",
        ),
        pytest.param(TRANSITION, (), id="transition"),
        pytest.param(
            {"NoncurrentVersionTransitions": [{"NoncurrentDays": 5, "StorageClass": "GLACIER"}]},
            (),
            id="noncurrent-transition",
        ),
        pytest.param(ABORT_UPLOADS, (), id="abort-uploads"),
        pytest.param(DELETE_MARKERS, (), id="delete-markers"),
        pytest.param({"Expiration": {"ExpiredObjectDeleteMarker": False}}, (), id="delete-markers-off"),
    ],
)
def test_expiring_actions_names_only_actions_that_delete_objects(actions, expected):
    assert script.expiring_actions({"ID": "r", "Status": "Enabled", "Prefix": "*", **actions}) == expected


@pytest.mark.parametrize("actions", [TRANSITION, ABORT_UPLOADS, DELETE_MARKERS], ids=["transition", "abort", "marker"])
def test_plan_rewrites_rules_that_delete_nothing_without_the_flag(actions):
    plan = script.plan_change(script.Lifecycle([{"ID": "r", "Status": "Enabled", "Prefix": "*", **actions}], None))
    assert [(c.rule_id, c.after, c.expires) for c in plan.changes] == [("r", "", "")]
    assert plan.blocked == ()


def test_plan_blocks_a_disabled_expiring_rule_because_enabling_it_would_delete():
    rule = {"ID": "later", "Status": "Disabled", "Filter": {"Prefix": "logs/*"}, "Expiration": {"Days": 3}}
    plan = script.plan_change(script.Lifecycle([rule], None))
    assert plan.blocked == (script.Change("later", "Filter.Prefix", "logs/*", "logs/", "Expiration.Days=3", False),)
    message = script.approval_refusal("b", plan, {"logs/": "4"})
    assert "(expires objects once enabled (rule is Disabled): Expiration.Days=3; the new prefix matches 4 objects)" in (
        message
    )


def test_expiring_rule_with_a_clean_prefix_does_not_block_other_rewrites():
    rules = [
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
        {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "*"}, **TRANSITION},
    ]
    plan = script.plan_change(script.Lifecycle(rules, None))
    assert ([c.rule_id for c in plan.changes], plan.blocked) == (["archive"], ())


def test_one_expiring_rewrite_blocks_the_whole_plan_and_the_refusal_names_each_rule():
    rules = [
        {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "*"}, **TRANSITION},
        {"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, "Expiration": {"Days": 30}},
        {"ID": "old", "Status": "Enabled", "Prefix": "/*", "NoncurrentVersionExpiration": {"NoncurrentDays": 10}},
    ]
    plan = script.plan_change(script.Lifecycle(rules, None))
    assert [c.rule_id for c in plan.blocked] == ["expire-logs", "old"]
    assert script.new_prefixes(plan) == ["", "logs/"]
    assert script.approval_refusal("b", plan, {"": "1,000+", "logs/": "3"}) == (
        "Bucket b: widening these lifecycle prefixes would make S3 start deleting objects the rules never touched: "
        "rule expire-logs Filter.Prefix 'logs/*' -> 'logs/' (expires objects: Expiration.Days=30; the new prefix "
        "matches 3 objects); rule old Prefix '/*' -> '' (expires objects: "
        "NoncurrentVersionExpiration.NoncurrentDays=10; the new prefix matches 1,000+ objects). Object counts are "
        "current objects under the new prefix before any tag or size filter of the rule (an upper bound); "
        "noncurrent versions are not counted. Review the rules and the objects, then re-run with "
        "IncludeExpiringRules=true. Nothing was changed, nor the 1 other planned rewrite(s)."
    )


def test_unfixable_refusal_also_names_expiring_rewrites_waiting_for_the_flag():
    rules = [
        {"ID": "star-dot-log", "Status": "Enabled", "Filter": {"Prefix": "*.log"}, **TRANSITION},
        {"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, "Expiration": {"Days": 30}},
    ]
    message = script.refusal("b", script.plan_change(script.Lifecycle(rules, None)))
    assert message.endswith(
        "Nothing was changed. Also, widening rule expire-logs Filter.Prefix (Expiration.Days=30) would make S3 "
        "delete objects: that will need IncludeExpiringRules=true."
    )


# ---- which rules archive objects to a class that needs a restore, and their separate approval (pure) ----

GLACIER_90 = {"Transitions": [{"Days": 90, "StorageClass": "GLACIER"}]}


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        pytest.param(GLACIER_90, ("Transitions.Days=90 to GLACIER",), id="glacier"),
        pytest.param(
            {"Transitions": [{"Days": 180, "StorageClass": "DEEP_ARCHIVE"}]},
            ("Transitions.Days=180 to DEEP_ARCHIVE",),
            id="deep-archive",
        ),
        pytest.param(
            {"Transitions": [{"Date": MIDNIGHT, "StorageClass": "GLACIER"}]},
            ("Transitions.Date=2027-01-01 to GLACIER",),
            id="glacier-on-a-date",
        ),
        pytest.param(
            {"NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER"}]},
            ("NoncurrentVersionTransitions.NoncurrentDays=30 to GLACIER",),
            id="noncurrent-glacier",
        ),
        pytest.param(
            {
                "NoncurrentVersionTransitions": [
                    {"NoncurrentDays": 30, "NewerNoncurrentVersions": 2, "StorageClass": "DEEP_ARCHIVE"}
                ]
            },
            ("NoncurrentVersionTransitions.NoncurrentDays=30 NewerNoncurrentVersions=2 to DEEP_ARCHIVE",),
            id="noncurrent-deep-archive-keep-newer",
        ),
        pytest.param(
            {
                "Transitions": [
                    {"Days": 30, "StorageClass": "STANDARD_IA"},
                    {"Days": 90, "StorageClass": "GLACIER"},
                    {"Days": 365, "StorageClass": "DEEP_ARCHIVE"},
                ]
            },
            ("Transitions.Days=90 to GLACIER", "Transitions.Days=365 to DEEP_ARCHIVE"),
            id="only-the-archive-steps",
        ),
        pytest.param({"Transitions": [{"Days": 30, "StorageClass": "GLACIER_IR"}]}, (), id="glacier-ir"),
        pytest.param({"Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]}, (), id="standard-ia"),
        pytest.param({"Transitions": [{"Days": 30, "StorageClass": "ONEZONE_IA"}]}, (), id="onezone-ia"),
        pytest.param(
            {"Transitions": [{"Days": 0, "StorageClass": "INTELLIGENT_TIERING"}]},
            ("Transitions.Days=0 to INTELLIGENT_TIERING",),
            id="intelligent-tiering-may-archive",
        ),
        pytest.param(
            {"NoncurrentVersionTransitions": [{"NoncurrentDays": 5, "StorageClass": "GLACIER_IR"}]},
            (),
            id="noncurrent-glacier-ir",
        ),
        pytest.param(
            {"Transitions": [{"Days": 7, "StorageClass": "FUTURE_COLD"}]},
            ("Transitions.Days=7 to FUTURE_COLD",),
            id="unknown-class-counts",
        ),
        pytest.param({"Expiration": {"Days": 30}, **ABORT_UPLOADS}, (), id="no-transitions"),
    ],
)
def test_restore_required_transitions_names_the_class_and_the_days(actions, expected):
    assert script.restore_required_transitions({"ID": "r", "Status": "Enabled", "Prefix": "*", **actions}) == expected


def test_plan_blocks_a_glacier_rule_until_restore_required_transitions_are_approved():
    rule = {"ID": "archive-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, **GLACIER_90}
    widened = script.Change(
        "archive-logs", "Filter.Prefix", "logs/*", "logs/", "", True, "Transitions.Days=90 to GLACIER"
    )
    plan = script.plan_change(script.Lifecycle([rule], None))
    assert (plan.changes, plan.blocked, plan.blocked_restore_required) == ((widened,), (), (widened,))
    deletions_only = script.plan_change(script.Lifecycle([rule], None), include_expiring=True)
    assert deletions_only.blocked_restore_required == (widened,), "approving deletions must not approve archiving"
    approved = script.plan_change(script.Lifecycle([rule], None), include_restore_required=True)
    assert (approved.changes, approved.rules_after, approved.blocked_restore_required) == (
        plan.changes,
        plan.rules_after,
        (),
    )


def test_a_rule_that_expires_and_archives_needs_both_approvals_and_the_refusal_says_which():
    rules = [
        {"ID": "ia", "Status": "Enabled", "Filter": {"Prefix": "tmp/*"}, **TRANSITION},
        {"ID": "archive-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, **GLACIER_90},
        {
            "ID": "old-versions",
            "Status": "Disabled",
            "Prefix": "/*",
            "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "DEEP_ARCHIVE"}],
            "NoncurrentVersionExpiration": {"NoncurrentDays": 400},
        },
    ]
    plan = script.plan_change(script.Lifecycle(rules, None))
    assert [c.rule_id for c in plan.blocked] == ["old-versions"]
    assert [c.rule_id for c in plan.blocked_restore_required] == ["archive-logs", "old-versions"]
    assert script.approval_refusal("b", plan, {"tmp/": "0", "logs/": "3", "": "1,000+"}) == (
        "Bucket b: widening these lifecycle prefixes would make S3 start deleting objects the rules never touched: "
        "rule old-versions Prefix '/*' -> '' (expires objects once enabled (rule is Disabled): "
        "NoncurrentVersionExpiration.NoncurrentDays=400; archives objects once enabled (rule is Disabled; readable "
        "only after a restore): NoncurrentVersionTransitions.NoncurrentDays=30 to DEEP_ARCHIVE; the new prefix "
        "matches 1,000+ objects). Widening these would make S3 move objects the rules never touched to a storage "
        "class they can be read from only after a restore: rule archive-logs Filter.Prefix 'logs/*' -> 'logs/' "
        "(expires no objects; archives objects (readable only after a restore): Transitions.Days=90 to GLACIER; "
        "the new prefix matches 3 objects); rule old-versions Prefix '/*' -> '' (expires objects once enabled "
        "(rule is Disabled): NoncurrentVersionExpiration.NoncurrentDays=400; archives objects once enabled (rule "
        "is Disabled; readable only after a restore): NoncurrentVersionTransitions.NoncurrentDays=30 to "
        "DEEP_ARCHIVE; the new prefix matches 1,000+ objects). " + script.COUNT_NOTE + " Review the rules and the "
        "objects, then re-run with IncludeExpiringRules=true and IncludeRestoreRequiredTransitions=true. Nothing "
        "was changed, nor the 1 other planned rewrite(s)."
    )
    only_archiving = script.plan_change(script.Lifecycle(rules, None), include_expiring=True)
    assert script.approval_refusal("b", only_archiving, {"tmp/": "0", "logs/": "3", "": "1,000+"}).startswith(
        "Bucket b: widening these lifecycle prefixes would make S3 move objects the rules never touched to a "
        "storage class they can be read from only after a restore: rule archive-logs "
    )


def test_unfixable_refusal_also_names_archiving_rewrites_waiting_for_their_approval():
    rules = [
        {"ID": "star-dot-log", "Status": "Enabled", "Filter": {"Prefix": "*.log"}, **TRANSITION},
        {"ID": "archive-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, **GLACIER_90},
    ]
    message = script.refusal("b", script.plan_change(script.Lifecycle(rules, None)))
    assert message.endswith(
        "Nothing was changed. Also, widening rule archive-logs Filter.Prefix (Transitions.Days=90 to GLACIER) "
        "would move objects to a class readable only after a restore: that will need "
        "IncludeRestoreRequiredTransitions=true."
    )


# ---- the full loop: the committed document run as SSM runs it, against moto ----


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


def parameters(bucket, dry_run=False, include_expiring=False, include_restore_required=False):
    return {
        "BucketName": bucket,
        "IncludeExpiringRules": include_expiring,
        "IncludeRestoreRequiredTransitions": include_restore_required,
        "DryRun": dry_run,
    }


def run(bucket, **given):
    """The document's output, its parameters sent as strings as AWS Config and the console send them."""
    return run_document("FixS3LifecycleAsteriskPrefix", **parameters(bucket, **given))


def refused(bucket, **given):
    """The failed execution's message."""
    return refusal("FixS3LifecycleAsteriskPrefix", **parameters(bucket, **given))


def run_script(bucket, **given):
    """script.py's handler itself, for the Stubber tests (they patch its client factory)."""
    return script.handler(parameters(bucket, **given), None)


def put_objects(client, bucket, keys):
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=b"x")


def test_bucket_with_every_filter_form_is_fixed_and_nothing_else_changes(s3):
    client, bucket = s3
    bucket("mixed", every_filter_form())
    before = rules_of(client, "mixed")

    result = run("mixed", include_expiring=True, include_restore_required=True)

    expected = copy.deepcopy(before)
    expected[0]["Prefix"] = ""
    expected[2]["Filter"]["Prefix"] = "logs/"
    expected[3]["Filter"]["Prefix"] = ""
    expected[5]["Filter"]["And"]["Prefix"] = "raw/"
    assert rules_of(client, "mixed") == expected
    assert result["Status"] == "CHANGED"
    days, noncurrent = "Expiration.Days=30", "NoncurrentVersionExpiration.NoncurrentDays=10"
    glacier = "Transitions.Days=30 to GLACIER"
    assert result["RulesChanged"] == [
        {
            "RuleId": "legacy-star",
            "Field": "Prefix",
            "Before": "*",
            "After": "",
            "Expires": days,
            "Archives": "",
            "ObjectsMatched": "0",
        },
        {
            "RuleId": "filter-trailing",
            "Field": "Filter.Prefix",
            "Before": "logs/*",
            "After": "logs/",
            "Expires": noncurrent,
            "Archives": glacier,
            "ObjectsMatched": "0",
        },
        {
            "RuleId": "filter-slash-star",
            "Field": "Filter.Prefix",
            "Before": "/*",
            "After": "",
            "Expires": days,
            "Archives": "",
            "ObjectsMatched": "0",
        },
        {
            "RuleId": "and-prefix-tags",
            "Field": "Filter.And.Prefix",
            "Before": "raw/**",
            "After": "raw/",
            "Expires": days,
            "Archives": "",
            "ObjectsMatched": "0",
        },
    ]
    assert run("mixed")["Status"] == "NO_CHANGE"
    assert rules_of(client, "mixed") == expected


def test_dry_run_reports_the_plan_and_changes_nothing(s3):
    client, bucket = s3
    bucket("dry", [{"ID": "all", "Status": "Enabled", "Filter": {"Prefix": "*"}, **TRANSITION}])
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
    assert re.search(r"rule star-dot-log Filter.Prefix '\*.log'.*Nothing was changed", refused("suffix"))
    assert rules_of(client, "suffix") == before


EXPIRING_CASES = [
    pytest.param({"Expiration": {"Days": 30}}, "Expiration.Days=30", id="expiration-days"),
    pytest.param({"Expiration": {"Date": MIDNIGHT}}, "Expiration.Date=2027-01-01", id="expiration-date"),
    pytest.param(
        {"NoncurrentVersionExpiration": {"NoncurrentDays": 10}},
        "NoncurrentVersionExpiration.NoncurrentDays=10",
        id="noncurrent-expiration",
    ),
]


@pytest.mark.parametrize(("actions", "named"), EXPIRING_CASES)
def test_expiring_rule_is_refused_without_the_flag_and_the_bucket_is_unchanged(s3, actions, named):
    client, bucket = s3
    bucket("expiring", [{"ID": "expire-all", "Status": "Enabled", "Prefix": "*", **actions}])
    put_objects(client, "expiring", ["a", "logs/b"])
    before = rules_of(client, "expiring")
    message = refused("expiring")
    assert f"rule expire-all Prefix '*' -> '' (expires objects: {named}; the new prefix matches 2 objects)" in message
    assert "re-run with IncludeExpiringRules=true" in message and message.endswith("Nothing was changed.")
    assert rules_of(client, "expiring") == before


def test_one_expiring_rule_blocks_rewriting_a_transition_only_rule_too(s3):
    client, bucket = s3
    rules = [
        {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "/*"}, **TRANSITION},
        {"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, "Expiration": {"Days": 30}},
    ]
    bucket("mixed-expiry", rules)
    before = rules_of(client, "mixed-expiry")
    message = refused("mixed-expiry")
    assert "rule expire-logs Filter.Prefix 'logs/*' -> 'logs/' (expires objects: Expiration.Days=30" in message
    assert "rule archive" not in message and message.endswith(
        "Nothing was changed, nor the 1 other planned rewrite(s)."
    )
    assert rules_of(client, "mixed-expiry") == before


def test_dry_run_without_the_flag_is_refused_the_same_way(s3):
    client, bucket = s3
    bucket("dry-expiring", [{"ID": "expire-all", "Status": "Enabled", "Prefix": "*", "Expiration": {"Days": 30}}])
    before = rules_of(client, "dry-expiring")
    assert re.search(r"Expiration.Days=30.*IncludeExpiringRules=true", refused("dry-expiring", dry_run=True))
    assert rules_of(client, "dry-expiring") == before


def test_disabled_expiring_rule_is_refused_saying_enabling_it_would_delete(s3):
    client, bucket = s3
    bucket("disabled", [{"ID": "later", "Status": "Disabled", "Prefix": "*", "Expiration": {"Days": 30}}])
    before = rules_of(client, "disabled")
    assert "expires objects once enabled (rule is Disabled)" in refused("disabled")
    assert rules_of(client, "disabled") == before


def test_include_expiring_rules_rewrites_and_names_the_blast_radius(s3):
    client, bucket = s3
    rules = [
        {"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, "Expiration": {"Days": 30}},
        {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "*"}, **TRANSITION},
    ]
    bucket("approved", rules)
    put_objects(client, "approved", ["logs/1", "logs/2", "logs/3", "data/1", "top"])

    result = run("approved", include_expiring="true")

    after = rules_of(client, "approved")
    assert [r["Filter"]["Prefix"] for r in after] == ["logs/", ""]
    assert (result["Status"], result["RulesChanged"]) == (
        "CHANGED",
        [
            {
                "RuleId": "expire-logs",
                "Field": "Filter.Prefix",
                "Before": "logs/*",
                "After": "logs/",
                "Expires": "Expiration.Days=30",
                "Archives": "",
                "ObjectsMatched": "3",
            },
            {
                "RuleId": "archive",
                "Field": "Filter.Prefix",
                "Before": "*",
                "After": "",
                "Expires": "",
                "Archives": "",
                "ObjectsMatched": "5",
            },
        ],
    )
    assert result["Message"] == (
        "Rewrote rule expire-logs Filter.Prefix 'logs/*' -> 'logs/' (expires objects: Expiration.Days=30; the new "
        "prefix matches 3 objects); rule archive Filter.Prefix '*' -> '' (expires no objects; the new prefix matches "
        "5 objects); every other rule and field is unchanged. " + script.COUNT_NOTE
    )


@pytest.mark.parametrize("actions", [TRANSITION, ABORT_UPLOADS, DELETE_MARKERS], ids=["transition", "abort", "marker"])
def test_rules_that_delete_nothing_are_rewritten_without_the_flag(s3, actions):
    client, bucket = s3
    bucket("harmless", [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, **actions}])
    result = run("harmless")
    assert result["Status"] == "CHANGED"
    assert rules_of(client, "harmless")[0]["Filter"] == {"Prefix": "logs/"}
    assert (result["RulesChanged"][0]["Expires"], result["RulesChanged"][0]["ObjectsMatched"]) == ("", "0")


def test_dry_run_shows_whether_each_rule_expires_and_the_objects_its_new_prefix_matches(s3):
    client, bucket = s3
    rules = [
        {"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, "Expiration": {"Days": 30}},
        {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "*"}, **TRANSITION},
    ]
    bucket("blast", rules)
    put_objects(client, "blast", ["logs/1", "logs/2", "logs/3", "data/1", "top"])
    before = rules_of(client, "blast")

    result = run("blast", dry_run=True, include_expiring=True)

    assert rules_of(client, "blast") == before
    assert result["Status"] == "DRY_RUN"
    assert [(c["RuleId"], c["Expires"], c["ObjectsMatched"]) for c in result["RulesChanged"]] == [
        ("expire-logs", "Expiration.Days=30", "3"),
        ("archive", "", "5"),
    ]
    assert result["Message"].startswith(
        "Would rewrite rule expire-logs Filter.Prefix 'logs/*' -> 'logs/' (expires objects: Expiration.Days=30; "
        "the new prefix matches 3 objects); rule archive Filter.Prefix '*' -> '' (expires no objects; the new "
        "prefix matches 5 objects)."
    )
    assert (
        "before any tag or size filter of the rule (an upper bound); noncurrent versions are not counted"
        in (result["Message"])
    )


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        (True, True),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        (False, False),
        ("false", False),
        ("False", False),
    ],
)
def test_include_expiring_rules_accepts_booleans_and_the_strings_ssm_passes(s3, value, allowed):
    client, bucket = s3
    bucket("flag", [{"ID": "expire-all", "Status": "Enabled", "Prefix": "*", "Expiration": {"Days": 30}}])
    if allowed:
        assert run("flag", include_expiring=value)["Status"] == "CHANGED"
        assert rules_of(client, "flag")[0]["Prefix"] == ""
    else:
        assert "IncludeExpiringRules=true" in refused("flag", include_expiring=value)
        assert rules_of(client, "flag")[0]["Prefix"] == "*"


@pytest.mark.parametrize(
    ("value", "read"),
    [(True, True), ("true", True), (" TRUE ", True), (" True ", True), (False, False), ("false", False), ("", False)],
)
def test_the_script_reads_a_flag_given_as_a_string_in_any_case_or_padding(value, read):
    """SSM hands the script a Boolean parameter as a bool; a caller of the handler itself may pass a string."""
    assert script.as_bool(value) is read


def test_missing_include_expiring_rules_means_false(s3):
    _, bucket = s3
    bucket("no-flag", [{"ID": "expire-all", "Status": "Enabled", "Prefix": "*", "Expiration": {"Days": 30}}])
    assert "IncludeExpiringRules=true" in refusal("FixS3LifecycleAsteriskPrefix", BucketName="no-flag")
    with pytest.raises(script.RemediationError, match="IncludeExpiringRules=true"):
        script.handler({"BucketName": "no-flag", "DryRun": False}, None)  # the script's own default, too


RESTORE_REQUIRED_CASES = [
    pytest.param(GLACIER_90, "Transitions.Days=90 to GLACIER", id="glacier"),
    pytest.param(
        {"Transitions": [{"Days": 180, "StorageClass": "DEEP_ARCHIVE"}]},
        "Transitions.Days=180 to DEEP_ARCHIVE",
        id="deep-archive",
    ),
    pytest.param(
        {"NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER"}]},
        "NoncurrentVersionTransitions.NoncurrentDays=30 to GLACIER",
        id="noncurrent-glacier",
    ),
]


@pytest.mark.parametrize(("actions", "named"), RESTORE_REQUIRED_CASES)
@pytest.mark.parametrize("include_expiring", [False, True], ids=["no-approval", "deletions-approved-only"])
def test_transition_to_a_restore_required_class_is_refused_without_its_approval(s3, actions, named, include_expiring):
    client, bucket = s3
    bucket("archive", [{"ID": "archive-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, **actions}])
    put_objects(client, "archive", ["logs/1", "logs/2", "logs/3", "data/1"])
    before = rules_of(client, "archive")
    assert refused("archive", include_expiring=include_expiring) == (
        "Bucket archive: widening these lifecycle prefixes would make S3 move objects the rules never touched to a "
        "storage class they can be read from only after a restore: rule archive-logs Filter.Prefix 'logs/*' -> "
        f"'logs/' (expires no objects; archives objects (readable only after a restore): {named}; the new prefix "
        f"matches 3 objects). {script.COUNT_NOTE} Review the rules and the objects, then re-run with "
        "IncludeRestoreRequiredTransitions=true. Nothing was changed."
    )
    assert rules_of(client, "archive") == before


@pytest.mark.parametrize(("actions", "named"), RESTORE_REQUIRED_CASES)
@pytest.mark.parametrize("approval", [True, "true", "True"], ids=["bool", "ssm-string", "capitalised"])
def test_transition_to_a_restore_required_class_is_widened_once_approved(s3, actions, named, approval):
    client, bucket = s3
    bucket("archive", [{"ID": "archive-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, **actions}])
    put_objects(client, "archive", ["logs/1", "logs/2", "logs/3", "data/1"])

    result = run("archive", include_restore_required=approval)

    assert rules_of(client, "archive") == [
        {"ID": "archive-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, **actions}
    ]
    assert (result["Status"], result["RulesChanged"]) == (
        "CHANGED",
        [
            {
                "RuleId": "archive-logs",
                "Field": "Filter.Prefix",
                "Before": "logs/*",
                "After": "logs/",
                "Expires": "",
                "Archives": named,
                "ObjectsMatched": "3",
            }
        ],
    )
    assert result["Message"] == (
        "Rewrote rule archive-logs Filter.Prefix 'logs/*' -> 'logs/' (expires no objects; archives objects "
        f"(readable only after a restore): {named}; the new prefix matches 3 objects); every other rule and field "
        f"is unchanged. {script.COUNT_NOTE}"
    )


@pytest.mark.parametrize("storage_class", ["GLACIER_IR", "STANDARD_IA", "ONEZONE_IA"])
def test_transition_to_a_class_readable_without_a_restore_is_widened_without_approval(s3, storage_class):
    client, bucket = s3
    transitions = {"Transitions": [{"Days": 90, "StorageClass": storage_class}]}
    noncurrent = {"NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": storage_class}]}
    bucket("readable", [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, **transitions, **noncurrent}])
    result = run("readable")
    assert rules_of(client, "readable")[0]["Filter"] == {"Prefix": "logs/"}
    assert (result["Status"], result["RulesChanged"][0]["Archives"]) == ("CHANGED", "")


def test_disabled_archiving_rule_is_refused_saying_enabling_it_would_archive(s3):
    client, bucket = s3
    bucket("disabled-archive", [{"ID": "later", "Status": "Disabled", "Prefix": "*", **GLACIER_90}])
    before = rules_of(client, "disabled-archive")
    assert re.search(
        r"archives objects once enabled \(rule is Disabled; readable only after a restore\): "
        r"Transitions.Days=90 to GLACIER.*IncludeRestoreRequiredTransitions=true",
        refused("disabled-archive"),
    )
    assert rules_of(client, "disabled-archive") == before


def test_dry_run_without_approval_is_refused_naming_the_archiving_rule(s3):
    client, bucket = s3
    bucket("dry-archive", [{"ID": "archive-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, **GLACIER_90}])
    before = rules_of(client, "dry-archive")
    message = refused("dry-archive", dry_run=True, include_expiring=True)
    assert re.search(r"rule archive-logs .*Transitions.Days=90 to GLACIER.*IncludeRestoreRequired", message)
    assert rules_of(client, "dry-archive") == before


def test_dry_run_lists_archiving_rules_in_the_blast_radius(s3):
    client, bucket = s3
    rules = [
        {"ID": "archive-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, **GLACIER_90},
        {"ID": "ia", "Status": "Enabled", "Filter": {"Prefix": "*"}, **TRANSITION},
    ]
    bucket("dry-blast", rules)
    put_objects(client, "dry-blast", ["logs/1", "logs/2", "logs/3", "data/1", "top"])
    before = rules_of(client, "dry-blast")

    result = run("dry-blast", dry_run=True, include_restore_required=True)

    assert rules_of(client, "dry-blast") == before
    assert result["Status"] == "DRY_RUN"
    assert [(c["RuleId"], c["Expires"], c["Archives"], c["ObjectsMatched"]) for c in result["RulesChanged"]] == [
        ("archive-logs", "", "Transitions.Days=90 to GLACIER", "3"),
        ("ia", "", "", "5"),
    ]
    assert result["Message"] == (
        "Would rewrite rule archive-logs Filter.Prefix 'logs/*' -> 'logs/' (expires no objects; archives objects "
        "(readable only after a restore): Transitions.Days=90 to GLACIER; the new prefix matches 3 objects); rule "
        "ia Filter.Prefix '*' -> '' (expires no objects; the new prefix matches 5 objects). " + script.COUNT_NOTE
    )


def test_bucket_without_lifecycle_is_left_alone(s3):
    _, bucket = s3
    bucket("plain")
    assert run("plain") == {
        "BucketName": "plain",
        "Status": "NO_CHANGE",
        "Message": "The bucket has no lifecycle configuration.",
        "RulesChanged": [],
        "Changes": [],
        "Before": {"Prefixes": {}},
        "After": {"Prefixes": {}},
    }


def test_missing_bucket_fails_clearly(s3):
    assert refused("ghost-bucket") == "Bucket ghost-bucket does not exist; nothing was changed."


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


def expect_count(stub, prefix, key_count=0, truncated=False):
    stub.add_response(
        "list_objects_v2",
        {"IsTruncated": truncated, "KeyCount": key_count, "MaxKeys": 1000, "Prefix": prefix},
        {"Bucket": "sized", "Prefix": prefix, "MaxKeys": 1000},
    )


def test_object_size_filters_and_default_minimum_size_are_written_back(stubbed):
    expect_get(stubbed, SIZE_RULES)
    expect_count(stubbed, "logs/")
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
    assert run_script("sized")["Status"] == "CHANGED"


def test_concurrent_change_between_read_and_write_is_not_overwritten(stubbed):
    expect_get(stubbed, SIZE_RULES)
    expect_count(stubbed, "logs/")
    expect_get(stubbed, [*SIZE_RULES, {"ID": "added-meanwhile", "Status": "Enabled", "Prefix": "x/"}])
    with pytest.raises(script.RemediationError, match="changed while the remediation ran; nothing was overwritten"):
        run_script("sized")


def test_verification_fails_when_read_back_differs(stubbed):
    expect_get(stubbed, SIZE_RULES)
    expect_count(stubbed, "logs/")
    expect_get(stubbed, SIZE_RULES)
    stubbed.add_response("put_bucket_lifecycle_configuration", {})
    expect_get(stubbed, SIZE_RULES_FIXED, size="all_storage_classes_128K")
    with pytest.raises(script.RemediationError, match="read back after the change is not the planned one"):
        run_script("sized")


def test_objects_are_counted_once_per_distinct_new_prefix(stubbed):
    rules = [
        {"ID": "a", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, **TRANSITION},
        {"ID": "b", "Status": "Enabled", "Filter": {"Prefix": "logs/**"}, **ABORT_UPLOADS},
        {"ID": "c", "Status": "Enabled", "Prefix": "*", **TRANSITION},
        {"ID": "d", "Status": "Enabled", "Filter": {"Prefix": "/*"}, **DELETE_MARKERS},
        {"ID": "clean", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
    ]
    expect_get(stubbed, rules)
    expect_count(stubbed, "logs/", 12)
    expect_count(stubbed, "", 40)  # a third list call, or any other, fails: the Stubber has no answer for it
    result = run_script("sized", dry_run=True)
    assert [(c["RuleId"], c["ObjectsMatched"]) for c in result["RulesChanged"]] == [
        ("a", "12"),
        ("b", "12"),
        ("c", "40"),
        ("d", "40"),
    ]


def test_a_truncated_listing_counts_as_1000_plus(stubbed):
    expect_get(stubbed, [{"ID": "expire-all", "Status": "Enabled", "Prefix": "*", "Expiration": {"Days": 30}}])
    expect_count(stubbed, "", 1000, truncated=True)
    with pytest.raises(script.RemediationError, match=r"the new prefix matches 1,000\+ objects"):
        run_script("sized")


def test_a_truncated_listing_shows_1000_plus_in_the_plan(stubbed):
    expect_get(stubbed, SIZE_RULES)
    expect_count(stubbed, "logs/", 1000, truncated=True)
    result = run_script("sized", dry_run=True)
    assert result["RulesChanged"][0]["ObjectsMatched"] == "1,000+"
    assert "the new prefix matches 1,000+ objects" in result["Message"]


def test_nothing_is_listed_when_no_prefix_needs_rewriting(stubbed):
    expect_get(stubbed, [{"ID": "clean", "Status": "Enabled", "Prefix": "logs/", "Expiration": {"Days": 1}}])
    assert run_script("sized")["Status"] == "NO_CHANGE"  # a list call would find no stubbed answer and fail


def test_nothing_is_listed_when_an_unfixable_prefix_refuses_the_run(stubbed):
    expect_get(stubbed, [{"ID": "bad", "Status": "Enabled", "Prefix": "*.log", **TRANSITION}])
    with pytest.raises(script.RemediationError, match=r"rule bad Prefix '\*.log' has '\*' before the end"):
        run_script("sized")


# ---- no pack approves deletions on anyone's behalf ----


def test_no_pack_sets_include_expiring_rules_so_automatic_runs_use_the_default_false():
    project = load_project(ROOT)
    assert project.documents["FixS3LifecycleAsteriskPrefix"].parameters["IncludeExpiringRules"] == {
        **project.documents["FixS3LifecycleAsteriskPrefix"].parameters["IncludeExpiringRules"],
        "type": "Boolean",
        "default": False,
    }
    for pack in project.packs.values():
        for rule in pack.rules:
            assert "IncludeExpiringRules" not in rule.remediation.parameters, (pack.name, rule.name)
    for template in (ROOT / "conformance-packs").glob("*.yaml"):
        assert "IncludeExpiringRules" not in template.read_text(), template.name


def test_no_pack_approves_restore_required_transitions_so_the_automatic_sandbox_fix_refuses_them():
    project = load_project(ROOT)
    declared = project.documents["FixS3LifecycleAsteriskPrefix"].parameters["IncludeRestoreRequiredTransitions"]
    assert declared == {**declared, "type": "Boolean", "default": False}
    sandbox = {rule.name: rule for rule in project.packs["rdk-guardrails-sandbox"].rules}
    assert sandbox["S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"].remediation.automatic is True
    for pack in project.packs.values():
        for rule in pack.rules:
            assert "IncludeRestoreRequiredTransitions" not in rule.remediation.parameters, (pack.name, rule.name)
    for template in (ROOT / "conformance-packs").glob("*.yaml"):
        assert "IncludeRestoreRequiredTransitions" not in template.read_text(), template.name
