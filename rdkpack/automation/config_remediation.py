"""What AWS Config sends Systems Manager when it remediates a resource: the StartAutomationExecution parameters it
builds from a pack's AWS::Config::RemediationConfiguration (every value a list of strings; a ResourceValue of
RESOURCE_ID becomes the resource's ID), within Config's limits (25 parameters; 25 static values a parameter, each
at most 256 characters).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdkpack.errors import AutomationRefused
from rdkpack.project import files
from rdkpack.project.config import PACKS_DIR
from rdkpack.project.documents import load_yaml

MAX_PARAMETERS, MAX_STATIC_VALUES, MAX_STATIC_VALUE = 25, 25, 256
REMEDIATION_TYPE = "AWS::Config::RemediationConfiguration"


@dataclass(frozen=True)
class RemediationConfiguration:
    """One rule's remediation in a pack, as Config holds it."""

    pack: str
    rule: str
    document: str
    parameters: dict
    automatic: bool

    def automation_parameters(self, resource_id: str) -> dict[str, list[str]]:
        """The parameters Config passes StartAutomationExecution for resource_id."""
        where = f"pack {self.pack}: rule {self.rule}: remediation parameter"
        if len(self.parameters) > MAX_PARAMETERS:
            count = len(self.parameters)
            raise AutomationRefused(f"pack {self.pack}: rule {self.rule}: {count} parameters; Config takes 25")
        sent = {}
        for name, spec in self.parameters.items():
            if "ResourceValue" in spec:
                if spec["ResourceValue"].get("Value") != "RESOURCE_ID":
                    raise AutomationRefused(f"{where} {name}: ResourceValue is always RESOURCE_ID")
                sent[name] = [resource_id]
                continue
            values = (spec.get("StaticValue") or {}).get("Values")
            if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
                raise AutomationRefused(f"{where} {name}: StaticValue.Values must be a list of strings")
            if len(values) > MAX_STATIC_VALUES or any(len(value) > MAX_STATIC_VALUE for value in values):
                raise AutomationRefused(f"{where} {name}: Config takes at most 25 values of at most 256 characters")
            sent[name] = list(values)
        return sent


def pack_template(root: Path, pack: str) -> dict:
    path = root / PACKS_DIR / f"{pack}.yaml"
    template = files.read_yaml(path, load_yaml)
    if not isinstance(template, dict):
        raise AutomationRefused(f"{path}: not a conformance pack template")
    return template


def remediation_configurations(root: Path, pack: str) -> dict[str, RemediationConfiguration]:
    """{rule name: its remediation} for every RemediationConfiguration in the committed pack template."""
    found = {}
    for resource in (pack_template(root, pack).get("Resources") or {}).values():
        if not isinstance(resource, dict) or resource.get("Type") != REMEDIATION_TYPE:
            continue
        properties = resource.get("Properties") or {}
        rule = str(properties.get("ConfigRuleName"))
        found[rule] = RemediationConfiguration(
            pack=pack,
            rule=rule,
            document=str(properties.get("TargetId")),
            parameters=properties.get("Parameters") or {},
            automatic=bool(properties.get("Automatic")),
        )
    return found
