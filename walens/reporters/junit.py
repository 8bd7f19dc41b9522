"""The JUnit XML reporter: one test case per rule x resource, for CI systems that show test reports.

- one ``<testsuite>`` per template (per input of the review), named by its path;
- one ``<testcase>`` per result: ``classname`` ``walens.<pillar>.<rule ID>``, ``name``
  ``<rule ID> <rule name>: <logical ID>``, with ``file`` and ``line`` of the authored resource;
- ``fail`` → ``<failure>`` (type = severity, message = the finding's message, body = location,
  rationale and how to fix); a baselined failure (``--baseline``), ``suppressed``, ``accepted`` and
  ``not_assessed`` → ``<skipped>`` with the reason; ``pass`` → an empty test case;
- unreadable inputs and malformed suppressions → ``<error>`` in a ``walens`` suite;
  unused suppressions (``--report-unused-suppressions``) → ``<failure>`` there.

Text is stripped of characters XML 1.0 cannot carry; ElementTree escapes the rest.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from walens.reporters._common import (
    Labels,
    finding_message,
    location_key,
    rule_text,
    suppression_text,
    where,
)

_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(value: object) -> str:
    return _INVALID_XML.sub("\ufffd", str(value if value is not None else ""))


def _case(doc: Mapping[str, Any], f: Mapping[str, Any], t: Labels) -> tuple[ET.Element, str]:
    resource = f.get("resource") or {}
    rule_id = str(f.get("rule_id"))
    loc = f.get("location") or {}
    case = ET.Element("testcase", {
        "classname": _x(f"walens.{f.get('pillar')}.{rule_id}"),
        "name": _x(f"{rule_id} {f.get('rule_name') or ''}: {resource.get('id') or resource.get('arn') or ''}"),
    })
    if loc.get("file"):
        case.set("file", _x(loc["file"]))
        if loc.get("line"):
            case.set("line", str(int(loc["line"])))
    status = str(f.get("status"))
    message = finding_message(doc, f, t.lang)
    if status == "fail" and not f.get("baselined"):
        failure = ET.SubElement(case, "failure", {"type": _x(f.get("severity")), "message": _x(message)})
        body = [f"{t('severity')}: {t.severity(str(f.get('severity')))}", f"{t('location')}: {where(f)}",
                f"{t('resource')}: {resource.get('id')} ({resource.get('type')})"]
        if resource.get("origin") and resource.get("origin") != resource.get("id"):
            body[-1] += f", {t('generated_from')} {resource.get('origin')} ({resource.get('origin_type')})"
        for field in ("rationale", "remediation"):
            text = rule_text(doc, rule_id, field, t.lang)
            if text:
                body += ["", f"{t(field)}: {text}"]
        failure.text = _x("\n".join(body))
        return case, "failure"
    if status == "fail":  # baselined
        base = (doc.get("baseline") or {}).get("file") or ""
        ET.SubElement(case, "skipped", {"message": _x(f"{t('baselined_mark')} ({base}): {message}")})
        return case, "skipped"
    if status in ("suppressed", "accepted"):
        text = suppression_text(f, t) if f.get("suppression") else f"{t.status(status)}: {f.get('reason') or ''}"
        ET.SubElement(case, "skipped", {"message": _x(text)})
        return case, "skipped"
    if status == "not_assessed":
        ET.SubElement(case, "skipped", {"message": _x(f"{t.status(status)}: {f.get('reason') or ''}")})
        return case, "skipped"
    return case, "pass"


def _suite(name: str, cases: list[tuple[ET.Element, str]]) -> ET.Element:
    suite = ET.Element("testsuite", {
        "name": _x(name), "tests": str(len(cases)),
        "failures": str(sum(k == "failure" for _, k in cases)),
        "errors": str(sum(k == "error" for _, k in cases)),
        "skipped": str(sum(k == "skipped" for _, k in cases)),
    })
    for case, _ in cases:
        suite.append(case)
    return suite


def build(doc: Mapping[str, Any], lang: str = "en") -> ET.Element:
    """The ``<testsuites>`` element of a review document."""
    t = Labels(lang)
    by_file: dict[str, list[tuple[ET.Element, str]]] = {}
    order = [str(i.get("path")) for i in (doc.get("scan") or {}).get("inputs") or []]
    for f in sorted(doc.get("findings") or [], key=location_key):
        loc = f.get("location") or {}
        key = str(loc.get("file") or (f.get("resource") or {}).get("region") or "walens")
        by_file.setdefault(key, []).append(_case(doc, f, t))
    names = [n for n in order if n in by_file] + sorted(n for n in by_file if n not in order)
    suites = [_suite(name, by_file[name]) for name in names]

    own: list[tuple[ET.Element, str]] = []
    for e in doc.get("errors") or []:
        case = ET.Element("testcase", {"classname": "walens.input", "name": _x(f"{e.get('kind')}: {e.get('file')}")})
        if e.get("file"):
            case.set("file", _x(e["file"]))
        if e.get("line"):
            case.set("line", str(int(e["line"])))
        ET.SubElement(case, "error", {"type": _x(e.get("kind")), "message": _x(e.get("message"))})
        own.append((case, "error"))
    for u in doc.get("unused_suppressions") or []:
        case = ET.Element("testcase", {"classname": "walens.suppressions",
                                       "name": _x(f"unused {u.get('kind')} suppression of {u.get('rule_id')}")})
        if u.get("file"):
            case.set("file", _x(u["file"]))
        if u.get("line"):
            case.set("line", str(int(u["line"])))
        failure = ET.SubElement(case, "failure", {"type": "unused-suppression", "message": _x(
            t("suppression_unused", kind=u.get("kind"), rule=u.get("rule_id")))})
        failure.text = _x(f"{t('resource')}: {u.get('resource') or ', '.join(u.get('resources') or []) or '*'}\n"
                          f"{t('reason')}: {u.get('reason') or ''}")
        own.append((case, "failure"))
    if own:
        suites.append(_suite("walens", own))

    root = ET.Element("testsuites", {"name": "walens"})
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key) or 0) for s in suites)))
    root.extend(suites)
    return root


def render(doc: dict[str, Any], lang: str = "en", *, color: bool = False) -> str:
    """The review as JUnit XML text."""
    root = build(doc, lang)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
