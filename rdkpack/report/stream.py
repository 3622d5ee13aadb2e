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
nothing, and a resumed scan drops those lines. `--resume` keeps the pairs that finished without a failure
and scans the others again; a pair scanned again supersedes its earlier lines.
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
    # ASCII: a line separator in a resource's text (U+2028, U+0085) stays an escape, never a line break.
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)


def to_jsonl(report, title: str) -> str:
    """A whole report in the stream's shape (a single-account scan, the demo, an aggregator scan)."""
    by_pair: dict[tuple[str, str], PairRows] = {}
    for result in report.before:
        by_pair.setdefault((result.account, result.region), ([], [], []))[0].append(result)
    for failure in getattr(report, "failures", ()):
        by_pair.setdefault((failure.account, failure.region), ([], [], []))[1].append(failure)
    lines = [header(report.pack, getattr(report, "source", "demo"))]
    for (account, region), rows in by_pair.items():
        lines += pair_lines(account, region, rows)
    return encode(lines)


class StreamWriter:
    """Appends each finished account and region to the file at once (one write, flushed and synced), from any
    thread. A new scan refuses a file that already holds one (without --resume it would be lost); a resumed one
    keeps the file up to the end of its last complete pair (`keep`, from `read_stream`)."""

    def __init__(self, path: Path, first_line: dict, *, keep: int | None = None):
        self.path, self.lock = path, threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        if keep is not None:
            with path.open("r+b") as file:
                file.truncate(keep)
            self.file = path.open("a", encoding="utf-8")
            return
        if path.is_file() and path.stat().st_size and holds_a_stream(path):
            raise ScanError(
                f"--output {path} already holds a scan: add --resume to continue it, or choose another --output "
                "(or remove the file) to start again"
            )
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
                why = error.strerror or error
                raise ScanError(f"--output {self.path}: cannot write the scan's rows: {why}") from error

    def close(self) -> None:
        self.file.close()


def holds_a_stream(path: Path) -> bool:
    with path.open("rb") as file:
        return STREAM_FORMAT.encode() in file.readline(4096)


RESULT_FIELDS = ("rule", "resource_type", "resource_id", "compliance", "annotation")
FIELDS = {  # each kind's fields and their types; account and region on every line
    "result": dict.fromkeys(RESULT_FIELDS, str),
    "failure": {"reason": str},
    "note": {"text": str},
    "done": {"results": int, "failures": int},
}


def read_stream(path: Path, first_line: dict) -> tuple[dict[tuple[str, str], PairRows], int]:
    """The account and region pairs a stream file holds complete (done, and no failure), with their rows, and the
    byte offset where its last complete pair ends (what a resumed scan keeps); a ScanError naming the line when
    the file is not a stream, is another scan's (another pack, rules, parameters, source or role), or a line in
    it is not a stream line. A pair whose lines stop before its done line counts for nothing."""
    data = path.read_bytes()
    lines = data.split(b"\n")  # only a newline ends a line: JSON escapes every other line break
    head = _json_line(lines[0]) if data.endswith(b"\n") or len(lines) > 1 else None
    if not isinstance(head, dict) or head.get("format") != STREAM_FORMAT:
        raise ScanError(f"--resume: {path} is not a scan stream ({STREAM_FORMAT}); give the .jsonl file of the scan")
    theirs, ours = head.get("plan"), first_line.get("plan") or {}
    theirs = theirs if isinstance(theirs, dict) else {}
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
    keep = offset = len(lines[0]) + 1
    complete = lines[1:-1]  # the last piece has no newline after it: an unfinished write, or empty
    for number, raw in enumerate(complete, start=2):
        offset += len(raw) + 1
        line = _json_line(raw)
        kind = line.get("kind") if isinstance(line, dict) else None
        if kind not in FIELDS or not _well_formed(line, FIELDS[kind]):
            raise ScanError(f"--resume: {path} line {number} is not a stream line of {STREAM_FORMAT}; remove it")
        where = (line["account"], line["region"])
        rows = pending.setdefault(where, ([], [], []))
        if kind == "result":
            rows[0].append(Result(**{k: line[k] for k in RESULT_FIELDS}, account=where[0], region=where[1]))
        elif kind == "failure":
            rows[1].append(Failure(where[0], where[1], line["reason"], tuple(line.get("rules", ()))))
        elif kind == "note":
            rows[2].append(line["text"])
        else:
            done = pending.pop(where)
            finished.pop(where, None)
            if not done[1]:
                finished[where] = done
            keep = offset
    return finished, keep


def _json_line(raw: bytes):
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _well_formed(line: dict, fields: dict) -> bool:
    typed = {"account": str, "region": str, **fields}
    if not all(type(line.get(key)) is kind for key, kind in typed.items()):
        return False
    rules = line.get("rules", [])
    return isinstance(rules, list) and all(isinstance(rule, str) for rule in rules)
