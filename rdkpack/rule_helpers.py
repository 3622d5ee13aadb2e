"""The helper block every rule carries byte-identical (each rule folder ships alone, so it cannot import it)."""

from __future__ import annotations

from pathlib import Path

START = "# ---- shared rule helpers: byte-identical in every rule (tests/test_rule_conventions.py) ----"
END = "# ---- end of shared rule helpers ----"


def rule_files(root: Path) -> list[Path]:
    folders = sorted(d for d in (root / "rules").iterdir() if (d / "parameters.json").is_file())
    return [folder / f"{folder.name}.py" for folder in folders]


def shared_block(source: str) -> str:
    if START not in source or END not in source:
        raise ValueError("no shared rule helper block")
    return source[source.index(START) : source.index(END) + len(END)]


def copy_block(root: Path, source_rule: str) -> list[Path]:
    """Copy source_rule's block into every other rule; returns the files that changed."""
    block = shared_block((root / "rules" / source_rule / f"{source_rule}.py").read_text(encoding="utf-8"))
    changed = []
    for path in rule_files(root):
        text = path.read_text(encoding="utf-8")
        updated = text.replace(shared_block(text), block)
        if updated != text:
            path.write_text(updated, encoding="utf-8")
            changed.append(path)
    return changed
