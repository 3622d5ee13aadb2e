"""Runs one aws:executeScript step in this process, as Systems Manager runs it in its own: `python script_host.py
JOB RESULT`. JOB is JSON {script, handler, payload, context}; RESULT receives {status, payload} or {status, error,
traceback}. The script's own prints go to stdout and stderr, which the runner keeps as the step's log.

`python script_host.py --serve` imports boto3 once, then for each request line on stdin ({job, result, log, cwd,
env}) forks a child that runs that one job in a session of its own, with only the request's environment, its
output in the log file; it answers {"pid"} when the child starts and {"exit"} when it ends. Each step is still
a process of its own that has imported boto3 and done nothing else, without paying for the interpreter's start and
boto3's import (about 0.3 s) every time.

Standard library only and no rdkpack import: it runs under the step's interpreter, which may have only boto3.
"""

import json
import os
import sys
import traceback
import types


def run(job: dict) -> dict:
    module = types.ModuleType("__ssm_script__")
    module.__dict__["__file__"] = "<aws:executeScript>"
    try:
        exec(compile(job["script"], "<aws:executeScript>", "exec"), module.__dict__)
        handler = module.__dict__.get(job["handler"])
        if not callable(handler):
            return {"status": "Failed", "error": f"Handler {job['handler']!r} is not a function of the script"}
        payload = handler(job["payload"], job["context"])
    except BaseException as error:  # every failure of the script, SystemExit too, is the step's failure
        return {
            "status": "Failed",
            "error": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exc(),
        }
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as error:
        return {"status": "Failed", "error": f"the handler's return value is not JSON: {error}"}
    return {"status": "Success", "payload": payload}


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as job_file:
        job = json.load(job_file)
    result = run(job)
    with open(argv[2], "w", encoding="utf-8") as result_file:
        json.dump(result, result_file)
    return 0


def child(request: dict) -> None:
    """In the forked child: a session, stdin, stdout and stderr, the environment and folder of its own; never
    returns."""
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        main(["", request["job"], request["result"]])
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def answer(stream, message: dict) -> None:
    stream.write((json.dumps(message) + "\n").encode())
    stream.flush()


def serve() -> int:
    import boto3  # noqa: F401, PLC0415 - every child starts with boto3 imported, as SSM's Python runtime has it

    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    for line in iter(requests.readline, b""):
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(request)
        answer(replies, {"pid": pid})
        _, status = os.waitpid(pid, 0)
        answer(replies, {"exit": os.waitstatus_to_exitcode(status)})
    return 0


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:] == ["--serve"] else main(sys.argv))
