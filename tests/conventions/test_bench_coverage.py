"""The benchmarks measure every rule: a new rule that bench/run.py forgets is named here."""

from __future__ import annotations

import ast

from tests.support.project import ROOT


def test_bench_measures_every_rule():
    tree = ast.parse((ROOT / "bench" / "run.py").read_text(encoding="utf-8"))
    assigned = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "RULES"
    )
    measured = set(ast.literal_eval(assigned))
    rules = {d.name for d in (ROOT / "rules").iterdir() if (d / "parameters.json").is_file()}
    assert sorted(rules - measured) == []
