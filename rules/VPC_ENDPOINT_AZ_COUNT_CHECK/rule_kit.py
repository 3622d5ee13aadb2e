"""The rule kit: what every rule needs beside its own logic (parameters, exemption tags, ARN patterns,
annotations, the event guard and rdklib's handler).

The canonical copy is rdkpack/project/kit/rule_kit.py: edit only that one. `rdkpack sync-kit` copies it
verbatim into every rule folder as `rule_kit.py`, because `rdk deploy` zips a rule folder alone, and
`rdkpack sync-kit --check` (run by the test command) fails when a copy differs. It may import only the
standard library, rdklib, boto3 and botocore: that is all a rule Lambda has.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import rdklib.evaluator
from rdklib import ClientFactory, Evaluator, InvalidParametersError
from rdklib.clientfactory import get_assume_role_credentials
from rdklib.util.service import build_internal_error_response

ROLE_PARAMETERS = ("ExecutionRoleName", "AssumeRoleMode", "ExecutionRoleRegion")
ANNOTATION_MAX = 256
EVENT_KEYS = ("invokingEvent", "executionRoleArn", "resultToken", "eventLeftScope")
# What the rule and rdklib read from a change notification's item; the capture time may also be a number.
ITEM_KEYS = ("resourceType", "resourceId", "configurationItemStatus")

PARTITION_RE = r"aws(?:-cn|-us-gov|-iso(?:-[bef])?|-eusc)?"
REGION_RE = r"[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}"
EXPIRES = "expires="  # the word in an exemption tag's value that ends the waiver: expires=YYYY-MM-DD (UTC)


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Exemption:
    """A resource's exemption tag on the day it is judged: in force, expired, or with an expiry that is no date."""

    tag: ExemptionTag
    value: str  # the tag's value on the resource
    expires: date | None = None  # None: no expiry, exempt until the tag goes
    expired: bool = False  # the day judged is after `expires`
    invalid: str | None = None  # what follows expires= when it is not a YYYY-MM-DD date

    @property
    def in_force(self) -> bool:
        return not self.expired and self.invalid is None

    def reason(self, noun: str) -> str:
        """The NOT_APPLICABLE annotation while in force, naming the waiver (its value cut to fit 256 characters)."""
        if self.expires is None:
            return f"Exempt: the {noun} carries tag {self.tag}."
        head = f"Exempt until {self.expires.isoformat()}: the {noun} carries tag {self.tag} ("
        room = ANNOTATION_MAX - len(head) - 2
        value = self.value if len(self.value) <= room else self.value[: max(room - 3, 0)] + "..."
        return f"{head}{value})."

    def note(self) -> str:
        """What follows the rule's own annotation when the tag does not exempt: expired, or no date."""
        if self.invalid is not None:
            return f" Exemption tag {self.tag} has expiry {self.invalid!r} that is not a date (YYYY-MM-DD): not exempt."
        return f" Waiver (tag {self.tag}) expired on {self.expires.isoformat()}." if self.expired else ""


