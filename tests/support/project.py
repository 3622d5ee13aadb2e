"""The project under test: its root, its rules, and loaders for rule and remediation code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from rdkpack.project.kit import rule_folders
from rdkpack.project.loader import load_module

ROOT = Path(__file__).resolve().parents[2]
RULE_DIRS = rule_folders(ROOT)
RULE_NAMES = [d.name for d in RULE_DIRS]
PROJECT_PARTS = ("rules", "remediations", "conformance-packs", "preventive", "rdk-config.json", "pyproject.toml")

__all__ = [
    "PROJECT_PARTS",
    "ROOT",
    "RULE_DIRS",
    "RULE_NAMES",
    "copy_project",
    "load_module",
    "load_remediation_script",
    "load_rule",
    "parameters",
]


def parameters(name: str) -> dict:
    """A rule's parameters.json."""
    return json.loads((ROOT / "rules" / name / "parameters.json").read_text(encoding="utf-8"))


def load_rule(name: str, alias: str):
    """rules/<name>/<name>.py with its own kit, imported as module `alias`."""
    return load_module(ROOT / "rules" / name / f"{name}.py", alias)


def load_remediation_script(document: str):
    """The script.py of remediations/<document>/, imported under a unique module name."""
    return load_module(ROOT / "remediations" / document / "script.py", f"remediation_{document}")


def copy_project(target: Path, parts=PROJECT_PARTS) -> Path:
    """The project's files (no caches) under target, for tests that edit or break them."""
    for part in parts:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target / part)
    return target
