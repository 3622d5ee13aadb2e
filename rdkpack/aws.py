"""boto3 clients for rdkpack, and AWS SDK errors as one line that says what to fix.

botocore's ClientError names the operation but not the service, and an IAM action is not always the
operation's name (ListBuckets needs s3:ListAllMyBuckets). Clients made here keep their service on
every error response, so a denial can name the exact IAM action to grant.
"""

from __future__ import annotations

import contextlib
import weakref

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProxyConnectionError,
)

from rdkpack.errors import ScanError

# Adaptive retries: standard's backoff, plus a client-side rate that slows down when AWS throttles the client
# (each client is one account, region and service: the scope of the quota that throttles it).
MAX_ATTEMPTS = 10
# A connection not made in 10 s will not be (botocore waits 60 s by default, 10 times over behind a firewall).
BOTO_CONFIG = Config(retries={"mode": "adaptive", "total_max_attempts": MAX_ATTEMPTS}, connect_timeout=10)
SCANNER = "the scanning identity (read-only)"  # who is told to grant a permission a read lacked
# Could not connect at all (DNS, refused, no route): worth a retry or two, not ten.
UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError)
UNREACHABLE_ATTEMPTS = 3
_ANSWERED = False  # set once any AWS answer has come back to this process
SERVICE_KEY = "rdkpackService"  # added to an error response by the client's after-call hook
# botocore 1.44 takes the region from AWS_DEFAULT_REGION or the profile, never from AWS_REGION.
NO_REGION = "no AWS region set: pass --region, set AWS_DEFAULT_REGION, or set region in the profile"

EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
# Throttling error codes botocore retries (botocore.retries.standard); one that reaches us outlasted every retry.
THROTTLING_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
}
INVALID_CODES = {
    "UnrecognizedClientException",  # JSON services (Lambda, Config, tagging): unknown access key
    "InvalidClientTokenId",  # query services (STS): unknown key or session token
    "InvalidSignatureException",  # JSON services: wrong secret key
    "SignatureDoesNotMatch",  # S3 and query services: wrong secret key
    "AuthFailure",  # EC2: unknown key or wrong secret
    "InvalidAccessKeyId",  # S3: unknown access key
    "InvalidToken",  # S3: malformed session token
}

# IAM service prefixes that differ from botocore's service name.
IAM_PREFIXES = {"resourcegroupstaggingapi": "tag"}
# IAM actions whose name differs from the API operation; every other action is prefix:Operation.
IAM_ACTIONS = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "PutBucketLifecycleConfiguration"): "s3:PutLifecycleConfiguration",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "DeleteObjects"): "s3:DeleteObject",
}


def iam_action(service: str, operation: str) -> str:
    """The IAM action a call needs, from botocore's service name and operation name."""
    return IAM_ACTIONS.get((service, operation)) or f"{IAM_PREFIXES.get(service, service)}:{operation}"


def _keep_service(http_response, parsed, model, **_) -> None:
    global _ANSWERED  # noqa: PLW0603 -- one process-wide fact: AWS is reachable
    _ANSWERED = True
    if http_response.status_code >= 300 and isinstance(parsed, dict):
        parsed[SERVICE_KEY] = model.service_model.service_name


def _give_up_unreachable(caught_exception=None, attempts: int = 0, **_) -> None:
    """No connection after UNREACHABLE_ATTEMPTS tries, before AWS ever answered this process: stop there (raising
    ends botocore's retry loop), so a machine without network hears so at once, not after every attempt. Once AWS
    has answered, a lost connection is a blip (a resolver's limit in a 300-account scan): all attempts."""
    if isinstance(caught_exception, UNREACHABLE) and attempts >= UNREACHABLE_ATTEMPTS and not _ANSWERED:
        raise caught_exception


# One client per session, service and region: its connection pool serves a whole command.
_CLIENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def client(session, service: str, region: str | None = None):
    """The session's client with standard retries whose errors can name their IAM action."""
    clients = _CLIENTS.setdefault(session, {})
    if (service, region) not in clients:
        with aws_errors():  # a missing region is raised here, when the client is made
            made = session.client(service, region_name=region, config=BOTO_CONFIG)
        made.meta.events.register("after-call", _keep_service)
        made.meta.events.register_first("needs-retry", _give_up_unreachable)
        clients[(service, region)] = made
    return clients[(service, region)]


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def is_credential_problem(error: ClientError) -> bool:
    return error_code(error) in EXPIRED_CODES | INVALID_CODES


def is_access_denied(error: ClientError) -> bool:
    code = error_code(error)
    return "AccessDenied" in code or code == "UnauthorizedOperation"


def action_of(error: ClientError) -> str:
    service = error.response.get(SERVICE_KEY)
    return iam_action(service, error.operation_name) if service else f"the IAM action of {error.operation_name}"


def explain(error: Exception, grantee: str = SCANNER) -> str:
    """One line: what went wrong and what to do about it."""
    if isinstance(error, ClientError):
        return _explain_response(error, grantee)
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials found: pass --profile, set AWS_PROFILE, or run `aws sso login`"
    if isinstance(error, PartialCredentialsError):
        return f"incomplete AWS credentials ({error}): set both the access key and the secret key, or use a profile"
    if isinstance(error, NoRegionError):
        return NO_REGION
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach AWS ({error}): check the network, any proxy, and the region"
    return str(error)


def _explain_response(error: ClientError, grantee: str) -> str:
    code = error_code(error)
    if code in EXPIRED_CODES:
        return f"the AWS credentials have expired ({code}): refresh them (for example `aws sso login`) and run again"
    if code in INVALID_CODES:
        return (
            f"the AWS credentials are invalid: AWS does not recognise the key or its signature ({code}); "
            "check --profile, AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or log in again"
        )
    if is_access_denied(error):
        return f"access denied for {action_of(error)}: grant it to {grantee}"
    if code in THROTTLING_CODES:
        return (
            f"AWS throttled {action_of(error)} ({code}) through all {MAX_ATTEMPTS} attempts: something else is "
            "spending this account and region's quota too; scan again later (with --resume, only what is missing), "
            "with a lower --concurrency, or ask for a higher quota in Service Quotas"
        )
    message = error.response.get("Error", {}).get("Message", "")
    return f"{error.operation_name} failed ({code}): {message}"


@contextlib.contextmanager
def aws_errors(error_class: type[Exception] = ScanError, grantee: str = SCANNER):
    """Errors the user can fix (credentials, region, network, permissions) as error_class, saying how."""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError, NoRegionError, EndpointConnectionError) as error:
        raise error_class(explain(error)) from error
    except ClientError as error:
        if is_credential_problem(error) or is_access_denied(error):
            raise error_class(explain(error, grantee)) from error
        raise
