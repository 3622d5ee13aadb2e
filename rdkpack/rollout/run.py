"""`rdkpack rollout --org`: artifact buckets, staging, the StackSets in order, then the organization packs.

Every step reads before it writes, so the plan (`--dry-run`) is the same reads without the writes,
and a second run with nothing changed makes no write call.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rdkpack.rollout import context, desired, org_packs, stacksets, stage
from rdkpack.rollout.context import Reach


@dataclass
class Plan:
    target: Reach
    accounts: dict[str, str]  # active accounts under the target OUs
    changes: list[stacksets.Change]
    staged: list[stage.Staged]
    packs: list[org_packs.PackChange]
    documents_sha256: str
    objects: list = field(default_factory=list, repr=False)  # the artifacts to stage
    ready: set = field(default_factory=set, repr=False)  # (account, region) pairs whose rule functions are current

    def stack_set_accounts(self) -> int:
        """Service-managed StackSets never deploy to the management account."""
        return len(set(self.accounts) - {self.target.management_account})

    def instances(self, component: desired.Component) -> int:
        regions = len(stacksets.component_regions(self.target, component))
        return regions * (self.stack_set_accounts() if component.kind == "stackset" else 1)

    def writes(self) -> int:
        return (
            sum(len(c.actions) for c in self.changes)
            + sum(1 for s in self.staged if s.uploaded)
            + sum(1 for p in self.packs if p.put)
        )

    def lines(self) -> list[str]:
        target = self.target
        lines = [
            f"rollout of organization {target.organization_id} from {target.account} (as {target.call_as}): "
            f"targets {', '.join(target.ous)} ({len(self.accounts)} active account(s)), regions "
            f"{', '.join(target.regions)}"
        ]
        uploads = [s for s in self.staged if s.uploaded]
        size = sum(s.size for s in uploads)
        lines.append(
            f"  stage: {len(uploads)} of {len(self.staged)} object(s) to upload in {len(target.regions)} region(s) "
            f"({size:,} bytes)"
            if uploads
            else f"  stage: all {len(self.staged)} object(s) in place"
        )
        for change in self.changes:
            component = change.component
            what = "stack" if component.kind == "stack" else "StackSet"
            state = ", ".join(change.actions) + f" ({'; '.join(change.reasons)})" if change.actions else "in sync"
            if change.failed and "retry" not in change.actions:
                state += f"; {len(change.failed)} failed instance(s): `status --org` names them, --retry-failed retries"
            lines.append(f"  {what} {component.name}: {state}; {self.instances(component)} instance(s)")
        for pack in self.packs:
            state = f"put ({'; '.join(pack.reasons)})" if pack.put else "in sync"
            reach = len(set(self.accounts) - set(pack.pack.excluded_accounts))
            lines.append(f"  pack {pack.pack.name} in {pack.region}: {state}; {reach} account(s)")
        lines.append(f"  {self.writes()} write(s)" if self.writes() else "  nothing to change")
        return lines


def excluded_beyond_targets(target: Reach, accounts: dict[str, str]) -> tuple[str, ...]:
    """Accounts the packs must skip: the management account (StackSets never reach it, so no functions there), and
    with --ous every account outside them."""
    outside = set()
    if not target.whole_organization():
        every = context.accounts_under(dataclasses.replace(target, ous=(target.root_id,)))
        outside = set(every) - set(accounts)
    return tuple(sorted(outside | {target.management_account}))


def functions_ready(target: Reach, changes: list[stacksets.Change], accounts) -> set[tuple[str, str]]:
    """(account, region) pairs whose rule functions are deployed and current (every pair, for central functions)."""
    functions = next(c for c in changes if c.component.name.endswith("-rule-functions"))
    if functions.component.kind == "stack":
        regions = set(stacksets.component_regions(target, functions.component)) - set(functions.missing_regions)
        return {(account, region) for account in accounts for region in regions}
    return {
        (i["Account"], i["Region"])
        for i in functions.instances
        if (i.get("Status"), stacksets.detailed_status(i)) == ("CURRENT", "SUCCEEDED")
    }


def staging_regions(target: Reach) -> tuple[str, ...]:
    """Every region of the packs, whatever --regions says (a StackSet update reaches every instance, and each needs
    its region's code), and the home region, whose bucket holds the templates the StackSets read."""
    return tuple(dict.fromkeys((target.home, *desired.regions_of(target.project))))


def plan(session, project, ous=(), regions=(), retry_failed=False) -> Plan:
    target = context.reach(session, project, tuple(ous), tuple(regions))
    accounts = context.accounts_under(target)
    built = desired.rendered(project)
    parts = desired.components(project, target.organization_id, built)
    documents = next(c for c in parts if c.template.endswith("ssm-documents.yaml"))
    arns: dict[str, str] = {}
    changes = []
    for component in parts:
        if component.kind == "stack":
            changes.append(stacksets.stack_change(target, component))
            continue
        found = stacksets.describe(target, component.name)
        if found and found.get("StackSetARN"):
            arns[component.name] = found["StackSetARN"]
        changes.append(stacksets.stack_set_change(target, component, found, arns, accounts, retry_failed=retry_failed))
    objects = stage.wanted(project, built)
    staged = stage.stage(session, project, staging_regions(target), dry_run=True, objects=objects)
    ready = functions_ready(target, changes, accounts)  # before this run's writes: a put records against it
    packs = [
        org_packs.change(
            target, pack, region, documents.sha256, accounts=accounts, ready=lambda a, r=region: (a, r) in ready
        )
        for pack in desired.org_packs(project, built, excluded_beyond_targets(target, accounts))
        for region in pack.regions
        if region in target.regions
    ]
    return Plan(target, accounts, changes, staged, packs, documents.sha256, objects, ready)


def apply(plan: Plan, say: Callable[[str], None] = print, sleep=time.sleep) -> list[str]:
    """Make the plan true, step by step; returns the packs that failed in some account (status names them)."""
    target = plan.target

    def wait(reach, name, operation_id):
        say(f"  waiting for StackSet {name} operation {operation_id}")
        stacksets.wait_for_operation(reach, name, operation_id, sleep=sleep)

    arns: dict[str, str] = {}
    staged = not any(s.uploaded for s in plan.staged)  # nothing to upload: no staging step
    for change in plan.changes:
        component = change.component
        if component.kind == "stackset" and not staged:
            staging = stage.stage(target.session, target.project, staging_regions(target), objects=plan.objects)
            uploaded = [s for s in staging if s.uploaded]
            say(f"staged {len(uploaded)} object(s)")
            staged = True
        found = stacksets.describe(target, component.name) if component.kind == "stackset" else None
        if found and found.get("StackSetARN"):
            arns[component.name] = found["StackSetARN"]
        if change.in_sync:
            continue
        say(f"{component.kind} {component.name}: {', '.join(change.actions)}")
        if component.kind == "stack":
            stacksets.apply_stack(target, change, sleep=sleep)
        else:
            stacksets.apply_stack_set(target, change, arns, wait)
    failed = []
    for pack in plan.packs:
        if pack.in_sync:
            continue
        say(f"pack {pack.pack.name} in {pack.region}: put")
        region = pack.region
        state, reason = org_packs.put(
            target,
            pack.pack,
            region,
            plan.documents_sha256,
            ready=lambda a, r=region: (a, r) in plan.ready,
            sleep=sleep,
        )
        say(f"pack {pack.pack.name} in {pack.region}: {state}" + (f": {reason}" if reason else ""))
        if state in org_packs.FAILED:
            failed.append(f"{pack.pack.name} in {pack.region}")
    return failed
