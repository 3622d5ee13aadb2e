"""Where an aws:executeScript step runs: a fresh process of the interpreter the step names (Systems Manager runs
each step in its own environment), or, where that interpreter is missing, the current one with a note.

`InProcessHost` runs the script in this process instead; the remediation tests use it under Python 3.11, so that
moto's in-process mock and the tests' botocore fakes see the script's calls.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from rdkpack.automation import script_host

HOST_PROGRAM = Path(script_host.__file__)
LOG_LIMIT = 20_000
# Credentials and endpoints reach the script through the environment, as the assumed role's do on SSM; a profile
# or config file of the caller's must not win over them.
AWS_SETTINGS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass(frozen=True)
class ScriptJob:
    """One attempt of a step: the document's script, its handler, the interpolated payload, the context, the
    step's timeoutSeconds and the AWS settings (credentials, region, endpoint) the script gets in its environment."""

    script: str
    handler: str
    payload: object
    context: dict
    timeout: int
    aws_env: dict

    def as_json(self) -> str:
        return json.dumps(
            {"script": self.script, "handler": self.handler, "payload": self.payload, "context": self.context}
        )


@dataclass(frozen=True)
class ScriptResult:
    status: str  # Success | Failed | TimedOut
    payload: object = None
    error: str = ""
    log: str = ""


def script_environment(base: dict, aws: dict) -> dict:
    env = {key: value for key, value in base.items() if key not in AWS_SETTINGS}
    env.update(aws)
    return env


