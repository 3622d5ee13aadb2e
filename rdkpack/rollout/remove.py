"""`rdkpack remove --org`: the packs, then the StackSets and stacks in reverse order, then the staged artifacts.

Each step skips what is already gone, so an interrupted removal is finished by running it again.
The artifact buckets go last, emptied first (CloudFormation cannot delete a bucket that holds objects).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from rdkpack.rollout import context, desired, org_packs, stacksets
from rdkpack.rollout.context import aws_call

ARTIFACT_PREFIXES = ("rules/", "layers/", "templates/", "rollout/")


Step = tuple[str, Callable[[], bool], Callable[[], bool]]  # description, probe (is it there?), removal


def steps(session, project, sleep=time.sleep) -> tuple[context.Reach, list[Step]]:
    """Each removal step, in order, in every region; a removal returns False when there was nothing to remove."""
    target = context.reach(session, project)
    built = desired.rendered(project)
    parts = desired.components(project, target.organization_id, built)
    found: list[Step] = []
    for pack in desired.org_packs(project, built):
        for region in (r for r in pack.regions if r in target.regions):
            probe = _bound(lambda *a: org_packs.describe(*a) is not None, target, pack.name, region)
            found.append(
                (
                    f"pack {pack.name} in {region}",
                    probe,
                    _bound(functools.partial(org_packs.delete, sleep=sleep), target, pack.name, region),
                )
            )
    for component in reversed(parts):
        if component.kind == "stackset":
            probe = _bound(
                lambda *a: (stacksets.describe(*a) or {}).get("Status", "DELETED") != "DELETED", target, component.name
            )
            found.append(
                (
                    f"StackSet {component.name}",
                    probe,
                    _bound(functools.partial(_delete_stack_set, sleep=sleep), target, component.name),
                )
            )
            continue
        for region in stacksets.component_regions(target, component):
            probe = _bound(lambda *a: stacksets.stack(*a) is not None, target, component.name, region)
            if component.name.endswith("artifact-bucket"):
                found.append((f"artifacts in {target.bucket(region)}", probe, _bound(empty_bucket, target, region)))
            removal = _bound(functools.partial(stacksets.delete_stack, sleep=sleep), target, component.name, region)
            found.append((f"stack {component.name} in {region}", probe, removal))
    return target, found


def _bound(function, *args):
    return lambda: function(*args)


def _delete_stack_set(target, name: str, sleep=time.sleep) -> bool:
    def wait(reach, stack_set, operation_id):
        stacksets.wait_for_operation(reach, stack_set, operation_id, sleep=sleep)

    return stacksets.delete_stack_set(target, name, wait)


def empty_bucket(target, region: str) -> bool:
    """Delete every object rollout staged; False when the bucket is already empty or gone."""
    s3, bucket, deleted = target.client("s3", region), target.bucket(region), 0
    if stacksets.stack(target, f"{target.project.rollout.stack_set_prefix}-artifact-bucket", region) is None:
        return False
    with aws_call():
        for prefix in ARTIFACT_PREFIXES:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
    return deleted > 0


def perform(found, say=print) -> int:
    """Run the steps in order; returns how many removed something."""
    removed = 0
    for description, _, action in found:
        if action():
            say(f"removed: {description}")
            removed += 1
        else:
            say(f"already gone: {description}")
    return removed
