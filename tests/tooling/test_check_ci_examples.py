"""The CI uses of `rdkpack check` (issue 29, item 6): the pre-commit hook other repositories install
(.pre-commit-hooks.yaml) and the GitHub Actions example (docs/examples/github-actions-check.yml). Both run command
lines that rdkpack's own parser must accept, and the workflow must upload the SARIF even when the check finds
something (exit 1) and fail the job afterwards."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from pre_commit.clientlib import load_manifest

from rdkpack import cli
from tests.support.project import ROOT

HOOKS = ROOT / ".pre-commit-hooks.yaml"
WORKFLOW = ROOT / "docs" / "examples" / "github-actions-check.yml"
FINDINGS = ROOT / "tests" / "fixtures" / "check" / "parity"  # templates with findings


def hook() -> dict:
    (found,) = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    return found


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps() -> list[dict]:
    return workflow()["jobs"]["check"]["steps"]


def step(named: str) -> dict:
    return next(s for s in steps() if s.get("name") == named)


def parsed(argv: list[str]):
    """rdkpack's parser on argv; SystemExit (argparse's usage error) fails the test."""
    return cli.build_parser().parse_args(argv)


def test_hook_manifest_is_valid_for_pre_commit_and_names_the_check_command():
    (loaded,) = load_manifest(str(HOOKS))  # pre-commit's own schema: raises on a missing or wrong key
    assert (loaded["id"], loaded["entry"], loaded["language"]) == ("rdkpack-check", "rdkpack check", "python")
    assert loaded["pass_filenames"] is True
    assert loaded["require_serial"] is True


def test_hook_entry_with_the_files_pre_commit_passes_is_accepted_by_the_parser():
    argv = shlex.split(hook()["entry"])
    assert argv[0] == "rdkpack"  # the console script pyproject.toml installs
    args = parsed([*argv[1:], "infra/stack.yaml", "cdk.out/App.template.json"])
    assert args.run is cli.cmd_check
    assert args.paths == ["infra/stack.yaml", "cdk.out/App.template.json"]


@pytest.mark.parametrize(
    ("path", "passed"),
    [
        pytest.param("infra/stack.yaml", True, id="yaml template"),
        pytest.param("infra/network.yml", True, id="yml template"),
        pytest.param("template.json", True, id="json template"),
        pytest.param("sam/app.template", True, id="template suffix"),
        pytest.param("cdk.out/OrdersStack.template.json", True, id="cdk output"),
        pytest.param("terraform/tfplan.json", True, id="terraform plan"),
        pytest.param("README.md", False, id="markdown"),
        pytest.param("app/handler.py", False, id="python"),
        pytest.param(".github/workflows/ci.yml", False, id="workflow"),
        pytest.param(".pre-commit-config.yaml", False, id="pre-commit config"),
        pytest.param("web/package.json", False, id="package.json"),
        pytest.param("cdk.json", False, id="cdk.json"),
        pytest.param("cdk.out/manifest.json", False, id="cdk manifest"),
        pytest.param("cdk.out/OrdersStack.assets.json", False, id="cdk assets"),
    ],
)
def test_hook_is_handed_templates_and_plans_and_not_other_files(path: str, passed: bool):
    found = hook()
    handed = bool(re.search(found["files"], path)) and not re.search(found["exclude"], path)
    assert handed is passed


def test_workflow_check_step_command_is_accepted_by_the_parser():
    lines = [line for line in step("rdkpack check")["run"].splitlines() if line.startswith("rdkpack ")]
    assert lines == ["rdkpack check infra/ --output rdkpack.sarif"]
    args = parsed(shlex.split(lines[0])[1:])
    assert args.run is cli.cmd_check
    assert (args.paths, args.output, args.strict) == (["infra/"], ["rdkpack.sarif"], False)


def test_workflow_installs_the_project_before_the_check():
    names = [s.get("name") or s.get("uses") for s in steps()]
    assert names.index("Install rdkpack") < names.index("rdkpack check")
    assert step("Install rdkpack")["run"] == "python -m pip install ."


def test_workflow_uploads_the_sarif_even_when_the_check_exits_1_and_fails_the_job_afterwards():
    document = workflow()
    assert document["permissions"]["security-events"] == "write"
    check = step("rdkpack check")
    assert "set +e" in check["run"] and "exit-code=$?" in check["run"]  # exit 1 does not stop the job here
    upload = step("Upload the findings to code scanning")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "rdkpack.sarif"
    assert upload["if"].startswith("always()")
    fail = step("Fail on findings")
    assert steps().index(fail) == len(steps()) - 1
    assert "steps.check.outputs.exit-code != '0'" in fail["if"]
    assert "exit ${{ steps.check.outputs.exit-code" in fail["run"]


def test_workflow_command_writes_the_sarif_it_uploads_when_it_finds_something(tmp_path: Path, capsys):
    """What the upload step relies on: exit 1 with findings, and the SARIF written all the same."""
    sarif = tmp_path / "rdkpack.sarif"
    code = cli.main(["check", "--project", str(ROOT), str(FINDINGS), "--output", str(sarif)])
    capsys.readouterr()
    assert code == 1
    document = json.loads(sarif.read_text(encoding="utf-8"))
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    rules = {result["ruleId"] for result in run["results"] if result.get("level") == "error"}
    assert {"LAMBDA_LAYER_CHECK", "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "VPC_ENDPOINT_AZ_COUNT_CHECK"} <= rules
