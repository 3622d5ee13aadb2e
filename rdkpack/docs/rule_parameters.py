"""What each rule parameter accepts, read from the rule's own parsing code: the kit parser it calls, its default and
its bounds, so the page says what `evaluate_parameters` enforces and cannot drift from it.

    parse_int(raw, "IdleDays", 30, maximum=MAX_IDLE_DAYS)  -> integer from 1 to 455, default 30
    parse_csv(raw, "EndpointTypes") or ("Interface",)       -> comma-separated list, default Interface
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from rdkpack.project import files

# The kit's parsers (rdkpack/project/kit/rule_kit.py), what each accepts, and its keyword defaults.
KINDS = {
    "parse_int": "integer",
    "parse_decimal": "non-negative decimal number (digits, an optional fraction; no sign, exponent or unit)",
    "parse_bool": "`true` or `false`",
    "parse_csv": "comma-separated list",
    "parse_exemption_tag": "`key` or `key=value` (key of 1 to 128 characters); an `expires=YYYY-MM-DD` word in the "
    "tag's value ends the waiver",
}
INT_MINIMUM = 1  # parse_int's minimum when the call names none
NAMED_BY_THE_PARSER = {"parse_exemption_tag": "ExemptionTag"}


@dataclass(frozen=True)
class Accepts:
    kind: str  # a key of KINDS
    default: object = None  # the value the rule uses when the parameter is unset or blank; None: no value
    minimum: int | None = None
    maximum: int | None = None

    def describe(self) -> str:
        if self.kind != "parse_int" or self.minimum is None:
            return KINDS[self.kind]
        if self.maximum is None:
            return f"integer >= {self.minimum:,}"
        return f"integer from {self.minimum:,} to {self.maximum:,}"

    def shown_default(self) -> str | None:
        if self.default is None or self.default == ():
            return None
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        if isinstance(self.default, tuple | list):
            return ",".join(map(str, self.default))
        if isinstance(self.default, float):
            return f"{self.default:g}"
        return str(self.default)


def evaluated(node: ast.expr, namespace: dict):
    """A default or bound as the module computes it (a literal, a constant of the module, 10**15); None when it
    depends on more than the module's names (a local variable): the page then leaves it out rather than guess."""
    try:
        # The rule's own expression in the rule's own module: project code, which loading the rule already ran.
        return eval(compile(ast.Expression(node), "<parameter>", "eval"), dict(namespace))
    except (NameError, AttributeError, TypeError, ValueError, ArithmeticError):  # needs more than the module names
        return None


def parser_call(node: ast.AST) -> tuple[str, str] | None:
    """(parser, parameter name) when node is a call to a kit parser naming its parameter."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KINDS):
        return None
    parser = node.func.id
    if parser in NAMED_BY_THE_PARSER:
        return parser, NAMED_BY_THE_PARSER[parser]
    if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
        return parser, node.args[1].value
    return None


def accepts_of(call: ast.Call, parser: str, namespace: dict, fallback: ast.expr | None) -> Accepts:
    keywords = {keyword.arg: keyword.value for keyword in call.keywords}
    default_node = call.args[2] if len(call.args) >= 3 else keywords.get("default")
    default = evaluated(default_node, namespace) if default_node is not None else None
    if default is None and fallback is not None:
        default = evaluated(fallback, namespace)
    if parser != "parse_int":
        return Accepts(parser, default)
    minimum = evaluated(keywords["minimum"], namespace) if "minimum" in keywords else INT_MINIMUM
    maximum = evaluated(keywords["maximum"], namespace) if "maximum" in keywords else None
    return Accepts(parser, default, minimum, maximum)


def parameter_accepts(path: Path, namespace: dict) -> dict[str, Accepts]:
    """{parameter: what it accepts} for every parameter the module parses with a kit parser; namespace is the loaded
    module's, for the constants its defaults and bounds name."""
    tree = ast.parse(files.read_text(path), filename=str(path))
    fallbacks: dict[int, ast.expr] = {}  # id(call) -> the value after `or` (parse_csv(...) or ("Interface",))
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and len(node.values) == 2:
            fallbacks[id(node.values[0])] = node.values[1]
    found: dict[str, Accepts] = {}
    for node in ast.walk(tree):
        named = parser_call(node)
        if named and named[1] not in found:
            found[named[1]] = accepts_of(node, named[0], namespace, fallbacks.get(id(node)))
    return found
