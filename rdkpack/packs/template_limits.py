"""Every generated template measured against the API that receives it.

A pack goes to PutConformancePack or PutOrganizationConformancePack (validate.py checks those); the
prerequisites go to CloudFormation (CreateStackSet, CreateStack), inline up to 51,200 bytes and
through S3 (`rdkpack stage`, then TemplateURL) up to 1 MB; each SSM document's content to SSM
(64 KB); each central rule function's resource policy holds every invoke statement (20 KB).
"""

from __future__ import annotations

import json
from pathlib import Path

from rdkpack.packs.limits import (
    FUNCTION_POLICY_MAX,
    ORGANIZATION_PACK_NAME_MAX,
    SSM_DOCUMENT_CONTENT_MAX,
    STACK_TEMPLATE_BODY_MAX,
    STACK_TEMPLATE_URL_MAX,
)
from rdkpack.packs.names import function_name
from rdkpack.project import files as project_files
from rdkpack.project.config import Project
from rdkpack.project.documents import load_yaml

# A CloudFormation-made statement ID: the stack name, the logical ID and a random suffix (at most ~100 characters).
STATEMENT_ID = "x" * 100


def invoke_statement_bytes(project: Project, region: str = "ap-southeast-3") -> int:
    """The largest statement AddPermission adds for one invoking account, as Lambda stores it."""
    longest = max((function_name(rule) for rule in project.rules), key=len, default=function_name("X"))
    statement = {
        "Sid": STATEMENT_ID,
        "Effect": "Allow",
        "Principal": {"Service": "config.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": f"arn:{project.partition}:lambda:{region}:{'0' * 12}:function:{longest}",
        "Condition": {"StringEquals": {"AWS:SourceAccount": "0" * 12}},
    }
    return len(json.dumps(statement, separators=(",", ":"))) + 1  # the comma between statements


def policy_envelope_bytes() -> int:
    return len(json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": []}, separators=(",", ":")))


def central_policy_bytes(project: Project) -> int:
    return policy_envelope_bytes() + len(project.invoker_account_ids) * invoke_statement_bytes(project)


def measure(project: Project, files: list[Path], finding) -> list:
    """Findings (made by `finding(code, file, resource, field, message, severity)`) for every limit a file breaks,
    and one note per template that goes through S3."""
    found = []
    for path in files:
        body = project_files.read_text(path)
        size = len(body.encode("utf-8"))
        if size > STACK_TEMPLATE_URL_MAX:
            found.append(
                finding(
                    "TEMPLATE_SIZE",
                    str(path),
                    "(template)",
                    "TemplateURL",
                    f"{size:,} bytes; CloudFormation reads at most {STACK_TEMPLATE_URL_MAX:,} through TemplateURL",
                    "error",
                )
            )
        elif size > STACK_TEMPLATE_BODY_MAX:
            found.append(
                finding(
                    "TEMPLATE_VIA_S3",
                    str(path),
                    "(template)",
                    "TemplateBody",
                    f"{size:,} bytes > {STACK_TEMPLATE_BODY_MAX:,} inline: `rdkpack stage` uploads it and rollout "
                    "passes its TemplateURL (never --template-body)",
                    "note",
                )
            )
        found += _documents(path, body, finding)
    found += _central_policy(project, finding)
    found += _organization_pack_names(project, finding)
    return found


def _documents(path: Path, body: str, finding) -> list:
    found = []
    resources = project_files.parse_template(body, path, load_yaml).get("Resources")
    for logical, resource in (resources if isinstance(resources, dict) else {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::SSM::Document":
            continue
        content = (resource.get("Properties") or {}).get("Content")
        size = len(json.dumps(content, separators=(",", ":")).encode("utf-8"))
        if size > SSM_DOCUMENT_CONTENT_MAX:
            found.append(
                finding(
                    "DOCUMENT_SIZE",
                    str(path),
                    logical,
                    "Properties.Content",
                    f"{size:,} bytes as JSON; an SSM document holds at most {SSM_DOCUMENT_CONTENT_MAX:,}",
                    "error",
                )
            )
    return found


def _central_policy(project: Project, finding) -> list:
    if project.lambda_location != "central":
        return []
    size = central_policy_bytes(project)
    if size <= FUNCTION_POLICY_MAX:
        return []
    return [
        finding(
            "FUNCTION_POLICY_SIZE",
            "rdk-config.json",
            "ruleLambdas",
            "invokerAccountIds",
            f"{len(project.invoker_account_ids)} invoking accounts need about {size:,} bytes of each central "
            f"function's resource policy, which holds {FUNCTION_POLICY_MAX:,}: set ruleLambdas.location to "
            '"local" (the rule functions StackSet deploys them in every account)',
            "error",
        )
    ]


def _organization_pack_names(project: Project, finding) -> list:
    return [
        finding(
            "PACK_NAME",
            "rdk-config.json",
            f"packs/{name}",
            "OrganizationConformancePackName",
            f"{len(name)} characters; an organization pack's name holds at most {ORGANIZATION_PACK_NAME_MAX}",
            "error",
        )
        for name, pack in project.packs.items()
        if pack.scope == "organization" and len(name) > ORGANIZATION_PACK_NAME_MAX
    ]
