"""SSM Automation documents: locate them and keep each embedded script identical to its script.py."""

from __future__ import annotations

import re
from pathlib import Path

import re2
import yaml

from rdkpack.errors import ConfigError
from rdkpack.project import files

# libyaml's parser when PyYAML was built with it (the wheels are): the same documents, about 15 times faster.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would also print each refusal to stderr; the ValueError says it once
SCRIPT_KEY = re.compile(r"^(?P<indent> *)Script: \|\n", re.MULTILINE)


def remediation_dirs(root: Path) -> list[Path]:
    """Every remediations/<Doc>/ folder that holds <Doc>.yaml."""
    base = root / "remediations"
    return sorted(d for d in base.iterdir() if (d / f"{d.name}.yaml").is_file()) if base.is_dir() else []


def document_path(folder: Path) -> Path:
    return folder / f"{folder.name}.yaml"


def load_yaml(text: str):
    """yaml.safe_load, with libyaml when present."""
    try:
        return yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError:
        if _SAFE_LOADER is yaml.SafeLoader:
            raise
        # PyYAML's own parser says more about a broken document (it names the character a tab or alias is).
        return yaml.safe_load(text)


def load_document(folder: Path) -> dict:
    """The document as a dict; a ConfigError names the file when it is not YAML or declares no parameters."""
    path = document_path(folder)
    document = files.read_yaml(path, load_yaml)
    parameters = document.get("parameters") if isinstance(document, dict) else None
    if not isinstance(parameters, dict) or not all(isinstance(spec, dict) for spec in parameters.values()):
        raise ConfigError(
            str(path), "parameters", "missing or not a mapping", expected="each input parameter with its type"
        )
    for name, spec in parameters.items():
        check_pattern(path, name, spec.get("allowedPattern"))
    return document


def compile_pattern(pattern: str):
    """An allowedPattern compiled with RE2, the engine Systems Manager's patterns follow (`$` is the end of the
    text, not the end before a trailing newline; no lookaround or backreferences); ValueError if RE2 refuses it."""
    if not isinstance(pattern, str):
        raise ValueError(f"{pattern!r} is not a string")
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else b"RE2 cannot compile it"
        raise ValueError(reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)) from error


def check_pattern(path: Path, name: str, pattern) -> None:
    """An allowedPattern is an RE2 regular expression (every value the document takes is matched against it)."""
    if pattern is None:
        return
    try:
        compile_pattern(pattern)
    except ValueError as error:
        raise ConfigError(
            str(path), f"parameters/{name}/allowedPattern", f"not an RE2 regular expression: {error}", "an RE2 pattern"
        ) from error


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
        path, script = document_path(folder), folder / "script.py"
        if not script.is_file():
            raise ConfigError(str(script), "(file)", "not found", expected="the script the document embeds")
        current = files.read_text(path)
        try:
            wanted = embed_script(current, files.read_text(script))
        except ValueError as error:
            raise ConfigError(str(path), "mainSteps", str(error), expected="an aws:executeScript step") from error
        if wanted != current:
            stale.append(path)
            if write:
                path.write_text(wanted, encoding="utf-8")
    return stale
