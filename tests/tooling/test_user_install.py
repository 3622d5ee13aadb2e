"""A user's install: the built wheel in a fresh virtualenv with no extras runs every non-demo command.

This is the one test that reaches beyond loopback: pip fetches the runtime dependencies from the
package index the machine is configured with (the same index `make venv` installs from). It talks
to no AWS endpoint: the commands run with dummy credentials and AWS_ENDPOINT_URL on a closed port.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.env import subprocess_env
from tests.support.project import ROOT

PACKAGE_FILES = ("pyproject.toml", "README.md", "rdkpack")


def run(command: list, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False, **kwargs)


@pytest.fixture(scope="module")
def user_venv(tmp_path_factory) -> Path:
    """rdkpack installed from its wheel, with only its runtime dependencies."""
    work = tmp_path_factory.mktemp("user-install")
    source = work / "source"
    for name in PACKAGE_FILES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    built = run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", "dist", str(source)],
        work,
    )
    assert built.returncode == 0, built.stderr
    wheel = next((work / "dist").glob("rdkpack-*.whl"))
    # The user's pip, driven from outside the new environment (pip --python): the same resolution and install,
    # without seeding pip into it first; --no-compile skips byte-compiling thousands of modules no check needs.
    created = run([sys.executable, "-m", "venv", "--without-pip", "venv"], work)
    assert created.returncode == 0, created.stderr
    venv = work / "venv"
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    installed = run([*pip, "install", "-q", "--no-compile", str(wheel)], work)
    assert installed.returncode == 0, installed.stderr
    return venv


def rdkpack(venv: Path, *args: str) -> subprocess.CompletedProcess:
    # Compiled modules of the throwaway environment stay beside it, not in make's .venv/pycache.
    env = {**subprocess_env(), "PYTHONPYCACHEPREFIX": str(venv.parent / "pycache")}
    return run([str(venv / "bin" / "rdkpack"), *args], ROOT, env=env)


def test_user_install_has_no_dev_or_demo_packages(user_venv):
    probe = run([str(user_venv / "bin" / "python"), "-c", "import moto"], ROOT)
    assert "No module named 'moto'" in probe.stderr


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["--help"], id="help"),
        pytest.param(["build", "--check"], id="build-check"),
        pytest.param(["validate"], id="validate"),
        pytest.param(["scan", "--help"], id="scan-help"),
        pytest.param(["deploy", "--help"], id="deploy-help"),
    ],
)
def test_user_install_runs_the_cli(user_venv, command):
    result = rdkpack(user_venv, *command)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_user_install_demo_says_how_to_get_the_demo_extra(user_venv):
    result = rdkpack(user_venv, "demo")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: rdkpack demo runs on an embedded moto account and needs the demo extra: "
        "pip install '.[demo]' in the repository (or run `make demo`)"
    ]
