"""Shared test set-up: a hermetic AWS environment, hypothesis profiles and the moto fixtures.

Helpers that tests import live in tests/support/, never here and never in a test module.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, settings
from moto import mock_aws
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from tests.support.model_cache import share_loaded_models
from tests.support.request_constraints import check_every_request

# The seeded organization's fixtures, for the organization-scan test modules.
pytest_plugins = ["tests.support.org_scan"]

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
# moto builds some 1,300 default AMIs for every EC2 backend it creates (a quarter second a test); no test reads one.
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
share_loaded_models()
# Every request any client sends (rules, scripts, rdkpack, fixtures; not moto's own) is held to the model's max
# lengths, sizes, ranges, enums and patterns and AWS's documented limits, which botocore does not check.
check_every_request()


# The test command runs the "ci" profile (HYPOTHESIS_PROFILE=ci in the Makefile); quick local runs "dev";
# `make test HYPOTHESIS_PROFILE=thorough` runs 1,000 examples a property (a minute more on 2 cores).
slow_ok = [HealthCheck.too_slow]
settings.register_profile("thorough", max_examples=1_000, deadline=None, database=None, suppress_health_check=slow_ok)
settings.register_profile("ci", max_examples=300, deadline=None, database=None, suppress_health_check=slow_ok)
settings.register_profile("dev", max_examples=100, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session", autouse=True)
def _drop_compiled_files_of_temporary_folders(tmp_path_factory):
    """`make` keeps compiled modules in PYTHONPYCACHEPREFIX, mirroring each source's path: those of modules this
    process loaded from its temporary folders (copied projects, new rules) are read by no later run."""
    yield
    if sys.pycache_prefix:
        basetemp = tmp_path_factory.getbasetemp()
        shutil.rmtree(Path(sys.pycache_prefix, *basetemp.parts[1:]), ignore_errors=True)


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def moto_server_url():
    """A moto server on a free 127.0.0.1 port, for code that talks HTTP (subprocesses, rdk)."""
    with _moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def module_moto_server_url():
    """A moto server whose accounts one test module seeds once and its tests only read."""
    with _moto_server() as url:
        yield url


class _PromptlyStoppedMotoServer(ThreadedMotoServer):
    """moto's threaded server polling for shutdown every 20 ms, not every 0.5 s: its stop returns at once."""

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.02)


@contextlib.contextmanager
def _moto_server():
    server = _PromptlyStoppedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # The server shares moto's in-process state: start and leave each user with an empty account.
    requests.post(f"{url}/moto-api/reset", timeout=10)
    try:
        yield url
    finally:
        requests.post(f"{url}/moto-api/reset", timeout=10)
        server.stop()
