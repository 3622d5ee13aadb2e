"""Names the generated templates share: CloudFormation logical IDs and the rule functions' names."""

from __future__ import annotations


def logical_id(name: str, suffix: str = "") -> str:
    return "".join(part.capitalize() for part in name.split("_")) + suffix


def function_name(rule_name: str) -> str:
    """The function `rdk deploy` creates for a rule, and the one the packs name: <= 64 characters."""
    return f"RDK-Rule-Function-{rule_name.replace('_', '')}"
