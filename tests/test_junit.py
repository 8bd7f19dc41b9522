"""The JUnit XML reporter: one test case per rule x resource; failures, skips and errors where CI expects them."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from walens.reporters import FORMATS, render

REPO = Path(__file__).resolve().parents[1]
REVIEW = json.loads((REPO / "tests" / "fixtures" / "reporters" / "review.json").read_text())


def parse(doc: dict, lang: str = "en") -> ET.Element:
    text = render("junit", doc, lang)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode())


def test_registered_as_a_format() -> None:
    assert "junit" in FORMATS


def test_one_case_per_result_with_failures_and_skips() -> None:
    root = parse(REVIEW)
    findings = REVIEW["findings"]
    own = [s for s in root if s.get("name") == "walens"]
    cases = [c for s in root if s.get("name") != "walens" for c in s]
    assert len(cases) == len(findings)
    by_status = {s: sum(f["status"] == s for f in findings) for s in ("fail", "pass", "not_assessed", "suppressed", "accepted")}
    assert sum(c.find("failure") is not None for c in cases) == by_status["fail"]
    assert sum(c.find("skipped") is not None for c in cases) == (
        by_status["not_assessed"] + by_status["suppressed"] + by_status["accepted"])
    errors = len(REVIEW.get("errors") or [])
    assert (len(list(own[0])) if own else 0) == errors
    # totals on <testsuites> and each <testsuite> add up
    for key in ("tests", "failures", "errors", "skipped"):
        assert int(root.get(key)) == sum(int(s.get(key)) for s in root)
    assert int(root.get("tests")) == len(findings) + errors


def test_a_failure_names_rule_resource_file_and_line() -> None:
    fail = next(f for f in REVIEW["findings"] if f["status"] == "fail" and f.get("location"))
    root = parse(REVIEW)
    suite = next(s for s in root if s.get("name") == fail["location"]["file"])
    case = next(c for c in suite if c.get("name") == f"{fail['rule_id']} {fail['rule_name']}: {fail['resource']['id']}")
    assert case.get("classname") == f"walens.{fail['pillar']}.{fail['rule_id']}"
    assert case.get("file") == fail["location"]["file"] and case.get("line") == str(fail["location"]["line"])
    failure = case.find("failure")
    assert failure.get("type") == fail["severity"] and failure.get("message") == fail["message"]
    assert "Location:" in failure.text


def test_hostile_text_is_escaped_and_invalid_characters_dropped() -> None:
    doc = copy.deepcopy(REVIEW)
    fail = next(f for f in doc["findings"] if f["status"] == "fail")
    fail["message"] = 'a <b> & "c" \x1b[31m ]]> \x00 end'
    fail["resource"]["id"] = "<Evil&Id>"
    root = parse(doc)  # parses: nothing broke the XML
    case = next(c for s in root for c in s if c.get("name", "").endswith("<Evil&Id>"))
    assert case.find("failure").get("message") == 'a <b> & "c" \ufffd[31m ]]> \ufffd end'


def test_japanese() -> None:
    root = parse(REVIEW, "ja")
    texts = [c.find("failure").text for s in root for c in s if c.find("failure") is not None]
    assert texts and all("重大度" in t for t in texts)
