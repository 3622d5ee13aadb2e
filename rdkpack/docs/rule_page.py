"""A rule's page, `docs/rules/<RULE>.md`: from its module (the Gherkin docstring, RULE_PARAMETERS and the parsing
code), its parameters.json, the packs of rdk-config.json and the IAM_PERMISSIONS beside the code, with the hand-written
notes of `docs/notes/rules/<RULE>.md` where the docstring does not say enough (costs, caveats, deployment)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rdkpack.docs import gherkin
from rdkpack.docs.markdown import code, plain, table
from rdkpack.docs.rule_parameters import Accepts, parameter_accepts
from rdkpack.errors import ConfigError
from rdkpack.packs.iam_tables import iam_table, rule_documents
from rdkpack.project import files
from rdkpack.project.config import Project, rule_parameters
from rdkpack.project.kit.rule_kit import ROLE_PARAMETERS
from rdkpack.project.loader import rule_module

NOTES = Path("docs") / "notes"
OUTCOMES = (
    ("COMPLIANT", "COMPLIANT"),
    ("NON_COMPLIANT", "NON_COMPLIANT"),
    ("NOT_APPLICABLE", "NOT_APPLICABLE"),
    (gherkin.PARAMETER_ERROR, "Parameter errors"),
    (gherkin.OTHER, "How it evaluates"),
)
NONE = "—"
RDK_TIMEOUT = 60  # seconds: what rdk gives a rule's Lambda when parameters.json declares no LambdaTimeout


@dataclass(frozen=True)
class RuleSource:
    """Everything a rule's page is made from."""

    name: str
    path: Path  # the rule module
    body: dict  # parameters.json's Parameters
    spec: gherkin.Spec
    parameters: tuple[str, ...]  # RULE_PARAMETERS: the names the rule accepts beside rdklib's
    accepts: dict[str, Accepts]

    @property
    def deployed_defaults(self) -> dict:
        """What `rdk deploy` sends: parameters.json's InputParameters and non-empty OptionalParameters."""
        sent = {}
        for key in ("InputParameters", "OptionalParameters"):
            value = self.body.get(key) or "{}"
            try:
                found = json.loads(value) if isinstance(value, str) else value
            except json.JSONDecodeError as error:
                where = f"Parameters/{key}"
                raise ConfigError(str(self.path.parent / "parameters.json"), where, f"not JSON: {error.msg}") from error
            sent.update({k: v for k, v in (found if isinstance(found, dict) else {}).items() if v not in ("", None)})
        return sent


def read_rule(root: Path, name: str) -> RuleSource:
    folder = root / "rules" / name
    path = folder / f"{name}.py"
    module = rule_module(root, name)
    spec = gherkin.read_spec(path)
    names = tuple(getattr(module, "RULE_PARAMETERS", ()))
    undocumented = [parameter for parameter in (*names, *ROLE_PARAMETERS) if spec.parameter(parameter) is None]
    if undocumented:
        raise ConfigError(
            str(path),
            "Rule Parameters",
            f"{undocumented[0]} is not described",
            expected="each parameter the rule accepts under 'Rule Parameters:' in its docstring",
        )
    return RuleSource(name, path, rule_parameters(folder), spec, names, parameter_accepts(path, vars(module)))


def notes(root: Path, kind: str, name: str) -> str:
    """The hand-written part of a generated page, if any: docs/notes/<kind>/<name>.md."""
    path = root / NOTES / kind / f"{name}.md"
    return files.read_text(path).strip() if path.is_file() else ""


def description_lines(parameter: gherkin.Parameter) -> str:
    """A parameter's docstring description, in order: prose joined into paragraphs, deeper-indented lines (examples,
    aligned columns) kept as they are in a text block."""
    runs: list[tuple[bool, list[str]]] = []  # (is a block, its lines)
    for line in parameter.lines:
        deeper = line.startswith(" ")
        if not runs or runs[-1][0] != deeper:
            runs.append((deeper, []))
        runs[-1][1].append(line.rstrip() if deeper else line.strip())
    parts = []
    for deeper, lines in runs:
        if deeper:
            indent = min(len(line) - len(line.lstrip()) for line in lines)
            parts.append("```text\n" + "\n".join(line[indent:] for line in lines) + "\n```")
        else:
            parts.append(plain(" ".join(lines)))
    return "\n\n".join(parts)


def timeout_of(body: dict) -> str:
    if "LambdaTimeout" in body:
        return f"{body['LambdaTimeout']} s (`LambdaTimeout` in `parameters.json`)"
    return f"{RDK_TIMEOUT} s (rdk's default: `parameters.json` declares no `LambdaTimeout`)"


def facts(project: Project, source: RuleSource) -> str:
    rule = project.rules[source.name]
    rows = [
        ("Trigger", plain(source.spec.section("Trigger"))),
        ("Reports on", ", ".join(code(kind) for kind in rule.resource_types) or NONE),
        ("Indicative severity", plain(source.spec.section("Indicative Severity"))),
        ("Rule sets", ", ".join(code(s) for s in source.body.get("RuleSets", ())) or NONE),
        ("Lambda timeout", timeout_of(source.body)),
        ("Source", f"`rules/{source.name}/`"),
    ]
    return "\n".join(f"- **{title}:** {text}" for title, text in rows)


