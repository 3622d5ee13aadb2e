#!/usr/bin/env python3
"""Open an HTML report in headless Chromium and check that it renders, filters and prints.

    python scripts/check_report_in_browser.py reports/demo-report.html reports/demo-report.png

Drives Debian's Chromium (scripts/install-chromium.sh installs it) over the Chrome DevTools Protocol on a
pipe (--remote-debugging-pipe: Chromium reads NUL-terminated JSON commands on fd 3 and writes answers and
events on fd 4), so it needs nothing beyond the standard library. It

1. loads the file and collects every console error, uncaught exception and browser log error
   (Content-Security-Policy violations included);
2. waits for the load event and for the page's script to set `document.body.dataset.ready = "true"`;
3. checks the summary chart (`#summary-chart`) has a nonzero box and the results tables have rows;
4. sets the verdict filter to NON_COMPLIANT, dispatches `change`, and checks the rows shown and the count
   (`#shown[data-shown]`) equal the NON_COMPLIANT rows; then resets it and checks every row shows again;
5. captures the full page as a PNG (at most MAX_HEIGHT pixels tall) and checks it decodes and is not blank;
6. emulates print media and checks the filter controls are hidden and colours are kept.

Exit 0 when all holds; 1 with one `problem:` line per failure otherwise (a timeout too). Chromium is
always killed, with its whole process group, and its temporary profile removed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # CHROMIUM=/usr/bin/google-chrome, say
TIMEOUT = 60.0
READY_WAIT = 5.0  # seconds after the load event for the page's script to mark the body ready
WIDTH, HEIGHT = 1280, 900
MAX_HEIGHT = 10_000  # px; a 10,000-row report is far taller: the shot keeps its top (summary and ~300 rows)
FLAGS = (
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


class Timeout(Exception):
    pass


class BrowserGone(Exception):
    pass


class Browser:
    """Chromium with a DevTools pipe: `call` sends a command and waits for its answer, gathering events."""

    def __init__(self, binary: str, deadline: float):
        self.deadline = deadline
        self.profile = tempfile.mkdtemp(prefix="rdkpack-chromium-")
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (Chromium's output, closed in close())
        to_browser, self._to_browser = os.pipe()  # Chromium reads fd 3
        self._from_browser, from_browser = os.pipe()  # Chromium writes fd 4
        flags = [*FLAGS, f"--user-data-dir={self.profile}", f"--window-size={WIDTH},{HEIGHT}"]
        if os.geteuid() == 0:
            flags.append("--no-sandbox")  # Chromium's sandbox refuses to run as root

        def place_pipes():  # in the child, before exec: the pipe ends become fds 3 and 4
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser)]
            for target, fd in zip((3, 4), high, strict=True):
                os.dup2(fd, target)
                os.close(fd)

        try:
            self.process = subprocess.Popen(
                [binary, *flags, "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=self.log,
                stderr=self.log,
                preexec_fn=place_pipes,  # noqa: PLW1509 (single-threaded here: the reader starts after)
                pass_fds=(3, 4),  # keep fds 3 and 4 (placed by place_pipes) open across exec; close the rest
                start_new_session=True,  # its own process group: close() kills the renderers too
            )
        except OSError:
            for fd in (self._to_browser, self._from_browser):
                os.close(fd)
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        finally:
            os.close(to_browser)
            os.close(from_browser)
        self.events: list[dict] = []
        self._answers: queue.Queue = queue.Queue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_browser, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._answers.put(json.loads(message))
        self._answers.put(None)  # the browser closed its end

    def _next(self) -> dict:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise Timeout
        try:
            message = self._answers.get(timeout=remaining)
        except queue.Empty:
            raise Timeout from None
        if message is None:
            raise BrowserGone
        return message

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        command = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        try:
            os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        except BrokenPipeError:
            raise BrowserGone from None
        while True:
            message = self._next()
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, until: float) -> bool:
        """Gather events until `method` arrives (True) or `until` passes (False)."""
        if any(event.get("method") == method for event in self.events):
            return True
        while time.monotonic() < until:
            saved, self.deadline = self.deadline, min(self.deadline, until)
            try:
                message = self._next()
            except Timeout:
                return False
            finally:
                self.deadline = saved
            self.events.append(message)
            if message.get("method") == method:
                return True
        return False

    def stderr_tail(self) -> str:
        self.log.seek(0)
        lines = [line for line in self.log.read().decode(errors="replace").splitlines() if line.strip()]
        return " | ".join(lines[-3:])

    def close(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        os.close(self._to_browser)
        os.close(self._from_browser)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def page_errors(events: list[dict]) -> list[str]:
    """Console errors and asserts, uncaught exceptions, and browser log errors (CSP violations are these)."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            words = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
            found.append(f"console.{params['type']}: {' '.join(words)}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "")
            first = text.splitlines()[0] if text else "?"
            found.append(f"uncaught exception: {first} (line {details.get('lineNumber', 0) + 1})")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            found.append(f"browser log ({entry.get('source')}): {entry.get('text')}")
    return found


def png_colours(data: bytes, max_rows: int = 600) -> tuple[int, int, int]:
    """(width, height, distinct colours in the top `max_rows` rows) of an 8-bit RGB or RGBA PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour_type, *_rest, interlace = header
    if depth != 8 or colour_type not in (2, 6) or interlace:
        raise ValueError(f"unexpected PNG layout (depth {depth}, colour type {colour_type}, interlace {interlace})")
    pixel = 3 if colour_type == 2 else 4
    stride = width * pixel
    rows = min(height, max_rows)
    raw = zlib.decompressobj().decompress(b"".join(chunks), rows * (stride + 1))
    previous, colours = bytearray(stride), set()
    for row in range(rows):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        unfilter(kind, line, previous, pixel)
        colours.update(bytes(line[i : i + pixel]) for i in range(0, stride, pixel * 7))  # every 7th pixel
        previous = line
    return width, height, len(colours)


def unfilter(kind: int, line: bytearray, previous: bytearray, pixel: int) -> None:
    """Undo one PNG scanline filter in place (None, Sub, Up, Average, Paeth)."""
    if kind == 2:
        line[:] = bytes((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        return
    for i in range(len(line)) if kind in (1, 3, 4) else ():
        left = line[i - pixel] if i >= pixel else 0
        up, corner = previous[i], previous[i - pixel] if i >= pixel else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        else:
            guess = left + up - corner
            distances = (abs(guess - left), abs(guess - up), abs(guess - corner))
            line[i] = (line[i] + (left, up, corner)[distances.index(min(distances))]) & 0xFF


RENDERED = """(() => {
  const chart = document.getElementById("summary-chart");
  const box = chart ? chart.getBoundingClientRect() : {width: 0, height: 0};
  const rows = document.querySelectorAll("table[data-filterable] tbody tr[data-verdict]");
  return {ready: document.body.dataset.ready || "", chart: !!chart, width: box.width, height: box.height,
          rows: rows.length, form: !!document.getElementById("filters")};
})()"""

FILTER = """((verdict) => {
  const select = document.querySelector("#filters select[name=verdict]");
  if (!select) { return {missing: true}; }
  select.value = verdict;
  select.dispatchEvent(new Event("change", {bubbles: true}));
  const rows = [...document.querySelectorAll("table[data-filterable] tbody tr[data-verdict]")];
  return {rows: rows.length, expected: rows.filter(r => !verdict || r.dataset.verdict === verdict).length,
          visible: rows.filter(r => r.getClientRects().length > 0).length,
          counted: Number(document.getElementById("shown").dataset.shown)};
})"""

PRINTED = """(() => {
  const form = document.getElementById("filters");
  const cell = document.querySelector("table[data-filterable] td[class]") || document.body;
  const style = getComputedStyle(cell);
  return {formShown: !!form && form.getClientRects().length > 0,
          adjust: style.printColorAdjust || style.webkitPrintColorAdjust || ""};
})()"""


def evaluate(browser: Browser, session: str, expression: str):
    answer = browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
    if "exceptionDetails" in answer:
        raise RuntimeError(f"evaluating a check failed: {answer['exceptionDetails'].get('text')}")
    return answer["result"].get("value")


def open_page(browser: Browser, url: str) -> str:
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Runtime", "Log", "Page"):
        browser.call(f"{domain}.enable", session=session)
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        session,
    )
    browser.events.clear()  # about:blank's own events
    navigation = browser.call("Page.navigate", {"url": url}, session)
    if navigation.get("errorText"):
        raise RuntimeError(f"cannot load {url}: {navigation['errorText']}")
    return session


def check_rendering(browser: Browser, session: str, problems: list[str], ready_wait: float = READY_WAIT) -> dict:
    if not browser.wait_for("Page.loadEventFired", browser.deadline):
        raise Timeout
    until = time.monotonic() + ready_wait
    while (state := evaluate(browser, session, RENDERED))["ready"] != "true" and time.monotonic() < until:
        browser.wait_for("never", time.monotonic() + 0.1)  # gathers events meanwhile
    if state["ready"] != "true":
        problems.append(
            f"the page's script did not finish: document.body.dataset.ready is not 'true' {ready_wait:g} s after load"
        )
    if not state["chart"]:
        problems.append("no summary chart: #summary-chart is missing")
    elif not (state["width"] > 0 and state["height"] > 0):
        problems.append(f"the summary chart has an empty box ({state['width']}x{state['height']})")
    if not state["rows"]:
        problems.append("the results table has no rows (table[data-filterable] tbody tr[data-verdict])")
    if not state["form"]:
        problems.append("no filter form (#filters)")
    return state


def check_filter(browser: Browser, session: str, problems: list[str]) -> str:
    chosen = evaluate(browser, session, f"({FILTER})('NON_COMPLIANT')")
    if chosen.get("missing"):
        problems.append("no verdict filter (#filters select[name=verdict])")
        return "no filter"
    if not chosen["visible"] == chosen["expected"] == chosen["counted"]:
        problems.append(
            f"verdict filter NON_COMPLIANT shows {chosen['visible']} rows and counts {chosen['counted']}, "
            f"expected {chosen['expected']} of {chosen['rows']}"
        )
    cleared = evaluate(browser, session, f"({FILTER})('')")
    if not cleared["visible"] == cleared["rows"] == cleared["counted"]:
        problems.append(f"clearing the filter shows {cleared['visible']} of {cleared['rows']} rows")
    return f"filter NON_COMPLIANT {chosen['visible']} of {chosen['rows']} rows"


def check_screenshot(browser: Browser, session: str, output: Path, problems: list[str]) -> str:
    size = browser.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
    height = min(int(size["height"]), MAX_HEIGHT)
    # A viewport as tall as the shot paints only what is captured; captureBeyondViewport would lay out and
    # paint the whole page again, seconds for a 10,000-row report.
    metrics = {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}
    browser.call("Emulation.setDeviceMetricsOverride", metrics, session)
    clip = {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}
    shot = browser.call("Page.captureScreenshot", {"format": "png", "clip": clip}, session)
    browser.call("Emulation.setDeviceMetricsOverride", {**metrics, "height": HEIGHT}, session)
    data = base64.b64decode(shot["data"])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    try:
        width, height, colours = png_colours(data)
    except (ValueError, zlib.error, struct.error, TypeError) as error:
        problems.append(f"the screenshot {output} is not a readable PNG: {error}")
        return "unreadable screenshot"
    if colours < 2:
        problems.append(f"the screenshot {output} is blank (one colour in its top rows)")
    cut = f" (the top of {int(size['height'])} px)" if size["height"] > MAX_HEIGHT else ""
    return f"screenshot {output} {width}x{height} px{cut}, {len(data) // 1024} KiB, {colours} colours at the top"


def check_print(browser: Browser, session: str, problems: list[str]) -> None:
    browser.call("Emulation.setEmulatedMedia", {"media": "print"}, session)
    printed = evaluate(browser, session, PRINTED)
    if printed["formShown"]:
        problems.append("in print media the filter controls (#filters) are still shown")
    if printed["adjust"] != "exact":
        problems.append(f"in print media the verdict colours are not kept (print-color-adjust: {printed['adjust']!r})")
    browser.call("Emulation.setEmulatedMedia", {"media": ""}, session)


def check(report: Path, output: Path, binary: str, timeout: float, ready_wait: float = READY_WAIT) -> list[str]:
    """Every problem found, or [] (and a summary line printed) when the report passes."""
    if not Path(binary).is_file():
        return [f"{binary} not found: install Chromium with scripts/install-chromium.sh"]
    if not report.is_file():
        return [f"{report}: no such file"]
    problems: list[str] = []
    notes: list[str] = []
    try:
        browser = Browser(binary, time.monotonic() + timeout)
    except OSError as error:
        return [f"cannot start {binary}: {error}"]
    try:
        browser.call("Browser.getVersion")
        session = open_page(browser, report.resolve().as_uri())
        state = check_rendering(browser, session, problems, ready_wait)
        notes.append(f"{state['rows']} rows")
        if state["ready"] == "true":
            notes.append(check_filter(browser, session, problems))
        notes.append(check_screenshot(browser, session, output, problems))
        check_print(browser, session, problems)
        browser.wait_for("never", time.monotonic() + 0.2)  # late console messages
    except Timeout:
        problems.append(f"timed out after {timeout:g} s")
    except BrowserGone:
        problems.append(f"Chromium exited (code {browser.process.poll()}): {browser.stderr_tail() or 'no output'}")
    except RuntimeError as error:
        problems.append(str(error))
    except OSError as error:  # the screenshot cannot be written
        problems.append(f"cannot write the screenshot {output}: {error.strerror or error}")
    finally:
        browser.close()
    problems = page_errors(browser.events) + problems
    if not problems:
        print(f"ok: {report}: {', '.join(notes)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="the HTML report to open")
    parser.add_argument("screenshot", type=Path, help="where to write the full-page PNG")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"the browser binary (default {CHROMIUM})")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help=f"seconds for the whole check ({TIMEOUT:g})")
    parser.add_argument(
        "--ready-wait",
        type=float,
        default=READY_WAIT,
        help=f"seconds after load for the page's script ({READY_WAIT:g})",
    )
    args = parser.parse_args(argv)
    # SIGTERM (a CI job cancelled) unwinds like an error, so Chromium is still killed in Browser.close.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    problems = check(args.report, args.screenshot, args.chromium, args.timeout, args.ready_wait)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
