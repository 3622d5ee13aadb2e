"""Runs one aws:executeScript step in this process, as Systems Manager runs it in its own: `python script_host.py
JOB RESULT`. JOB is JSON {script, handler, payload, context}; RESULT receives {status, payload} or {status, error,
traceback}. The script's own prints go to stdout and stderr, which the runner keeps as the step's log.

Standard library only and no rdkpack import: it runs under the step's interpreter, which may have only boto3.
"""

import json
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


if __name__ == "__main__":
    sys.exit(main(sys.argv))