def parameters_section(source: RuleSource) -> list[str]:
    sent = source.deployed_defaults
    rows = []
    for name in source.parameters:
        described = source.spec.parameter(name)
        accepts = source.accepts.get(name)
        rows.append(
            (
                code(name),
                "yes" if described.required else "no",
                accepts.describe() if accepts else "text",
                code(accepts.shown_default()) if accepts and accepts.shown_default() else NONE,
                code(sent[name]) if name in sent else NONE,
            )
        )
    lines = [
        "## Parameters",
        "",
        "The default is what the rule uses when the parameter is unset or blank; `rdk deploy` sends the values of "
        "`parameters.json`, and a pack those of `rdk-config.json` ([In the packs](#in-the-packs)).",
        "",
        table(("Parameter", "Required", "Accepts", "Default", "`rdk deploy` sends"), rows),
    ]
    shown: set[tuple[str, ...]] = set()
    for name in source.parameters:
        described = source.spec.parameter(name)
        if described.names in shown:
            continue
        shown.add(described.names)
        lines += ["", f"### {', '.join(code(n) for n in described.names)}", "", description_lines(described)]
    role = source.spec.parameter(ROLE_PARAMETERS[0])
    lines += [
        "",
        f"### {', '.join(code(n) for n in ROLE_PARAMETERS)}",
        "",
        description_lines(role) + " See [Rules and remediations](../concepts/rules.md#parameters).",
    ]
    return lines


def pack_rows(project: Project, name: str) -> list[tuple[str, ...]]:
    rows = []
    for pack in project.packs.values():
        for pack_rule in (r for r in pack.rules if r.name == name):
            values = ", ".join(f"{code(k)} = {code(v)}" for k, v in pack_rule.parameters.items()) or "(defaults)"
            remediation = pack_rule.remediation
            if not remediation.attach:
                fix = "not attached"
            else:
                fix = f"{code(remediation.document)}, {'automatic' if remediation.automatic else 'manual'}"
                given = [
                    f"{code(k)} = {code(v)}"
                    + (f" (shared value {code(remediation.shared[k])})" if k in remediation.shared else "")
                    for k, v in remediation.parameters.items()
                ]
                fix += f" ({', '.join(given)})" if given else ""
            rows.append((f"`{pack.name}` ({pack.scope})", values, fix))
    return rows


def verdicts_section(source: RuleSource) -> list[str]:
    lines = ["## Verdicts", "", "Each case is a numbered scenario of the rule's docstring, with a test of its own."]
    for outcome, title in OUTCOMES:
        scenarios = [s for s in source.spec.scenarios if s.outcome == outcome]
        if not scenarios and not (outcome == gherkin.OTHER and source.spec.notes):
            continue
        lines += ["", f"### {title}", ""]
        for scenario in scenarios:
            lines.append(f"- **Scenario {scenario.number}.** {scenario_text(scenario)}")
        if outcome == gherkin.OTHER:
            lines += [line for note in source.spec.notes for line in ("", plain(note))]
    return lines


def continued(clause: str) -> str:
    """A clause as the middle of a sentence: 'The function has no layers' -> 'the function has no layers' (a name such
    as 'RequireEnforce' or 'BytesProcessed' keeps its capital)."""
    return clause[:1].lower() + clause[1:] if clause[1:2].islower() else clause


def scenario_text(scenario: gherkin.Scenario) -> str:
    """Given, and And: Then, as one sentence: 'packageType is Image: return NOT_APPLICABLE (...).'"""
    given = ", and ".join([scenario.given[0], *map(continued, scenario.given[1:])]) if scenario.given else ""
    then = continued(scenario.then)
    end = "" if then.endswith((".", '."')) else "."
    return f"{plain(given)}: {plain(then)}{end}"


def remediation_section(project: Project, name: str) -> list[str]:
    documents = rule_documents(project, name)
    if not documents:
        return ["## Remediation", "", "No remediation document is paired with this rule."]
    links = ", ".join(f"[{code(doc)}](../remediations/{doc}.md)" for doc in documents)
    return ["## Remediation", "", f"{links}: its page gives the parameters, the outputs, the steps and the IAM."]


def rule_page(project: Project, name: str) -> str:
    source = read_rule(project.root, name)
    spec = source.spec
    lines = [
        f"# {name}",
        "",
        generated_notice(f"rules/{name}/{name}.py, rules/{name}/parameters.json, rdk-config.json", f"rules/{name}"),
        "",
        plain(spec.section("Description")),
        "",
        f"**Why:** {plain(spec.section('Rationale'))}",
        "",
        facts(project, source),
        "",
        *parameters_section(source),
        "",
        "## In the packs",
        "",
        table(("Pack", "Parameters", "Remediation"), pack_rows(project, name)) if pack_rows(project, name) else "None.",
        "",
        *verdicts_section(source),
    ]
    extra = notes(project.root, "rules", name)
    if extra:
        lines += ["", extra]
    lines += [
        "",
        *remediation_section(project, name),
        "",
        "## IAM",
        "",
        "Generated from the `IAM_PERMISSIONS` beside the code: the rule module's (what its execution role needs "
        "beyond what every rule needs) and each paired remediation script's. The resource column names the kind of "
        "resource; the generated roles (`iam-roles.yaml`) scope it to your accounts and approved layers.",
        "",
        iam_table(project, name),
    ]
    return "\n".join(lines) + "\n"


def generated_notice(sources: str, notes_name: str) -> str:
    return (
        f"<!-- Generated by `rdkpack docs` from {sources} and the IAM_PERMISSIONS beside the code; "
        f"`rdkpack docs --check` fails while it is stale. Edit those, or docs/notes/{notes_name}.md, not this page. -->"
    )
