"""A remediation document's page, `docs/remediations/<Doc>.md`: from the committed document (its description, its
parameters with their types, defaults and constraints, its outputs and steps), the IAM_PERMISSIONS of its script.py,
and the packs that attach it; with the hand-written notes of `docs/notes/remediations/<Doc>.md`, if any."""

from __future__ import annotations

import re
from pathlib import Path

from rdkpack.docs.markdown import authored, cell, code, plain, table
from rdkpack.docs.rule_page import NONE, generated_notice, notes
from rdkpack.packs.iam_tables import document_table
from rdkpack.project import documents
from rdkpack.project.config import Project

SECTION = re.compile(r"^##+ (?P<title>.+)$", re.MULTILINE)
WHAT_IT_DOES = "What does this document do?"
INPUTS = "Input Parameters"
OUTPUTS = "Output Parameters"
CONSTRAINTS = (  # SSM's parameter constraints, in the order a reader checks them: key, how the page says it
    ("allowedPattern", "pattern {}"),
    ("allowedValues", "one of {}"),
    ("minChars", "at least {} characters"),
    ("maxChars", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
)


def description_sections(description: str) -> dict[str, str]:
    """The document's description split at its `##` headings: {title: Markdown body} (the title line dropped)."""
    found, matches = {}, list(SECTION.finditer(description))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(description)
        found[match.group("title").strip()] = description[match.end() : end].strip()
    return found


def input_bullets(text: str) -> dict[str, str]:
    """The description's `* Name: text` bullets (continued on indented lines), by parameter name."""
    found: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        bullet = re.match(r"\* (?P<name>[A-Za-z0-9]+): (?P<text>.*)", line)
        if bullet:
            current = bullet.group("name")
            found[current] = bullet.group("text").strip()
        elif current and line.startswith(" ") and line.strip():
            found[current] += " " + line.strip()
    return found


def default_of(spec: dict) -> str:
    if "default" not in spec:
        return NONE
    value = spec["default"]
    if isinstance(value, bool):
        return code("true" if value else "false")
    return code(value) if value not in ("", [], None) else "(empty)"


def constraint_lines(spec: dict) -> list[str]:
    lines = []
    for key, sentence in CONSTRAINTS:
        if key in spec:
            value = spec[key]
            lines.append(sentence.format(", ".join(map(code, value)) if isinstance(value, list) else code(value)))
    return lines


def parameters_section(document: dict, inputs: dict[str, str]) -> list[str]:
    specs = document.get("parameters") or {}
    rows = [
        (code(name), cell(spec.get("type", "String")), "no" if "default" in spec else "yes", default_of(spec))
        for name, spec in specs.items()
    ]
    lines = ["## Parameters", "", table(("Parameter", "Type", "Required", "Default"), rows)]
    for name, spec in specs.items():
        lines += ["", f"### {code(name)}", "", authored(inputs.get(name) or str(spec.get("description", "")))]
        constraints = constraint_lines(spec)
        if constraints:
            lines += ["", *(f"- {line}" for line in constraints)]
    return lines


def outputs_section(document: dict, text: str) -> list[str]:
    rows = [
        (code(f"{step['name']}.{output['Name']}"), cell(output.get("Type", "")), code(output.get("Selector", "")))
        for step in document.get("mainSteps") or ()
        for output in step.get("outputs") or ()
        if f"{step['name']}.{output['Name']}" in (document.get("outputs") or ())
    ]
    lines = ["## Outputs", ""]
    lines += [table(("Output", "Type", "Selector"), rows), ""] if rows else ["The document declares no output.", ""]
    return [*lines, authored(text)] if text else lines


def steps_section(document: dict) -> list[str]:
    rows = [
        (
            code(step.get("name", "")),
            code(step.get("action", "")),
            cell(f"{step.get('timeoutSeconds', NONE)} s"),
            cell(step.get("maxAttempts", 1)),
            cell(step.get("onFailure", "Abort")),
            cell(step.get("description", "")),
        )
        for step in document.get("mainSteps") or ()
    ]
    header = ("Step", "Action", "Timeout", "Attempts", "On failure", "What it does")
    runtime = {step.get("inputs", {}).get("Runtime") for step in document.get("mainSteps") or ()} - {None}
    script = f" The script is `remediations/{document['_name']}/script.py`, embedded verbatim"
    where = f"; it runs on {', '.join(sorted(runtime))}." if runtime else "."
    return ["## Steps", "", table(header, rows), "", script.strip() + where]


def attached_by(project: Project, name: str) -> list[str]:
    lines = []
    for pack in project.packs.values():
        for pack_rule in pack.rules:
            remediation = pack_rule.remediation
            if remediation.document != name:
                continue
            rule = f"[{code(pack_rule.name)}](../rules/{pack_rule.name}.md)"
            if not remediation.attach:
                lines.append(f"- `{pack.name}`: not attached to {rule}")
                continue
            how = "automatic" if remediation.automatic else "manual"
            lines.append(
                f"- `{pack.name}`: attached to {rule}, {how}, the resource ID as "
                f"{code(remediation.resource_id_parameter)}"
            )
    return lines or ["- No pack pairs it with a rule."]


def remediation_page(project: Project, name: str) -> str:
    folder = project.root / "remediations" / name
    document = documents.load_document(folder)
    sections = description_sections(str(document.get("description") or ""))
    intro = sections.get(WHAT_IT_DOES) or plain(name)
    lines = [
        f"# {name}",
        "",
        generated_notice(f"remediations/{name}/{name}.yaml", f"remediations/{name}"),
        "",
        authored(intro),
        "",
        "## In the packs",
        "",
        *attached_by(project, name),
        "",
        *parameters_section(document, input_bullets(sections.get(INPUTS, ""))),
        "",
        *outputs_section(document, sections.get(OUTPUTS, "")),
        "",
        *steps_section({**document, "_name": name}),
    ]
    extra = notes(project.root, "remediations", name)
    if extra:
        lines += ["", extra]
    lines += [
        "",
        "## IAM",
        "",
        "What the automation role needs, generated from the `IAM_PERMISSIONS` of the script (`iam-roles.yaml` scopes "
        "each resource kind to your accounts and approved layers):",
        "",
        document_table(project, name),
    ]
    return "\n".join(lines) + "\n"


def document_names(root: Path) -> list[str]:
    return [folder.name for folder in documents.remediation_dirs(root)]
