"""The newcomer path: a fresh clone to a green `make test`, with empty package caches.

Run with `make bench-newcomer` (it needs the package index, as a newcomer's machine does, and takes a
few minutes). `--baseline REV` measures that commit the same way first, for a before/after figure.
Prints each phase's wall seconds and writes bench/newcomer.json. The target is under 120 s on the
2-core machine CI runs on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 120


def run_phase(command: list[str], cwd: Path, env: dict, log: Path) -> float:
    start = time.monotonic()
    with log.open("a", encoding="utf-8") as out:
        done = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - start
    if done.returncode:
        tail = "".join(log.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)[-80:])
        sys.exit(f"{tail}\n{' '.join(command)} failed in {cwd} (exit {done.returncode}); the log's end is above")
    return round(seconds, 1)


def newcomer(revision: str, work: Path) -> dict:
    """Clone `revision`, then `make venv` and `make test` with caches that start empty."""
    clone = work / "main"
    env = {
        **os.environ,
        "UV_CACHE_DIR": str(work / "uv-cache"),
        "PIP_NO_CACHE_DIR": "1",
        "XDG_CACHE_HOME": str(work / "cache"),
    }
    shared = ROOT.parent / "shared"
    log = work / "log.txt"
    phases = {"clone": run_phase(["git", "clone", "--quiet", "--no-local", str(ROOT), str(clone)], work, env, log)}
    phases["checkout"] = run_phase(["git", "checkout", "--quiet", revision], clone, env, log)
    if shared.is_dir():  # CI puts ../shared beside the clone
        (work / "shared").symlink_to(shared)
    phases["make venv"] = run_phase(["make", "venv"], clone, env, log)
    phases["make test"] = run_phase(["make", "test"], clone, env, log)
    return {"revision": revision, "phases": phases, "total_seconds": round(sum(phases.values()), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="REV", help="also measure this commit, first")
    parser.add_argument("--revision", default="HEAD", help="the commit to measure (default HEAD; commit first)")
    args = parser.parse_args()
    revisions = [args.baseline, args.revision] if args.baseline else [args.revision]
    resolved = [
        subprocess.run(
            ["git", "rev-parse", "--short", r], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        for r in revisions
    ]
    results = {
        "cores": os.cpu_count(),
        "chromium_preinstalled": shutil.which("chromium") is not None,
        "target_seconds": TARGET_SECONDS,
        "runs": [],
    }
    for revision in resolved:
        with tempfile.TemporaryDirectory(prefix="newcomer-") as folder:
            figure = newcomer(revision, Path(folder))
        results["runs"].append(figure)
        phases = ", ".join(f"{name} {seconds} s" for name, seconds in figure["phases"].items())
        print(f"{revision}: {figure['total_seconds']} s from clone to green ({phases})")
    (ROOT / "bench" / "newcomer.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