@dataclass(frozen=True)
class ExemptionTag:
    """The ExemptionTag parameter: a tag key, or key=value, whose value may carry `expires=YYYY-MM-DD`.

    Key only: any value exempts, and an `expires=` word anywhere in it (words split on spaces) sets the
    expiry, e.g. `expires=2027-01-31 migration to v2`. With key=value, the tag's value must begin with
    that value as its own word(s), optionally followed by more words, e.g. `platform expires=2027-01-31`.
    The first `expires=` word (any case) counts.
    """

    key: str
    value: str | None

    def is_carried_by(self, tags) -> bool:
        """Whether the resource carries the tag, expired or not (the day given is only for `expired`)."""
        return self.exemption(tags, date.min) is not None

    def exemption(self, tags, today: date | None = None) -> Exemption | None:
        """The resource's exemption on `today` (default: the UTC date now), or None when it does not carry the tag."""
        if not isinstance(tags, dict) or self.key not in tags:
            return None
        carried = tags[self.key] if isinstance(tags[self.key], str) else ""
        words = self.words_after_value(carried)
        if words is None:
            return None
        raw = next((word[len(EXPIRES) :] for word in words if word.lower().startswith(EXPIRES)), None)
        if raw is None:
            return Exemption(self, carried)
        expires = parse_date(raw)
        if expires is None:
            return Exemption(self, carried, invalid=raw)
        return Exemption(self, carried, expires, expired=(today or utc_today()) > expires)

    def words_after_value(self, carried: str) -> list[str] | None:
        """The words of the tag's value after the configured value (all of them for a key-only tag); None: not it."""
        words = carried.split()
        if self.value is None:
            return words
        wanted = self.value.split()
        if words[: len(wanted)] != wanted:
            return None
        rest = words[len(wanted) :]
        if rest and not any(word.lower().startswith(EXPIRES) for word in rest):
            return None  # more words than the value, with no expiry among them: another value (`platform ops`)
        return rest

    def __str__(self) -> str:
        return self.key if self.value is None else f"{self.key}={self.value}"


def parse_date(text: str) -> date | None:
    """A YYYY-MM-DD calendar date (ASCII digits), or None."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        return date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return None


def exemption_of(tag: ExemptionTag | None, tags, today: date | None = None) -> Exemption | None:
    """The resource's exemption under the rule's ExemptionTag (None without the parameter or the tag)."""
    return tag.exemption(tags, today) if tag else None


def exemption_noted(annotation: str, exemption: Exemption | None) -> str:
    """The rule's own annotation, then why the resource's exemption tag does not exempt it: 256 characters at most,
    cut in the annotation, not the note."""
    note = exemption.note() if exemption else ""
    if len(annotation) + len(note) <= ANNOTATION_MAX or len(note) > ANNOTATION_MAX - 3:
        return fit_annotation(annotation + note)
    return annotation[: ANNOTATION_MAX - len(note) - 3] + "..." + note


@dataclass(frozen=True)
class Verdict:
    """A rule's judgement of one resource: the compliance type and the annotation that says why."""

    compliance: str
    annotation: str

    def noted(self, exemption: Exemption | None) -> Verdict:
        """This verdict, then why the resource's exemption tag (expired, or with no date) does not exempt it."""
        return Verdict(self.compliance, exemption_noted(self.annotation, exemption))


