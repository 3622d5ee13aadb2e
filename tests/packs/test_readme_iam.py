"""README's IAM tables come from the IAM_PERMISSIONS beside the code, and go stale when the code changes."""

from __future__ import annotations

import shutil

import pytest

from rdkpack.errors import ConfigError
from rdkpack.packs import readme_iam, write
from rdkpack.project.config import load_project
from tests.support.project import ROOT, copy_project

PROJECT = load_project(ROOT)


def project_with_readme(tmp_path):
    copy_project(tmp_path)
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


def test_every_rule_and_its_remediations_appear_in_its_table():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for rule in PROJECT.rules:
        table = readme_iam.iam_table(PROJECT, rule)
        assert table in text, rule
        for document in readme_iam.rule_documents(PROJECT, rule):
            assert f"`{document}` automation role" in table


def test_the_committed_readme_is_current():
    assert ROOT / "README.md" not in write.stale_files(ROOT, write=False)


def test_an_action_added_beside_the_code_makes_the_readme_stale(tmp_path):
    project = project_with_readme(tmp_path)
    script = project / "remediations" / "AttachLambdaCodeSigningConfig" / "script.py"
    source = script.read_text(encoding="utf-8")
    marker = "IAM_PERMISSIONS = (\n"
    script.write_text(source.replace(marker, marker + '    ("lambda:GetFunction", "function"),\n', 1))
    roles = project / "conformance-packs" / "prerequisites" / "iam-roles.yaml"
    assert write.stale_files(project, write=False) == [project / "README.md", roles]
    write.stale_files(project, write=True)
    assert "| `AttachLambdaCodeSigningConfig` automation role | `lambda:GetFunction` | function |" in (
        project / "README.md"
    ).read_text(encoding="utf-8")
    assert write.stale_files(project, write=False) == []


def test_a_rule_without_a_table_is_named(tmp_path):
    project = project_with_readme(tmp_path)
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace("<!-- iam: S3_LIFECYCLE_ASTERISK_PREFIX_CHECK -->\n", ""))
    with pytest.raises(ConfigError, match=r"README.md: ### S3_LIFECYCLE_ASTERISK_PREFIX_CHECK: no IAM table"):
        write.stale_files(project, write=False)


def test_a_table_for_an_unknown_rule_is_named(tmp_path):
    project = project_with_readme(tmp_path)
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\n<!-- iam: GONE_RULE -->\n<!-- /iam -->\n")
    with pytest.raises(ConfigError, match=r"<!-- iam: GONE_RULE -->: no such rule"):
        write.stale_files(project, write=False)
