"""Each rule's own code judges a template's resources, as it judges a live account's items: the rule module's
evaluate_change on the item AWS Config would record, through a Lambda client that answers from the template.

A rule whose verdict needs the live account says so once, as not applicable here: the idle rule (traffic), and
the code-signing rule where it needs a config the template does not create (its policy, for RequireEnforce).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import unquote

import botocore.session

from rdkpack.account.scan import evaluate_item, loaded_rule
from rdkpack.check.items import item_for
from rdkpack.check.model import CODE_SIGNING_CONFIG, LAMBDA_FUNCTION, TemplateResource, Unknown
from rdkpack.check.variants import variants

UNKNOWN = "UNKNOWN"
IN_THE_ACCOUNT = "judged only in the account"  # a variant's verdict when a fact only the account has decides it
TEMPLATE_ARN = re.compile(r"arn:aws:lambda:us-east-1:000000000000:code-signing-config:(csc-[0-9a-f]{17})")
REGION_IN_ARN = re.compile(r"arn:[a-z-]+:lambda:([a-z]{2,4}(?:-[a-z]+)+-\d{1,2}):")
ACCOUNT_IN_ARN = re.compile(r"arn:[a-z-]+:lambda:[^:]*:(\d{12}):")
EXAMPLE_PLACE = (("us-east-1", "123456789012"),)  # the parameters pin neither: any account and region judge alike
# Properties a rule judges only in the account: a layer's signature exists once the layer is published.
LIVE_PROPERTIES = {"LAMBDA_CODE_SIGNING_CHECK": ("Layers",)}
LIVE_ONLY = {
    "VPC_ENDPOINT_IDLE_CHECK": "its verdict is the endpoint's traffic over IdleDays, which only the account has",
}


class LiveAccountNeeded(Exception):
    """A fact only the deployed account has (a code-signing config the template does not create)."""


class DeployTimeValue(Exception):
    """A fact the template leaves to the deploy (the policy of a config it creates, from a parameter): its source."""


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
        # By the config's id: the template does not know the account and region its ARN will have.
        self.configs = {
            config_id(r.properties.get("CodeSigningConfigArn")): r.properties
            for r in resources
            if r.type == CODE_SIGNING_CONFIG
        }
        self.attached = ""  # the function being judged: its config ARN

    def answer(self, model, params, **_):
        if model.name == "GetFunctionCodeSigningConfig":
            body = {"CodeSigningConfigArn": self.attached, "FunctionName": "f"} if self.attached else {}
            return SimpleNamespace(status_code=200, headers={}), body
        if model.name == "GetCodeSigningConfig":
            arn = unquote(params["url_path"].split("/code-signing-configs/")[1])
            found = self.configs.get(config_id(arn))
            if found is None:
                raise LiveAccountNeeded(f"code-signing config {arn} is not created by this template")
            return SimpleNamespace(status_code=200, headers={}), {"CodeSigningConfig": _config_answer(arn, found)}
        raise LiveAccountNeeded(f"lambda:{model.name}")


def config_id(arn) -> str:
    return str(arn).rsplit(":", 1)[-1]


def deploy_account_and_region(value, places: tuple[tuple[str, str], ...]):
    """A code-signing config the template creates, as its ARN will be: in the account and region of each deploy the
    rule's parameters name (their accounts and regions, else an example one)."""
    if isinstance(value, str) and (match := TEMPLATE_ARN.fullmatch(value)):
        source = "the account and region of a code-signing config this template creates"
        arns = tuple(f"arn:aws:lambda:{region}:{account}:code-signing-config:{match[1]}" for region, account in places)
        return arns[0] if len(arns) == 1 and places == EXAMPLE_PLACE else Unknown(source, arns)
    if isinstance(value, dict):
        return {key: deploy_account_and_region(item, places) for key, item in value.items()}
    if isinstance(value, list):
        return [deploy_account_and_region(item, places) for item in value]
    return value


PSEUDO_SUB = re.compile(r"Fn::Sub (.*)", re.DOTALL)
PSEUDO_VARIABLE = re.compile(r"\$\{(AWS::[A-Za-z]+)\}")


def pseudo_values(raw_parameters: dict) -> dict[str, list[str]]:
    """Where a stack may be deployed, for its pseudo parameters: examples, plus every partition, account and region
    the rule's own parameters name (a pack that pins an account must see the template judged in it)."""
    text = " ".join(str(value) for value in raw_parameters.values())
    partitions = [found for found in re.findall(r"arn:([a-z-]+):", text) if found != "*"]
    return {
        "AWS::Region": list(dict.fromkeys(["us-east-1", "eu-west-1", *REGION_IN_ARN.findall(text)])),
        "AWS::AccountId": list(dict.fromkeys(["123456789012", "210987654321", *ACCOUNT_IN_ARN.findall(text)])),
        "AWS::Partition": list(dict.fromkeys(["aws", "aws-cn", *partitions])),
        "AWS::URLSuffix": ["amazonaws.com"],
    }


