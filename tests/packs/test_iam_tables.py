"""The IAM tables of the rule and remediation pages come from the IAM_PERMISSIONS beside the code, and go stale when
the code changes."""

from __future__ import annotations

from rdkpack import docs
from rdkpack.cli import build_parser
from rdkpack.packs import iam_tables, write
from rdkpack.project.config import load_project
from tests.support.project import PROJECT_PARTS, ROOT, copy_project

PROJECT = load_project(ROOT)


def page(root, kind: str, name: str) -> str:
    return (root / "docs" / kind / f"{name}.md").read_text(encoding="utf-8")


def test_every_rule_page_holds_its_table_with_each_paired_remediation():
    for rule in PROJECT.rules:
        table = iam_tables.iam_table(PROJECT, rule)
        assert table in page(ROOT, "rules", rule), rule
        assert "| rule execution role | `config:PutEvaluations` | * |" in table
        for document in iam_tables.rule_documents(PROJECT, rule):
            assert f"`{document}` automation role" in table


def test_every_remediation_page_holds_its_scripts_table():
    for document in PROJECT.documents:
        table = iam_tables.document_table(PROJECT, document)
        assert table in page(ROOT, "remediations", document), document
        for action, kind in iam_tables.document_permissions(PROJECT, document):
            assert f"| `{action}` | {kind} |" in table


def test_an_action_added_beside_the_code_makes_the_pages_and_the_roles_stale(tmp_path):
    project = copy_project(tmp_path, (*PROJECT_PARTS, "docs"))
    stale_before = set(write.stale_files(project, write=False))  # what is stale already is not this change's doing
    script = project / "remediations" / "AttachLambdaCodeSigningConfig" / "script.py"
    marker = "IAM_PERMISSIONS = (\n"
    source = script.read_text(encoding="utf-8")
    script.write_text(source.replace(marker, marker + '    ("lambda:GetFunction", "function"),\n', 1))
    parser = build_parser()

    roles = project / "conformance-packs" / "prerequisites" / "iam-roles.yaml"
    assert set(write.stale_files(project, write=False)) - stale_before == {roles}
    rule_page = project / "docs" / "rules" / "LAMBDA_CODE_SIGNING_CHECK.md"
    document_page = project / "docs" / "remediations" / "AttachLambdaCodeSigningConfig.md"
    assert docs.stale_pages(project, parser, write=False) == [document_page, rule_page]

    docs.stale_pages(project, parser, write=True)
    assert "| `AttachLambdaCodeSigningConfig` automation role | `lambda:GetFunction` | function |" in (
        rule_page.read_text(encoding="utf-8")
    )
    assert "| `lambda:GetFunction` | function |" in document_page.read_text(encoding="utf-8")
    assert docs.stale_pages(project, parser, write=False) == []
