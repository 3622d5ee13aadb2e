"""The preventive twins on disk: preventive/<pack>/scp.json and the Guard rules, from the packs' values."""

from __future__ import annotations

import json

from rdkpack.packs import guard, scp
from rdkpack.project.config import Project


def preventive_files(project: Project) -> dict[str, str]:
    """Path under preventive/ -> text, for every pack that asks for a twin."""
    files = {}
    for name, pack in project.packs.items():
        policy = scp.policy(project, pack)
        if policy is not None:
            files[f"{name}/scp.json"] = json.dumps(policy, indent=1) + "\n"
        for rule, text in guard.rules(pack).items():
            files[f"{name}/{rule}.guard"] = text
    return files
