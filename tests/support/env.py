"""Environments for child processes that must stay hermetic."""

from __future__ import annotations

import os


def subprocess_env(endpoint_url: str | None = None) -> dict[str, str]:
    """Environment for a child process: dummy credentials; AWS reachable only at endpoint_url."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    # A closed loopback port: an unexpected AWS call fails at once instead of leaving the machine.
    env["AWS_ENDPOINT_URL"] = endpoint_url or "http://127.0.0.1:9"
    return env
