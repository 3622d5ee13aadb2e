"""Hand-edited project files end in one `error:` line naming the file and where, exit 2, never a traceback:
other encodings, syntax errors, values the rules refuse; and `validate` checks the source beside the output."""

from __future__ import annotations

import json

import pytest

from rdkpack.cli import main, region_name
from tests.support.project import ROOT, copy_project

CONFIG = "rdk-config.json"
LAYER_PARAMETERS = "rules/LAMBDA_LAYER_CHECK/parameters.json"
DOCUMENT = "remediations/ReduceVpcEndpointAzCount/ReduceVpcEndpointAzCount.yaml"
PACK = "conformance-packs/rdk-guardrails-sandbox.yaml"


@pytest.fixture
def project(tmp_path):
    """A copy of the project to break; commands run on it in process."""
    copy_project(tmp_path, parts=("rules", "remediations", "conformance-packs", "preventive", CONFIG))
    return tmp_path


def run(project, capsys, *argv) -> tuple[int, list[str]]:
    code = main(["--project", str(project), *argv])
    return code, capsys.readouterr().err.splitlines()


def one_error(code: int, err: list[str]) -> str:
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def edit_config(project, change) -> None:
    path = project / CONFIG
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def sandbox_rule(data, rule: str) -> dict:
    return data["packs"]["rdk-guardrails-sandbox"]["rules"][rule]["parameters"]


@pytest.mark.parametrize("command", [["build"], ["validate"], ["demo", "--no-remediate", "--json"], ["scan"]])
@pytest.mark.parametrize("file", [CONFIG, LAYER_PARAMETERS])
def test_a_utf16_file_is_named_with_how_to_convert_it(project, capsys, command, file):
    path = project / file
    path.write_bytes(path.read_text().encode("utf-16"))  # with a byte-order mark, as Windows editors write
    error = one_error(*run(project, capsys, *command))
    assert error.startswith(f"error: {path}: is UTF-16 (some Windows editors save that); rdkpack reads UTF-8")
    assert f"iconv -f UTF-16 -t UTF-8 {path}" in error


def test_utf16_without_a_byte_order_mark_is_named_too(project, capsys):
    path = project / CONFIG
    path.write_bytes(path.read_text().encode("utf-16-le"))
    error = one_error(*run(project, capsys, "build"))
    assert f"{path}: has a NUL byte at byte 1: it looks like UTF-16" in error


def test_a_latin1_byte_in_a_document_names_its_offset_and_line(project, capsys):
    path = project / DOCUMENT
    text = path.read_text()
    path.write_bytes(text.encode() + "# caf\u00e9\n".encode("latin-1"))
    error = one_error(*run(project, capsys, "validate"))
    offset = len(text.encode()) + len("# caf")
    assert error == (
        f"error: {path}: byte {offset} (line {text.count(chr(10)) + 1}) is b'\\xe9', not UTF-8 "
        "(Latin-1 or Windows-1252?): save the file as UTF-8"
    )


def test_a_syntax_error_appended_to_a_committed_pack_is_one_line_with_its_line_and_column(project, capsys):
    path = project / PACK
    lines = path.read_text().count("\n")
    with path.open("a") as file:
        file.write(": : [\n")
    error = one_error(*run(project, capsys, "validate"))
    assert error.startswith(f"error: {path}: line {lines + 1} column 1: not valid YAML: ")


@pytest.mark.parametrize(
    "case",
    [
        ("LAMBDA_LAYER_CHECK", "MinLayerVersion", "abc", "must be an integer"),
        ("LAMBDA_LAYER_CHECK", "MinLayerVersion", "-1", "must be an integer"),
        ("VPC_ENDPOINT_AZ_COUNT_CHECK", "MaxAzCount", "abc", "MaxAzCount"),
        ("VPC_ENDPOINT_AZ_COUNT_CHECK", "MaxAzCount", "0", "MaxAzCount"),
        ("VPC_ENDPOINT_IDLE_CHECK", "IdleDays", "1e3", "IdleDays"),
    ],
)
@pytest.mark.parametrize("command", ["build", "validate"])
def test_a_value_the_rule_refuses_stops_every_command_naming_the_pack_rule_and_parameter(
    project, capsys, command, case
):
    rule, parameter, value, says = case
    edit_config(project, lambda data: sandbox_rule(data, rule).update({parameter: value}))
    error = one_error(*run(project, capsys, command))
    key = f"packs/rdk-guardrails-sandbox/rules/{rule}/parameters/{parameter}"
    assert error.startswith(f"error: {project / CONFIG}: {key}: {rule} refuses it: ")
    assert says in error


@pytest.mark.parametrize(
    ("input_parameters", "says"),
    [
        ("{not json", "Parameters/InputParameters: not JSON: "),
        ("[1, 2]", "Parameters/InputParameters: not a JSON object"),
        ('{"LayerArn": "arn:aws:lambda:*:123456789012:layer:x", "MaxAzCount": "2"}', "InputParameters/MaxAzCount"),
    ],
)
def test_a_rules_input_parameters_are_checked_as_rdk_deploy_would_give_them(project, capsys, input_parameters, says):
    path = project / LAYER_PARAMETERS
    data = json.loads(path.read_text())
    data["Parameters"]["InputParameters"] = input_parameters
    path.write_text(json.dumps(data, indent=2))
    error = one_error(*run(project, capsys, "validate"))
    assert error.startswith(f"error: {path}: ") and says in error


def test_validate_says_which_generated_files_are_stale_against_the_config(project, capsys):
    edit_config(project, lambda data: sandbox_rule(data, "VPC_ENDPOINT_AZ_COUNT_CHECK").update({"MaxAzCount": "2"}))
    code = main(["--project", str(project), "validate"])
    out = capsys.readouterr().out.splitlines()
    stale = [line for line in out if line.endswith("[STALE]")]
    assert code == 1
    assert (
        f"error: {project / PACK}: (file): (content): not what rdk-config.json builds now: run `rdkpack build` [STALE]"
        in stale
    )


def test_the_committed_project_reads_cleanly():
    assert main(["--project", str(ROOT), "build", "--check"]) == 0


def test_a_windows_checkout_with_crlf_line_endings_is_the_same_project(project, capsys):
    """Git for Windows checks text out with CRLF (core.autocrlf): generated files are still current, and every
    command reads the same project."""
    for path in [*project.rglob("*.yaml"), *project.rglob("*.json"), *project.rglob("*.guard"), *project.rglob("*.py")]:
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    for command in (["build", "--check"], ["sync-scripts", "--check"], ["sync-kit", "--check"]):
        code, err = run(project, capsys, *command)
        assert (code, err) == (0, []), (command, capsys.readouterr().out)


def test_a_region_of_every_partition_is_accepted():
    for region in ("us-east-1", "us-gov-west-1", "cn-north-1", "eu-isoe-west-1", "us-isob-east-1", "eusc-de-east-1"):
        assert region_name(region) == region
