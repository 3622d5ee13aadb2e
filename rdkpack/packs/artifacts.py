"""The code the rule functions run, as reproducible zips with content-addressed S3 keys.

A rule's zip holds what the function imports (the rule module, its rule kit copy, parameters.json):
never its tests. The rdklib layer holds the rdklib release pinned in pyproject.toml and the lock,
taken from the installed distribution after checking every file against the wheel's RECORD hashes,
so the same lock gives the same bytes on any machine. Zips are STORED (no compression: deflate
output depends on the zlib build) with fixed timestamps and modes, entries in sorted order.

Keys carry the SHA-256 of the zip, so an unchanged rule keeps its key (CloudFormation sees no
change and updates nothing) and a changed one always gets a new key (and so an update).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from rdkpack.errors import ConfigError
from rdkpack.project import files as project_files

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644 << 16
RDKLIB = "rdklib"
LAYER_PACKAGES = ("rdklib",)  # rdklibtest, in the same wheel, is for tests only
LAMBDA_RUNTIME = "python3.12"
DEFAULT_TIMEOUT = 60  # seconds: what rdk gives a rule function when parameters.json names none
DEFAULT_MEMORY = 256  # MB: rdk's default for rule functions


@dataclass(frozen=True)
class Artifact:
    """One zip to stage: its key in every region's artifact bucket and its bytes."""

    key: str
    body: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def reproducible_zip(files: dict[str, bytes]) -> bytes:
    """A zip of `files` (archive path -> bytes) whose bytes depend only on the paths and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = FILE_MODE
            info.create_system = 3  # unix, so the mode above is what Lambda sees
            archive.writestr(info, files[name])
    return buffer.getvalue()


def shipped_rule_files(folder: Path) -> dict[str, bytes]:
    """What a rule's function imports: the folder's Python modules but its tests, and parameters.json (a stray
    editor or OS file would change the key and so redeploy every function). Line endings are the repository's
    (LF): a Windows checkout (CRLF) builds the same zip, so the same key."""
    files = {}
    for path in sorted(folder.iterdir()):
        shipped = (path.suffix == ".py" and not path.name.endswith("_test.py")) or path.name == "parameters.json"
        if path.is_file() and shipped:
            files[path.name] = path.read_bytes().replace(b"\r\n", b"\n")
    return files


def rule_artifact(root: Path, rule: str) -> Artifact:
    body = reproducible_zip(shipped_rule_files(root / "rules" / rule))
    return Artifact(f"rules/{rule}-{hashlib.sha256(body).hexdigest()[:16]}.zip", body)


def pinned_version(root: Path, package: str = RDKLIB) -> str:
    """The version rdkpack pins for a dependency (`name==version` in pyproject.toml, and so in the lock), as the
    installed rdkpack's metadata says: the same for every project folder rdkpack builds."""
    for requirement in importlib.metadata.requires("rdkpack") or ():
        name, _, version = requirement.partition("==")
        if name.strip().lower() == package and ";" not in version:
            return version.strip()
    raise ConfigError(
        "pyproject.toml", "project.dependencies", f"no {package}==VERSION pin", expected=f"{package}==x.y.z"
    )


def _record_hashes(distribution) -> dict[str, str]:
    """path -> urlsafe-base64 SHA-256, from the installed wheel's RECORD."""
    record = distribution.read_text("RECORD") or ""
    hashes = {}
    for line in record.splitlines():
        path, digest, _ = [*line.rsplit(",", 2), "", ""][:3]
        if digest.startswith("sha256="):
            hashes[path] = digest.removeprefix("sha256=")
    return hashes


def layer_files(root: Path) -> dict[str, bytes]:
    """The rdklib layer's files (under python/), each checked against the wheel's RECORD."""
    wanted = pinned_version(root)
    try:
        distribution = importlib.metadata.distribution(RDKLIB)
    except importlib.metadata.PackageNotFoundError as error:
        raise ConfigError(
            RDKLIB, "(distribution)", "not installed", expected=f"rdklib=={wanted} (pip install .)"
        ) from error
    if distribution.version != wanted:
        raise ConfigError(
            RDKLIB, "version", f"{distribution.version} is installed", expected=f"{wanted}, the version pyproject pins"
        )
    hashes = _record_hashes(distribution)
    files = {}
    for entry in distribution.files or ():
        name = entry.as_posix()
        if name.split("/", 1)[0] not in LAYER_PACKAGES or entry.suffix == ".pyc" or "__pycache__" in name:
            continue
        body = Path(distribution.locate_file(entry)).read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()
        if hashes.get(name) != digest:
            raise ConfigError(
                str(distribution.locate_file(entry)),
                "(content)",
                "differs from the rdklib wheel's RECORD",
                expected=f"an unmodified rdklib {wanted}: reinstall it (make venv)",
            )
        files[f"python/{name}"] = body
    return files


def layer_artifact(root: Path) -> Artifact:
    body = reproducible_zip(layer_files(root))
    return Artifact(f"layers/rdklib-{pinned_version(root)}-{hashlib.sha256(body).hexdigest()[:16]}.zip", body)


def template_key(name: str, text: str) -> str:
    """A template's key in the artifact bucket: its name and the SHA-256 of its text."""
    stem = name.rsplit("/", 1)[-1].removesuffix(".yaml")
    return f"templates/{stem}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}.yaml"


def rule_settings(root: Path, rule: str) -> tuple[int, int]:
    """(timeout seconds, memory MB) from the rule's parameters.json, rdk's defaults where it names none."""
    path = root / "rules" / rule / "parameters.json"
    parameters = project_files.read_json(path).get("Parameters", {})
    values = []
    for key, default, low, high in (
        ("LambdaTimeout", DEFAULT_TIMEOUT, 1, 900),
        ("LambdaMemorySize", DEFAULT_MEMORY, 128, 10240),
    ):
        raw = str(parameters.get(key, default))
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ConfigError(str(path), f"Parameters/{key}", f"{raw!r} is not a whole number from {low} to {high}")
        values.append(int(raw))
    return values[0], values[1]
