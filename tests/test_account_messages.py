"""Account mode names children by their parents: a stage by its API, an event source mapping by its source
and function, never by a UUID; no message shows "None" or "(unknown)"."""

from __future__ import annotations

import pytest

pytest.importorskip("moto")

from tests.test_account_scan import REGION, aws, scan, seed  # noqa: E402,F401
from tests.test_messages import BAD_TEXT  # noqa: E402


def test_stage_and_mapping_messages_name_their_api_source_and_function(aws: None) -> None:
    seed()
    doc = scan(select=[], regions=[REGION])
    by_rule: dict[str, list[str]] = {}
    for f in doc["findings"]:
        if f["status"] != "pass":
            by_rule.setdefault(f["rule_id"], []).append(f["message"])
    assert "Stage dev of API orders does not trace requests with AWS X-Ray (TracingEnabled is not true)" in by_rule["OPS002"]
    assert any(m.startswith("Stage beta of API web sets no DefaultRouteSettings") for m in by_rule["REL002"])
    assert [m for m in by_rule["REL004"] if "legacy" in m] == [
        "Event source mapping legacy → bad-fn does not set FunctionResponseTypes ReportBatchItemFailures: "
        "one bad record fails the whole batch"]
    assert any(m.startswith("Function URL bad-fn uses AuthType NONE") for m in by_rule["SEC004"])
    assert [m for messages in by_rule.values() for m in messages if BAD_TEXT.search(m)] == []
