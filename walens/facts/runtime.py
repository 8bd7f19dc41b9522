"""Runtime lifecycle: where a function's Lambda runtime stands in AWS's deprecation schedule."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from walens.facts import fact
from walens.model import Resource, Unknown

FUNCTION = "AWS::Lambda::Function"

STATES = ("supported", "deprecated", "create_blocked", "update_blocked", "unknown", "not_applicable", "preview")


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    """One row of ``walens/data/runtimes.yaml``."""

    id: str
    deprecation: datetime.date | None
    block_create: datetime.date | None
    block_update: datetime.date | None
    successor: str | None
    notes: str | None = None
    inferred: bool = False
    preview: bool = False
    container_only: bool = False


@dataclass(frozen=True, slots=True)
class RuntimeTable:
    """The runtime lifecycle table and the date it describes."""

    as_of: datetime.date
    source: str
    runtimes: Mapping[str, RuntimeInfo]


def today() -> datetime.date:
    """The date lifecycle states are judged against (a function so tests and callers can pin it)."""
    return datetime.date.today()


def _date(value: object, where: str) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        return datetime.date.fromisoformat(value)
    raise ValueError(f"walens/data/runtimes.yaml: {where} is not a date: {value!r}")


@functools.cache
def table() -> RuntimeTable:
    """The runtime lifecycle table shipped with walens, read once."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = resources.files("walens").joinpath("data", "runtimes.yaml").read_text(encoding="utf-8")
    raw = yaml.load(text, Loader=loader)
    rows: dict[str, RuntimeInfo] = {}
    for row in raw["runtimes"]:
        rid = row["id"]
        if rid in rows:
            raise ValueError(f"walens/data/runtimes.yaml: runtime {rid} listed twice")
        rows[rid] = RuntimeInfo(
            id=rid,
            deprecation=_date(row["deprecation"], f"{rid}.deprecation"),
            block_create=_date(row["block_create"], f"{rid}.block_create"),
            block_update=_date(row["block_update"], f"{rid}.block_update"),
            successor=row.get("successor"),
            notes=row.get("notes"),
            inferred=bool(row.get("inferred", False)),
            preview=bool(row.get("preview", False)),
            container_only=bool(row.get("container_only", False)),
        )
    as_of = _date(raw["as_of"], "as_of")
    if as_of is None:
        raise ValueError("walens/data/runtimes.yaml: as_of is required")
    return RuntimeTable(as_of=as_of, source=" ".join(str(raw["source"]).split()), runtimes=rows)


def _day(given: datetime.date | None) -> datetime.date:
    # Module-level today() is looked up at call time, so callers may replace it.
    return given if given is not None else today()


def _iso(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def _result(runtime: Any, state: str, note: str | None = None, info: RuntimeInfo | None = None,
            on: datetime.date | None = None) -> dict[str, Any]:
    days = None
    if info is not None and info.deprecation is not None and on is not None:
        days = (info.deprecation - on).days
    return {
        "runtime": runtime,
        "state": state,
        "deprecation": _iso(info.deprecation) if info else None,
        "block_create": _iso(info.block_create) if info else None,
        "block_update": _iso(info.block_update) if info else None,
        "days_to_deprecation": days,
        "successor": info.successor if info else None,
        "note": note if note is not None else (info.notes if info else None),
        "as_of": table().as_of.isoformat(),
    }


def lifecycle(runtime: str, today: datetime.date | None = None) -> dict[str, Any]:
    """The lifecycle state of the runtime id ``runtime`` on the date ``today`` (default: :func:`today`).

    A date takes effect on the day itself: on its deprecation date a runtime is ``deprecated``.
    The most restrictive state wins (update blocked > create blocked > deprecated), since for a few
    old runtimes AWS blocked creation before the deprecation date.
    """
    on = _day(today)
    info = table().runtimes.get(runtime)
    if info is None:
        return _result(runtime, "unknown",
                       f"runtime {runtime!r} is not in walens's runtime table (as of {table().as_of.isoformat()})")
    if info.preview:
        return _result(runtime, "preview", info=info, on=on)
    if info.block_update is not None and on >= info.block_update:
        state = "update_blocked"
    elif info.block_create is not None and on >= info.block_create:
        state = "create_blocked"
    elif info.deprecation is not None and on >= info.deprecation:
        state = "deprecated"
    else:
        state = "supported"
    return _result(runtime, state, info=info, on=on)


@fact("runtime_lifecycle", types=[FUNCTION])
def runtime_lifecycle(resource: Resource, inventory: Sequence[Resource],
                      today: datetime.date | None = None) -> dict[str, Any]:
    """The lifecycle of the function's ``Runtime``: state, dates, days to deprecation, successor."""
    props = resource.properties if isinstance(resource.properties, dict) else {}
    package_type = props.get("PackageType", "Zip")
    runtime = props.get("Runtime")
    if package_type == "Image":
        # An image carries its own runtime, which the function's configuration does not show.
        return _result(None, "not_applicable", "PackageType is Image: the runtime is inside the container image")
    if isinstance(runtime, Unknown):
        # The Unknown stays in `runtime` so a rule reading it ends not_assessed, never a false result.
        return _result(runtime, "unknown", f"Runtime is not known from the template: {runtime.reason}")
    if runtime is None:
        if isinstance(package_type, Unknown):
            return _result(None, "unknown", f"PackageType is not known from the template: {package_type.reason}")
        return _result(None, "unknown", "the function has no Runtime")
    if not isinstance(runtime, str):
        return _result(None, "unknown", f"Runtime is not a string: {runtime!r}")
    return lifecycle(runtime, today)