@dataclass(frozen=True)
class SubprocessHost:
    python: str
    note: str = ""

    def run(self, job: ScriptJob) -> ScriptResult:
        with tempfile.TemporaryDirectory(prefix="rdkpack-step-") as folder:
            job_file, result = Path(folder, "job.json"), Path(folder, "result.json")
            job_file.write_text(job.as_json(), encoding="utf-8")
            process = subprocess.Popen(
                [self.python, str(HOST_PROGRAM), str(job_file), str(result)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=script_environment(dict(os.environ), job.aws_env),
                cwd=folder,
                start_new_session=True,
            )
            try:
                log, _ = process.communicate(timeout=job.timeout)
            except subprocess.TimeoutExpired:
                kill_group(process.pid)
                log, _ = process.communicate()
                return ScriptResult("TimedOut", error=f"Step timed out after {job.timeout} seconds", log=text_of(log))
            except BaseException:  # Ctrl-C: the step runs in a session of its own, out of the terminal's reach
                kill_group(process.pid)
                raise
            if not result.is_file():
                message = f"the script's interpreter {self.python} exited with code {process.returncode}"
                return ScriptResult("Failed", error=message, log=text_of(log))
            answer = json.loads(result.read_text(encoding="utf-8"))
        # The script's traceback belongs in the step's log, after what the script printed (SSM's ExecutionLog).
        log = text_of(log + answer.get("traceback", "").encode("utf-8"))
        return ScriptResult(answer["status"], answer.get("payload"), answer.get("error", ""), log)


class ForkServerHost:
    """Fresh processes of `python` forked from a warm one (script_host.py --serve) that has imported boto3 and done
    nothing else: the same isolation as SubprocessHost, without an interpreter start and boto3 import per step.
    One warm process per step under way (idle ones are reused); each lives until this interpreter exits."""

    def __init__(self, python: str, note: str = ""):
        self.python, self.note = python, note
        self._idle: list[subprocess.Popen] = []
        self._all: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        atexit.register(self.close)

    def warm(self) -> subprocess.Popen:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        server = subprocess.Popen(
            [self.python, str(HOST_PROGRAM), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,  # unbuffered: a reply read never takes the next one along, which select() would then miss
            env=script_environment(dict(os.environ), {}),
        )
        with self._lock:
            self._all.append(server)
        return server

    def run(self, job: ScriptJob) -> ScriptResult:
        server = self.warm()
        with tempfile.TemporaryDirectory(prefix="rdkpack-step-") as folder:
            paths = {name: str(Path(folder, f"{name}.json")) for name in ("job", "result", "log")}
            Path(paths["job"]).write_text(job.as_json(), encoding="utf-8")
            request = {**paths, "cwd": folder, "env": script_environment(dict(os.environ), job.aws_env)}
            try:
                server.stdin.write((json.dumps(request) + "\n").encode())
                pid = json.loads(server.stdout.readline())["pid"]
            except (OSError, ValueError, KeyError):  # the warm process is gone: this step in a fresh one
                return SubprocessHost(self.python, self.note).run(job)
            try:
                timed_out = not select.select([server.stdout], [], [], job.timeout)[0]
            except BaseException:  # Ctrl-C: the step runs in a session of its own, out of the terminal's reach
                kill_group(pid)
                raise
            if timed_out:
                kill_group(pid)
            exit_line = server.stdout.readline()
            with self._lock:
                self._idle.append(server)
            log = Path(paths["log"]).read_bytes() if Path(paths["log"]).is_file() else b""
            if timed_out:
                return ScriptResult("TimedOut", error=f"Step timed out after {job.timeout} seconds", log=text_of(log))
            result = Path(paths["result"])
            if not result.is_file():
                code = json.loads(exit_line or b"{}").get("exit")
                message = f"the script's interpreter {self.python} exited with code {code}"
                return ScriptResult("Failed", error=message, log=text_of(log))
            answer = json.loads(result.read_text(encoding="utf-8"))
        log = text_of(log + answer.get("traceback", "").encode("utf-8"))
        return ScriptResult(answer["status"], answer.get("payload"), answer.get("error", ""), log)

    def close(self) -> None:
        with self._lock:
            servers, self._all, self._idle = self._all, [], []
        for server in servers:
            with contextlib.suppress(OSError):
                server.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=5)


def kill_group(pid: int) -> None:
    """Kill a step's process and everything it started (the group may have ended meanwhile)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def text_of(log: bytes) -> str:
    return log.decode("utf-8", "replace")[-LOG_LIMIT:]


class InProcessHost:
    """The script in this interpreter and process: a fresh module each run, the payload and the return value passed
    through JSON as SSM passes them, credentials through the environment and a new boto3 default session."""

    note = ""

    def run(self, job: ScriptJob) -> ScriptResult:
        import boto3  # noqa: PLC0415 - only this host needs boto3's default session

        box: dict = {}
        passed = json.loads(job.as_json())
        log = io.StringIO()
        saved_session = boto3.DEFAULT_SESSION
        with patched_environment(job.aws_env), contextlib.redirect_stdout(log):
            boto3.DEFAULT_SESSION = None
            worker = threading.Thread(target=lambda: box.update(script_host.run(passed)), daemon=True)
            worker.start()
            worker.join(job.timeout)
            boto3.DEFAULT_SESSION = saved_session
        if worker.is_alive():
            return ScriptResult("TimedOut", error=f"Step timed out after {job.timeout} seconds", log=log.getvalue())
        text = log.getvalue() + box.get("traceback", "")
        return ScriptResult(box["status"], box.get("payload"), box.get("error", ""), text)


@contextlib.contextmanager
def patched_environment(aws_env: dict):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(script_environment(saved, aws_env))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@functools.cache
def has_boto3(python: str, version: tuple[int, int]) -> bool:
    probe = f"import sys, boto3; sys.exit(sys.version_info[:2] != {version!r})"
    try:
        return subprocess.run([python, "-c", probe], capture_output=True, timeout=30, check=False).returncode == 0
    except OSError:
        return False


def candidates(version: tuple[int, int], project_root: Path | None) -> list[str]:
    found = []
    if project_root is not None:
        found.append(str((project_root / ".venv" / f"py{version[0]}{version[1]}" / "bin" / "python").absolute()))
    found.append(shutil.which(f"python{version[0]}.{version[1]}") or "")
    if sys.version_info[:2] == version:
        found.insert(0, sys.executable)
    return [path for path in found if path and Path(path).is_file()]


@functools.cache
def fresh_processes(python: str, note: str = ""):
    """One host per interpreter for the whole run, so its warm processes are reused (fork where the OS has it)."""
    return ForkServerHost(python, note) if hasattr(os, "fork") else SubprocessHost(python, note)


def host_for(version: tuple[int, int], project_root: Path | None = None):
    """A fresh process of Python `version` with boto3; the current interpreter, with a note, where there is none."""
    for python in candidates(version, project_root):
        if has_boto3(python, version):
            return fresh_processes(python)
    here = ".".join(map(str, sys.version_info[:2]))
    wanted = ".".join(map(str, version))
    note = (
        f"no Python {wanted} with boto3 found (.venv/py{version[0]}{version[1]} or python{wanted} on PATH): "
        f"the step ran on Python {here}, and code that runs here may still fail on SSM's {wanted}"
    )
    return fresh_processes(sys.executable, note)
