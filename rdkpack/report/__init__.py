"""Render scan and demo results: the terminal, Markdown, HTML, JSON, JUnit XML and SARIF files.

Resource IDs, annotations and remediation messages come from AWS data, so every renderer escapes them
for its own format.
"""

from rdkpack.report.html_page import to_html
from rdkpack.report.junit import to_junit
from rdkpack.report.markdown import to_markdown
from rdkpack.report.outputs import FORMATS, Output, plan_outputs, renderer, to_json
from rdkpack.report.rows import group_rows
from rdkpack.report.sarif import to_sarif
from rdkpack.report.terminal import print_demo, print_org, print_rollout_status, print_scan

__all__ = [
    "FORMATS",
    "Output",
    "group_rows",
    "plan_outputs",
    "print_demo",
    "print_org",
    "print_rollout_status",
    "print_scan",
    "renderer",
    "to_html",
    "to_json",
    "to_junit",
    "to_markdown",
    "to_sarif",
]
