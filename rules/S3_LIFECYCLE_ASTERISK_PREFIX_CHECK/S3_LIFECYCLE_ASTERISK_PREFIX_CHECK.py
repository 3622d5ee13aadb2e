"""
#####################################
##           Gherkin               ##
#####################################
Rule Name:
  S3_LIFECYCLE_ASTERISK_PREFIX_CHECK

Description:
  Checks that no S3 lifecycle rule has '*' in a prefix filter.

Rationale:
  S3 treats '*' in a lifecycle prefix as a literal character: a rule with prefix '*' or '/*' applies
  only to keys that begin with an asterisk, and 'logs/*' only to keys that begin with 'logs/*'. S3
  accepts such a rule without error, so it silently expires or transitions nothing and storage
  costs keep growing.

Indicative Severity:
  Medium

Trigger:
  Configuration change on AWS::S3::Bucket

Reports on:
  AWS::S3::Bucket

Rule Parameters:
  IncludeDisabledRules
    (Optional) 'true' or 'false', default true: a disabled rule with '*' is still a trap for the
    day it is enabled.
  ExemptionTag
    (Optional) 'key' or 'key=value'. Buckets carrying it are NOT_APPLICABLE. The tag's value may
    end the waiver with the word expires=YYYY-MM-DD (a UTC date; words are separated by spaces):
      'key':       any value; expires= anywhere in it, e.g. lifecycle-exempt = "expires=2027-01-31 v2 migration"
      'key=value': the value as the first word, then optionally expires= and more words, e.g. for
                   team=platform the tag team = "platform" or "platform expires=2027-01-31 v2 migration"
    Exempt through that date; from the next day the normal verdict plus "Waiver (tag X) expired on
    D."; an expires= that is no valid date (2027-02-30, 27-1-1) exempts nothing. Without expires=
    the tag exempts until it is removed.
  ExecutionRoleName, AssumeRoleMode, ExecutionRoleRegion
    (Optional) Passed through to rdklib. Any other parameter name is rejected.

The rule reads supplementaryConfiguration.BucketLifecycleConfiguration from the configuration item
(an object in change notifications, a JSON string when fetched through the Config API) and makes no
API call beyond PutEvaluations.

Scenarios:
  Scenario 1:
    Given: IncludeDisabledRules is not 'true' or 'false'
     Then: Return InvalidParametersError naming IncludeDisabledRules
  Scenario 2:
    Given: ExemptionTag has an empty key
     Then: Return InvalidParametersError naming ExemptionTag
  Scenario 3:
    Given: A parameter name the rule does not know (a typo)
     Then: Return InvalidParametersError listing the accepted names
  Scenario 4:
    Given: The bucket carries the ExemptionTag, with no expires= in its value
     Then: Return NOT_APPLICABLE naming the tag
  Scenario 5:
    Given: BucketLifecycleConfiguration is absent or null
     Then: Return NOT_APPLICABLE
  Scenario 6:
    Given: BucketLifecycleConfiguration is not valid JSON or not an object
     Then: Return NOT_APPLICABLE saying the configuration could not be read
  Scenario 7:
    Given: A checked rule's legacy prefix contains '*'
     Then: Return NON_COMPLIANT naming the rule ID and the prefix
  Scenario 8:
    Given: A checked rule's LifecyclePrefixPredicate prefix contains '*'
     Then: Return NON_COMPLIANT naming the rule ID and the prefix
  Scenario 9:
    Given: A prefix operand of a checked rule's LifecycleAndOperator contains '*'
     Then: Return NON_COMPLIANT naming the rule ID and the prefix
  Scenario 10:
    Given: A disabled rule has '*' in a prefix
     Then: Return NON_COMPLIANT by default, COMPLIANT when IncludeDisabledRules is false
  Scenario 11:
    Given: Every checked prefix is free of '*' (tag and object-size predicates are not prefixes)
     Then: Return COMPLIANT
  Scenario 12:
    Given: The same lifecycle configuration as an object or as a JSON string
     Then: Return the same verdict
  Scenario 13:
    Given: Many offending rules
     Then: The annotation names as many as fit in 256 characters and counts the rest
  Scenario 14:
    Given: The bucket carries the ExemptionTag with expires=D, D today or later (UTC)
     Then: Return NOT_APPLICABLE "Exempt until D" naming the tag and its value
  Scenario 15:
    Given: The bucket carries the ExemptionTag with expires=D, D before today (UTC)
     Then: Return the verdict without the tag, plus "Waiver (tag X) expired on D." (within 256 characters)
  Scenario 16:
    Given: The ExemptionTag's expires= is not a YYYY-MM-DD date (2027-02-30, 27-1-1)
     Then: Return the verdict without the tag, plus a note that the expiry is not a date: not exempt
"""

from dataclasses import dataclass
from datetime import date

from rdklib import ComplianceType, ConfigRule, Evaluation
from rule_kit import (
    ANNOTATION_MAX,
    ExemptionTag,
    Verdict,
    decoded,
    exemption_of,
    fit_annotation,
    handle_event,
    parse_bool,
    parse_exemption_tag,
    reject_unknown_parameters,
    source_event_types,
)

