"""MkDocs hook (mkdocs.yml `hooks:`): the HTML report's screenshot goes into the site.

`make report-check` renders the demo's HTML report in headless Chromium and writes the full-page screenshot to
reports/demo-report.png (scripts/check_report_in_browser.py); `make docs` runs it first, so the site built by
`make test` always shows the report as this commit renders it. The PNG is a build output (reports/ is ignored by
git), not a committed copy: its pixels depend on the machine's fonts, so no staleness check could compare it.

Built without it (`mkdocs build` on a fresh clone before `make report-check`), the site says so with a warning,
which `--strict` turns into a failure naming the command to run.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mkdocs.structure.files import File

SCREENSHOT = Path("reports") / "demo-report.png"  # relative to mkdocs.yml's folder, the project root
SITE_PATH = "assets/demo-report.png"  # where docs/guides/scan.md shows it

log = logging.getLogger("mkdocs.hooks.screenshot")


def on_files(files, config):
    source = Path(config.config_file_path).parent / SCREENSHOT
    if source.is_file():
        files.append(File.generated(config, SITE_PATH, abs_src_path=str(source)))
    else:
        log.warning(
            f"{SCREENSHOT} is missing: run `make report-check` (make docs does) to take it in headless Chromium"
        )
    return files
