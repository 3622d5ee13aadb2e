"""Write the generated templates under conformance-packs/, or report which committed ones are stale."""

from __future__ import annotations

from pathlib import Path

from rdkpack.packs.build import PREREQUISITES, build_all, render
from rdkpack.packs.preventive import preventive_files
from rdkpack.project import files as project_files
from rdkpack.project.config import PACKS_DIR, load_project

OUTPUT_DIR = PACKS_DIR
PREVENTIVE_DIR = "preventive"


def generated_files(root: Path) -> dict[Path, str]:
    """Every generated file's wanted text: the packs, their prerequisites and the preventive twins (the documentation
    site's pages are `rdkpack docs`'s)."""
    project = load_project(root)
    files = {root / OUTPUT_DIR / name: render(template) for name, template in build_all(project).items()}
    files.update({root / PREVENTIVE_DIR / name: text for name, text in preventive_files(project).items()})
    return files


def stale_files(root: Path, write: bool) -> list[Path]:
    """Generated files that are missing, different, or no longer generated; fixed on disk when write is set."""
    existing = set((root / OUTPUT_DIR).rglob("*.yaml")) if (root / OUTPUT_DIR).is_dir() else set()
    existing |= set((root / PREVENTIVE_DIR).rglob("*.*")) if (root / PREVENTIVE_DIR).is_dir() else set()
    return project_files.sync_generated(generated_files(root), existing, write)


def committed_files(project) -> tuple[dict[str, Path], list[Path]]:
    """The committed pack file of each pack (present or not), and the prerequisite templates on disk."""
    output = project.root / OUTPUT_DIR
    packs = {name: output / f"{name}.yaml" for name in project.packs}
    return packs, sorted((output / PREREQUISITES).glob("*.yaml"))
