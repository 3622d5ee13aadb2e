"""Service control policies: the preventive twin of the layer and code-signing rules, from the pack's values.

What each statement can and cannot enforce (docs/concepts/preventive-twins.md says the same to users):
- Layers: an SCP sees `lambda:Layer`, the layer version ARNs a request carries. It denies a create or
  update that carries layers of which none is approved. `ForAllValues` is true for a request without
  layers, so a `Null` test limits the deny to requests that carry `Layers`: an update that does not
  touch the layers passes, and so does a create without layers (there is no key for the package
  type, so denying it would block every container-image function; the Config rule reports Zip
  functions without the layer). A pattern cannot say "version >= N": any version of an approved
  layer passes, and the minimum version is left to the Config rule.
- Code signing: `lambda:CodeSigningConfigArn` on CreateFunction and PutFunctionCodeSigningConfig.
  A create that names an unapproved config is denied. A create without a config is denied only when
  the pack asks for it (`requireCodeSigningOnCreate`): that includes container-image functions, which
  cannot have one, since no key tells them apart.
  Detaching a config (DeleteFunctionCodeSigningConfig) is denied.
- Exemptions: the rules' `ExemptionTag` is a resource tag, which whoever makes the request can set,
  so it cannot exempt in an SCP. It maps to the calling principal's tag instead: a principal carrying
  the tag (a break-glass or image-pipeline role) is not denied. A principal tag can be given too (iam
  tagging, session tags), so a statement lets only principals that carry the tag give or remove it;
  tag the first ones from the management account, which SCPs do not restrict.
"""

from __future__ import annotations

from rdkpack.project.config import Pack, PackRule, Project

LAYER_RULE, SIGNING_RULE = "LAMBDA_LAYER_CHECK", "LAMBDA_CODE_SIGNING_CHECK"
RULES = (LAYER_RULE, SIGNING_RULE)
ANY_CONFIG = "arn:*:lambda:*:*:code-signing-config:*"


def pack_rule(pack: Pack, name: str) -> PackRule | None:
    return next((rule for rule in pack.rules if rule.name == name), None)


def exemption(rule: PackRule) -> dict:
    """The condition that spares a principal carrying the rule's ExemptionTag; {} without one."""
    tag = rule.exemption_tag()
    if tag is None:
        return {}
    key, value = tag
    if value:
        return {"StringNotEquals": {f"aws:PrincipalTag/{key}": value}}
    return {"Null": {f"aws:PrincipalTag/{key}": "true"}}


def merged(*conditions: dict) -> dict:
    result: dict = {}
    for condition in conditions:
        for operator, tests in condition.items():
            result.setdefault(operator, {}).update(tests)
    return result


def layer_statements(rule: PackRule) -> list[dict]:
    versions = [f"{pattern}:*" for pattern in rule.listed("LayerArn")]
    if not versions:
        return []
    carries_layers = {"Null": {"lambda:Layer": "false"}}
    none_approved = {"ForAllValues:StringNotLike": {"lambda:Layer": versions}}
    return [
        {
            "Sid": "DenyLayersNoneApproved",
            "Effect": "Deny",
            "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"],
            "Resource": "*",
            "Condition": merged(carries_layers, none_approved, exemption(rule)),
        }
    ]


def signing_statements(rule: PackRule, require_on_create: bool) -> list[dict]:
    approved = rule.listed("AllowedCodeSigningConfigArns") or [ANY_CONFIG]
    unapproved = {"ArnNotLike": {"lambda:CodeSigningConfigArn": approved}}  # the key is of type ARN
    spared = exemption(rule)
    statements = [
        {
            "Sid": "DenyUnapprovedCodeSigningConfig",
            "Effect": "Deny",
            "Action": "lambda:PutFunctionCodeSigningConfig",
            "Resource": "*",
            "Condition": merged(unapproved, spared),
        },
        {
            "Sid": "DenyDetachingCodeSigningConfig",
            "Effect": "Deny",
            "Action": "lambda:DeleteFunctionCodeSigningConfig",
            "Resource": "*",
            **({"Condition": spared} if spared else {}),
        },
    ]
    # A create that names an unapproved config is always denied; one that names none only when the pack asks.
    carries_config = {} if require_on_create else {"Null": {"lambda:CodeSigningConfigArn": "false"}}
    statements.insert(
        0,
        {
            "Sid": "DenyCreateWithoutApprovedCodeSigning"
            if require_on_create
            else "DenyCreateWithUnapprovedCodeSigning",
            "Effect": "Deny",
            "Action": "lambda:CreateFunction",
            "Resource": "*",
            "Condition": merged(carries_config, unapproved, spared),
        },
    )
    return statements


def exemption_keys(pack: Pack) -> list[str]:
    tags = (rule.exemption_tag() for rule in pack.rules if rule.name in RULES)
    return sorted({tag[0] for tag in tags if tag})


def tag_statements(pack: Pack) -> list[dict]:
    """A principal tag exempts, so only a principal that already carries it may give it (or take it away)."""
    keys = exemption_keys(pack)
    if not keys:
        return []
    return [
        {
            "Sid": "DenyGrantingTheExemptionTag",
            "Effect": "Deny",
            "Action": ["iam:TagRole", "iam:TagUser", "iam:UntagRole", "iam:UntagUser", "sts:TagSession"],
            "Resource": "*",
            "Condition": {
                "ForAnyValue:StringEquals": {"aws:TagKeys": keys},
                "Null": {f"aws:PrincipalTag/{key}": "true" for key in keys},
            },
        }
    ]


def policy(project: Project, pack: Pack) -> dict | None:
    """The pack's SCP, or None when the pack asks for none (rdk-config.json packs.<pack>.preventive.scp)."""
    if not pack.preventive.get("scp"):
        return None
    statements = []
    layer = pack_rule(pack, LAYER_RULE)
    if layer:
        statements += layer_statements(layer)
    signing = pack_rule(pack, SIGNING_RULE)
    if signing:
        statements += signing_statements(signing, bool(pack.preventive.get("requireCodeSigningOnCreate")))
    statements += tag_statements(pack)
    return {"Version": "2012-10-17", "Statement": statements}
