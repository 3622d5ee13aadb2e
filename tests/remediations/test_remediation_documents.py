"""Every SSM Automation document: deployable shape, script embedded verbatim, one pattern per parameter name.

What each parameter takes and refuses is tested through the Automation parameter rules (RE2, types, limits) in
test_automation_parameters.py.
"""

from __future__ import annotations

import ast
import os
import re
import sys

import pytest

from rdkpack.project import documents
from tests.support.project import ROOT

DOC_DIRS = documents.remediation_dirs(ROOT)
DOC_NAMES = [d.name for d in DOC_DIRS]
SECTIONS = (
    "## What does this document do?",
    "## Input Parameters",
    "## Output Parameters",
    "## Required IAM",
)


def document(name: str) -> dict:
    return documents.load_document(ROOT / "remediations" / name)


def test_there_are_documents():
    assert "AddRequiredLambdaLayer" in DOC_NAMES


@pytest.mark.parametrize("name", DOC_NAMES)
def test_document_has_the_runbook_shape(name):
    doc = document(name)
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", name)
    assert doc["schemaVersion"] == "0.3"
    assert doc["assumeRole"] == "{{ AutomationAssumeRole }}"
    assert all(section in doc["description"] for section in SECTIONS)
    assert doc["parameters"]["DryRun"] == {**doc["parameters"]["DryRun"], "type": "Boolean", "default": False}
    for step in doc["mainSteps"]:
        assert re.fullmatch(r"[A-Z][A-Za-z]+", step["name"])
        assert {"timeoutSeconds", "maxAttempts"} <= set(step)
    assert doc["mainSteps"][-1]["isEnd"] is True
    assert doc["outputs"] == [f"{step['name']}.Output" for step in doc["mainSteps"] if step.get("outputs")]


@pytest.mark.parametrize("name", DOC_NAMES)
def test_embedded_script_is_exactly_script_py(name):
    script = (ROOT / "remediations" / name / "script.py").read_text(encoding="utf-8")
    assert documents.embedded_scripts(document(name)) == [script]
    assert documents.stale_documents(ROOT, write=False) == []


def test_these_tests_run_under_the_interpreter_the_documents_name():
    """`make test` runs tests/remediations on .venv/py311 with RDK_SCRIPT_RUNTIME_CHECK=1: the scripts are
    exercised by the Python that SSM's aws:executeScript runs them on, not only parsed for its syntax."""
    runtimes = {step["inputs"]["Runtime"] for name in DOC_NAMES for step in document(name)["mainSteps"]}
    assert len(runtimes) == 1, f"documents name several runtimes {runtimes}: run the tests under each"
    if os.environ.get("RDK_SCRIPT_RUNTIME_CHECK") != "1":
        pytest.skip("set by `make test`, which runs this folder under .venv/py311")
    assert f"python{sys.version_info.major}.{sys.version_info.minor}" in runtimes


@pytest.mark.parametrize("name", DOC_NAMES)
def test_script_is_python_311_compatible_with_a_handler(name):
    step = document(name)["mainSteps"][0]["inputs"]
    assert (step["Runtime"], step["Handler"]) == ("python3.11", "handler")
    tree = ast.parse((ROOT / "remediations" / name / "script.py").read_text(), feature_version=(3, 11))
    handler = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "handler"]
    assert [a.arg for a in handler[0].args.args] == ["events", "context"]


@pytest.mark.parametrize("name", DOC_NAMES)
def test_input_payload_passes_every_parameter_but_the_role(name):
    doc = document(name)
    payload = doc["mainSteps"][0]["inputs"]["InputPayload"]
    expected = {p: f"{{{{ {p} }}}}" for p in doc["parameters"] if p != "AutomationAssumeRole"}
    assert payload == expected


def test_same_named_parameters_share_one_pattern_across_documents():
    seen: dict[str, str] = {}
    for name in DOC_NAMES:
        for param, spec in document(name)["parameters"].items():
            if "allowedPattern" in spec:
                assert seen.setdefault(param, spec["allowedPattern"]) == spec["allowedPattern"], param


def test_the_scripts_that_read_shared_values_read_them_the_same_way():
    """Each script is embedded alone in its document, so `resolved_value` is written into each: one text."""
    sources = {}
    for name in ("AddRequiredLambdaLayer", "AttachLambdaCodeSigningConfig"):
        tree = ast.parse((ROOT / "remediations" / name / "script.py").read_text(encoding="utf-8"))
        function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "resolved_value")
        sources[name] = ast.unparse(function)
    assert len(set(sources.values())) == 1, "resolved_value differs between the scripts: keep one text in both"
