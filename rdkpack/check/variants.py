"""Values known only at deploy time, judged as the issue asks: when every value the unknown can take gives the same
verdict, that verdict; otherwise "unknown".

An Unknown with choices (a parameter's AllowedValues, both branches of an Fn::If) takes exactly those. An open
Unknown takes probes: values that matter to the rules (an empty value, a value that matches nothing, '*', and each
rule parameter's own values, with '*' filled in and the rule's whole numbers appended as a version), and lists of
lengths around each whole-number parameter. The probes stand for "any value": they include the values the rules
distinguish, so a verdict they all agree on is the verdict for any value the rules can tell apart.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from rdkpack.check.model import Unknown

SENTINEL = "rdk-check-unknown-value"
MAX_VARIANTS = 256
LIST_PROPERTIES = ("Layers", "SubnetIds")
# Names and IDs identify a resource; no rule judges them, so an unknown one takes the logical ID's place.
IDENTITY_PROPERTIES = ("FunctionName", "BucketName", "VpcEndpointId")
# What an unknown part of known text may be. The first names the value in a verdict they all agree on: a region, the
# part "arn:aws:lambda:${AWS::Region}:..." and "com.amazonaws.${AWS::Region}.s3" most often leave unknown.
FILLERS = ("us-east-1", "", "x", "*", "123456789012", "aws")
WHOLE = re.compile(r"\d{1,4}")
GLOB_PART = re.compile(r"(\[[*?\[]\]|\*)")  # an unknown part, or a literal '*', '?' or '[' escaped


@dataclass(frozen=True)
class Place:
    """Where an Unknown sits in the properties: the path of keys and indexes, and whether it stands for a list."""

    path: tuple
    unknown: Unknown
    is_list: bool


def unknowns(value, path: tuple = ()) -> list[Place]:
    if isinstance(value, Unknown):
        return [Place(path, value, bool(path) and path[0] in LIST_PROPERTIES and len(path) == 1)]
    if isinstance(value, dict):
        return [place for key, item in value.items() for place in unknowns(item, (*path, key))]
    if isinstance(value, list):
        return [place for index, item in enumerate(value) for place in unknowns(item, (*path, index))]
    return []


def probes(raw_parameters: dict) -> tuple[list[str], list[int]]:
    texts = [part.strip() for value in raw_parameters.values() for part in str(value).split(",") if part.strip()]
    numbers = sorted({int(text) for text in texts if WHOLE.fullmatch(text)})
    filled = [text.replace("*", "x") for text in texts if not WHOLE.fullmatch(text)]
    scalars = ["", SENTINEL, "*", "logs/*", *filled, *(f"{text}:{n}" for text in filled for n in numbers)]
    return list(dict.fromkeys(scalars)), numbers


def fillers(raw_parameters: dict) -> list[str]:
    """What an unknown part of known text may be: plain values, every piece of the rule's parameters (an account, a
    region, a name in an ARN pattern), and the whole probes (a part may be a whole ARN: `${LayerArn}:${Version}`)."""
    pieces = re.split(r"[:/,=\s]+", " ".join(str(value) for value in raw_parameters.values()))
    scalars, _ = probes(raw_parameters)
    return list(dict.fromkeys([*FILLERS, *(piece for piece in pieces if piece and piece != "*"), *scalars]))


def filled(template: str, raw_parameters: dict) -> list[str]:
    """The template with every unknown part ('*') filled by each filler in turn (the same filler everywhere: a
    bounded sample), and its escaped known text ('[*]', '[?]', '[[]', as glob.escape writes it) as written."""
    parts = GLOB_PART.split(template)
    holes = sum(part == "*" for part in parts)
    options = fillers(raw_parameters)
    # Each unknown part on its own (every combination for up to two parts); more parts share one filler.
    choices = itertools.product(options, repeat=holes) if holes <= 2 else ((filler,) * holes for filler in options)

    def fill(chosen: tuple) -> str:
        values = iter(chosen)
        return "".join(
            next(values) if part == "*" else part[1] if GLOB_PART.fullmatch(part) else part for part in parts
        )

    return list(dict.fromkeys(fill(chosen) for chosen in choices))


def candidates(place: Place, raw_parameters: dict) -> list:
    if place.unknown.choices is not None:
        return list(place.unknown.choices)
    if place.unknown.template is not None and "*" in place.unknown.template:
        return filled(place.unknown.template, raw_parameters)
    scalars, numbers = probes(raw_parameters)
    if not place.is_list:
        return scalars
    lengths = sorted({0, 1, *numbers, *(n + 1 for n in numbers)} - {n for n in numbers if n > 10})
    return [[f"{SENTINEL}-{i}" for i in range(length)] for length in lengths] + [[text] for text in scalars[2:]]


def replaced(value, path: tuple, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(copy[head], rest, new)
    return copy


def variants(properties: dict, raw_parameters: dict) -> tuple[list[dict], list[Unknown]]:
    """Every resolved version of the properties to judge (one when nothing is unknown), and the unknowns: every
    combination up to MAX_VARIANTS, else each unknown in turn."""
    properties = {
        key: None if key in IDENTITY_PROPERTIES and isinstance(value, Unknown) else value
        for key, value in properties.items()
    }
    places = unknowns(properties)
    if not places:
        return [properties], []
    choices = [candidates(place, raw_parameters) for place in places]
    count = 1
    for options in choices:
        count *= max(1, len(options))
    combinations = itertools.product(*choices) if count <= MAX_VARIANTS else one_at_a_time(choices)
    found = []
    for combination in combinations:
        version = properties
        for place, value in zip(places, combination, strict=True):
            version = replaced(version, place.path, value)
        found.append(version)
    return found, [place.unknown for place in places]


def one_at_a_time(choices: list[list]):
    """Too many combinations: each unknown through all its values while the others keep their first. The rules'
    verdicts turn on whether some value matches or on a count, which one unknown at a time already changes."""
    first = [options[0] for options in choices]
    yield tuple(first)
    for index, options in enumerate(choices):
        for value in options[1:]:
            yield tuple(value if i == index else fixed for i, fixed in enumerate(first))
