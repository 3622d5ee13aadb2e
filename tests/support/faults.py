"""Inject throttling, 5xx and AccessDenied answers below botocore's retry loop.

A `before-send` handler answers in place of the HTTP call, so botocore parses the answer and its
retry handler decides, exactly as with a real endpoint. After the planned faults the call goes on to
moto, or gets `then` as its answer for the APIs moto lacks.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import botocore.endpoint
from botocore.awsrequest import AWSResponse

THROTTLE = "throttle"
SERVER_ERROR = "5xx"
ACCESS_DENIED = "access-denied"


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


def _fault(protocol: str, kind: str) -> tuple[int, dict, bytes]:
    status, code = {
        THROTTLE: (400, "Throttling"),
        SERVER_ERROR: (503, "ServiceUnavailable"),
        ACCESS_DENIED: (403, "AccessDenied"),
    }[kind]
    if protocol in ("rest-json", "json"):
        code = {"Throttling": "ThrottlingException", "AccessDenied": "AccessDeniedException"}.get(code, code)
        body = {"__type": code, "message": f"injected {kind}"}
        return status, {"x-amzn-errortype": code, "content-type": "application/json"}, json.dumps(body).encode()
    if protocol == "ec2":
        code = {"Throttling": "RequestLimitExceeded", "AccessDenied": "UnauthorizedOperation"}.get(code, code)
        error = f"<Error><Code>{code}</Code><Message>injected {kind}</Message></Error>"
        return status, {}, f"<Response><Errors>{error}</Errors></Response>".encode()
    if protocol == "rest-xml" and code == "Throttling":
        code, status = "SlowDown", 503
    return status, {}, f"<Error><Code>{code}</Code><Message>injected {kind}</Message></Error>".encode()


@dataclass
class FaultPlan:
    """Answer `operation` with `count` faults of `kind`, then with `then` (a JSON body) or pass it on."""

    operation: str
    kind: str = THROTTLE
    count: int = 2
    then: dict | None = None
    attempts: Counter = field(default_factory=Counter)

    protocol: str = "json"

    def answer(self, request, operation_name: str):
        if operation_name != self.operation:
            return None
        self.attempts[self.operation] += 1
        if self.attempts[self.operation] <= self.count:
            status, headers, body = _fault(self.protocol, self.kind)
            return AWSResponse(request.url, status, headers, _Raw(body))
        if self.then is not None:
            return AWSResponse(
                request.url, 200, {"content-type": "application/json"}, _Raw(json.dumps(self.then).encode())
            )
        return None


def install(events, plan: FaultPlan, protocol: str) -> FaultPlan:
    """Register the plan first on an event system (a client's or a session's)."""
    plan.protocol = protocol

    def handler(request, event_name, **_):
        response = plan.answer(request, event_name.rsplit(".", 1)[-1])
        if response is not None:
            request.fault_answered = True  # moto's before-send handler must not act on it too
        return response

    events.register_first("before-send", handler)
    return plan


def no_backoff(monkeypatch) -> list:
    """Record the retry delays instead of sleeping them."""
    delays = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", delays.append)
    return delays
