"""What an organization rollout deploys, in order: pure, from the project and the committed templates.

Stacks live in the admin account (artifact buckets; central rule functions); StackSets are service-managed,
live in the home region and reach every account of the target OUs in their regions, including accounts
that join later (auto-deployment). The rule functions' auto-deployment depends on the IAM roles', so a
new account gets the roles before the functions that use them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from rdkpack.errors import RolloutError
from rdkpack.packs import build
from rdkpack.packs.limits import STACK_TEMPLATE_BODY_MAX
from rdkpack.packs.write import OUTPUT_DIR
from rdkpack.project import files
from rdkpack.project.config import Project

IAM_CAPABILITIES = ("CAPABILITY_NAMED_IAM",)
EXCLUDED_ACCOUNTS_MAX = 1000  # PutOrganizationConformancePack ExcludedAccounts


@dataclass(frozen=True)
class Component:
    """One StackSet (kind "stackset") or one stack per region in the admin account (kind "stack")."""

    name: str
    template: str  # path under conformance-packs/
    body: str = field(repr=False)
    kind: str
    regions: tuple[str, ...]
    parameters: tuple[tuple[str, str], ...] = ()
    capabilities: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()  # StackSets whose instances must land first in a new account

    @property
    def via_s3(self) -> bool:
        return len(self.body.encode("utf-8")) > STACK_TEMPLATE_BODY_MAX

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class OrgPack:
    name: str
    body: str = field(repr=False)
    regions: tuple[str, ...]
    excluded_accounts: tuple[str, ...]

    @property
    def via_s3(self) -> bool:
        return len(self.body.encode("utf-8")) > STACK_TEMPLATE_BODY_MAX


def rendered(project: Project) -> dict[str, str]:
    """Every generated template's text, keyed by its path under conformance-packs/."""
    return {path: build.render(template) for path, template in build.build_all(project).items()}


def committed(project: Project, path: str, built: dict[str, str]) -> str:
    """The committed generated file, refused unless it is what rdk-config.json builds now (`built`)."""
    file = project.root / OUTPUT_DIR / path
    wanted = built[path]
    if not files.holds(file, wanted):
        raise RolloutError(
            f"{file} is missing or not what rdk-config.json builds now: run `rdkpack build`, review and commit it, "
            "then roll out"
        )
    return wanted


def regions_of(project: Project) -> tuple[str, ...]:
    regions = project.organization_regions()
    if not regions:
        raise RolloutError("no organization pack in rdk-config.json lists its regions: add regions to one")
    return regions


def components(project: Project, organization_id: str, built: dict[str, str]) -> list[Component]:
    """Every stack and StackSet, in the order a rollout deploys them (remove goes the other way)."""
    rollout = project.rollout
    if rollout is None:
        raise RolloutError('rdk-config.json has no "rollout" section: add adminAccountId and homeRegion')
    prefix, regions, home = rollout.stack_set_prefix, regions_of(project), (rollout.home_region,)
    pre = build.PREREQUISITES

    def part(name, template, kind, where, **extra):
        return Component(
            f"{prefix}-{name}",
            f"{pre}/{template}",
            committed(project, f"{pre}/{template}", built),
            kind,
            where,
            **extra,
        )

    buckets = tuple(dict.fromkeys((*home, *regions)))  # the home region's holds the StackSets' large templates
    parts = [
        part(
            "artifact-bucket",
            build.ARTIFACT_BUCKET,
            "stack",
            buckets,
            parameters=(("OrganizationId", organization_id),),
        ),
        part("iam-roles", "iam-roles.yaml", "stackset", home, capabilities=IAM_CAPABILITIES),
        part("ssm-documents", "ssm-documents.yaml", "stackset", regions),
    ]
    if project.shared_values:
        parts.append(part("shared-values", "shared-values.yaml", "stackset", regions))
    if project.lambda_location == "central":
        if project.central_account_id != rollout.admin_account_id:
            raise RolloutError(
                f"the packs name central functions in {project.central_account_id} (ruleLambdas.centralAccountId), "
                f"but rollout runs in {rollout.admin_account_id} (rollout.adminAccountId): make them the same "
                'account, or set ruleLambdas.location to "local"'
            )
        parts.append(
            part("central-lambda-role", "central-lambda-role.yaml", "stack", home, capabilities=IAM_CAPABILITIES)
        )
        parts.append(part("rule-functions", build.RULE_FUNCTIONS, "stack", regions))
    else:
        parts.append(
            part("rule-functions", build.RULE_FUNCTIONS, "stackset", regions, depends_on=(f"{prefix}-iam-roles",))
        )
    if rollout.recorder_bucket:
        parts.append(part("config-recorder", build.RECORDER, "stackset", regions))
    if rollout.scan_role_name:
        parts.append(part("scan-role", build.SCAN_ROLE, "stackset", home, capabilities=IAM_CAPABILITIES))
    return parts


def org_packs(project: Project, built: dict[str, str], extra_excluded: tuple[str, ...] = ()) -> list[OrgPack]:
    """Each organization pack, excluding its excludedAccounts and the accounts StackSets do not reach."""
    packs = []
    for name, pack in project.packs.items():
        if pack.scope != "organization":
            continue
        if not pack.regions:
            raise RolloutError(f"pack {name} lists no regions in rdk-config.json: give it the regions to roll out to")
        excluded = tuple(sorted(set(pack.excluded_accounts) | set(extra_excluded)))
        if len(excluded) > EXCLUDED_ACCOUNTS_MAX:
            raise RolloutError(
                f"pack {name} would exclude {len(excluded)} accounts (its excludedAccounts, the management account "
                f"and every account outside --ous); PutOrganizationConformancePack takes at most "
                f"{EXCLUDED_ACCOUNTS_MAX}: target more OUs, or the organization root"
            )
        packs.append(OrgPack(name, committed(project, f"{name}.yaml", built), pack.regions, excluded))
    return packs
