"""A seeded organization in moto with the rollout fake in front of it, for the rollout tests and the benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from rdkpack.packs import write
from rdkpack.project.config import load_project
from rdkpack.rollout import run
from tests.support.org_fake import OrgControlPlane
from tests.support.project import copy_project

REGIONS = ("us-east-1", "eu-west-1")  # the organization pack's regions in the project's rdk-config.json


def no_sleep(_seconds: float) -> None:
    """Waits return at once: the fake's operations end on their second poll."""


class Organization:
    """The management account, a delegated administrator ("security") and production and dev accounts in two OUs;
    the project copied under `root` and configured for them, its organization packs in `regions`."""

    def __init__(self, root: Path, production: int, dev: int, regions: tuple[str, ...] = ()):
        self.management = boto3.Session(region_name="us-east-1")
        org = self.management.client("organizations")
        org.create_organization(FeatureSet="ALL")
        self.org = org
        self.root_id = org.list_roots()["Roots"][0]["Id"]
        self.workloads = org.create_organizational_unit(ParentId=self.root_id, Name="workloads")["OrganizationalUnit"][
            "Id"
        ]
        self.sandbox = org.create_organizational_unit(ParentId=self.root_id, Name="sandbox")["OrganizationalUnit"]["Id"]
        self.admin = self.account("security", self.workloads)
        self.production = [self.account(f"prod-{i}", self.workloads) for i in range(production)]
        self.dev = [self.account(f"dev-{i}", self.sandbox) for i in range(dev)]
        # moto knows Config's principal, not StackSets' (member.org.stacksets.cloudformation.amazonaws.com).
        org.register_delegated_administrator(
            AccountId=self.admin, ServicePrincipal="config-multiaccountsetup.amazonaws.com"
        )
        credentials = self.management.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{self.admin}:role/OrganizationAccountAccessRole", RoleSessionName="rollout"
        )["Credentials"]
        self.session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name="us-east-1",
        )
        self.fake = OrgControlPlane(self.management, self.admin)
        self.fake.attach(self.session)
        self.root = self.configure(copy_project(root), regions)

    def account(self, name: str, parent: str) -> str:
        account = self.org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        self.org.move_account(AccountId=account, SourceParentId=self.root_id, DestinationParentId=parent)
        return account

    def configure(self, root: Path, regions: tuple[str, ...]) -> Path:
        management = self.org.describe_organization()["Organization"]["MasterAccountId"]

        def for_this_organization(config: dict) -> None:
            config["organization"]["managementAccountId"] = management
            config["rollout"]["adminAccountId"] = self.admin
            config["rollout"]["scanRole"]["scanningAccountId"] = self.admin
            config["packs"]["rdk-guardrails-sandbox"]["accountId"] = self.dev[0]
            config["packs"]["rdk-guardrails-org-baseline"]["excludedAccounts"] = [self.dev[0]]
            if regions:  # every per-region shared value needs a value in each
                config["packs"]["rdk-guardrails-org-baseline"]["regions"] = list(regions)
                for value in config["sharedValues"]["values"].values():
                    if value["varies"] == "region":
                        template = next(iter(value["byRegion"].values()))
                        value["byRegion"] = {r: template.replace(template.split(":")[3], r) for r in regions}

        self.root = root
        self.edit_config(for_this_organization)
        return root

    def edit_config(self, change, build: bool = True) -> None:
        """Apply change(config) to the project's rdk-config.json; with build, regenerate its files (`rdkpack build`)."""
        path = self.root / "rdk-config.json"
        config = json.loads(path.read_text(encoding="utf-8"))
        change(config)
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        if build:
            write.stale_files(self.root, write=True)

    def project(self):
        return load_project(self.root)

    def rollout(self, ous=()) -> list[str]:
        said = []
        run.apply(run.plan(self.session, self.project(), ous=ous), say=said.append, sleep=no_sleep)
        return said
