"""wa-tool push against the real wellarchitected service model (botocore Stubber; moto has no WA Tool API)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.stub import ANY, Stubber  # noqa: E402

from walens import watool  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WID = "0123456789abcdef0123456789abcdef"
LENS = "serverless"


def _client() -> Any:
    return boto3.client("wellarchitected", region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def _entry(choice: str, question: str, status: str, check: str, failing: list[str] | None = None) -> dict:
    return {"choice": choice, "question": question, "pillar": "x", "status": status, "check": check,
            "rules": ["R1"], "failing_rules": failing or [], "answer": None}


def _doc() -> dict:
    return {
        "schema_version": "1", "tool": {"version": "0.1.0"}, "scan": {"finished_at": "2025-03-01T00:00:00+00:00"},
        "lens": [
            _entry("ops_ops_q1_a1", "ops_q1", "risk", "PARTIAL", ["OPS008"]),
            _entry("ops_ops_q1_a3", "ops_q1", "evidenced", "AUTO"),
            _entry("ops_ops_q1_a4", "ops_q1", "evidenced", "PARTIAL"),
            _entry("ops_ops_q1_a2", "ops_q1", "evidenced", "MANUAL"),
            _entry("sec_sec_q1_a3", "sec_q1", "not_applicable", "PARTIAL"),
            _entry("sec_sec_q1_a1", "sec_q1", "evidenced", "AUTO"),
            _entry("sec_sec_q1_a2", "sec_q1", "needs_answer", "PARTIAL"),
        ],
        "answers": {
            "ops_ops_q1_a2": {"answer": "met", "notes": "runbooks", "by": "alice", "at": "2025-02-20T00:00:00+00:00"},
            "sec_sec_q1_a3": {"answer": "not_applicable", "notes": "", "by": "bob", "at": "2025-02-20T00:00:00+00:00"},
        },
    }


def _summary(qid: str, choices: list[str], selected: list[str], na: list[str] = ()) -> dict:  # type: ignore[assignment]
    return {"QuestionId": qid, "PillarId": "operationalExcellence", "QuestionTitle": qid,
            "Choices": [{"ChoiceId": c, "Title": c} for c in choices], "SelectedChoices": selected,
            "ChoiceAnswerSummaries": [{"ChoiceId": c, "Status": "SELECTED" if c in selected else
                                       ("NOT_APPLICABLE" if c in na else "UNSELECTED")} for c in choices],
            "IsApplicable": True, "Risk": "UNANSWERED"}


OPS = ["ops_ops_q1_a1", "ops_ops_q1_a3", "ops_ops_q1_a4", "ops_ops_q1_a2", "ops_ops_q1_no"]
SEC = ["sec_sec_q1_a3", "sec_sec_q1_a1", "sec_sec_q1_a2", "sec_sec_q1_no"]
OTHER = ["rel_rel_q1_a1", "rel_rel_q1_no"]


def _reads(stub: Stubber, *, associated: bool = True, ops_notes: str = "", sec_notes: str = "Reviewed with the CTO",
           sec_selected: tuple[str, ...] = ("sec_sec_q1_no",)) -> None:
    """ListLensReviews (two pages), ListAnswers (three pages), GetAnswer per question the review covers."""
    stub.add_response("list_lens_reviews", {"LensReviewSummaries": [{"LensAlias": "wellarchitected"}], "NextToken": "L1"},
                      {"WorkloadId": WID, "MaxResults": 50})
    stub.add_response("list_lens_reviews",
                      {"LensReviewSummaries": [{"LensAlias": LENS}] if associated else []},
                      {"WorkloadId": WID, "MaxResults": 50, "NextToken": "L1"})
    if not associated:
        return
    stub.add_response("list_answers", {"AnswerSummaries": [_summary("ops_q1", OPS, ["ops_ops_q1_a1"])],
                                       "NextToken": "page-2", "LensAlias": LENS},
                      {"WorkloadId": WID, "LensAlias": LENS, "MaxResults": 50})
    stub.add_response("list_answers", {"AnswerSummaries": [_summary("rel_q1", OTHER, [])], "NextToken": "page-3"},
                      {"WorkloadId": WID, "LensAlias": LENS, "MaxResults": 50, "NextToken": "page-2"})
    stub.add_response("list_answers", {"AnswerSummaries": [_summary("sec_q1", SEC, list(sec_selected))]},
                      {"WorkloadId": WID, "LensAlias": LENS, "MaxResults": 50, "NextToken": "page-3"})
    stub.add_response("get_answer", {"Answer": {"QuestionId": "ops_q1", "Notes": ops_notes}},
                      {"WorkloadId": WID, "LensAlias": LENS, "QuestionId": "ops_q1"})
    stub.add_response("get_answer", {"Answer": {"QuestionId": "sec_q1", "Notes": sec_notes}},
                      {"WorkloadId": WID, "LensAlias": LENS, "QuestionId": "sec_q1"})


def _operations(client: Any) -> list[str]:
    seen: list[str] = []
    client.meta.events.register_first("before-call.*.*",
                                lambda model, **_: seen.append(model.name))
    return seen


def test_push_merges_per_choice_id_paginates_and_creates_a_milestone() -> None:
    client = _client()
    doc = _doc()
    with Stubber(client) as stub:
        _reads(stub)
        ops_notes = watool.notes_for(doc, "ops_q1", review_ref="7", report_url=None)
        # ops_q1: the person's selection of a1 stays (walens found a risk but --overwrite is off);
        # a3 (rules) and a2 (answered met) are added, in the WA Tool's choice order.
        stub.add_response("update_answer", {}, {
            "WorkloadId": WID, "LensAlias": LENS, "QuestionId": "ops_q1",
            "SelectedChoices": ["ops_ops_q1_a1", "ops_ops_q1_a3", "ops_ops_q1_a2"], "Notes": ops_notes})
        # sec_q1: 'None of these' chosen by a person blocks adding a1; the not-applicable answer is written;
        # hand-written notes are kept.
        stub.add_response("update_answer", {}, {
            "WorkloadId": WID, "LensAlias": LENS, "QuestionId": "sec_q1", "SelectedChoices": ["sec_sec_q1_no"],
            "ChoiceUpdates": {"sec_sec_q1_a3": {"Status": "NOT_APPLICABLE", "Reason": "OUT_OF_SCOPE"}}})
        stub.add_response("create_milestone", {"WorkloadId": WID, "MilestoneNumber": 4},
                          {"WorkloadId": WID, "MilestoneName": "walens 2025-03", "ClientRequestToken": ANY})
        result = watool.push(client, doc, WID, review_ref="7", milestone="walens 2025-03")
        stub.assert_no_pending_responses()
    ops, sec = result.questions
    assert ops.action == "updated" and ops.added == ["ops_ops_q1_a3", "ops_ops_q1_a2"]
    assert ops.kept == [("ops_ops_q1_a1", "selected in the WA Tool; walens found a risk: OPS008 (use --overwrite to unselect)")]
    assert sec.added == [] and sec.not_applicable == ["sec_sec_q1_a3"] and sec.notes.startswith("kept")
    assert sec.kept[0][0] == "sec_sec_q1_no"
    assert result.milestone == "created milestone 'walens 2025-03' (number 4)"
    assert watool.exit_code(result) == 0
    text = watool.render(result)
    assert "OPS 1 (ops_q1): updated" in text and "  + ops_ops_q1_a3" in text and "  = ops_ops_q1_a1:" in text
    assert "2 questions: 2 changed, 0 failed" in text
    assert "Full report: walens history show 7 --format html" in ops_notes and len(ops_notes) <= 2084


def test_overwrite_replaces_a_persons_selections_and_notes() -> None:
    client = _client()
    doc = _doc()
    with Stubber(client) as stub:
        _reads(stub)
        stub.add_response("update_answer", {}, {
            "WorkloadId": WID, "LensAlias": LENS, "QuestionId": "ops_q1",
            "SelectedChoices": ["ops_ops_q1_a3", "ops_ops_q1_a2"], "Notes": ANY})
        stub.add_response("update_answer", {}, {
            "WorkloadId": WID, "LensAlias": LENS, "QuestionId": "sec_q1", "SelectedChoices": ["sec_sec_q1_a1"],
            "ChoiceUpdates": {"sec_sec_q1_a3": {"Status": "NOT_APPLICABLE", "Reason": "OUT_OF_SCOPE"}},
            "Notes": ANY})
        result = watool.push(client, doc, WID, review_ref="7", overwrite=True)
        stub.assert_no_pending_responses()
    assert result.questions[0].removed == ["ops_ops_q1_a1"]
    assert result.questions[1].removed == ["sec_sec_q1_no"] and result.questions[1].notes == "written"


def test_dry_run_makes_no_write_call_and_says_what_would_change() -> None:
    client = _client()
    calls = _operations(client)
    with Stubber(client) as stub:
        _reads(stub)
        result = watool.push(client, _doc(), WID, review_ref="7", milestone="walens 2025-03", dry_run=True)
        stub.assert_no_pending_responses()
    assert calls == ["ListLensReviews", "ListLensReviews", "ListAnswers", "ListAnswers", "ListAnswers", "GetAnswer",
                     "GetAnswer"]
    assert not set(calls) & watool.WRITE_OPERATIONS
    assert [q.action for q in result.questions] == ["would update", "would update"]
    text = watool.render(result)
    assert "(dry run: nothing written)" in text and "would create milestone 'walens 2025-03'" in text
    assert "2 questions: 2 would change, 0 failed" in text


def test_dry_run_on_a_workload_without_the_lens_writes_nothing_either() -> None:
    client = _client()
    calls = _operations(client)
    with Stubber(client) as stub:
        _reads(stub, associated=False)
        result = watool.push(client, _doc(), WID, dry_run=True)
        stub.assert_no_pending_responses()
    assert result.lens == "would associate" and not set(calls) & watool.WRITE_OPERATIONS
    assert result.questions[0].added == ["ops_ops_q1_a3", "ops_ops_q1_a2"]


def test_the_lens_is_associated_when_missing() -> None:
    client = _client()
    with Stubber(client) as stub:
        _reads(stub, associated=False)
        stub.add_response("associate_lenses", {}, {"WorkloadId": WID, "LensAliases": [LENS]})
        stub.add_response("list_answers", {"AnswerSummaries": [_summary("ops_q1", OPS, [])]},
                          {"WorkloadId": WID, "LensAlias": LENS, "MaxResults": 50})
        stub.add_response("get_answer", {"Answer": {"QuestionId": "ops_q1"}},
                          {"WorkloadId": WID, "LensAlias": LENS, "QuestionId": "ops_q1"})
        stub.add_response("update_answer", {}, {"WorkloadId": WID, "LensAlias": LENS, "QuestionId": "ops_q1",
                                                "SelectedChoices": ["ops_ops_q1_a3", "ops_ops_q1_a2"], "Notes": ANY})
        result = watool.push(client, _doc(), WID)
        stub.assert_no_pending_responses()
    assert result.lens == "associated" and [q.question for q in result.questions] == ["ops_q1"]


def test_a_failed_update_is_reported_and_the_others_still_go_through() -> None:
    client = _client()
    with Stubber(client) as stub:
        _reads(stub)
        stub.add_client_error("update_answer", service_error_code="ValidationException",
                              service_message="Choice ops_ops_q1_a2 cannot be selected", http_status_code=400)
        stub.add_response("update_answer", {}, {
            "WorkloadId": WID, "LensAlias": LENS, "QuestionId": "sec_q1", "SelectedChoices": ["sec_sec_q1_no"],
            "ChoiceUpdates": {"sec_sec_q1_a3": {"Status": "NOT_APPLICABLE", "Reason": "OUT_OF_SCOPE"}}})
        result = watool.push(client, _doc(), WID, milestone="after")
        stub.assert_no_pending_responses()
    assert [q.action for q in result.questions] == ["failed", "updated"]
    assert result.questions[0].error == "ValidationException: Choice ops_ops_q1_a2 cannot be selected"
    assert result.milestone == "milestone 'after' not created: 1 question(s) failed"
    assert watool.exit_code(result) == 3
    text = watool.render(result)
    assert "OPS 1 (ops_q1): failed — ValidationException: Choice ops_ops_q1_a2 cannot be selected" in text


def test_a_failed_read_stops_with_a_clear_error() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("list_lens_reviews", service_error_code="AccessDeniedException",
                              service_message="not authorized", http_status_code=403)
        with pytest.raises(watool.WaToolError, match="ListLensReviews failed: AccessDeniedException: not authorized"):
            watool.push(client, _doc(), WID)


def test_notes_stay_within_the_limit_and_keep_the_pointer() -> None:
    lines = [f"✖ practice {i}: " + "x" * 300 for i in range(20)]
    notes = watool.fit_notes("[walens] head", lines, "Full report: https://example.com/r.html")
    assert len(notes) <= watool.NOTES_MAX
    assert notes.endswith("Full report: https://example.com/r.html")
    assert "more in the full report" in notes
    short = watool.fit_notes("[walens] head", ["a", "b"], "Full report: x")
    assert short == "[walens] head\na\nb\nFull report: x"


def test_bad_arguments_are_usage_errors() -> None:
    with pytest.raises(Exception, match="32 hex characters"):
        watool.check_workload_id("my-workload")
    with pytest.raises(Exception, match="3 to 100 characters"):
        watool.push(_client(), _doc(), WID, milestone="x")
    proc = subprocess.run([sys.executable, "-m", "walens", "wa-tool", "push", "--workload-id", "nope", "--dry-run"],
                          capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"})
    assert proc.returncode == 2 and "32 hex characters" in proc.stderr
