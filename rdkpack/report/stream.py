"""`--output FILE.jsonl`: a scan's rows, one JSON object a line, written as each account and region finishes,
and `--resume` from them.

The first line says what scan the file holds; then, per account and region, its lines together, ending in
its `done` line:

    {"kind": "scan", "format": "rdkpack-scan-stream/1", "pack": ..., "source": ..., "plan": {...}}
    {"kind": "result", "account": ..., "region": ..., "rule": ..., "resource_type": ..., "resource_id": ...,
     "compliance": ..., "annotation": ...}
    {"kind": "failure", "account": ..., "region": ..., "reason": ..., "rules": [...]}   (rules: only those lost)
    {"kind": "note", "account": ..., "region": ..., "text": ...}
    {"kind": "done", "account": ..., "region": ..., "results": N, "failures": N}

A pair whose lines stop before its `done` line (the scan was interrupted while writing it) counts for
nothing. `--resume` keeps the pairs that finished without a failure and scans the others again; a pair
scanned again supersedes its earlier lines.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from rdkpack.account.scan import Failure, Result
from rdkpack.errors import ScanError

STREAM_FORMAT = "rdkpack-scan-stream/1"
PairRows = tuple[list[Result], list[Failure], list[str]]  # results, failures, notes of one account and region


def header(pack: str, source: str, plan: dict | None = None) -> dict:
    line = {"kind": "scan", "format": STREAM_FORMAT, "pack": pack, "source": source}
    return {**line, "plan": plan} if plan is not None else line


def pair_lines(account: str, region: str, rows: PairRows) -> list[dict]:
    """One account and region's lines, its done line last."""
    results, failures, notes = rows
    where = {"account": account, "region": region}
    lines = [{"kind": "result", **where, **result_fields(r)} for r in results]
    lines += [{"kind": "failure", **failure.as_dict(), **where} for failure in failures]
    lines += [{"kind": "note", **where, "text": note} for note in notes]
    return [*lines, {"kind": "done", **where, "results": len(results), "failures": len(failures)}]


def result_fields(result: Result) -> dict:
    return {
        "rule": result.rule,
        "resource_type": result.resource_type,
        "resource_id": result.resource_id,
        "compliance": result.compliance,
        "annotation": result.annotation,
    }


def encode(lines: list[dict]) -> str:
    return "".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n" for line in lines)


def to_jsonl(report, title: str) -> str:
    """A whole report in the stream's shape (a single-account scan, the demo, an aggregator scan)."""
    by_pair: dict[tuple[str, str], PairRows] = {}
    for result in report.before:
        by_pair.setdefault((result.account, result.region), ([], [], []))[0].append(result)
    for failure in getattr(report, "failures", ()):
        by_pair.setdefault((failure.account, failure.region), ([], [], []))[1].append(failure)
    lines = [header(report.pack, report.source)]
    for (account, region), rows in by_pair.items():
        lines += pair_lines(account, region, rows)
    return encode(lines)


class StreamWriter:
    """Appends each finished account and region to the file at once (one write, flushed and synced), from any
    thread; a new scan starts the file, a resumed one keeps its complete lines."""

    def __init__(self, path: Path, first_line: dict, *, resume: bool):
        self.path, self.lock = path, threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        if resume and path.exists():
            cut_unfinished_pair(path)
            self.file = path.open("a", encoding="utf-8")
        else:
            self.file = path.open("w", encoding="utf-8")
            self._write([first_line])

    def pair(self, account: str, region: str, rows: PairRows) -> None:
        self._write(pair_lines(account, region, rows))

    def _write(self, lines: list[dict]) -> None:
        with self.lock:
            try:
                self.file.write(encode(lines))
                self.file.flush()
                os.fsync(self.file.fileno())
            except OSError as error:
                raise ScanError(
                    f"--output {self.path}: cannot write the scan's rows: {error.strerror or error}"
                ) from error

    def close(self) -> None:
        self.file.close()


def cut_unfinished_pair(path: Path) -> None:
    """Drop what follows the last complete pair (or the first line): the lines of a pair the interrupted scan was
    writing, so its lines, written again, are not mixed with them."""
    data = path.read_bytes()
    end, start = len(data), 0
    for line in data.splitlines(keepends=True):
        start += len(line)
        if line.endswith(b"\n") and (start == len(line) or b'"kind":"done"' in line):
            end = start
    if end != len(data):
        with path.open("r+b") as file:
            file.truncate(end)


def finished_pairs(path: Path, first_line: dict) -> dict[tuple[str, str], PairRows]:
    """The account and region pairs a stream file holds complete (done, and no failure), with their rows; a
    ScanError when the file is another scan's (another pack, rules, parameters, source or role)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        head = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError:
        head = None
    if not isinstance(head, dict) or head.get("format") != STREAM_FORMAT:
        raise ScanError(f"--resume: {path} is not a scan stream ({STREAM_FORMAT}); give the .jsonl file of the scan")
    theirs, ours = head.get("plan") or {}, first_line.get("plan") or {}
    differing = ["pack"] if head.get("pack") != first_line.get("pack") else []
    differing += [key for key in sorted(set(theirs) | set(ours)) if theirs.get(key) != ours.get(key)]
    if differing:
        raise ScanError(
            f"--resume: {path} holds another scan (its {', '.join(differing)} differ from this one's: rules include "
            "their parameters); resume with the same pack, --rules, parameters, --source and --role-name, or write "
            "to another --output"
        )
    pending: dict[tuple[str, str], PairRows] = {}
    finished: dict[tuple[str, str], PairRows] = {}
    for number, text in enumerate(lines[1:], start=2):
        try:
            line = json.loads(text)
            where = (line["account"], line["region"])
            kind = line["kind"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            if number == len(lines):  # the interrupted write's last line
                break
            raise ScanError(f"--resume: {path} line {number} is not a stream line ({error})") from error
        rows = pending.setdefault(where, ([], [], []))
        if kind == "result":
            fields = {k: line[k] for k in ("rule", "resource_type", "resource_id", "compliance", "annotation")}
            rows[0].append(Result(**fields, account=where[0], region=where[1]))
        elif kind == "failure":
            rows[1].append(Failure(where[0], where[1], line["reason"], tuple(line.get("rules", ()))))
        elif kind == "note":
            rows[2].append(line["text"])
        elif kind == "done":
            done = pending.pop(where)
            finished.pop(where, None)
            if not done[1]:
                finished[where] = done
    return finished
