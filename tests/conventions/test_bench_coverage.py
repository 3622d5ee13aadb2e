"""The benchmarks measure every rule: a new rule that bench/run.py forgets is named here."""

from __future__ import annotations

import ast

from tests.support.project import ROOT, RULE_NAMES


def test_bench_measures_every_rule():
    tree = ast.parse((ROOT / "bench" / "run.py").read_text(encoding="utf-8"))
    assigned = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "RULES"
    )
    measured = set(ast.literal_eval(assigned))
    missing = sorted(set(RULE_NAMES) - measured)
    assert not missing, f"bench/run.py does not measure {missing}: add them to its RULES"
