"""The lock files hold the whole tree with hashes, and agree with pyproject.toml's pins (`make lock`)."""

from __future__ import annotations

import re
import tomllib

import pytest

from tests.support.project import ROOT

LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines) -> dict[str, str]:
    found = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def lock_entries(name: str) -> dict[str, list[str]]:
    """package==version -> its hashes, from a `uv pip compile --generate-hashes` file."""
    entries, current = {}, None
    for line in (LOCKS / name).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            current = f"{canonical(match.group(1))}=={match.group(2)}"
            entries[current] = []
        elif current and line.strip().startswith("--hash=sha256:"):
            entries[current].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
    return entries


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += [r for r in extra if not r.startswith(project["name"])]
    return pins(requirements)


def versions(name: str) -> dict[str, str]:
    return dict(entry.split("==") for entry in lock_entries(name))


@pytest.mark.parametrize("name", ["dev.lock", "remediations-py311.lock", "bootstrap.lock"])
def test_every_locked_package_is_pinned_with_hashes(name):
    entries = lock_entries(name)
    assert entries, f"requirements/{name} lists no packages"
    unhashed = [entry for entry, hashes in entries.items() if not hashes]
    assert not unhashed, f"requirements/{name}: no hash for {unhashed}: run `make lock`"
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for hashes in entries.values() for h in hashes)


def test_the_dev_lock_holds_every_pin_of_pyproject_at_its_version():
    locked = versions("dev.lock")
    stale = {name: (pin, locked.get(name)) for name, pin in pyproject_pins().items() if locked.get(name) != pin}
    assert not stale, f"pyproject.toml pin vs requirements/dev.lock: {stale}: run `make lock`"


def test_the_python_311_tree_pins_what_pyproject_pins():
    wanted = pins((LOCKS / "remediations-py311.in").read_text(encoding="utf-8").splitlines())
    assert {name: pyproject_pins()[name] for name in wanted} == wanted
    locked = versions("remediations-py311.lock")
    assert {name: locked.get(name) for name in wanted} == wanted, "run `make lock`"


def test_the_bootstrap_installs_the_uv_the_dev_tree_pins():
    assert versions("bootstrap.lock")["uv"] == pyproject_pins()["uv"]


def test_the_parser_sees_a_stale_pin():
    assert pins(["boto3==1.0 ; python_version >= '3.12'", "moto[s3]==5.2.5 \\", "# x==1"]) == {
        "boto3": "1.0",
        "moto": "5.2.5",
    }
