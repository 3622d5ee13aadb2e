"""The rule kit: one canonical module (rule_kit.py here), written into every rule folder by `rdkpack sync-kit`."""

from __future__ import annotations

from pathlib import Path

from rdkpack.project import files
from rdkpack.project.loader import KIT_NAME

CANONICAL = Path(__file__).with_name(KIT_NAME)

__all__ = ["CANONICAL", "KIT_NAME", "rule_folders", "stale_copies"]


def rule_folders(root: Path) -> list[Path]:
    """Every rules/<RULE>/ folder that holds a parameters.json, as rdk sees a rule."""
    base = root / "rules"
    return sorted(d for d in base.iterdir() if (d / "parameters.json").is_file()) if base.is_dir() else []


def stale_copies(root: Path, write: bool) -> list[Path]:
    """Rule folders' rule_kit.py that are missing or differ from the canonical kit; rewritten when write is set."""
    canonical = CANONICAL.read_text(encoding="utf-8")
    stale = []
    for folder in rule_folders(root):
        copy = folder / KIT_NAME
        if not files.holds(copy, canonical):
            stale.append(copy)
            if write:
                copy.write_text(canonical, encoding="utf-8")
    return stale
