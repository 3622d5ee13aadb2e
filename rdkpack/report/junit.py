"""JUnit XML, as CI test-result readers take it."""

from __future__ import annotations

from collections import Counter
from xml.etree import ElementTree

from rdkpack.account.scan import Result
from rdkpack.report.rows import printable


def xml_text(value) -> str:
    """Resource-derived text for an XML attribute. ElementTree escapes `&`, `<`, `>`, quotes and line breaks, but
    writes a control character raw, which XML 1.0 forbids even as a character reference: `printable` shows every
    character XML 1.0 forbids (C0 controls but tab and line feed, lone surrogates, U+FFFE, U+FFFF), and every bidi
    and zero-width character, as an escape such as `\\x07` or `\\u202e`."""
    return printable(value)


def to_junit(report, title: str) -> str:
    """JUnit XML as CI readers take it: a suite per rule, a case per evaluation; NON_COMPLIANT is a failure,
    ERROR an error, NOT_APPLICABLE skipped. Results before remediation (a scan's only results)."""
    suites = ElementTree.Element("testsuites", name=xml_text(title))
    by_rule: dict[str, list[Result]] = {}
    for result in report.before:
        by_rule.setdefault(result.rule, []).append(result)
    totals = Counter()
    for rule, results in by_rule.items():
        tally = Counter(r.compliance for r in results)
        counts_ = {"tests": len(results), "failures": tally["NON_COMPLIANT"], "errors": tally["ERROR"]}
        counts_["skipped"] = tally["NOT_APPLICABLE"]
        totals.update(counts_)
        suite = ElementTree.SubElement(
            suites, "testsuite", name=xml_text(rule), **{k: str(v) for k, v in counts_.items()}
        )
        for result in results:
            where = f" ({result.account} {result.region})" if result.account else ""
            name = xml_text(f"{result.resource_type} {result.resource_id}{where}")
            case = ElementTree.SubElement(suite, "testcase", classname=xml_text(rule), name=name)
            outcome = {"NON_COMPLIANT": "failure", "ERROR": "error", "NOT_APPLICABLE": "skipped"}.get(result.compliance)
            if outcome:
                ElementTree.SubElement(
                    case, outcome, message=xml_text(result.annotation), type=xml_text(result.compliance)
                )
    for key in ("tests", "failures", "errors", "skipped"):
        suites.set(key, str(totals[key]))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"