@dataclass(frozen=True)
class ArnPattern:
    """An ARN whose partition, region or account segment, or resource id after 'type:', may be '*'."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def matches(self, partition: str, region: str, account: str, resource: str) -> bool:
        pairs = ((self.partition, partition), (self.region, region), (self.account, account))
        if not all(want in ("*", got) for want, got in pairs):
            return False
        if self.resource.endswith(":*"):
            return resource.startswith(self.resource[:-1])
        return self.resource == resource

    def matches_arn(self, arn: str) -> bool:
        parts = arn.split(":", 5)
        return len(parts) == 6 and self.matches(parts[1], parts[3], parts[4], parts[5])

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


class RateCap:
    """At most `per_second` calls through a client, so a sweep leaves the account's quota to other callers.

    Hooked on botocore's before-send event, so it paces every HTTP attempt: each page a paginator
    fetches and each retry of a throttled call. `clock` and `sleep` are seams for tests.
    """

    def __init__(self, per_second: float, clock=time.monotonic, sleep=time.sleep):
        self.interval = 1.0 / per_second
        self.clock, self.sleep = clock, sleep
        self.next_slot = None

    def wait(self, **_) -> None:
        now = self.clock()
        if self.next_slot is not None and now < self.next_slot:
            self.sleep(self.next_slot - now)
            now = self.next_slot
        self.next_slot = now + self.interval

    def attach(self, client):
        """Pace the client; a client reused by a warm container keeps the cap it was given first."""
        client.meta.events.register("before-send", self.wait, unique_id="rule_kit.RateCap")
        return client


# Assumed-role credentials last 15 minutes (rdklib asks for 900 s). Reuse them until this long before they
# expire, which must exceed the longest rule timeout (180 s), so an invocation never outlives them.
CREDENTIALS_REFRESH_SECONDS = 300
CLIENTS_KEPT = 64  # a central Lambda serves many accounts: keep the most recently used clients
WARM_CREDENTIALS: dict = {}  # the container's: (session, role ARN, region) -> STS credentials
WARM_CLIENTS: dict = {}  # the container's: (session, service, region, access key) -> client, least recent first


class ReusingClientFactory(ClientFactory):
    """rdklib's ClientFactory, but credentials and clients outlive the event on a warm container.

    rdklib builds a new factory, an STS AssumeRole and new clients for every event, so a change
    evaluation that needs no read still makes two calls. This keeps assumed-role credentials per
    (session, role, region) until CREDENTIALS_REFRESH_SECONDS before they expire, and clients per
    (session, service, region, credentials), so a warm container makes only the calls the rule needs.
    """

    reuses_clients = True  # what reuse_clients() may replace: its own kind (another rule folder's kit copy)

    def __init__(self, role_arn, region=None, assume_role_mode=True):
        super().__init__(role_arn, region, assume_role_mode)
        self.role_arn, self.assume_role_mode = role_arn, assume_role_mode
        self.region = region or os.environ.get("AWS_REGION")

    def build_client(self, service, region=None, assume_role_mode=True):
        region = region or self.region
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        keys = self.role_credentials(session, region) if assume_role_mode and self.assume_role_mode else {}
        key = (session, service, region, keys.get("aws_access_key_id"))
        client = WARM_CLIENTS.pop(key, None) or session.client(service, region_name=region, **keys)
        WARM_CLIENTS[key] = client  # most recently used last
        while len(WARM_CLIENTS) > CLIENTS_KEPT:
            WARM_CLIENTS.pop(next(iter(WARM_CLIENTS)))
        return client

    def role_credentials(self, session, region) -> dict:
        if not self.role_arn:
            raise ValueError(
                "The event names no execution role to assume; set AssumeRoleMode to false to use "
                "the rule Lambda's own role."
            )
        key = (session, self.role_arn, region)
        found = WARM_CREDENTIALS.get(key)
        if found is None or found["Expiration"].timestamp() - time.time() < CREDENTIALS_REFRESH_SECONDS:
            found = WARM_CREDENTIALS[key] = get_assume_role_credentials(self.role_arn, region)
        return {
            "aws_access_key_id": found["AccessKeyId"],
            "aws_secret_access_key": found["SecretAccessKey"],
            "aws_session_token": found["SessionToken"],
        }


def reuse_clients() -> None:
    """rdklib's Evaluator looks its ClientFactory up by name on every event: point that name at the subclass.

    rdklib offers no other seam. A factory someone else put there (a test's) is left alone.
    """
    installed = rdklib.evaluator.ClientFactory
    if installed is ClientFactory or getattr(installed, "reuses_clients", False):
        rdklib.evaluator.ClientFactory = ReusingClientFactory


def tagged_resources(client_factory, tag: ExemptionTag | None, resource_type: str) -> dict[str, dict]:
    """ARN -> tags of the resources of `resource_type` (e.g. lambda:function) carrying the tag's key: one paginated
    tag query. It asks for the key only: a key=value tag's value may go on with an expiry."""
    if tag is None:
        return {}
    paginator = client_factory.build_client("resourcegroupstaggingapi").get_paginator("get_resources")
    pages = paginator.paginate(ResourceTypeFilters=[resource_type], TagFilters=[{"Key": tag.key}])
    return {
        item["ResourceARN"]: {found["Key"]: found.get("Value", "") for found in item.get("Tags") or ()}
        for page in pages
        for item in page["ResourceTagMappingList"]
    }


def parameter_text(raw: dict, name: str) -> str:
    value = raw.get(name)
    return "" if value is None else str(value).strip()


def reject_unknown_parameters(raw: dict, rule_parameters: tuple) -> None:
    accepted = rule_parameters + ROLE_PARAMETERS
    unknown = sorted(str(name) for name in raw if name not in accepted)
    if unknown:
        raise InvalidParametersError(
            f"Unknown parameter(s): {', '.join(unknown)}. Accepted parameter names: {', '.join(accepted)}."
        )
    mode = parameter_text(raw, "AssumeRoleMode")
    if mode and mode.lower() not in ("true", "false"):
        raise InvalidParametersError(f"Parameter AssumeRoleMode must be 'true' or 'false', got {mode!r}.")


def parse_exemption_tag(raw: dict) -> ExemptionTag | None:
    text = parameter_text(raw, "ExemptionTag")
    if not text:
        return None
    key, separator, value = text.partition("=")
    if not key.strip() or len(key.strip()) > 128:
        raise InvalidParametersError(
            f"Parameter ExemptionTag must be 'key' or 'key=value' with a key of 1-128 characters, got {text!r}."
        )
    return ExemptionTag(key.strip(), value.strip() if separator else None)


def parse_int(
    raw: dict, name: str, default: int | None, *, minimum: int = 1, maximum: int | None = None, why: str = ""
) -> int | None:
    """A whole number from minimum (to maximum, if given) in ASCII digits, leading zeros allowed; why explains it."""
    text = parameter_text(raw, name)
    if not text:
        return default
    number = int(text) if re.fullmatch(r"[0-9]{1,30}", text) else None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        reason = f" ({why})" if why else ""
        raise InvalidParametersError(f"Parameter {name} must be an integer {bounds}{reason}, got {text!r}.")
    return number


def parse_decimal(raw: dict, name: str, default: float) -> float:
    """A non-negative decimal such as a price: digits with an optional fraction (no sign, exponent or unit)."""
    text = parameter_text(raw, name)
    if not text:
        return default
    if not re.fullmatch(r"\d{1,6}(\.\d{1,6})?", text):
        raise InvalidParametersError(
            f"Parameter {name} must be a non-negative number such as {default:g}, got {text!r}."
        )
    return float(text)


def parse_bool(raw: dict, name: str, default: bool) -> bool:
    text = parameter_text(raw, name).lower()
    if not text:
        return default
    if text not in ("true", "false"):
        raise InvalidParametersError(f"Parameter {name} must be 'true' or 'false', got {text!r}.")
    return text == "true"


def parse_csv(raw: dict, name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in parameter_text(raw, name).split(",") if item.strip())


def parse_arn_pattern(text: str, name: str, service: str, resource_re: str, example: str) -> ArnPattern:
    parts = text.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == service:
        segments = ((parts[1], PARTITION_RE), (parts[3], REGION_RE), (parts[4], r"\d{12}"))
        if all(part == "*" or re.fullmatch(rx, part) for part, rx in segments) and re.fullmatch(resource_re, parts[5]):
            return ArnPattern(*parts[1:])
    raise InvalidParametersError(
        f"Parameter {name} has {text!r}, which is not of the form {example} "
        "('*' may stand for the partition, region or account)."
    )


def decoded(value):
    """value without its JSON-string layers: Config API values may be encoded once or twice."""
    for _ in range(2):
        if not isinstance(value, str):
            break
        value = json.loads(value)
    return value


def configuration_of(configuration_item) -> dict:
    try:
        configuration = decoded(configuration_item.get("configuration"))
    except (AttributeError, ValueError):
        return {}
    return configuration if isinstance(configuration, dict) else {}


def fit_annotation(text: str) -> str:
    return text if len(text) <= ANNOTATION_MAX else text[: ANNOTATION_MAX - 3] + "..."


MESSAGE_SUBJECTS = {
    "ConfigurationItemChangeNotification": ("configurationItem", ITEM_KEYS),
    "OversizedConfigurationItemChangeNotification": ("configurationItemSummary", ("resourceType", "resourceId")),
    "ScheduledNotification": (None, ()),
}


def invoking_problem(invoking: dict) -> str | None:
    message_type = invoking.get("messageType")
    if message_type not in MESSAGE_SUBJECTS:
        return f"Unexpected messageType {message_type!r}; expected one of {', '.join(MESSAGE_SUBJECTS)}."
    name, keys = MESSAGE_SUBJECTS[message_type]
    subject = invoking.get(name) if name else {}
    if not isinstance(subject, dict) or not all(isinstance(subject.get(key), str) for key in keys):
        return f"{name} must be an object with {', '.join(keys)}."
    if name == "configurationItem" and ordering_time(invoking) is None:
        return (
            "configurationItem needs a configurationItemCaptureTime (ISO-8601 text or epoch number), "
            "or the event a notificationCreationTime."
        )
    return None


def iso_time(value) -> str | None:
    """A timestamp as ISO-8601 text; recorded items may carry epoch seconds or milliseconds instead."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e14:
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return None


def ordering_time(invoking: dict) -> str | None:
    """The item's capture time as rdklib needs it for PutEvaluations, else the notification time."""
    item = invoking.get("configurationItem") or {}
    return iso_time(item.get("configurationItemCaptureTime")) or iso_time(invoking.get("notificationCreationTime"))


def event_problem(event) -> str | None:
    """Why an event cannot have come from AWS Config (rdklib would crash on it), or None."""
    if not isinstance(event, dict):
        return "The event is not a JSON object."
    missing = [key for key in EVENT_KEYS if key not in event]
    if missing:
        return f"The event lacks {', '.join(missing)}."
    try:
        invoking = json.loads(event["invokingEvent"])
        parameters = json.loads(event.get("ruleParameters") or "{}")
    except (TypeError, ValueError):
        return "invokingEvent and ruleParameters must be JSON strings."
    if not isinstance(invoking, dict) or not isinstance(parameters, dict):
        return "invokingEvent and ruleParameters must be JSON objects."
    return invoking_problem(invoking)


def source_event_types(rule_file: str) -> list[str]:
    """The resource types the rule evaluates: `SourceEvents` of the parameters.json beside it.

    rdk reads the same file to set the rule's trigger scope and zips it with the rule, so the
    Lambda's filter and Config's scope cannot disagree.
    """
    path = Path(rule_file).with_name("parameters.json")
    try:
        events = json.loads(path.read_text(encoding="utf-8"))["Parameters"].get("SourceEvents", "")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise RuntimeError(
            f"{path}: cannot read Parameters.SourceEvents ({error}); rdk writes it beside the rule"
        ) from error
    return [kind.strip() for kind in events.split(",") if kind.strip()]


def use_standard_retries() -> None:
    """rdklib builds its clients with no botocore Config: standard retries come from the environment.

    Set only when a Lambda handles an event, so that a process which merely imports a rule (a scan,
    a test) keeps its own environment.
    """
    os.environ.setdefault("AWS_RETRY_MODE", "standard")
    os.environ.setdefault("AWS_MAX_ATTEMPTS", "10")


def handle_event(rule, applicable_resources, event, context):
    """rdklib's Evaluator, once the event is known to be one AWS Config could have sent."""
    problem = event_problem(event)
    if problem:
        return build_internal_error_response(problem, str(event)[:1000])
    use_standard_retries()
    reuse_clients()
    return Evaluator(rule, applicable_resources).handle(with_text_capture_time(event), context)


def with_text_capture_time(event: dict) -> dict:
    """The event with the item's capture time as ISO-8601 text, which PutEvaluations accepts as OrderingTimestamp."""
    invoking = json.loads(event["invokingEvent"])
    item = invoking.get("configurationItem")
    if not isinstance(item, dict) or item.get("configurationItemCaptureTime") == ordering_time(invoking):
        return event
    item["configurationItemCaptureTime"] = ordering_time(invoking)
    return {**event, "invokingEvent": json.dumps(invoking)}
