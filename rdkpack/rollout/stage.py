"""`rdkpack stage`: the rule zips, the rdklib layer and every template over 51,200 bytes, in each region's bucket.

Keys are content-addressed, so an object already there is the same bytes: it is checked with
HeadObject and never sent twice, and a second stage with nothing changed writes nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from botocore.exceptions import ClientError

from rdkpack import aws
from rdkpack.errors import RolloutError
from rdkpack.packs import artifacts, build
from rdkpack.packs.limits import STACK_TEMPLATE_BODY_MAX
from rdkpack.packs.write import OUTPUT_DIR
from rdkpack.project.config import Project

aws_call = functools.partial(aws.aws_errors, RolloutError, "the identity stage runs as (in the admin account)")
OPERATIONS = (("s3", "HeadObject"), ("s3", "PutObject"))


@dataclass(frozen=True)
class Staged:
    region: str
    bucket: str
    key: str
    size: int
    uploaded: bool


def wanted(project: Project, built: dict[str, str] | None = None) -> list[artifacts.Artifact]:
    """Every object a rollout needs in each region's bucket (`built`: the rendered templates, when at hand)."""
    found = [artifacts.rule_artifact(project.root, rule) for rule in sorted(project.rules)]
    found.append(artifacts.layer_artifact(project.root))
    if built is None:
        built = {path: build.render(template) for path, template in build.build_all(project).items()}
    for path, text in built.items():
        if len(text.encode("utf-8")) > STACK_TEMPLATE_BODY_MAX:
            found.append(artifacts.Artifact(artifacts.template_key(path, text), text.encode("utf-8")))
    return found


def stage(session, project: Project, regions, *, dry_run: bool = False, objects=None) -> list[Staged]:
    """Upload what is not there yet; with dry_run, only say what would be uploaded."""
    objects = wanted(project) if objects is None else objects
    results = []
    for region in regions:
        bucket = project.rollout.artifact_bucket(region)
        s3 = aws.client(session, "s3", region)
        for artifact in objects:
            present = exists(s3, bucket, artifact.key, region)
            if not present and not dry_run:
                upload(s3, bucket, artifact, region)
            results.append(Staged(region, bucket, artifact.key, len(artifact.body), uploaded=not present))
    return results


def upload(s3, bucket: str, artifact: artifacts.Artifact, region: str) -> None:
    try:
        with aws_call():
            s3.put_object(
                Bucket=bucket,
                Key=artifact.key,
                Body=artifact.body,
                ChecksumAlgorithm="SHA256",
                ServerSideEncryption="AES256",
            )
    except ClientError as error:
        if aws.error_code(error) == "NoSuchBucket":
            raise RolloutError(
                f"artifact bucket {bucket} does not exist in {region}: `rdkpack rollout --org` creates it (a stack "
                f"of {OUTPUT_DIR}/{build.PREREQUISITES}/{build.ARTIFACT_BUCKET})"
            ) from error
        raise


def exists(s3, bucket: str, key: str, region: str) -> bool:
    """Whether the key is there (HeadObject answers 404 for a missing key and a missing bucket alike)."""
    try:
        with aws_call():
            s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if aws.error_code(error) in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
            return False
        raise
    return True
