"""The layout shows the architecture: rdkpack's parts import one way, tests import only support code."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from rdkpack import cli
from rdkpack.errors import AwsError, FileError, RdkPackError
from tests.support.project import ROOT

PACKAGE = ROOT / "rdkpack"
# Lower layers never import higher ones; packs and account are siblings that never import each other.
LAYERS = {
    "errors": 0,
    "aws": 1,
    "project": 1,
    "automation": 2,  # SSM Automation as AWS runs it: documents, parameters, steps, what Config sends
    "packs": 3,
    "account": 3,
    "report": 4,
    "rollout": 4,
    "remediate": 5,  # remediation across accounts and regions: reads accounts, reports like scan
    "check": 5,  # templates judged by the rules before deployment
    "docs": 6,  # the documentation site's generated pages; the CLI reference from the parser cli.py passes in
    "cli": 7,
    "entry": 8,  # the installed command: imports the CLI (by name, so Ctrl-C during that import is caught)
}


def part_of(module: str) -> str:
    """rdkpack.packs.build -> packs; rdkpack.errors -> errors."""
    return module.split(".")[1]


def rdkpack_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rdkpack"):
            if node.module == "rdkpack":
                found |= {f"rdkpack.{alias.name}" for alias in node.names}
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("rdkpack.")}
    return found


def package_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "rule_kit.py")


def test_every_rdkpack_module_belongs_to_a_known_part():
    for path in package_modules():
        relative = path.relative_to(PACKAGE)
        if relative.name == "__init__.py" and len(relative.parts) == 1:
            continue
        part = relative.parts[0].removesuffix(".py")
        assert part in LAYERS, f"{relative}: not in a known part ({', '.join(LAYERS)}); add it to LAYERS"


@pytest.mark.parametrize("path", package_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_one_way(path: Path):
    relative = path.relative_to(PACKAGE)
    if len(relative.parts) == 1 and relative.name == "__init__.py":
        return
    own = relative.parts[0].removesuffix(".py")
    for module in rdkpack_imports(path):
        other = part_of(module)
        assert LAYERS[other] < LAYERS[own] or other == own, (
            f"rdkpack/{relative} imports {module}: {own} (layer {LAYERS[own]}) may import only lower layers"
        )


def test_the_layer_check_sees_a_wrong_way_import(tmp_path):
    wrong = tmp_path / "scan.py"
    wrong.write_text("from rdkpack.packs.deploy import plan_deploy\nfrom rdkpack import report\n")
    assert rdkpack_imports(wrong) == {"rdkpack.packs.deploy", "rdkpack.report"}


def test_bundled_rule_kit_imports_nothing_from_rdkpack():
    assert rdkpack_imports(PACKAGE / "project" / "kit" / "rule_kit.py") == set()


def test_rule_and_remediation_code_never_imports_rdkpack():
    for path in [*ROOT.glob("rules/*/*.py"), *ROOT.glob("remediations/*/script.py")]:
        assert rdkpack_imports(path) == set(), f"{path.relative_to(ROOT)} ships alone and cannot import rdkpack"


# Each remediation script is embedded whole in its document, so a helper two scripts need is copied, never
# imported. Only these steps, which every script has, differ by design.
SCRIPT_STEPS = {"read", "plan_change", "apply", "verify", "output", "handler"}


def script_functions(path: Path) -> dict[str, str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name: ast.unparse(node) for node in tree.body if isinstance(node, ast.FunctionDef)}


def copied_script_helpers() -> dict[str, dict[str, str]]:
    """{helper: {script: source}} for every function besides the steps that two or more scripts define."""
    copies: dict[str, dict[str, str]] = {}
    for path in sorted(ROOT.glob("remediations/*/script.py")):
        for name, source in script_functions(path).items():
            copies.setdefault(name, {})[str(path.relative_to(ROOT))] = source
    return {name: found for name, found in copies.items() if len(found) > 1 and name not in SCRIPT_STEPS}


def test_helpers_copied_between_remediation_scripts_are_found():
    assert {"as_bool", "whole_number"} <= copied_script_helpers().keys()


@pytest.mark.parametrize("helper", sorted(copied_script_helpers()))
def test_a_helper_copied_into_several_remediation_scripts_has_not_drifted(helper: str):
    copies = copied_script_helpers()[helper]
    first = next(iter(copies.values()))
    assert [path for path, source in copies.items() if source != first] == [], f"{helper} drifted"


def collected_test_modules():
    return sorted(p for p in (ROOT / "tests").rglob("*.py") if p.name.startswith("test_") or p.name == "conftest.py")


@pytest.mark.parametrize("path", collected_test_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_test_module_imports_another(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.startswith("tests"):
                assert name.startswith("tests.support"), f"{path.relative_to(ROOT)} imports {name}: use tests/support/"


def test_support_code_holds_no_tests():
    for path in (ROOT / "tests" / "support").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tests = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
        assert not tests, f"{path.relative_to(ROOT)} defines tests {tests}: tests belong in a test module"


def test_the_cli_catches_only_rdkpack_errors():
    tree = ast.parse((PACKAGE / "cli.py").read_text(encoding="utf-8"))
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    caught = [
        ast.unparse(handler.type) for node in ast.walk(main) if isinstance(node, ast.Try) for handler in node.handlers
    ]
    # Ctrl-C is the user's, not a bug: one line and the shell's exit code; anything else unexplained stays a traceback.
    assert caught == ["RdkPackError", "KeyboardInterrupt"]


def raising(error):
    def run(_args):
        raise error

    return argparse.Namespace(run=run)


def test_an_os_error_becomes_a_file_error_naming_the_path():
    with pytest.raises(FileError, match=r"^/project/rdk-config.json: Permission denied$"):
        cli.run_command(raising(PermissionError(13, "Permission denied", "/project/rdk-config.json")))


def test_an_unexpected_aws_error_becomes_an_rdkpack_error_naming_the_action():
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListFunctions")
    with pytest.raises(AwsError) as caught:
        cli.run_command(raising(denied))
    assert isinstance(caught.value, RdkPackError)
    assert "ListFunctions" in str(caught.value)


def test_a_file_error_ends_in_one_line_and_exit_2(capsys, monkeypatch):
    monkeypatch.setattr(cli, "run_command", lambda _args: (_ for _ in ()).throw(FileError("/x/pack.yaml", "gone")))
    assert cli.main(["validate"]) == 2
    assert capsys.readouterr().err == "error: /x/pack.yaml: gone\n"
