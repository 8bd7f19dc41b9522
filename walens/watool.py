"""Write a review into an AWS Well-Architected Tool workload (the ``serverless`` lens).

The only part of walens that writes to AWS, and only on ``walens wa-tool push``; never run by a scan.
Steps: make sure the workload has the lens (ListLensReviews, AssociateLenses), read the current
answers (ListAnswers, paginated with NextToken; GetAnswer for each question's notes), merge our
result **per ChoiceId** (never by position), write each changed question (UpdateAnswer), and
optionally record a milestone (CreateMilestone). ``dry_run`` makes only the read calls.

What walens selects: a best practice rules evidence on their own (AUTO, status evidenced) or one a
person answered "met" (``walens answer``); "not applicable" answers become NOT_APPLICABLE choices.
What a person selected in the WA Tool is kept unless ``overwrite``: walens never unselects a
choice, clears "None of these" or replaces hand-written notes without it. Notes fit the WA Tool's
2,084-character limit: a summary per best practice and a pointer to the full report.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from walens.errors import EXIT_INPUT, EXIT_OK, UsageError, WalensError, need_extra

LENS_ALIAS = "serverless"
NOTES_MAX = 2084
NOTES_MARK = "[walens]"
WRITE_OPERATIONS = frozenset({"AssociateLenses", "UpdateAnswer", "CreateMilestone"})
_WORKLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_SYMBOL = {"risk": "✖", "evidenced": "✔", "needs_answer": "?", "not_applicable": "–", "not_assessed": "…"}


class WaToolError(WalensError):
    """A WA Tool call failed in a way that stops the push (a read, or the lens association)."""

    exit_code = EXIT_INPUT


def check_workload_id(value: str) -> str:
    """A WA Tool WorkloadId: 32 lower-case hex characters (as the service model requires)."""
    if not _WORKLOAD_ID.match(value or ""):
        raise UsageError(f"--workload-id {value!r}: expected the WA Tool WorkloadId, 32 hex characters "
                         "(the last part of the workload ARN)")
    return value


def make_client(*, profile: str | None = None, region: str | None = None) -> Any:
    """A ``wellarchitected`` client (boto3 imported here only)."""
    need_extra("boto3", "walens wa-tool push")
    import boto3
    from botocore.exceptions import BotoCoreError, ProfileNotFound

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        if session.region_name is None:
            raise UsageError("no AWS Region: name the WA Tool workload's Region with --region")
        return session.client("wellarchitected")
    except ProfileNotFound as exc:
        raise UsageError(f"--profile: {exc}") from exc
    except BotoCoreError as exc:
        raise UsageError(f"cannot create the WA Tool client: {exc}") from exc


def _error_text(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    if error:
        return f"{error.get('Code')}: {error.get('Message')}"
    return f"{type(exc).__name__}: {exc}"


def _call(client: Any, operation: str, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    method = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
    try:
        return getattr(client, method)(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise WaToolError(f"WA Tool {operation} failed: {_error_text(exc)}") from exc


# ---------------------------------------------------------------------------------------------
# What the review says per ChoiceId


@dataclass(frozen=True)
class Intent:
    """What walens wants for one choice, and why."""

    action: str  # select | unselect | not_applicable | none
    why: str


def intents(doc: Mapping[str, Any]) -> dict[str, Intent]:
    """ChoiceId → what to do in the WA Tool, from the review's lens coverage and answers."""
    out: dict[str, Intent] = {}
    answers = doc.get("answers") or {}
    for entry in doc.get("lens") or []:
        choice = str(entry.get("choice"))
        answer = answers.get(choice) or entry.get("answer")
        status = str(entry.get("status"))
        failing = ", ".join(entry.get("failing_rules") or [])
        if isinstance(answer, Mapping) and answer.get("answer"):
            kind = str(answer["answer"])
            who = f"answered {kind} by {answer.get('by')}"
            action = {"met": "select", "not_met": "unselect", "not_applicable": "not_applicable"}.get(kind, "none")
            out[choice] = Intent(action, who + (f"; walens found a risk: {failing}" if failing else ""))
        elif status == "risk":
            out[choice] = Intent("unselect", f"walens found a risk: {failing}" if failing else "walens found a risk")
        elif status == "evidenced" and str(entry.get("check")) == "AUTO":
            out[choice] = Intent("select", "evidenced by rules: " + ", ".join(entry.get("rules") or []))
        elif status == "evidenced":
            out[choice] = Intent("none", "partly evidenced by rules; a person still answers the rest")
        else:
            out[choice] = Intent("none", {"needs_answer": "needs a person's answer",
                                          "not_assessed": "not assessed: its rules could not see what they need"}
                                 .get(status, "nothing to judge"))
    return out


