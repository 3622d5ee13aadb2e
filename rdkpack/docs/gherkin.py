"""A rule module's Gherkin docstring (the aws-config-rules format) read into its sections, parameters and scenarios.

    Rule Parameters:             a section: a header line, then lines indented by two or more spaces
      LayerArn                   a parameter (names separated by ", " share one description)
        (Required) Comma-...     its description, indented by four; deeper lines keep their extra indent
    API budget: a change ...     unindented text outside a section: a note, until a blank line
    Scenarios:
      Scenario 9:
        Given: ...
          And: ...
         Then: Return NON_COMPLIANT naming the expected layer

Each scenario's outcome is what its `Then` returns (COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE or a parameter error),
or how the rule goes about it when it returns none of them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from rdkpack.errors import ConfigError
from rdkpack.project import files

HEADER = re.compile(r"(?P<name>[A-Z][A-Za-z ]*):")
CLAUSE = re.compile(r"\s*(?P<word>Given|And|Then):\s*(?P<text>.*)")
SCENARIO = re.compile(r"\s*Scenario (?P<number>\d+):\s*")
RETURN = re.compile(r"Return (?:an? )?(?P<outcome>InvalidParametersError|NON_COMPLIANT|NOT_APPLICABLE|COMPLIANT)\b")
PARAMETER_ERROR = "InvalidParametersError"
OTHER = "other"


@dataclass(frozen=True)
class Parameter:
    names: tuple[str, ...]
    lines: tuple[str, ...]  # the description, each line with its indent beyond the description's own

    @property
    def required(self) -> bool:
        return bool(self.lines) and self.lines[0].lstrip().startswith("(Required)")


@dataclass(frozen=True)
class Scenario:
    number: int
    given: tuple[str, ...]  # Given, then each And
    then: str

    @property
    def outcome(self) -> str:
        """COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, InvalidParametersError, or OTHER."""
        found = RETURN.search(self.then)
        return found.group("outcome") if found else OTHER


@dataclass(frozen=True)
class Spec:
    sections: dict[str, str]  # section name -> its text, lines joined
    parameters: tuple[Parameter, ...]
    scenarios: tuple[Scenario, ...]
    notes: tuple[str, ...] = field(default=())  # unindented paragraphs outside the sections

    def section(self, name: str) -> str:
        return self.sections.get(name, "")

    def parameter(self, name: str) -> Parameter | None:
        return next((parameter for parameter in self.parameters if name in parameter.names), None)


def docstring_of(path: Path) -> str:
    """The module docstring, read without importing the module; a ConfigError names the file when it has none."""
    text = files.read_text(path)
    try:
        docstring = ast.get_docstring(ast.parse(text, filename=str(path)), clean=True)
    except SyntaxError as error:
        raise ConfigError(str(path), f"line {error.lineno}", f"not Python: {error.msg}") from error
    if not docstring:
        raise ConfigError(str(path), "(docstring)", "missing", expected="the rule's Gherkin docstring")
    return docstring


def blocks(docstring: str) -> tuple[dict[str, list[str]], list[str]]:
    """Each section's lines (indented), and the notes (unindented paragraphs outside the sections)."""
    sections: dict[str, list[str]] = {}
    notes: list[list[str]] = []
    current: list[str] | None = None
    for line in docstring.splitlines():
        if line.startswith("#"):
            continue
        header = HEADER.fullmatch(line.rstrip())
        if header:
            current = sections.setdefault(header.group("name"), [])
        elif not line.strip():
            if current is not None:
                current.append("")
            elif notes and notes[-1]:
                notes.append([])
        elif line[0].isspace() and current is not None:
            current.append(line)
        elif line[0].isspace() and notes:
            notes[-1].append(line.strip())
        else:
            current = None
            if not notes or not notes[-1]:
                notes.append([])
            notes[-1].append(line.strip())
    return sections, [" ".join(paragraph) for paragraph in notes if paragraph]


def dedent(lines: list[str], by: int) -> list[str]:
    return [line[by:] if line[:by].isspace() else line.lstrip() for line in lines]


def parameters_of(lines: list[str]) -> tuple[Parameter, ...]:
    found: list[tuple[tuple[str, ...], list[str]]] = []
    for line in lines:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= 2:
            found.append((tuple(name.strip() for name in line.split(",") if name.strip()), []))
        elif found:
            found[-1][1].append(line)
    return tuple(Parameter(names, tuple(dedent(text, 4))) for names, text in found)


def scenarios_of(lines: list[str]) -> tuple[Scenario, ...]:
    found: list[tuple[int, list[str], list[str]]] = []
    for line in lines:
        scenario, clause = SCENARIO.fullmatch(line), CLAUSE.fullmatch(line)
        if scenario:
            found.append((int(scenario.group("number")), [], []))
        elif clause and found:
            target = found[-1][2] if clause.group("word") == "Then" else found[-1][1]
            target.append(clause.group("text").strip())
        elif line.strip() and found:  # a clause continued on the next line
            target = found[-1][2] if found[-1][2] else found[-1][1]
            if target:
                target[-1] += " " + line.strip()
    return tuple(Scenario(number, tuple(given), " ".join(then)) for number, given, then in found)


def read_spec(path: Path) -> Spec:
    """The rule module's docstring as sections, parameters, scenarios and notes."""
    sections, notes = blocks(docstring_of(path))
    if "Scenarios" not in sections:
        raise ConfigError(str(path), "(docstring)", "no Scenarios section", expected="the rule's Gherkin docstring")
    texts = {name: " ".join(line.strip() for line in lines if line.strip()) for name, lines in sections.items()}
    return Spec(
        sections=texts,
        parameters=parameters_of(sections.get("Rule Parameters", [])),
        scenarios=scenarios_of(sections["Scenarios"]),
        notes=tuple(notes),
    )
