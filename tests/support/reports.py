"""Reports built in memory for the renderers' tests (no AWS, no moto), and a parser for the HTML page."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser

from rdkpack.account.demo import DemoReport, RemediationRun
from rdkpack.account.org import Failure, OrgReport
from rdkpack.account.scan import Result, ScanReport

HOSTILE = "<script>alert(1)</script>\"' onmouseover=alert(2) ]]> \x00\x07\x1b[31m <img src=x>"
ENDPOINT = "VPC_ENDPOINT_AZ_COUNT_CHECK"
EXTRA_AZ = "The endpoint spans 3 AZs; the maximum is 1. The 2 extra AZ(s) cost about $14.60 a month (2 x ...)."
# (rule, resource type, id stem, verdict, annotation), repeated to any size
CASES = [
    ("LAMBDA_LAYER_CHECK", "AWS::Lambda::Function", "orders", "NON_COMPLIANT", "The function has no layers."),
    ("LAMBDA_LAYER_CHECK", "AWS::Lambda::Function", "search", "COMPLIANT", "Layer company-base is at version 2."),
    ("LAMBDA_LAYER_CHECK", "AWS::Lambda::Function", "ml", "NOT_APPLICABLE", "Image package type."),
    ("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "AWS::S3::Bucket", "logs", "ERROR", "access denied for s3:GetLifecycle"),
    ("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "AWS::S3::Bucket", "star", "NON_COMPLIANT", "prefix '*' selects nothing"),
    ("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "AWS::S3::Bucket", "clean", "COMPLIANT", "No lifecycle rule has '*'."),
    (ENDPOINT, "AWS::EC2::VPCEndpoint", "vpce-wide", "NON_COMPLIANT", EXTRA_AZ),
    (ENDPOINT, "AWS::EC2::VPCEndpoint", "vpce-ok", "COMPLIANT", "The endpoint spans 1 AZ(s) (max 1)."),
]


def sample_results(size: int = len(CASES)) -> list[Result]:
    """`size` results cycling through CASES, each with its own resource id."""
    cases = itertools.islice(itertools.cycle(CASES), size)
    return [
        Result(rule, kind, f"{stem}-{index}", verdict, annotation)
        for index, (rule, kind, stem, verdict, annotation) in enumerate(cases)
    ]


def hostile_results() -> list[Result]:
    return [
        *sample_results(),
        Result("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "AWS::S3::Bucket", HOSTILE, "NON_COMPLIANT", HOSTILE),
    ]


def scan_report(results: list[Result] | None = None) -> ScanReport:
    return ScanReport("rdk-guardrails-sandbox", "api", sample_results() if results is None else results)


ACCOUNTS = ("555555555555", "666666666666")
REGIONS = ("eu-west-1", "us-east-1")
UNSCANNED = Failure("777777777777", "us-east-1", "cannot assume R: access denied for sts:AssumeRole")


def org_report() -> OrgReport:
    """Two accounts in two regions, each with the sample results (one endpoint over the maximum each), and one
    account-region that could not be scanned."""
    results = [
        replace(result, account=account, region=region)
        for account in ACCOUNTS
        for region in REGIONS
        for result in sample_results()
    ]
    return OrgReport("rdk-guardrails-org-baseline", "role R", results, [UNSCANNED], {"X_CHECK": "reads live APIs"})


def demo_report() -> DemoReport:
    """Before: the sample; after: the layer and endpoint fixed, the bucket refused."""
    before = sample_results()
    fixed = {"orders-0", "vpce-wide-6"}
    after = [replace(r, compliance="COMPLIANT", annotation="fixed") if r.resource_id in fixed else r for r in before]
    runs = [
        RemediationRun("LAMBDA_LAYER_CHECK", "AddRequiredLambdaLayer", "orders-0", "Would append", "CHANGED", "ok"),
        RemediationRun(ENDPOINT, "ReduceVpcEndpointAzCount", "vpce-wide-6", "Would remove", "CHANGED", "Removed"),
        RemediationRun(
            "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "FixS3LifecycleAsteriskPrefix", "star-4", "refused", "FAILED", HOSTILE
        ),
    ]
    return DemoReport("rdk-guardrails-sandbox", 1, 7, before, runs, after, 1.5)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)


class Page(HTMLParser):
    """An HTML page as the tests read it: every element with its attributes, the raw text of <script>, <style>
    and <svg> blocks, and each table's rows as (row attributes, cell texts)."""

    VOID = frozenset({"meta", "col", "input", "br", "img", "link", "rect", "hr"})

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.source = source
        self.elements: list[Element] = []
        self.tables: dict[str, list[tuple[dict, list[str]]]] = {}
        self._open: list[Element] = []
        self._table: str | None = None
        self._row: tuple[dict, list[str]] | None = None
        self._cell: list[str] | None = None
        self.feed(source)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.elements.append(element)
        if tag == "table":
            self._table = element.attrs.get("id", f"table-{len(self.tables)}")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = (element.attrs, [])
            self.tables[self._table].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        if tag not in self.VOID:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self._open.pop()

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row[1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data):
        for element in self._open:
            element.text += data
        if self._cell is not None:
            self._cell.append(data)

    def all(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]

    def by_id(self, name: str) -> Element:
        return next(e for e in self.elements if e.attrs.get("id") == name)

    def raw_blocks(self, tag: str) -> list[str]:
        """The exact source text inside each <tag>...</tag> (what a CSP hash covers)."""
        blocks, start = [], 0
        while (begin := self.source.find(f"<{tag}", start)) != -1:
            opened = self.source.index(">", begin) + 1
            end = self.source.index(f"</{tag}>", opened)
            blocks.append(self.source[opened:end])
            start = end
        return blocks

    def table(self, name: str) -> list[dict[str, str]]:
        """A table's body rows as {header: cell} (the first row is the header)."""
        header, *rows = self.tables[name]
        return [dict(zip(header[1], cells, strict=False)) | {"_attrs": attrs} for attrs, cells in rows]
