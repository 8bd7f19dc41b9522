"""The runtime lifecycle table equals LENS.md §4 (tests/fixtures/lens/, see test_lens.py), and the
runtime_lifecycle fact judges it by date."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest

import walens.facts
from walens.facts import runtime as rt
from walens.model import Resource, Unknown

REPO = Path(__file__).resolve().parents[1]
LENS_MD = REPO / "tests" / "fixtures" / "lens" / "LENS.md"
D = datetime.date


def fn(**props: Any) -> Resource:
    return Resource(id="Fn", type="AWS::Lambda::Function", properties=props)


def judge(on: D, **props: Any) -> dict[str, Any]:
    return rt.runtime_lifecycle(fn(**props), [], today=on)


def test_table_equals_lens_md() -> None:
    text = LENS_MD.read_text(encoding="utf-8")
    rows = [line for line in text[text.index("### Table (dates"):].splitlines() if line.startswith("| `")]
    date = re.compile(r"\d{4}-\d\d-\d\d")

    def first(cell: str) -> str | None:
        m = date.search(cell)
        return m.group(0) if m else None

    want = {}
    for row in rows:
        c = [x.strip() for x in row.strip().strip("|").split("|")]
        rid = re.match(r"`([^`]+)`", c[0]).group(1)  # type: ignore[union-attr]
        succ = c[5].strip("` ")
        want[rid] = (first(c[1]), first(c[2]), first(c[3]), None if succ == "—" else succ,
                     "inferred" in c[2], "preview" in c[1], "container only" in c[0])
    table = rt.table()
    got = {r.id: (r.deprecation and r.deprecation.isoformat(), r.block_create and r.block_create.isoformat(),
                  r.block_update and r.block_update.isoformat(), r.successor, r.inferred, r.preview,
                  r.container_only) for r in table.runtimes.values()}
    assert got == want
    assert len(got) == 54
    assert table.as_of == D(2026, 11, 22)
    assert "lambda-runtimes.html" in table.source
    assert {r.id for r in table.runtimes.values() if r.inferred} == {"java17.al2023", "java11.al2023", "java8.al2023"}
    assert {r.id for r in table.runtimes.values() if r.container_only} == {"dotnet9", "dotnet7", "dotnet5.0"}
    assert {r.id for r in table.runtimes.values() if r.preview} == {"nodejs26.x", "python3.15"}


def test_states_on_the_table_date_match_lens_md() -> None:
    """LENS.md's status column on 2026-11-22, mapped to fact states, is what the fact computes."""
    text = LENS_MD.read_text(encoding="utf-8")
    rows = [line for line in text[text.index("### Table (dates"):].splitlines() if line.startswith("| `")]
    words = {"supported": "supported", "preview": "preview", "blocked": "update_blocked",
             "create blocked, update allowed": "create_blocked"}
    want = {}
    for row in rows:
        c = [x.strip() for x in row.strip().strip("|").split("|")]
        status = c[4]
        want[re.match(r"`([^`]+)`", c[0]).group(1)] = (  # type: ignore[union-attr]
            "deprecated" if status.startswith("deprecated") else words[status])
    got = {rid: rt.lifecycle(rid, D(2026, 11, 22))["state"] for rid in rt.table().runtimes}
    assert got == want


@pytest.mark.parametrize(("on", "state", "days"), [
    (D(2025, 12, 14), "supported", 1),
    (D(2025, 12, 15), "deprecated", 0),       # a date takes effect on the day itself
    (D(2027, 1, 31), "deprecated", -412),
    (D(2027, 2, 1), "create_blocked", -413),
    (D(2027, 3, 2), "create_blocked", -442),
    (D(2027, 3, 3), "update_blocked", -443),
])
def test_python39_through_its_lifecycle(on: D, state: str, days: int) -> None:
    assert judge(on, Runtime="python3.9") == {
        "runtime": "python3.9", "state": state, "deprecation": "2025-12-15", "block_create": "2027-02-01",
        "block_update": "2027-03-03", "days_to_deprecation": days, "successor": "python3.14", "note": None,
        "as_of": "2026-11-22",
    }


def test_supported_runtime_on_a_fixed_date() -> None:
    got = judge(D(2026, 11, 22), Runtime="python3.12", PackageType="Zip")
    assert (got["state"], got["days_to_deprecation"], got["successor"]) == ("supported", 709, "python3.14")


