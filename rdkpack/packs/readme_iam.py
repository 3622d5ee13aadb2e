"""README's IAM table per rule, generated from the IAM_PERMISSIONS declared beside the code.

Each rule's section in README.md holds one block between `<!-- iam: RULE -->` and `<!-- /iam -->`;
`rdkpack build` rewrites it and `rdkpack build --check` fails while it is stale, so the README never
lists an action the roles lack or misses one they have.
"""

from __future__ import annotations

import re
from pathlib import Path

from rdkpack.errors import ConfigError
from rdkpack.packs.iam import RULE_COMMON
from rdkpack.project.config import Project
from rdkpack.project.loader import load_module

README = "README.md"
BLOCK = re.compile(r"<!-- iam: (?P<rule>[A-Z0-9_]+) -->\n.*?<!-- /iam -->", re.DOTALL)


def declared(path: Path, module_name: str) -> tuple:
    return load_module(path, module_name, needs=("IAM_PERMISSIONS",)).IAM_PERMISSIONS


def rule_documents(project: Project, rule: str) -> list[str]:
    """The remediation documents any pack pairs with the rule."""
    return sorted(
        {
            pack_rule.remediation.document
            for pack in project.packs.values()
            for pack_rule in pack.rules
            if pack_rule.name == rule and pack_rule.remediation.document
        }
    )


def iam_table(project: Project, rule: str) -> str:
    rows = [("rule execution role", action, "*") for action, _ in RULE_COMMON]
    rows += [
        ("rule execution role", action, kind)
        for action, kind in declared(project.root / "rules" / rule / f"{rule}.py", f"rdkpack_readme_{rule}")
    ]
    for document in rule_documents(project, rule):
        script = project.root / "remediations" / document / "script.py"
        rows += [
            (f"`{document}` automation role", action, kind) for action, kind in declared(script, f"readme_{document}")
        ]
    lines = ["| Role | Action | Resource |", "|---|---|---|"]
    lines += [f"| {role} | `{action}` | {kind} |" for role, action, kind in rows]
    return f"<!-- iam: {rule} -->\n" + "\n".join(lines) + "\n<!-- /iam -->"


def rendered_readme(project: Project, text: str) -> str:
    """README text with every rule's IAM block regenerated; a rule without a block is a ConfigError."""
    present = [match.group("rule") for match in BLOCK.finditer(text)]
    for rule in project.rules:
        if rule not in present:
            raise ConfigError(
                README,
                f"### {rule}",
                "no IAM table for this rule",
                expected=f"'<!-- iam: {rule} -->' and '<!-- /iam -->' lines in its section (rdkpack build fills them)",
            )
    unknown = sorted(set(present) - set(project.rules))
    if unknown:
        raise ConfigError(README, f"<!-- iam: {unknown[0]} -->", "no such rule under rules/", expected="a rule folder")
    return BLOCK.sub(lambda match: iam_table(project, match.group("rule")), text)
