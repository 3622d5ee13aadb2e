"""Mutated project files and fuzzed option values end in exit 0, 1 or 2, never a traceback (issue 27, item 3).

Files: each file a command reads (rdk-config.json, every parameters.json, remediation document, README.md, committed
conformance pack, prerequisite template, SCP and guard file) is mutated in one copy of the project (tests/support/
fuzz.py: another encoding, a truncation, YAML or JSON junk, a wrong type, an out-of-range or huge value, an unknown
or a deleted key), every command that reads it runs in-process through `rdkpack.cli.main`, and the file is restored.
Exit code 2 is one `error:` line that names the mutated file.

Options: every option and argument of every subcommand gets an empty, negative, zero, non-numeric, 10,000-character
and NUL value. A value is accepted when the command goes on with it: its first AWS call raises ReachedAws instead of
leaving the process (AWS_ENDPOINT_URL points at a closed loopback port besides), or a local command ends in 0 or 1.

Time, measured on 2 cores: build --check and validate take about 0.25 s each on a project that loads (both load
the rule modules again); cfn-lint costs about 3 s once, then under 0.15 s for a changed template and nothing for an
unchanged one (validate caches by content), so it runs for real in every example; the demo is 1 s on an accepted
project. The properties run 17 mutations that once failed, then draw 138 (3 times as many under the `thorough`
profile); the module takes about 40 s (`--durations=10`). A failure names its mutation, so the properties do not
shrink: that would rerun hundreds of examples.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import botocore.client
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rdkpack.cli import build_parser
from tests.support.env import subprocess_env
from tests.support.fuzz import (
    DEEP,
    HUGE_INTEGER,
    Mutation,
    ReachedAws,
    Run,
    at,
    changed,
    explicit,
    in_first,
    mutations,
    run_cli,
    with_examples,
)
from tests.support.project import ROOT, copy_project

# What the commands read: build renders README.md's IAM tables, so it is part of the project here.
PARTS = ("rules", "remediations", "conformance-packs", "preventive", "rdk-config.json", "README.md")


def relative(paths) -> list[str]:
    return sorted(path.relative_to(ROOT).as_posix() for path in paths)


CONFIG = ["rdk-config.json", *relative(ROOT.glob("rules/*/parameters.json"))]
DOCUMENTS = relative(ROOT.glob("remediations/*/*.yaml"))
TEMPLATES = relative([*ROOT.glob("conformance-packs/**/*.yaml"), *ROOT.glob("preventive/*/*.guard")])
SCPS = relative(ROOT.glob("preventive/*/scp.json"))
GENERATED = [*TEMPLATES, *SCPS]
README = "README.md"
NAMES = [Path(path).name for path in (*CONFIG, *DOCUMENTS, *GENERATED, README)]

ERROR_LINE_MAX = 1_000  # characters: a huge value is named, not echoed whole
STALE_LINE = "generated files are stale: run `rdkpack build` and commit the result\n"
SUMMARY = re.compile(r"^\d+ pack\(s\) and \d+ prerequisite template\(s\): (?P<errors>\d+) error\(s\)", re.MULTILINE)


SCALE = max(1, settings.default.max_examples // 300)  # the ci profile's 300 a property: 1; thorough's 1,000: 3


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=[HealthCheck.too_slow],
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """One copy of the project for the module; each example restores the file it mutates."""
    return copy_project(tmp_path_factory.mktemp("fuzz") / "project", PARTS)


@functools.cache
def mutations_of(path: str):
    return mutations(path, (ROOT / path).read_bytes())


def names_of(path: str) -> tuple[str, ...]:
    """How an error line may name the file: its path in the project, or a name no other project file has. A
    remediation document may also be named as one (a pack's reference to a parameter it no longer has)."""
    folder_and_name = "/".join(Path(path).parts[-2:])
    unique = (Path(path).name,) if NAMES.count(Path(path).name) == 1 else ()
    document = (f"document {Path(path).stem}",) if path in DOCUMENTS else ()
    return (path, folder_and_name, *unique, *document)


def error_problems(run: Run, names: tuple[str, ...] = ()) -> list[str]:
    """Exit code 2: exactly one `error:` line, of readable length and without control characters, naming a file."""
    lines = run.err.splitlines()
    if len(lines) != 1 or not lines[0].startswith("error: "):
        return ["exit 2 without exactly one `error:` line on stderr"]
    problems = []
    if names and not any(name in lines[0] for name in names):
        problems.append(f"the error line names none of {names}")
    if len(lines[0]) > ERROR_LINE_MAX:
        problems.append(f"the error line is {len(lines[0]):,} characters (at most {ERROR_LINE_MAX:,})")
    if any(ord(char) < 32 or ord(char) == 127 for char in lines[0]):
        problems.append("the error line holds a control character")
    return problems


def common_problems(run: Run, names: tuple[str, ...]) -> list[str]:
    if run.raised is not None:
        return ["an exception escaped main"]
    if "Traceback" in run.out + run.err:
        return ["a traceback was printed"]
    if run.code not in (0, 1, 2):
        return [f"exit code {run.code!r}, not 0, 1 or 2"]
    return error_problems(run, names) if run.code == 2 else []


def build_check_problems(run: Run, path: str) -> list[str]:
    """build --check: 0 when nothing changes, 1 (stale) naming the stale files, 2 when the input is refused. A
    generated file is only compared with what build makes, so its mutation is exactly `stale`."""
    if path in GENERATED:
        if run.code != 1 or run.out != f"stale: {path}\n" or run.err != STALE_LINE:
            return [f"a changed generated file must be exactly `stale: {path}` and exit 1"]
        return []
    if run.code == 0 and (run.out or run.err):
        return ["exit 0 with output"]
    only_stale = all(line.startswith("stale: ") for line in run.out.splitlines())
    if run.code == 1 and (run.err != STALE_LINE or not only_stale):
        return ["exit 1 without only `stale:` lines and the one stale line on stderr"]
    return []


def validate_problems(run: Run, path: str) -> list[str]:
    """validate: findings and the summary on stdout, exit 1 exactly when the summary counts an error."""
    if run.code not in (0, 1):
        return []
    summary = SUMMARY.search(run.out)
    if run.err or summary is None:
        return ["exit 0 or 1 without the summary line, or with stderr"]
    if (int(summary["errors"]) > 0) != (run.code == 1):
        return [f"exit {run.code} with {summary['errors']} error(s) in the summary"]
    return []


def sync_scripts_problems(run: Run, path: str) -> list[str]:
    if run.code == 0 and (run.out or run.err):
        return ["exit 0 with output"]
    if run.code == 1 and (run.err or run.out.splitlines() != [f"stale: {run.argv[1]}/{path}"]):
        return [f"exit 1 must print exactly `stale: {path}` (the absolute path)"]
    return []


def demo_problems(run: Run, path: str) -> list[str]:
    if run.code == 0 and (run.err or "before" not in json.loads(run.out)):
        return ["exit 0 without the JSON result, or with stderr"]
    return [] if run.code in (0, 2) else [f"exit {run.code}: the demo ends in 0 or 2"]


BUILD = (["build", "--check"], build_check_problems)
VALIDATE = (["validate"], validate_problems)
SYNC_SCRIPTS = (["sync-scripts", "--check"], sync_scripts_problems)
DEMO = (["demo", "--no-remediate", "--json"], demo_problems)


def check_mutation(project: Path, mutation, commands) -> None:
    """Write the mutation, run each command on it, restore the file; fail naming the mutation and every bad run."""
    target = project / mutation.path
    original = target.read_bytes()
    failures = []
    target.write_bytes(mutation.data)
    try:
        for argv, specific in commands:
            run = run_cli(["--project", str(project), *argv])
            problems = common_problems(run, names_of(mutation.path)) or specific(run, mutation.path)
            failures += [f"{problem}:\n{run}" for problem in problems]
    finally:
        target.write_bytes(original)
    if failures:
        pytest.fail(f"mutation {mutation!r}\n" + "\n".join(failures), pytrace=False)


def mutation_of(paths: list[str]):
    return st.sampled_from(paths).flatmap(mutations_of)


# ---- mutations that once failed: checked in every run, before the drawn ones ----


def in_first_rule_parameters(key: str, value):
    """Add key to the parameters of the first rule of the first pack in rdk-config.json."""

    def change(config: dict) -> dict:
        pack = next(iter(config["packs"]))
        rule = next(iter(config["packs"][pack]["rules"]))
        return changed(config, ("packs", pack, "rules", rule, "parameters"), lambda node: {**node, key: value})

    return change


def in_role_parameter(key: str, value):
    """Set key in a document's AutomationAssumeRole parameter: the one every pack gives a static value, which
    validate checks against the parameter's allowedPattern or allowedValues."""
    return at(("parameters", "AutomationAssumeRole"), lambda spec: {**spec, key: value})


RULE, REMEDIATION = "AWS::Config::ConfigRule", "AWS::Config::RemediationConfiguration"
PACK = relative(ROOT.glob("conformance-packs/*.yaml"))[0]
PREREQUISITE = relative(ROOT.glob("conformance-packs/prerequisites/*.yaml"))[0]
FOUND_IN_CONFIG = [
    explicit(CONFIG[0], "partition = a 5,001-digit integer", at(("partition",), lambda _: HUGE_INTEGER)),
    explicit(CONFIG[0], "a 1,000-character unknown rule parameter", in_first_rule_parameters("x" * 1_000, 0)),
]
FOUND_IN_DOCUMENTS = [
    explicit(DOCUMENTS[0], "schemaVersion = a 5,001-digit integer", at(("schemaVersion",), lambda _: HUGE_INTEGER)),
    explicit(DOCUMENTS[0], "mainSteps/0/name nested 5,000 deep", at(("mainSteps", 0, "name"), lambda _: DEEP)),
    explicit(DOCUMENTS[0], "AutomationAssumeRole's allowedPattern = '('", in_role_parameter("allowedPattern", "(")),
    explicit(DOCUMENTS[0], "AutomationAssumeRole's allowedPattern = 5", in_role_parameter("allowedPattern", 5)),
]
FOUND_IN_TEMPLATES = [
    explicit(PACK, "(root) = 'abc'", lambda _: "abc"),
    explicit(PACK, "a rule resource = 'abc'", in_first(RULE, (), "abc")),
    explicit(
        PACK, "a rule's SourceDetails = [nan]", in_first(RULE, ("Properties", "Source", "SourceDetails"), [math.nan])
    ),
    explicit(PACK, "a remediation's Properties = 'abc'", in_first(REMEDIATION, ("Properties",), "abc")),
    explicit(PACK, "a remediation's Parameters = 'abc'", in_first(REMEDIATION, ("Properties", "Parameters"), "abc")),
    explicit(PREREQUISITE, "(root) = -1", lambda _: -1),
    Mutation(PREREQUISITE, "': : [' inserted before line 1", b": : [\n" + (ROOT / PREREQUISITE).read_bytes()),
]
FOUND_IN_SCPS = [
    explicit(SCPS[0], "Statement = 'abc'", at(("Statement",), lambda _: "abc")),
    explicit(SCPS[0], "Statement = [1]", at(("Statement",), lambda _: [1])),
    explicit(SCPS[0], "Statement/0/Action = 5", at(("Statement", 0, "Action"), lambda _: 5)),
    explicit(SCPS[0], "Statement nested 100,000 deep", at(("Statement",), lambda _: DEEP)),
]


@fuzz(50)
@with_examples(FOUND_IN_CONFIG)
@given(mutation=mutation_of(CONFIG))
def test_mutated_config_or_rule_parameters_end_in_exit_0_1_or_2(project, mutation):
    check_mutation(project, mutation, (BUILD, VALIDATE))


@fuzz(40)
@with_examples(FOUND_IN_DOCUMENTS)
@given(mutation=mutation_of(DOCUMENTS))
def test_mutated_remediation_document_ends_in_exit_0_1_or_2(project, mutation):
    check_mutation(project, mutation, (BUILD, VALIDATE, SYNC_SCRIPTS))


@fuzz(25)
@with_examples(FOUND_IN_TEMPLATES)
@given(mutation=mutation_of(TEMPLATES))
def test_mutated_template_or_guard_file_ends_in_exit_0_1_or_2(project, mutation):
    check_mutation(project, mutation, (BUILD, VALIDATE))


@fuzz(8)
@with_examples(FOUND_IN_SCPS)
@given(mutation=mutation_of(SCPS))
def test_mutated_scp_ends_in_exit_0_1_or_2(project, mutation):
    check_mutation(project, mutation, (BUILD, VALIDATE))


@fuzz(5)
@given(mutation=mutation_of([README]))
def test_mutated_readme_ends_in_exit_0_1_or_2(project, mutation):
    check_mutation(project, mutation, (BUILD, VALIDATE))


@fuzz(10)
@given(mutation=mutation_of(CONFIG))
def test_demo_on_mutated_config_or_rule_parameters_ends_in_exit_0_or_2(project, mutation):
    check_mutation(project, mutation, (DEMO,))


@pytest.mark.parametrize(
    ("path", "command"),
    [
        pytest.param(
            "remediations/AddRequiredLambdaLayer/AddRequiredLambdaLayer.yaml", ["build", "--check"], id="document"
        ),
        pytest.param("conformance-packs/rdk-guardrails-sandbox.yaml", ["validate"], id="pack"),
    ],
)
def test_yaml_nested_100000_deep_ends_in_one_error_line(path, command, tmp_path):
    """libyaml recurses in C: in its own process, so a crash is a failed test and not a lost test run."""
    project = copy_project(tmp_path / "project", PARTS)
    (project / path).write_text("a: " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    argv = [sys.executable, "-m", "rdkpack.cli", "--project", str(project), *command]
    done = subprocess.run(argv, capture_output=True, text=True, env=subprocess_env(), timeout=120, check=False)
    assert done.returncode == 2, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert error_problems(Run(tuple(argv), 2, done.stdout, done.stderr), names_of(path)) == [], done.stderr


# ---- options ----

VALUES = {"empty": "", "minus-one": "-1", "zero": "0", "word": "abc", "long": "x" * 10_000, "nul": "\x00"}
# A valid command line for each subcommand (no AWS write, no long run): flags, then the required values an
# option under test replaces.
BASE: dict[str, tuple[list[str], dict[str, str]]] = {
    "sync-scripts": (["--check"], {}),
    "sync-kit": (["--check"], {}),
    "new-rule": ([], {"NAME": "FUZZ_RULE", "--resource-type": "AWS::S3::Bucket"}),
    "build": (["--check"], {}),
    "docs": (["--check"], {}),
    "deploy": (["--dry-run"], {"--pack": "rdk-guardrails-sandbox"}),
    "stage": (["--dry-run"], {}),
    "rollout": (["--org", "--dry-run"], {}),
    "status": (["--org"], {}),
    "remove": (["--org", "--dry-run"], {}),
    "demo": (["--no-remediate", "--json"], {}),
    "validate": ([], {}),
    "scan": ([], {}),
    "remediate": (["--dry-run"], {"--rule": "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"}),
    "check": ([], {"PATH": "conformance-packs"}),
}
# Options a command reads only beside another one.
CONTEXT = {
    ("scan", "--role-name"): ["--org"],
    ("scan", "--regions"): ["--org", "--role-name", "Scanner"],
    ("scan", "--concurrency"): ["--org", "--role-name", "Scanner"],
    ("scan", "--accounts"): ["--role-name", "Scanner"],
    ("scan", "--format"): ["--output", "scan.json"],
    ("demo", "--format"): ["--output", "demo.json"],
    ("remediate", "--role-name"): ["--org"],
    ("remediate", "--accounts"): ["--role-name", "Remediator"],
    ("remediate", "--format"): ["--output", "remediation.json"],
    ("remediate", "--document"): ["--local"],
    ("remediate", "--parameter"): ["--local", "--document", "FixS3LifecycleAsteriskPrefix"],
    ("check", "--format"): ["--output", "check.json"],
}


def value_options() -> list[tuple[str, str]]:
    """(subcommand, option) for every option and positional argument that takes a value; ("", "--project") is
    the one before the subcommand."""
    parser = build_parser()
    (commands,) = (action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    found = [("", "--project")]
    for name, command in commands.choices.items():
        for action in command._actions:
            if action.nargs != 0:  # flags (store_true, help) take none
                found.append((name, action.option_strings[0] if action.option_strings else action.metavar))
    return found


def command_line(project: Path, command: str, option: str, value: str) -> list[str]:
    if not command:
        return ["--project", value, "build", "--check"]
    flags, required = BASE.get(command, ([], {}))
    values = {**required, option: value}
    positional = [values.pop(name) for name in list(values) if not name.startswith("-")]
    given = [part for name, text in values.items() for part in (name, text)]
    where = [] if option == "--project" else ["--project", str(project)]
    return [*where, command, *positional, *flags, *CONTEXT.get((command, option), []), *given]


def snapshot(project: Path) -> dict[Path, tuple[int, bytes]]:
    return {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in project.rglob("*") if path.is_file()}


def restore(project: Path, before: dict[Path, tuple[int, bytes]]) -> None:
    """Put the project back as it was: files written by an accepted command removed, changed ones rewritten."""
    for path in sorted(project.rglob("*"), reverse=True):
        if path.is_file() and path not in before:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()) and not any(p.is_relative_to(path) for p in before):
            path.rmdir()
    for path, (mtime, data) in before.items():
        if not path.is_file() or path.stat().st_mtime_ns != mtime:
            path.write_bytes(data)
            os.utime(path, ns=(mtime, mtime))


HERMETIC = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_MAX_ATTEMPTS": "1",
    "AWS_RETRY_MODE": "standard",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def reached(client, operation, params):
    raise ReachedAws(f"{client.meta.service_model.service_name}:{operation}")


@pytest.fixture(scope="module")
def option_runs(project):
    """run(command, option, value): that command line's run, made once for both option tests. It runs in the project
    copy (so `--project ""` taken for "look from here" finds a project), which is put back after each run, and no
    AWS call leaves the process."""
    before = snapshot(project)

    @functools.cache
    def run(command: str, option: str, value: str) -> Run:
        with pytest.MonkeyPatch.context() as patch:
            for name, setting in HERMETIC.items():
                patch.setenv(name, setting)
            patch.setattr(botocore.client.BaseClient, "_make_api_call", reached)
            patch.chdir(project)
            try:
                return run_cli(command_line(project, command, option, value))
            finally:
                restore(project, before)

    return run


OPTIONS = value_options()
ids = lambda part: part or "(global)"  # noqa: E731


@pytest.mark.parametrize(("command", "option"), OPTIONS, ids=ids)
def test_option_value_is_accepted_or_refused_in_one_line(option_runs, command, option):
    failures = []
    for name, value in VALUES.items():
        run = option_runs(command, option, value)
        problems = [] if run.reached_aws else common_problems(run, ())
        failures += [f"{name}: {problem}:\n{run}" for problem in problems]
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize(("command", "option"), OPTIONS, ids=ids)
def test_empty_or_nul_option_value_is_refused(option_runs, command, option):
    """No option means anything by an empty string or a NUL: the command refuses it before any AWS call."""
    runs = {value: option_runs(command, option, value) for value in ("", "\x00")}
    accepted = [f"{value!r}: {run.reached_aws or f'exit {run.code}'}" for value, run in runs.items() if run.code != 2]
    assert accepted == [], f"accepted: {accepted}"


def test_every_subcommand_has_a_base_command_line():
    commands = {command for command, _ in OPTIONS} - {""}
    assert commands <= set(BASE), "add the new subcommand's valid command line to BASE"