def test_block_create_before_deprecation_is_create_blocked() -> None:
    # nodejs8.10: AWS blocked creation (2020-02-04) a month before the deprecation date (2020-03-06).
    assert judge(D(2020, 2, 20), Runtime="nodejs8.10")["state"] == "create_blocked"
    assert judge(D(2020, 2, 3), Runtime="nodejs8.10")["state"] == "supported"


def test_preview_runtime() -> None:
    got = judge(D(2026, 11, 22), Runtime="nodejs26.x")
    assert got == {"runtime": "nodejs26.x", "state": "preview", "deprecation": None, "block_create": None,
                   "block_update": None, "days_to_deprecation": None, "successor": None,
                   "note": "preview; no deprecation scheduled", "as_of": "2026-11-22"}


def test_container_only_runtime_without_block_dates_stays_deprecated() -> None:
    got = judge(D(2030, 1, 1), Runtime="dotnet9")
    assert (got["state"], got["block_create"], got["block_update"], got["note"]) == (
        "deprecated", None, None, "container image only; no block dates published")


def test_inferred_row_carries_its_note() -> None:
    got = judge(D(2029, 8, 1), Runtime="java17.al2023")
    assert (got["state"], got["block_create"]) == ("create_blocked", "2029-07-31")
    assert got["note"] == "block_create is not in the sources; inferred from the sibling runtimes"


def test_image_function_is_not_applicable() -> None:
    got = judge(D(2026, 11, 22), PackageType="Image", Runtime="python3.9")
    assert got["state"] == "not_applicable"
    assert got["runtime"] is None and got["deprecation"] is None and got["days_to_deprecation"] is None
    assert got["note"] == "PackageType is Image: the runtime is inside the container image"


def test_unresolved_runtime_is_unknown_and_keeps_the_unknown() -> None:
    missing = Unknown("parameter Runtime has no default")
    got = judge(D(2026, 11, 22), Runtime=missing, PackageType="Zip")
    assert got["state"] == "unknown"
    assert got["runtime"] == missing
    assert got["note"] == "Runtime is not known from the template: parameter Runtime has no default"
    assert (got["deprecation"], got["successor"], got["days_to_deprecation"]) == (None, None, None)


def test_runtime_not_in_table_is_unknown_with_a_note() -> None:
    got = judge(D(2026, 11, 22), Runtime="cobol85")
    assert (got["runtime"], got["state"], got["note"]) == (
        "cobol85", "unknown", "runtime 'cobol85' is not in walens's runtime table (as of 2026-11-22)")


@pytest.mark.parametrize(("props", "note"), [
    ({}, "the function has no Runtime"),
    ({"PackageType": Unknown("imported")}, "PackageType is not known from the template: imported"),
    ({"Runtime": ["python3.9"]}, "Runtime is not a string: ['python3.9']"),
])
def test_other_unknowns(props: dict[str, Any], note: str) -> None:
    got = judge(D(2026, 11, 22), **props)
    assert (got["state"], got["note"]) == ("unknown", note)


def test_default_date_comes_from_module_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rt, "today", lambda: D(2027, 3, 3))
    assert rt.runtime_lifecycle(fn(Runtime="nodejs18.x"), [])["state"] == "update_blocked"
    monkeypatch.setattr(rt, "today", lambda: D(2026, 1, 1))
    assert rt.runtime_lifecycle(fn(Runtime="nodejs18.x"), [])["state"] == "deprecated"


def test_module_today_is_the_real_date() -> None:
    assert rt.today() == datetime.date.today()


def test_registered_as_a_fact_for_lambda_functions() -> None:
    regs = {(name, types) for name, types, f in walens.facts._REGISTRY if f is rt.runtime_lifecycle}
    assert regs == {("runtime_lifecycle", frozenset({"AWS::Lambda::Function"}))}
    assert "walens.facts.runtime" in walens.facts.FACT_MODULES


def test_every_state_is_reachable() -> None:
    cases = [
        judge(D(2026, 11, 22), Runtime="python3.13"),
        judge(D(2026, 11, 22), Runtime="python3.9"),
        judge(D(2026, 11, 22), Runtime="python3.7"),
        judge(D(2026, 11, 22), Runtime="python2.7"),
        judge(D(2026, 11, 22), Runtime="nope"),
        judge(D(2026, 11, 22), PackageType="Image"),
        judge(D(2026, 11, 22), Runtime="python3.15"),
    ]
    assert [c["state"] for c in cases] == list(rt.STATES)