def notes_for(doc: Mapping[str, Any], question: str, *, review_ref: str | None, report_url: str | None) -> str:
    """The question's notes: one line per best practice, then where the full report is (≤ 2,084 chars)."""
    from walens import lens

    tool = doc.get("tool") or {}
    when = str((doc.get("scan") or {}).get("finished_at") or "")[:10]
    head = f"{NOTES_MARK} walens {tool.get('version', '')} review {review_ref or ''} {when}".replace("  ", " ").strip()
    answers = doc.get("answers") or {}
    lines = []
    for entry in doc.get("lens") or []:
        if entry.get("question") != question:
            continue
        choice = str(entry.get("choice"))
        title = lens.choice(choice).title.en if lens.is_choice_id(choice) else choice
        status = str(entry.get("status"))
        line = f"{_SYMBOL.get(status, '')} {title}: {status.replace('_', ' ')}"
        if entry.get("failing_rules"):
            line += f" ({', '.join(entry['failing_rules'])})"
        answer = answers.get(choice)
        if answer:
            line += f"; answered {answer.get('answer')} by {answer.get('by')} on {str(answer.get('at'))[:10]}"
            if answer.get("notes"):
                line += f": {answer['notes']}"
        lines.append(line)
    pointer = f"Full report: {report_url}" if report_url else (
        f"Full report: walens history show {review_ref} --format html" if review_ref else "Full report: see the walens review")
    return fit_notes(head, lines, pointer)


def fit_notes(head: str, lines: list[str], pointer: str, limit: int = NOTES_MAX) -> str:
    """Head, as many lines as fit, a "(+N more)" marker, and the pointer, within ``limit`` characters."""
    tail = "\n" + pointer
    body = head
    for i, line in enumerate(lines):
        more = f"\n(+{len(lines) - i} more in the full report)"
        if len(body) + 1 + len(line) + len(more) + len(tail) > limit:
            # The last line that still fits, cut, keeps the pointer intact.
            room = limit - len(body) - len(more) - len(tail) - 2
            if room > 40:
                body += "\n" + line[:room] + "…"
                more = f"\n(+{len(lines) - i - 1} more in the full report)" if i + 1 < len(lines) else ""
            return (body + more + tail)[:limit]
        body += "\n" + line
    return (body + tail)[:limit]


# ---------------------------------------------------------------------------------------------
# The push


@dataclass
class QuestionChange:
    """What a push did (or would do) to one question."""

    question: str
    label: str
    before: list[str]
    after: list[str]
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)  # (choice, why walens left it as it was)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (choice, why walens could not push it)
    notes: str = "unchanged"  # unchanged | written | kept (a person's)
    action: str = "unchanged"  # unchanged | update | would update | updated | failed | skipped
    error: str | None = None
    request: dict[str, Any] = field(default_factory=dict)


@dataclass
class PushResult:
    workload_id: str
    dry_run: bool
    lens: str  # associated already | associated | would associate
    questions: list[QuestionChange] = field(default_factory=list)
    milestone: str | None = None
    calls: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[QuestionChange]:
        return [q for q in self.questions if q.action == "failed"]


def _lens_associated(client: Any, workload_id: str, calls: list[str]) -> bool:
    token = None
    while True:
        kwargs: dict[str, Any] = {"WorkloadId": workload_id, "MaxResults": 50}
        if token:
            kwargs["NextToken"] = token
        calls.append("ListLensReviews")
        page = _call(client, "ListLensReviews", **kwargs)
        for summary in page.get("LensReviewSummaries") or []:
            if summary.get("LensAlias") == LENS_ALIAS or str(summary.get("LensArn") or "").endswith(f"/{LENS_ALIAS}"):
                return True
        token = page.get("NextToken")
        if not token:
            return False


