"""Sessions for an organization scan: one account's assumed-role credentials in one region, cheap to make.

An organization scan makes the same few clients (EC2, S3, Lambda, CloudWatch, Config, tagging) in every
account and region: thousands at 300 accounts x 4 regions. With the requests waiting on the network in
parallel, the CPU of making them, under one GIL, is what bounds the scan. Three costs repeat for nothing:
- a new botocore session registers some 2,000 handlers (about 12 ms);
- its loader parses the EC2, S3, Lambda and CloudWatch models again (about 0.3 s);
- botocore builds a client's class anew for every client (EC2's 700 generated methods: about 10 ms), and
  its service model, whose every operation it then walks for endpoint discovery.

So every RoleSession makes its clients through one process-wide session, with the role's credentials
passed to each client, and that session's clients share one class and one (read-only) model per
service. Credentials stay per client: a RoleSession holds its own and gives them to nobody else.
"""

from __future__ import annotations

import threading

import boto3
import botocore.client
import botocore.credentials
import botocore.loaders
import botocore.session

from rdkpack.project.kit.rule_kit import RateCap

# Lambda throttles its control-plane APIs per account and region at about 15 requests a second; a scan keeps a
# third of that to the account's own deployments. One pair (account and region) is one RoleSession.
LAMBDA_REQUESTS_PER_SECOND = 10
_build_class = botocore.client.ClientCreator._create_client_class
_load_model = botocore.client.ClientCreator._load_service_model


class RoleSession:
    """The part of boto3.Session the scan uses (`client`, `region_name`, `events`, `get_credentials`) for one
    account's assumed-role credentials in one region."""

    def __init__(self, credentials: dict, region: str):
        self.region_name = region
        self._keys = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
        self.events = Registrations()
        self.lambda_pace = RateCap(LAMBDA_REQUESTS_PER_SECOND)  # every Lambda client of this account and region

    def client(self, service_name: str, region_name: str | None = None, config=None, **options):
        region = region_name or self.region_name
        made = shared_session().client(service_name, region_name=region, config=config, **self._keys, **options)
        self.events.apply(made.meta.events)
        if service_name == "lambda" and region == self.region_name:
            # its own id: a rule's stricter RateCap on the same client must not replace it
            made.meta.events.register("before-send", self.lambda_pace.wait, unique_id="rdkpack.scan.lambda_pace")
        return made

    def get_credentials(self) -> botocore.credentials.Credentials:
        keys = self._keys
        return botocore.credentials.Credentials(
            keys["aws_access_key_id"], keys["aws_secret_access_key"], keys["aws_session_token"]
        )


class Registrations:
    """Event handlers registered on a RoleSession, given to each client it makes afterwards (as a boto3 session's
    handlers reach only the clients made after them)."""

    def __init__(self):
        self.handlers: list[tuple[str, str, object]] = []

    def register(self, event: str, handler, **_) -> None:
        self.handlers.append(("register", event, handler))

    def register_first(self, event: str, handler, **_) -> None:
        self.handlers.append(("register_first", event, handler))

    def apply(self, emitter) -> None:
        for how, event, handler in self.handlers:
            getattr(emitter, how)(event, handler)


class _LockedSession(boto3.Session):
    """boto3 sessions are not safe to make clients from in several threads at once (a lazily made component
    can be made twice): one client at a time, which costs nothing, as making a client is CPU under the GIL."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lock = threading.Lock()

    def client(self, *args, **kwargs):
        with self._lock:
            return super().client(*args, **kwargs)


_SHARED: list[boto3.Session] = []
_SHARED_LOCK = threading.Lock()


def shared_session() -> boto3.Session:
    """The process-wide session every RoleSession makes its clients through, made once even when the scan's
    threads first ask for it at the same moment (functools.cache could make two)."""
    with _SHARED_LOCK:
        if not _SHARED:
            _SHARED.append(_make_shared_session())
        return _SHARED[0]


def _make_shared_session() -> boto3.Session:
    """botocore's usual loader (its search paths, AWS_DATA_PATH included), and one client class and model per
    service for its clients."""
    botocore_session = botocore.session.get_session()
    emitter = botocore_session.get_component("event_emitter")
    classes: dict[tuple[str, str], type] = {}
    models: dict[tuple[str, str | None], object] = {}

    # Both run under the session's lock; a client of another session is made as botocore always makes it.
    def shared_model(creator, service_name, api_version=None):
        if creator._event_emitter is not emitter:
            return _load_model(creator, service_name, api_version)
        if (service_name, api_version) not in models:
            models[(service_name, api_version)] = _load_model(creator, service_name, api_version)
        return models[(service_name, api_version)]

    def shared_class(creator, service_name, service_model):
        if creator._event_emitter is not emitter:
            return _build_class(creator, service_name, service_model)
        if (service_name, service_model.api_version) not in classes:
            classes[(service_name, service_model.api_version)] = _build_class(creator, service_name, service_model)
        return classes[(service_name, service_model.api_version)]

    botocore.client.ClientCreator._load_service_model = shared_model
    botocore.client.ClientCreator._create_client_class = shared_class
    return _LockedSession(botocore_session=botocore_session)
