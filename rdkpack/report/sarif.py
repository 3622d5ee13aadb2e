"""SARIF 2.1.0, for code scanning (GitHub and other SARIF readers)."""

from __future__ import annotations

import hashlib
import json

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def fingerprint(text: str) -> str:
    """The same for the same resource in every run. A lone surrogate (JSON can carry one in a resource id) is
    hashed as its code unit instead of failing the report; the document itself keeps it JSON-escaped."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def to_sarif(report, title: str) -> str:
    """SARIF 2.1.0 for code scanning: a rule per guardrail, a result per NON_COMPLIANT evaluation, located
    logically at the resource (account/region/type/id) and physically at rdk-config.json, which chose the values."""
    names = sorted({r.rule for r in report.before} | set(getattr(report, "descriptions", {})))
    descriptions = getattr(report, "descriptions", {})
    rules = [
        {
            "id": name,
            "name": "".join(part.capitalize() for part in name.split("_")),
            "shortDescription": {"text": descriptions.get(name, name)[:1000]},
            "fullDescription": {"text": descriptions.get(name, name)},
            "help": {"text": f"{descriptions.get(name, name)} See docs/rules/{name}.md."},
            "defaultConfiguration": {"level": "warning"},
        }
        for name in names
    ]
    results = []
    for result in report.before:
        if result.compliance != "NON_COMPLIANT":
            continue
        place = "/".join(
            part for part in (result.account, result.region, result.resource_type, result.resource_id) if part
        )
        results.append(
            {
                "ruleId": result.rule,
                "ruleIndex": names.index(result.rule),
                "level": "warning",
                "message": {"text": result.annotation or result.rule},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": "rdk-config.json"},
                            "region": {"startLine": 1},
                        },
                        "logicalLocations": [
                            {"name": result.resource_id, "fullyQualifiedName": place, "kind": "resource"}
                        ],
                    }
                ],
                "partialFingerprints": {"rdkpackResource/v1": fingerprint(f"{result.rule}|{place}")},
            }
        )
    run = {
        "tool": {"driver": {"name": "rdkpack", "informationUri": "https://github.com/rdk-guardrails", "rules": rules}},
        "automationDetails": {"id": f"{report.pack}/"},
        "results": results,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