def list_answers(client: Any, workload_id: str, calls: list[str]) -> list[dict[str, Any]]:
    """Every AnswerSummary of the lens, following NextToken until the last page."""
    out: list[dict[str, Any]] = []
    token = None
    seen: set[str] = set()
    while True:
        kwargs: dict[str, Any] = {"WorkloadId": workload_id, "LensAlias": LENS_ALIAS, "MaxResults": 50}
        if token:
            kwargs["NextToken"] = token
        calls.append("ListAnswers")
        page = _call(client, "ListAnswers", **kwargs)
        out.extend(page.get("AnswerSummaries") or [])
        token = page.get("NextToken")
        if not token:
            return out
        if token in seen:  # a service that repeats a token would loop forever
            raise WaToolError("WA Tool ListAnswers returned the same NextToken twice")
        seen.add(token)


def _plan(summary: Mapping[str, Any], wanted: Mapping[str, Intent], old_notes: str, new_notes: str,
          overwrite: bool) -> QuestionChange:
    from walens import lens

    qid = str(summary.get("QuestionId"))
    label = lens.question(qid).label if qid in {q.id for q in lens.QUESTIONS} else qid
    valid = [str(c.get("ChoiceId")) for c in summary.get("Choices") or []]
    before = [str(c) for c in summary.get("SelectedChoices") or []]
    statuses = {str(c.get("ChoiceId")): str(c.get("Status")) for c in summary.get("ChoiceAnswerSummaries") or []}
    change = QuestionChange(question=qid, label=label, before=sorted(before), after=sorted(before))
    if summary.get("IsApplicable") is False and not overwrite:
        change.action = "skipped"
        change.kept.append(("*", "the question is marked not applicable in the WA Tool (use --overwrite)"))
        return change
    after = set(before)
    none_ids = [c for c in valid if c.endswith("_no")]
    choice_updates: dict[str, dict[str, str]] = {}
    for choice, intent in wanted.items():
        if intent.action == "none":
            continue
        if choice not in valid:
            change.skipped.append((choice, "not a choice of this question in the WA Tool's lens version"))
            continue
        if intent.action == "select" and choice not in after:
            chosen_none = [n for n in none_ids if n in after]
            if chosen_none and not overwrite:
                change.kept.append((chosen_none[0], f"'None of these' is selected in the WA Tool; not adding {choice} "
                                                    f"({intent.why}) without --overwrite"))
                continue
            after.difference_update(chosen_none)
            change.removed.extend(chosen_none)
            after.add(choice)
            change.added.append(choice)
        elif intent.action == "unselect" and choice in after:
            if overwrite:
                after.discard(choice)
                change.removed.append(choice)
            else:
                change.kept.append((choice, f"selected in the WA Tool; {intent.why} (use --overwrite to unselect)"))
        elif intent.action == "not_applicable" and statuses.get(choice) != "NOT_APPLICABLE":
            if choice in after and not overwrite:
                change.kept.append((choice, f"selected in the WA Tool; {intent.why} (use --overwrite)"))
                continue
            after.discard(choice)
            choice_updates[choice] = {"Status": "NOT_APPLICABLE", "Reason": "OUT_OF_SCOPE"}
            change.not_applicable.append(choice)
    change.after = sorted(after)
    request: dict[str, Any] = {}
    if set(after) != set(before) or choice_updates:
        request["SelectedChoices"] = [c for c in valid if c in after]  # the WA Tool's order
    if choice_updates:
        request["ChoiceUpdates"] = choice_updates
    if new_notes != old_notes:
        if not old_notes.strip() or old_notes.startswith(NOTES_MARK) or overwrite:
            request["Notes"] = new_notes
            change.notes = "written"
        else:
            change.notes = "kept (written by a person; --overwrite replaces them)"
    if summary.get("IsApplicable") is False and request:
        request["IsApplicable"] = True
    if request:
        change.action = "update"
        change.request = request
    return change