APPLICABLE_RESOURCES = source_event_types(__file__)
# IAM the execution role needs beyond PutEvaluations: none, the rule reads only the item.
IAM_PERMISSIONS = ()
RULE_PARAMETERS = ("IncludeDisabledRules", "ExemptionTag")
LIFECYCLE_KEY = "BucketLifecycleConfiguration"
UNREADABLE = object()


@dataclass(frozen=True)
class Params:
    include_disabled: bool
    exemption_tag: ExemptionTag | None


@dataclass(frozen=True)
class Offence:
    rule_id: str
    prefix: str

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.prefix!r}"


def parse_parameters(raw: dict) -> Params:
    reject_unknown_parameters(raw, RULE_PARAMETERS)
    return Params(parse_bool(raw, "IncludeDisabledRules", True), parse_exemption_tag(raw))


def lifecycle_of(configuration_item: dict):
    """The lifecycle configuration as a dict, None when absent, UNREADABLE when malformed."""
    supplementary = configuration_item.get("supplementaryConfiguration")
    if not isinstance(supplementary, dict) or supplementary.get(LIFECYCLE_KEY) is None:
        return None
    try:
        lifecycle = decoded(supplementary[LIFECYCLE_KEY])
    except ValueError:
        return UNREADABLE
    if lifecycle is None:
        return None
    return lifecycle if isinstance(lifecycle, dict) else UNREADABLE


def predicate_prefixes(predicate) -> list:
    if not isinstance(predicate, dict):
        return []
    if predicate.get("type") == "LifecyclePrefixPredicate":
        return [predicate.get("prefix")]
    if predicate.get("type") == "LifecycleAndOperator" and isinstance(predicate.get("operands"), list):
        return [prefix for operand in predicate["operands"] for prefix in predicate_prefixes(operand)]
    return []


def rule_prefixes(rule: dict) -> list[str]:
    """Every prefix a lifecycle rule filters on: the legacy prefix and those in its filter."""
    lifecycle_filter = rule.get("filter")
    predicate = lifecycle_filter.get("predicate") if isinstance(lifecycle_filter, dict) else None
    prefixes = [rule.get("prefix"), *predicate_prefixes(predicate)]
    return [prefix for prefix in prefixes if isinstance(prefix, str)]


def offences(lifecycle: dict, include_disabled: bool) -> list[Offence]:
    rules = lifecycle.get("rules")
    found = []
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict) or (not include_disabled and rule.get("status") == "Disabled"):
            continue
        rule_id = str(rule.get("id") or f"#{index + 1}")
        found += [Offence(rule_id, prefix) for prefix in rule_prefixes(rule) if "*" in prefix]
    return found


def summarise(header: str, items: list, room: int = ANNOTATION_MAX) -> str:
    text = header
    for shown, item in enumerate(items):
        rest = f" (+{len(items) - shown} more)"
        candidate = f"{text}{'; ' if shown else ' '}{item}"
        if len(candidate) + len(rest) > room and shown:
            return text + rest
        text = candidate
    return text


def judge(configuration_item: dict, params: Params, today: date | None = None) -> Verdict:
    """The verdict on the bucket's lifecycle prefixes, unless its exemption tag is in force on `today` (UTC)."""
    exemption = exemption_of(params.exemption_tag, configuration_item.get("tags"), today)
    if exemption and exemption.in_force:
        return Verdict(ComplianceType.NOT_APPLICABLE, exemption.reason("bucket"))
    room = ANNOTATION_MAX - len(exemption.note() if exemption else "")  # the summary leaves the note its room
    return judge_lifecycle(configuration_item, params, room).noted(exemption)


def judge_lifecycle(configuration_item: dict, params: Params, room: int) -> Verdict:
    lifecycle = lifecycle_of(configuration_item)
    if lifecycle is None:
        return Verdict(ComplianceType.NOT_APPLICABLE, "The bucket has no lifecycle configuration.")
    if lifecycle is UNREADABLE:
        return Verdict(ComplianceType.NOT_APPLICABLE, f"{LIFECYCLE_KEY} in the configuration item could not be read.")
    found = offences(lifecycle, params.include_disabled)
    if found:
        header = f"S3 matches '*' in a lifecycle prefix literally, so {len(found)} prefix(es) select no keys:"
        return Verdict(ComplianceType.NON_COMPLIANT, summarise(header, found, room))
    return Verdict(ComplianceType.COMPLIANT, "No lifecycle rule has '*' in a prefix.")


class S3_LIFECYCLE_ASTERISK_PREFIX_CHECK(ConfigRule):
    delete_old_evaluations_on_scheduled_notification = False

    def evaluate_parameters(self, rule_parameters):
        return parse_parameters(rule_parameters)

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        verdict = judge(configuration_item, valid_rule_parameters)
        return [Evaluation(verdict.compliance, annotation=fit_annotation(verdict.annotation))]

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        # Change-triggered only: a scheduled notification comes from a misconfigured trigger; report nothing.
        return []


def lambda_handler(event, context):
    return handle_event(S3_LIFECYCLE_ASTERISK_PREFIX_CHECK(), APPLICABLE_RESOURCES, event, context)
