"""`rdkpack status --org`: per account and region, every StackSet instance and organization pack member, and drift.

Drift is the deployed templates and parameters against what `rdkpack build` writes now. An account
that joined a target OU shows "no instance yet" until auto-deployment lands, and its pack member as
failed or missing until its rule functions exist: the interval in which it is not yet covered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdkpack.rollout import org_packs, run, stacksets

IN_SYNC_INSTANCE = ("CURRENT", "SUCCEEDED")


@dataclass(frozen=True)
class Gap:
    """One account and region not in sync for one component, with the reason AWS gives."""

    component: str
    account: str
    region: str
    reason: str

    def line(self) -> str:
        return f"{self.account} {self.region}: {self.component}: {self.reason}"


@dataclass
class Row:
    component: str
    kind: str
    expected: int
    in_sync: int
    drift: list[str] = field(default_factory=list)  # the component's own difference from `rdkpack build`


@dataclass
class Status:
    rows: list[Row]
    gaps: list[Gap]
    organization: str
    accounts: int

    @property
    def in_sync(self) -> bool:
        return not self.gaps and not any(row.drift for row in self.rows)

    def as_dict(self) -> dict:
        return {
            "format": "rdkpack-org-status/1",
            "organization": self.organization,
            "accounts": self.accounts,
            "in_sync": self.in_sync,
            "components": [
                {"name": r.component, "kind": r.kind, "expected": r.expected, "in_sync": r.in_sync, "drift": r.drift}
                for r in self.rows
            ],
            "not_in_sync": [g.__dict__ for g in self.gaps],
        }


def read(session, project, pack_filter: str | None = None, regions=()) -> Status:
    plan = run.plan(session, project, regions=regions)
    target = plan.target
    rows, gaps = [], []
    for change in plan.changes:
        component = change.component
        drift = list(change.reasons)
        if component.kind == "stack":
            expected = len(stacksets.component_regions(target, component))
            rows.append(Row(component.name, "stack", expected, expected - len(change.missing_regions), drift))
            gaps += [Gap(component.name, target.account, r, "stack missing") for r in change.missing_regions]
            continue
        row, found = stack_set_gaps(plan, change)
        row.drift = drift
        rows.append(row)
        gaps += found
    for pack in plan.packs:
        if pack_filter and pack.pack.name != pack_filter:
            continue
        row, found = pack_gaps(plan, pack)
        rows.append(row)
        gaps += found
    return Status(
        rows, sorted(gaps, key=lambda g: (g.account, g.region, g.component)), target.organization_id, len(plan.accounts)
    )


def stack_set_gaps(plan: run.Plan, change: stacksets.Change) -> tuple[Row, list[Gap]]:
    target, component = plan.target, change.component
    regions = stacksets.component_regions(target, component)
    wanted = {(a, r) for a in set(plan.accounts) - {target.management_account} for r in regions}
    gaps, good = [], 0
    seen = set()
    for instance in change.instances:
        key = (instance["Account"], instance["Region"])
        if key not in wanted:  # a suspended account, or one outside the targets: nothing to keep in sync there
            continue
        seen.add(key)
        detailed = (instance.get("StackInstanceStatus") or {}).get("DetailedStatus", "")
        if (instance.get("Status"), detailed) == IN_SYNC_INSTANCE:
            good += key in wanted
            continue
        reason = f"{instance.get('Status')} ({detailed or 'no detail'})"
        if instance.get("StatusReason"):
            reason += f": {instance['StatusReason']}"
        gaps.append(Gap(component.name, *key, reason))
    for account, region in sorted(wanted - seen):
        gaps.append(Gap(component.name, account, region, "no instance yet (auto-deployment pending, or a new target)"))
    return Row(component.name, "StackSet", len(wanted), good), gaps


def pack_gaps(plan: run.Plan, pack: org_packs.PackChange) -> tuple[Row, list[Gap]]:
    name = f"pack {pack.pack.name}"
    wanted = set(plan.accounts) - set(pack.pack.excluded_accounts)
    exists, members = pack.exists, pack.members
    gaps, good, seen = [], 0, set()
    for member in members:
        account = member["AccountId"]
        if account not in wanted:  # excluded, suspended or closed: AWS Config still lists it
            continue
        seen.add(account)
        if member.get("Status") in org_packs.DONE:
            good += account in wanted
            continue
        reason = member.get("Status", "")
        detail = ": ".join(x for x in (member.get("ErrorCode"), member.get("ErrorMessage")) if x)
        gaps.append(Gap(name, account, pack.region, f"{reason}: {detail}" if detail else reason))
    for account in sorted(wanted - seen):
        gaps.append(Gap(name, account, pack.region, "no member status yet" if exists else "pack not deployed"))
    drift = [reason for reason in pack.reasons if "member account(s) failed" not in reason]
    return Row(f"{name} ({pack.region})", "pack", len(wanted), good, drift), gaps
