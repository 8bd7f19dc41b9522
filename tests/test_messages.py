"""What findings say: no "None", "(unknown)", reference placeholders or generated IDs in text shown to users;
a stage names its API and an event source mapping its source and function; a not-assessed finding says what
could not be checked instead of stating the problem."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from walens import engine
from walens.pipeline import scan_templates
from walens.reporters._common import finding_message

from corpus import INPUT as CORPUS

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "messages" / "stage_and_queue.yaml"
# Python's None, the old placeholder for an unread value, an unresolved reference, a UUID.
BAD_TEXT = re.compile(r"\bNone\b|\(unknown\)|\{\{|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def findings(doc: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["rule_id"] == rule_id and f["status"] != "pass"]


def test_a_stage_names_its_api_and_a_mapping_its_source_and_function() -> None:
    doc = scan_templates([str(FIXTURE)], fail_on="never")
    (stage,) = findings(doc, "OPS002")
    assert stage["message"] == "Stage prod of API OrdersApi does not trace requests with AWS X-Ray (TracingEnabled is not true)"
    (esm,) = findings(doc, "REL004")
    assert esm["message"].startswith("Event source mapping OrdersQueue → OrdersFunction does not set")
    # A saved review re-renders in the other language with the same names.
    assert finding_message(doc, stage, "ja").startswith("ステージ API OrdersApi の prod ")
    assert "OrdersQueue → OrdersFunction" in finding_message(doc, esm, "ja")
    ja = scan_templates([str(FIXTURE)], fail_on="never", lang="ja")
    assert findings(ja, "OPS002")[0]["message"] == finding_message(doc, stage, "ja")


def test_references_in_message_arguments_read_as_written() -> None:
    doc = scan_templates([str(FIXTURE)], fail_on="never")
    (pinned,) = findings(doc, "OPS022")
    assert "arn:aws:lambda:${AWS::Region}::runtime:python3.11::" in pinned["message"]
    assert engine.readable("{{ref:Queue}}") == "Queue"
    assert engine.readable("{{getatt:Queue.Arn}}") == "Queue.Arn"
    assert engine.readable("arn:aws:sqs:{{AWS::Region}}:{{AWS::AccountId}}:{{ref:Q}}") == \
        "arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:${Q}"


def test_a_not_assessed_finding_says_what_could_not_be_checked_and_why() -> None:
    doc = scan_templates([str(FIXTURE)], fail_on="never")
    retention = next(f for f in findings(doc, "COST002") if f["resource"]["id"] == "UnknownLogsFunction")
    assert retention["status"] == "not_assessed"
    assert retention["message"] == (
        "UnknownLogsFunction could not be checked for “Lambda function logs kept longer than needed”: "
        + retention["reason"])
    assert retention["params"]["days"] is None
    assert finding_message(doc, retention, "ja").startswith("UnknownLogsFunction は「")


def _shows_what_walens_made_up(message: str, source: str) -> bool:
    """A bad text in a message, unless the template wrote it (a topic ARN may end in a UUID)."""
    return any(m.group(0) not in source for m in BAD_TEXT.finditer(message))


@pytest.mark.corpus
def test_no_message_on_the_corpus_or_the_examples_shows_none_unknown_placeholders_or_uuids() -> None:
    paths = sorted(str(p) for p in CORPUS.iterdir() if not p.name.startswith("error_"))
    paths += [str(REPO / "examples")]
    sources: dict[str, str] = {}
    for lang in ("en", "ja"):
        doc = scan_templates(paths, fail_on="never", lang=lang, jobs=1)
        bad = []
        for f in doc["findings"]:
            if f["status"] == "pass" or not BAD_TEXT.search(f["message"]):
                continue
            file = (f.get("location") or {}).get("file") or ""
            if file not in sources:
                sources[file] = Path(file).read_text(encoding="utf-8") if Path(file).is_file() else ""
            if _shows_what_walens_made_up(f["message"], sources[file]):
                bad.append((f["rule_id"], f["resource"]["id"], f["message"]))
        assert bad == []


def test_a_uuid_the_template_wrote_may_be_shown_but_not_one_walens_made_up() -> None:
    topic = "arn:aws:sns:us-west-2:987654321098:key/dec86919-7219-4e8d-8871-7f1609df2c7f"
    assert not _shows_what_walens_made_up(f"invoked by sns {topic}", f"Topic: {topic}")
    assert _shows_what_walens_made_up(f"invoked by sns {topic}", "Topic: !Ref Topic")
    assert _shows_what_walens_made_up("Function X has None", "")


KINDS = REPO / "tests" / "fixtures" / "messages" / "websocket_and_rest.yaml"


def test_each_finding_gets_the_example_for_its_kind_of_api() -> None:
    from walens.reporters import render
    from walens.reporters._common import finding_examples, rule_example

    doc = scan_templates([str(KINDS)], fail_on="never", select=["OPS014"])
    by_resource = {f["resource"]["id"]: f for f in doc["findings"]}
    websocket, rest = by_resource["ChatApiProdStage"], by_resource["OrdersApiprodStage"]
    assert (websocket["status"], rest["status"]) == ("fail", "fail")
    assert websocket["example"] == "example_websocket" and "example" not in rest
    ws_example, ws_cfn = finding_examples(doc, websocket)
    assert "ProtocolType: WEBSOCKET" in ws_example and ws_cfn == ""
    assert "AWS::Serverless::Api" in finding_examples(doc, rest)[0]
    markdown = render("markdown", doc, "en")
    # Markdown explains a rule once, then lists its occurrences: a rule whose findings mix kinds of API
    # shows its example and then each kind's, labelled.
    explained = markdown[markdown.index("#### OPS014"):].split("</details>")[0]
    assert "Example (WebSocket API)" in explained and "ProtocolType: WEBSOCKET" in explained
    html = render("html", doc, "en")
    assert "Example (WebSocket API)" in html and rule_example(doc, "OPS014", "example_websocket")


def test_a_public_api_lists_its_open_methods_by_verb_and_path() -> None:
    doc = scan_templates([str(FIXTURE)], fail_on="never", select=["SEC002"])
    (api,) = findings(doc, "SEC002")
    assert "has methods without an authorizer (GET /orders)" in api["message"]
