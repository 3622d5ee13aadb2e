"""What bulk remediation reports: one row per resource, the account and region pairs it could not work in, and
the run's notes."""

from __future__ import annotations

from dataclasses import dataclass, field

REMEDIATED, REFUSED, FAILED, WOULD_START, NOT_STARTED, RUNNING = (
    "REMEDIATED",
    "REFUSED",
    "FAILED",
    "WOULD_START",
    "NOT_STARTED",
    "STILL_RUNNING",
)
OUTCOMES = (REMEDIATED, REFUSED, FAILED, WOULD_START, NOT_STARTED, RUNNING)


@dataclass(frozen=True)
class Outcome:
    """One resource's remediation in one account and region."""

    account: str
    region: str
    rule: str
    resource_type: str
    resource_id: str
    outcome: str
    message: str = ""

    def as_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass(frozen=True)
class PairFailure:
    """An account and region where the remediation could not be started or followed: the reason names who acts."""

    account: str
    region: str
    reason: str


@dataclass
class RemediationReport:
    pack: str
    rule: str
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    failures: list[PairFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found = {name: 0 for name in OUTCOMES}
        for outcome in self.outcomes:
            found[outcome.outcome] += 1
        return found

    def as_dict(self) -> dict:
        return {
            "format": "rdkpack-remediation-report/1",
            "pack": self.pack,
            "rule": self.rule,
            "dry_run": self.dry_run,
            "summary": self.counts(),
            "outcomes": [outcome.as_dict() for outcome in self.outcomes],
            "failures": [failure.__dict__.copy() for failure in self.failures],
            "notes": list(self.notes),
        }
