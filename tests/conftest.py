"""Shared test set-up: hermetic AWS environment and loaders for rule and remediation code."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, settings
from moto import mock_aws
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from rdkpack.kit import import_kit_beside

ROOT = Path(__file__).resolve().parent.parent

# Hermetic: dummy credentials and region, never a real profile or endpoint.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
for name in (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
):
    os.environ.pop(name, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


# The test command runs the "ci" profile (HYPOTHESIS_PROFILE=ci in the Makefile); quick local runs "dev".
settings.register_profile(
    "ci", max_examples=1_000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    import_kit_beside(path)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_remediation_script(document: str):
    """The script.py of remediations/<document>/, imported under a unique module name."""
    return load_module(ROOT / "remediations" / document / "script.py", f"remediation_{document}")


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def moto_server_url():
    """A moto server on a free 127.0.0.1 port, for code that talks HTTP (subprocesses, rdk)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # The server shares moto's in-process state: start and leave each test with an empty account.
    requests.post(f"{url}/moto-api/reset", timeout=10)
    try:
        yield url
    finally:
        requests.post(f"{url}/moto-api/reset", timeout=10)
        server.stop()


def subprocess_env(endpoint_url: str | None = None) -> dict[str, str]:
    """Environment for a child process: dummy credentials; AWS reachable only at endpoint_url."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    # A closed loopback port: an unexpected AWS call fails at once instead of leaving the machine.
    env["AWS_ENDPOINT_URL"] = endpoint_url or "http://127.0.0.1:9"
    return env


PROJECT_PARTS = ("rules", "remediations", "conformance-packs", "rdk-config.json", "pyproject.toml")


def copy_project(target: Path, parts=PROJECT_PARTS) -> Path:
    """The project's files (no caches) under target, for tests that edit or break them."""
    for part in parts:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target / part)
    return target
