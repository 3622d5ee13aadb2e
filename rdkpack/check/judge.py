"""Each rule's own code judges a template's resources, as it judges a live account's items: the rule module's
evaluate_change on the item AWS Config would record, through a Lambda client that answers from the template.

A rule whose verdict needs the live account says so once, as not applicable here: the idle rule (traffic), and
the code-signing rule where it needs a config the template does not create (its policy, for RequireEnforce).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import unquote

import botocore.session
from rdklib import InvalidParametersError

from rdkpack.account.scan import evaluate_item
from rdkpack.check.items import item_for
from rdkpack.check.model import CODE_SIGNING_CONFIG, LAMBDA_FUNCTION, TemplateResource, Unknown
from rdkpack.check.variants import variants
from rdkpack.errors import RdkPackError
from rdkpack.project.loader import rule_module

UNKNOWN = "UNKNOWN"
# Properties a rule judges only in the account: a layer's signature exists once the layer is published.
LIVE_PROPERTIES = {"LAMBDA_CODE_SIGNING_CHECK": ("Layers",)}
LIVE_ONLY = {
    "VPC_ENDPOINT_IDLE_CHECK": "its verdict is the endpoint's traffic over IdleDays, which only the account has",
}


class LiveAccountNeeded(Exception):
    """A fact only the deployed account has (a code-signing config the template does not create)."""


@dataclass(frozen=True)
class Judgement:
    resource: TemplateResource
    rule: str
    compliance: str  # COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE or UNKNOWN
    message: str
    prop: str | None = None  # the property the verdict is about, for the line


class TemplateLambda:
    """The Lambda calls the code-signing rule makes, answered from the template being checked."""

    def __init__(self, resources: list[TemplateResource]):
        self.configs = {
            r.properties.get("CodeSigningConfigArn"): r.properties for r in resources if r.type == CODE_SIGNING_CONFIG
        }
        self.attached = ""  # the function being judged: its config ARN

    def answer(self, model, params, **_):
        if model.name == "GetFunctionCodeSigningConfig":
            body = {"CodeSigningConfigArn": self.attached, "FunctionName": "f"} if self.attached else {}
            return SimpleNamespace(status_code=200, headers={}), body
        if model.name == "GetCodeSigningConfig":
            arn = params["url_path"].split("/code-signing-configs/")[1]
            found = self.configs.get(unquote(arn))
            if found is None or any(isinstance(v, Unknown) for v in _walk(found)):
                raise LiveAccountNeeded(f"code-signing config {unquote(arn)} is not created by this template")
            config = {
                "CodeSigningConfigArn": unquote(arn),
                "AllowedPublishers": found.get("AllowedPublishers") or {"SigningProfileVersionArns": []},
                "CodeSigningPolicies": found.get("CodeSigningPolicies") or {"UntrustedArtifactOnDeployment": "Warn"},
            }
            return SimpleNamespace(status_code=200, headers={}), {"CodeSigningConfig": config}
        raise LiveAccountNeeded(f"lambda:{model.name}")


def _walk(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
    else:
        yield value


class TemplateClients:
    """rdklib's ClientFactory for a template: Lambda answered from it, no other service, never the network."""

    def __init__(self, lam: TemplateLambda):
        session = botocore.session.get_session()
        self.client = session.create_client(
            "lambda", region_name="us-east-1", aws_access_key_id="template", aws_secret_access_key="template"
        )
        self.client.meta.events.register("before-call.lambda", lam.answer)

    def build_client(self, service, *args, **kwargs):
        if service != "lambda":
            raise LiveAccountNeeded(f"{service} calls")
        return self.client


@dataclass
class RuleJudge:
    """One rule with the pack's parameters, ready to judge resources."""

    name: str
    raw_parameters: dict
    module: object
    rule: object
    parameters: object

    @classmethod
    def load(cls, root, name: str, raw_parameters: dict) -> RuleJudge:
        module = rule_module(root, name)
        rule = getattr(module, name)()
        try:
            parameters = rule.evaluate_parameters(raw_parameters)
        except InvalidParametersError as error:
            raise RdkPackError(f"{name}: {error}") from error
        return cls(name, raw_parameters, module, rule, parameters)

    def applies_to(self, resource: TemplateResource) -> bool:
        return resource.type in self.module.APPLICABLE_RESOURCES

    def judge(self, resource: TemplateResource, lam: TemplateLambda, clients: TemplateClients) -> Judgement:
        judged = {
            key: value for key, value in resource.properties.items() if key not in LIVE_PROPERTIES.get(self.name, ())
        }
        found, unknown = variants(judged, self.raw_parameters)
        sources = ", ".join(dict.fromkeys(u.source for u in unknown))
        verdicts = []
        for properties in found:
            try:
                verdicts.append(self.one(resource, properties, lam, clients))
            except LiveAccountNeeded as error:
                text = f"Judged only in the account: {error}."
                return Judgement(resource, self.name, "NOT_APPLICABLE", text)
        kinds = {compliance for compliance, _ in verdicts}
        if len(kinds) == 1:
            compliance, annotation = verdicts[0]
            if unknown:
                annotation += f" (the same for every value of {sources})"
            return Judgement(resource, self.name, compliance, annotation)
        text = f"The verdict depends on values known only at deploy time ({sources}): {', '.join(sorted(kinds))}."
        return Judgement(resource, self.name, UNKNOWN, text)

    def one(self, resource: TemplateResource, properties: dict, lam: TemplateLambda, clients) -> tuple[str, str]:
        item = item_for(resource, properties)
        lam.attached = (properties.get("CodeSigningConfigArn") or "") if resource.type == LAMBDA_FUNCTION else ""
        results = evaluate_item(self.rule, self.name, item, clients, self.parameters)
        first = results[0]
        return first.compliance, first.annotation
