"""Every resource type a rule evaluates has an item builder, a tag lookup, and no silent fall-through."""

from __future__ import annotations

import pytest

from rdkpack.account import inventory
from rdkpack.errors import ScanError
from rdkpack.project.config import load_project
from tests.support.project import ROOT

PROJECT = load_project(ROOT)


@pytest.mark.parametrize("rule", sorted(PROJECT.rules))
def test_every_rule_resource_type_has_an_item_builder_and_a_tag_type(rule):
    missing = [
        kind
        for kind in PROJECT.rules[rule].resource_types
        if kind not in inventory.ITEM_BUILDERS or kind not in inventory.TAGGING_TYPES
    ]
    assert missing == [], f"{rule} evaluates {missing}: add them to rdkpack/account/inventory.py"


def test_unknown_resource_type_fails_loudly_instead_of_reading_another_type():
    with pytest.raises(ScanError, match=r"cannot build configuration items for AWS::RDS::DBInstance .*--source config"):
        inventory.items_from_apis(object(), "AWS::RDS::DBInstance", with_tags=False)
