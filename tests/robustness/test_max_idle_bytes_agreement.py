"""MaxIdleBytes: the rule, the deletion's script and its document's allowedPattern take exactly the same strings.

The rule judges an endpoint idle at MaxIdleBytes; DeleteIdleVpcEndpoint re-measures against the value it is given
as an SSM String. A value one of them takes and another refuses is a deletion that fails only when it runs.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from rdklib import InvalidParametersError

from rdkpack.project import documents
from tests.support.project import ROOT, load_remediation_script, load_rule

RULE = load_rule("VPC_ENDPOINT_IDLE_CHECK", "max_idle_bytes_rule")
SCRIPT = load_remediation_script("DeleteIdleVpcEndpoint")
SPEC = documents.load_document(ROOT / "remediations" / "DeleteIdleVpcEndpoint")["parameters"]["MaxIdleBytes"]

# Digit strings near the bounds (leading zeros, 15 or 16 significant digits, 30 or 31 characters) and anything else.
near_bounds = st.builds(
    lambda zeros, number: "0" * zeros + str(number),
    st.integers(0, 32),
    st.sampled_from([0, 1, 10**15 - 1, 10**15, 10**15 + 1, 10**16]) | st.integers(0, 10**17),
)
values = near_bounds | st.text(alphabet="0123456789 +-._e,x٣\n", max_size=32) | st.text(max_size=32)


def taken_by_rule(value: str) -> int | None:
    try:
        return RULE.parse_parameters({"MaxIdleBytes": value}).max_bytes
    except InvalidParametersError:
        return None


def taken_by_script(value: str) -> int | None:
    try:
        return SCRIPT.parse_digits(value, "MaxIdleBytes", 0, SCRIPT.MAX_IDLE_BYTES)
    except SCRIPT.RemediationError:
        return None


@given(values)
def test_the_rule_the_script_and_the_pattern_take_the_same_max_idle_bytes(value):
    # The rule strips its parameters and takes no empty value (its default then applies); SSM passes them verbatim.
    if value != value.strip() or not value:
        assert taken_by_script(value) is None
        return
    by_rule, by_script = taken_by_rule(value), taken_by_script(value)
    assert by_rule == by_script, value
    assert (re.search(SPEC["allowedPattern"], value) is not None) == (by_script is not None), value


def test_the_document_default_is_the_rules_default():
    assert taken_by_script(SPEC["default"]) == RULE.parse_parameters({}).max_bytes == 0