def with_deploy_places(value, raw_parameters: dict):
    """An Fn::Sub over pseudo parameters only, its choices taken again with the places the rule's parameters name."""
    if isinstance(value, Unknown) and (match := PSEUDO_SUB.fullmatch(value.source)):
        text = match[1]
        names = PSEUDO_VARIABLE.findall(text)
        values = pseudo_values(raw_parameters)
        if names and not re.search(r"\$\{(?!AWS::)", text) and all(name in values for name in names):
            unique = list(dict.fromkeys(names))
            choices = []
            for combination in itertools.product(*(values[name] for name in unique)):
                chosen = dict(zip(unique, combination, strict=True))
                choices.append(PSEUDO_VARIABLE.sub(lambda found, c=chosen: c[found[1]], text))
            return Unknown(value.source, tuple(dict.fromkeys(choices)))
        return value
    if isinstance(value, dict):
        return {key: with_deploy_places(item, raw_parameters) for key, item in value.items()}
    if isinstance(value, list):
        return [with_deploy_places(item, raw_parameters) for item in value]
    return value


def deploy_places(raw_parameters: dict) -> tuple[tuple[str, str], ...]:
    """(region, account) pairs a rule's parameters name: where a config the template creates may end up."""
    text = " ".join(str(value) for value in raw_parameters.values())
    regions = sorted(set(REGION_IN_ARN.findall(text))) or ["us-east-1"]
    accounts = sorted(set(ACCOUNT_IN_ARN.findall(text))) or ["123456789012"]
    places = tuple((region, account) for region in regions for account in accounts)
    return places if (regions, accounts) != (["us-east-1"], ["123456789012"]) else EXAMPLE_PLACE


def _config_answer(arn: str, found: dict) -> dict:
    """GetCodeSigningConfig's answer for a config the template creates. Its policy is what a rule asks for here (a
    layer's signature exists only once published, so the allowed publishers are never compared): a policy the deploy
    decides is a DeployTimeValue; publishers known only at deploy time are left out."""
    policies = found.get("CodeSigningPolicies")
    policy = policies.get("UntrustedArtifactOnDeployment", "Warn") if isinstance(policies, dict) else policies
    if isinstance(policy, Unknown):
        raise DeployTimeValue(policy.source)
    publishers = found.get("AllowedPublishers")
    profiles = publishers.get("SigningProfileVersionArns") if isinstance(publishers, dict) else None
    known = [profile for profile in profiles if isinstance(profile, str)] if isinstance(profiles, list) else []
    return {
        "CodeSigningConfigArn": arn,
        "AllowedPublishers": {"SigningProfileVersionArns": known},
        "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": policy or "Warn"},
    }


class TemplateClients:
    """rdklib's ClientFactory for templates: Lambda answered from the template being judged (`lam`, set per file),
    no other service, never the network. One client for the whole check: making one costs about 0.1 s."""

    def __init__(self, lam: TemplateLambda | None = None):
        self.lam = lam
        session = botocore.session.get_session()
        self.client = session.create_client(
            "lambda", region_name="us-east-1", aws_access_key_id="template", aws_secret_access_key="template"
        )
        self.client.meta.events.register("before-call.lambda", self.answer)

    def answer(self, **kwargs):
        return self.lam.answer(**kwargs)

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
        return cls(name, raw_parameters, *loaded_rule(root, name, raw_parameters))

    def applies_to(self, resource: TemplateResource) -> bool:
        return resource.type in self.module.APPLICABLE_RESOURCES

    def judge(self, resource: TemplateResource, lam: TemplateLambda, clients: TemplateClients) -> Judgement:
        judged = {
            key: value for key, value in resource.properties.items() if key not in LIVE_PROPERTIES.get(self.name, ())
        }
        judged = deploy_account_and_region(judged, deploy_places(self.raw_parameters))
        judged = with_deploy_places(judged, self.raw_parameters)
        found, unknown = variants(judged, self.raw_parameters)
        sources = list(dict.fromkeys(u.source for u in unknown))
        verdicts = []
        for properties in found:
            try:
                verdicts.append(self.one(resource, properties, lam, clients))
            except LiveAccountNeeded as error:  # the same whatever the unknowns: a verdict of its own
                verdicts.append((IN_THE_ACCOUNT, f"Judged only in the account: {error}."))
            except DeployTimeValue as error:
                sources.append(str(error))
                verdicts.append((UNKNOWN, ""))
            except (TypeError, AttributeError, KeyError, ValueError):
                if not unknown:
                    raise
                verdicts.append((UNKNOWN, ""))  # a probe where the template holds a map or a list
        kinds = {compliance for compliance, _ in verdicts}
        if len(kinds) == 1 and UNKNOWN not in kinds:
            compliance, annotation = verdicts[0]
            if unknown and compliance != IN_THE_ACCOUNT:
                annotation += f" (the same for every value of {', '.join(dict.fromkeys(sources))})"
            return Judgement(
                resource, self.name, "NOT_APPLICABLE" if compliance == IN_THE_ACCOUNT else compliance, annotation
            )
        listed = ", ".join(sorted(kinds - {UNKNOWN}))
        text = f"The verdict depends on values known only at deploy time ({', '.join(dict.fromkeys(sources))})"
        return Judgement(resource, self.name, UNKNOWN, f"{text}: {listed}." if listed else f"{text}.")

    def one(self, resource: TemplateResource, properties: dict, lam: TemplateLambda, clients) -> tuple[str, str]:
        item = item_for(resource, properties)
        lam.attached = (properties.get("CodeSigningConfigArn") or "") if resource.type == LAMBDA_FUNCTION else ""
        results = evaluate_item(self.rule, self.name, item, clients, self.parameters)
        first = results[0]
        return first.compliance, first.annotation
