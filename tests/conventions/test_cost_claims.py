"""What the project says about endpoint costs matches AWS's billing (one claim, with its source)."""

from __future__ import annotations

import re

import pytest

from tests.support.project import ROOT

# Since 1 April 2022 AWS bills no inter-AZ data transfer for traffic to an interface endpoint in the
# same Region; the per-GB data processing applies from any AZ. Removing AZs changes no data charge.
SOURCE = "aws-data-transfer-price-reduction-privatelink-transit-gateway-client-vpn-services"
WRONG_CLAIM = re.compile(r"(inter-AZ|cross-AZ)[^.]{0,40}(transfer[^.]{0,20}(is )?charged|would cost)", re.I)
TEXTS = [
    ROOT / "docs" / "remediations" / "ReduceVpcEndpointAzCount.md",  # the user-facing page of the remediation
    ROOT / "rules" / "VPC_ENDPOINT_AZ_COUNT_CHECK" / "VPC_ENDPOINT_AZ_COUNT_CHECK.py",
    ROOT / "remediations" / "ReduceVpcEndpointAzCount" / "ReduceVpcEndpointAzCount.yaml",
    ROOT / "remediations" / "ReduceVpcEndpointAzCount" / "script.py",
]
# Every other page a user reads: the README and the documentation site.
PAGES = [path for path in (ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))) if path not in TEXTS]


@pytest.mark.parametrize("path", TEXTS + PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_text_claims_inter_az_charges_for_endpoint_traffic(path):
    text = " ".join(path.read_text(encoding="utf-8").split())
    assert WRONG_CLAIM.findall(text) == [], f"{path.name}: interface-endpoint traffic pays no inter-AZ transfer"


@pytest.mark.parametrize("path", TEXTS[:1] + TEXTS[2:3], ids=lambda p: p.name)
def test_the_user_facing_warning_cites_the_source(path):
    assert SOURCE in path.read_text(encoding="utf-8")


def test_the_pattern_catches_the_old_wording():
    old = "Clients in removed AZs then cross AZs: inter-AZ data transfer is charged and they lose AZ isolation."
    assert WRONG_CLAIM.search(old)
    assert WRONG_CLAIM.search("data-heavy endpoints where cross-AZ transfer would cost more than the saving")
