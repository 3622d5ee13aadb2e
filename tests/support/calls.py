"""Which AWS operations a piece of project code calls, read from its source (no execution)."""

from __future__ import annotations

import ast
from pathlib import Path

import botocore.session
from botocore import xform_name

# IAM prefixes in IAM_PERMISSIONS -> botocore service names, for the services this project calls.
SERVICES = {
    "lambda": "lambda",
    "tag": "resourcegroupstaggingapi",
    "s3": "s3",
    "ec2": "ec2",
    "config": "config",
    "ssm": "ssm",
    "cloudwatch": "cloudwatch",
}


def declared_services(module) -> set[str]:
    """botocore service names of the actions a module declares in IAM_PERMISSIONS."""
    return {SERVICES[action.split(":")[0]] for action, _ in module.IAM_PERMISSIONS}


def called_operations(path: Path, services) -> set[str]:
    """Operations of `services` that the file calls as client methods or through a paginator."""
    session = botocore.session.get_session()
    by_method = {}
    for service in services:
        for operation in session.get_service_model(service).operation_names:
            by_method[xform_name(operation)] = operation
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        if name == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
            name = node.args[0].value
        if name in by_method:
            found.add(by_method[name])
    return found
