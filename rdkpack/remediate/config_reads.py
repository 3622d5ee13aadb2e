"""What bulk remediation reads from AWS Config in one account and region: the pack and rule as Config deployed
them, the rule's remediation configuration and NON_COMPLIANT resources; and the selectors and clocks it matches
them with."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from rdkpack.automation.config_remediation import RemediationConfiguration
from rdkpack.packs import deploy

RULE_SUFFIX = "-conformance-pack-"


def deployed_pack(config, pack: str) -> str | None:
    """The pack's name in this account and region, as Config deployed it (an organization pack's copy too)."""
    names = [
        found["ConformancePackName"]
        for page in config.get_paginator("describe_conformance_packs").paginate()
        for found in page["ConformancePackDetails"]
    ]
    if pack in names:
        return pack
    return next((name for name in names if deploy.is_member_copy(name, pack)), None)


def deployed_rule(config, pack_name: str, rule: str) -> str | None:
    """The rule's name inside the deployed pack."""
    pages = config.get_paginator("describe_conformance_pack_compliance").paginate(ConformancePackName=pack_name)
    for page in pages:
        for found in page.get("ConformancePackRuleComplianceList", []):
            name = found["ConfigRuleName"]
            if name == rule or name.startswith(rule + RULE_SUFFIX):
                return name
    return None


def selected(selector: str, account: str, region: str, resource_id: str) -> bool:
    """--resources: an ID anywhere, or ACCOUNT:REGION:ID in that account and region only (resource IDs of these
    types hold no ':')."""
    parts = selector.split(":")
    if len(parts) == 3:  # account, region, ID
        return parts == [account, region, resource_id]
    return selector == resource_id


def server_time(answer: dict) -> datetime | None:
    """When AWS answered, by its own clock (the Date header): statuses invoked before it are older executions'."""
    date = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        return parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        return None


def noncompliant(config, rule_name: str) -> list[tuple[str, str]]:
    """(resource type, resource ID) of every NON_COMPLIANT evaluation of the rule, in Config's order."""
    keys = []
    pages = config.get_paginator("get_compliance_details_by_config_rule").paginate(
        ConfigRuleName=rule_name, ComplianceTypes=["NON_COMPLIANT"]
    )
    for page in pages:
        for result in page["EvaluationResults"]:
            qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            keys.append((qualifier["ResourceType"], qualifier["ResourceId"]))
    return list(dict.fromkeys(keys))


def remediation_of(config, rule_name: str, pack: str, rule: str) -> RemediationConfiguration | None:
    """The deployed rule's remediation configuration, as Config holds it (None: none configured)."""
    found = config.describe_remediation_configurations(ConfigRuleNames=[rule_name])["RemediationConfigurations"]
    if not found:
        return None
    first = found[0]
    return RemediationConfiguration(
        pack, rule, first["TargetId"], first.get("Parameters") or {}, bool(first.get("Automatic"))
    )
