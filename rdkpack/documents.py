"""SSM Automation documents: locate them and keep each embedded script identical to its script.py."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

SCRIPT_KEY = re.compile(r"^(?P<indent> *)Script: \|\n", re.MULTILINE)


def remediation_dirs(root: Path) -> list[Path]:
    """Every remediations/<Doc>/ folder that holds <Doc>.yaml."""
    base = root / "remediations"
    return sorted(d for d in base.iterdir() if (d / f"{d.name}.yaml").is_file()) if base.is_dir() else []


def document_path(folder: Path) -> Path:
    return folder / f"{folder.name}.yaml"


def load_document(folder: Path) -> dict:
    return yaml.safe_load(document_path(folder).read_text(encoding="utf-8"))


def embedded_scripts(document: dict) -> list[str]:
    return [
        step["inputs"]["Script"] for step in document.get("mainSteps", []) if step.get("action") == "aws:executeScript"
    ]


def embed_script(document_text: str, script_text: str) -> str:
    """The document text with the literal block after `Script: |` replaced by script_text."""
    match = SCRIPT_KEY.search(document_text)
    if match is None:
        raise ValueError("document has no 'Script: |' block to embed the script in")
    indent = len(match.group("indent")) + 2
    lines = document_text[match.end() :].splitlines(keepends=True)
    consumed = 0
    for line in lines:
        if line.strip() and len(line) - len(line.lstrip(" ")) < indent:
            break
        consumed += 1
    block = "".join((" " * indent + line) if line.strip() else "\n" for line in script_text.splitlines(True))
    return document_text[: match.end()] + block + "".join(lines[consumed:])


def stale_documents(root: Path, write: bool) -> list[Path]:
    """Documents whose embedded script differs from script.py; rewritten in place when write is set."""
    stale = []
    for folder in remediation_dirs(root):
        path = document_path(folder)
        current = path.read_text(encoding="utf-8")
        wanted = embed_script(current, (folder / "script.py").read_text(encoding="utf-8"))
        if wanted != current:
            stale.append(path)
            if write:
                path.write_text(wanted, encoding="utf-8")
    return stale
