"""rdkpack new-rule: a scaffolded rule is in the project's shape, lints, passes its own tests and builds."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from rdkpack.cli import main
from rdkpack.packs import build
from rdkpack.project import kit
from rdkpack.project.config import load_project
from tests.support.project import ROOT, copy_project

NAME = "DEMO_BUCKET_CHECK"


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path)


def run(command: list[str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_new_rule_writes_a_folder_in_the_projects_shape(project, capsys):
    assert main(["--project", str(project), "new-rule", NAME, "--resource-type", "AWS::S3::Bucket"]) == 0
    folder = project / "rules" / NAME
    assert {p.name for p in folder.iterdir()} == {f"{NAME}.py", f"{NAME}_test.py", "parameters.json", kit.KIT_NAME}
    assert (folder / kit.KIT_NAME).read_text() == kit.CANONICAL.read_text()
    assert f"wrote: rules/{NAME}/{NAME}.py" in capsys.readouterr().out

    source = (folder / f"{NAME}.py").read_text()
    documented = set(re.findall(r"Scenario (\d+):", ast.get_docstring(ast.parse(source))))
    tested = set(re.findall(r"def test_scenario(\d+)_", (folder / f"{NAME}_test.py").read_text()))
    assert documented == tested == {"1", "2", "3"}

    bin_dir = ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin").is_dir() else None
    ruff = str(bin_dir / "ruff") if bin_dir else "ruff"
    assert run([ruff, "check", f"rules/{NAME}"], project).returncode == 0
    assert run([ruff, "format", "--check", f"rules/{NAME}"], project).returncode == 0
    unit = run([sys.executable, "-m", "unittest", f"{NAME}_test"], folder)
    assert unit.returncode == 0, unit.stderr
    assert "Ran 3 tests" in unit.stderr

    scaffolded = load_project(project)
    assert scaffolded.rules[NAME].resource_types == ("AWS::S3::Bucket",)
    assert build.rule_grants_of(scaffolded, NAME) == ()


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        pytest.param(["new-rule", "lower_case", "--resource-type", "AWS::S3::Bucket"], "is not a rule name", id="name"),
        pytest.param(["new-rule", "X" * 60, "--resource-type", "AWS::S3::Bucket"], "over 64 characters", id="long"),
        pytest.param(["new-rule", "NEW_CHECK", "--resource-type", "S3 bucket"], "is not a resource type", id="type"),
        pytest.param(
            ["new-rule", "LAMBDA_LAYER_CHECK", "--resource-type", "AWS::S3::Bucket"], "already exists", id="exists"
        ),
    ],
)
def test_new_rule_refuses_bad_requests_in_one_line_and_writes_nothing(project, capsys, arguments, fragment):
    before = sorted(p.name for p in (project / "rules").iterdir())
    assert main(["--project", str(project), *arguments]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and len(error.splitlines()) == 1 and fragment in error
    assert sorted(p.name for p in (project / "rules").iterdir()) == before