def push(client: Any, doc: Mapping[str, Any], workload_id: str, *, review_ref: str | None = None,
         milestone: str | None = None, dry_run: bool = False, overwrite: bool = False,
         report_url: str | None = None) -> PushResult:
    """Merge the review ``doc`` into the WA Tool workload; with ``dry_run`` only read."""
    check_workload_id(workload_id)
    if milestone is not None and not 3 <= len(milestone) <= 100:
        raise UsageError(f"--milestone {milestone!r}: a milestone name has 3 to 100 characters")
    if not doc.get("lens"):
        raise UsageError("the review has no lens coverage to push")
    result = PushResult(workload_id=workload_id, dry_run=dry_run, lens="associated already")
    calls = result.calls
    if not _lens_associated(client, workload_id, calls):
        if dry_run:
            result.lens = "would associate"
        else:
            calls.append("AssociateLenses")
            _call(client, "AssociateLenses", WorkloadId=workload_id, LensAliases=[LENS_ALIAS])
            result.lens = "associated"
    summaries = list_answers(client, workload_id, calls) if result.lens != "would associate" else []
    if result.lens == "would associate":
        # Not associated yet: the lens's questions start unanswered, so plan against empty answers.
        from walens import lens

        summaries = [{"QuestionId": q.id, "Choices": [{"ChoiceId": c} for c in (*q.choices, q.none_choice.id)],
                      "SelectedChoices": [], "ChoiceAnswerSummaries": [], "IsApplicable": True}
                     for q in lens.QUESTIONS]
    wanted = intents(doc)
    by_question: dict[str, dict[str, Intent]] = {}
    for entry in doc.get("lens") or []:
        choice = str(entry.get("choice"))
        if choice in wanted:
            by_question.setdefault(str(entry.get("question")), {})[choice] = wanted[choice]
    for summary in summaries:
        qid = str(summary.get("QuestionId"))
        if qid not in by_question:
            continue
        old_notes = ""
        if result.lens != "would associate":
            calls.append("GetAnswer")
            answer = _call(client, "GetAnswer", WorkloadId=workload_id, LensAlias=LENS_ALIAS, QuestionId=qid)
            old_notes = str((answer.get("Answer") or {}).get("Notes") or "")
        new_notes = notes_for(doc, qid, review_ref=review_ref, report_url=report_url)
        result.questions.append(_plan(summary, by_question[qid], old_notes, new_notes, overwrite))
    # Every read and every plan first, then the writes: a failed read leaves the workload untouched.
    for change in result.questions:
        if change.action != "update":
            continue
        if dry_run:
            change.action = "would update"
            continue
        from botocore.exceptions import BotoCoreError, ClientError

        qid = change.question
        calls.append("UpdateAnswer")
        try:
            client.update_answer(WorkloadId=workload_id, LensAlias=LENS_ALIAS, QuestionId=qid, **change.request)
        except (ClientError, BotoCoreError) as exc:
            change.action = "failed"
            change.error = _error_text(exc)
        else:
            change.action = "updated"
    if milestone:
        if dry_run:
            result.milestone = f"would create milestone {milestone!r}"
        elif result.failed:
            result.milestone = f"milestone {milestone!r} not created: {len(result.failed)} question(s) failed"
        else:
            calls.append("CreateMilestone")
            made = _call(client, "CreateMilestone", WorkloadId=workload_id, MilestoneName=milestone,
                         ClientRequestToken=str(uuid.uuid4()))
            result.milestone = f"created milestone {milestone!r} (number {made.get('MilestoneNumber')})"
    return result


def render(result: PushResult) -> str:
    """Per question: what changed (or would), what was kept and why, and failures."""
    head = f"WA Tool workload {result.workload_id}, lens {LENS_ALIAS}: {result.lens}"
    if result.dry_run:
        head += " (dry run: nothing written)"
    out = [head]
    for q in result.questions:
        out.append(f"{q.label} ({q.question}): {q.action}" + (f" — {q.error}" if q.error else ""))
        for c in q.added:
            out.append(f"  + {c}")
        for c in q.removed:
            out.append(f"  - {c}")
        for c in q.not_applicable:
            out.append(f"  n/a {c}")
        for c, why in q.kept:
            out.append(f"  = {c}: {why}")
        for c, why in q.skipped:
            out.append(f"  ! {c}: {why}")
        if q.notes != "unchanged":
            out.append(f"  notes: {q.notes}")
    if result.milestone:
        out.append(result.milestone)
    changed = sum(q.action in ("update", "would update", "updated") for q in result.questions)
    verb = "would change" if result.dry_run else "changed"
    out.append(f"{len(result.questions)} questions: {changed} {verb}, {len(result.failed)} failed")
    return "\n".join(out)


def exit_code(result: PushResult) -> int:
    """0 when every update went through; 3 when one failed (the others were still written)."""
    return EXIT_INPUT if result.failed else EXIT_OK
