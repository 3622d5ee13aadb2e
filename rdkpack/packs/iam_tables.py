"""The IAM tables of the documentation site, generated from the IAM_PERMISSIONS declared beside the code.

A rule's page (`docs/rules/<RULE>.md`) shows what its execution role and the automation role of each remediation
paired with it need; a remediation's page shows its script's actions. `rdkpack docs` writes the pages and
`rdkpack docs --check` fails while one is stale, so the site never lists an action the generated roles lack or misses
one they have.
"""

from __future__ import annotations

from pathlib import Path

from rdkpack.packs.iam import RULE_COMMON
from rdkpack.project.config import Project
from rdkpack.project.loader import load_module

HEADER = ("| Role | Action | Resource |", "|---|---|---|")


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


def document_permissions(project: Project, document: str) -> tuple:
    """(action, resource kind) for each action the document's script.py declares."""
    return declared(project.root / "remediations" / document / "script.py", f"iam_tables_{document}")


def rule_rows(project: Project, rule: str) -> list[tuple[str, str, str]]:
    """(role, action, resource kind): the rule execution role's, then each paired document's automation role's."""
    rows = [("rule execution role", action, "*") for action, _ in RULE_COMMON]
    rows += [
        ("rule execution role", action, kind)
        for action, kind in declared(project.root / "rules" / rule / f"{rule}.py", f"iam_tables_{rule}")
    ]
    for document in rule_documents(project, rule):
        rows += [
            (f"`{document}` automation role", action, kind) for action, kind in document_permissions(project, document)
        ]
    return rows


def iam_table(project: Project, rule: str) -> str:
    """The rule's IAM table in Markdown: one row per role and action, the resource column naming its kind."""
    lines = [*HEADER, *(f"| {role} | `{action}` | {kind} |" for role, action, kind in rule_rows(project, rule))]
    return "\n".join(lines)


def document_table(project: Project, document: str) -> str:
    """The remediation's IAM table in Markdown: what its automation role needs."""
    rows = [f"| `{action}` | {kind} |" for action, kind in document_permissions(project, document)]
    return "\n".join(["| Action | Resource |", "|---|---|", *rows])
