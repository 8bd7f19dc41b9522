"""GitHub Actions: workflow-command annotations and the job summary (when ``GITHUB_ACTIONS=true``).

- One annotation per failing finding that is not baselined, on the file and line of the authored
  resource: ``::error`` when its severity reaches ``fail_on`` (it fails the build), ``::warning``
  otherwise; one ``::error`` per unreadable input and per malformed suppression. Values are escaped
  as GitHub's runner (actions/toolkit ``escapeData``/``escapeProperty``) expects: ``%``, CR and LF in
  the message; additionally ``:`` and ``,`` in properties.
- The Markdown report (walens.reporters.markdown) appended to ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TextIO

from walens.reporters._common import finding_message, severity_rank, with_status

# GitHub shows at most 10 errors and 10 warnings per step; more are still written (the log keeps them).


def escape_data(value: object) -> str:
    """The message part of a workflow command."""
    return str(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: object) -> str:
    """A property value (file, title) of a workflow command."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, *, file: str | None = None, line: int | None = None,
            col: int | None = None, title: str | None = None) -> str:
    """One workflow command line: ``::error file=F,line=L,col=C,title=T::message``."""
    props = []
    if file:
        props.append(f"file={escape_property(file)}")
    if line:
        props.append(f"line={int(line)}")
    if col:
        props.append(f"col={int(col)}")
    if title:
        props.append(f"title={escape_property(title)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{escape_data(message)}"


def _path(file: str) -> str:
    """Annotations need the path relative to the workspace (the repository checkout)."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and os.path.isabs(file):
        rel = os.path.relpath(file, workspace)
        if not rel.startswith(".."):
            return rel.replace(os.sep, "/")
    if workspace and not os.path.isabs(file):
        rel = os.path.relpath(os.path.abspath(file), workspace)
        if not rel.startswith(".."):
            return rel.replace(os.sep, "/")
    return file.replace(os.sep, "/")


def workflow_commands(doc: Mapping[str, Any], lang: str = "en") -> list[str]:
    """The workflow commands for a review document."""
    summary = doc.get("summary") or {}
    fail_on = str(summary.get("fail_on") or "high")
    limit = None if fail_on == "never" else severity_rank(fail_on)
    out = []
    for f in with_status(doc, "fail"):
        if f.get("baselined"):
            continue
        loc = f.get("location") or {}
        level = "error" if limit is not None and severity_rank(f.get("severity")) <= limit else "warning"
        title = f"walens {f.get('rule_id')} {f.get('rule_name') or ''} ({f.get('severity')})".replace("  ", " ")
        out.append(command(level, finding_message(doc, f, lang), file=_path(str(loc["file"])) if loc.get("file") else None,
                           line=loc.get("line"), col=loc.get("column"), title=title))
    for e in doc.get("errors") or []:
        file = e.get("file")
        out.append(command("error", f"{e.get('message')} ({e.get('kind')})",
                           file=_path(str(file)) if file and file != "<stdin>" else None, line=e.get("line"),
                           title="walens: input problem"))
    for s in doc.get("unused_suppressions") or []:
        out.append(command("error" if limit is not None else "warning",
                           f"unused {s.get('kind')} suppression of {s.get('rule_id')}: it matched no result",
                           file=_path(str(s["file"])) if s.get("file") else None, line=s.get("line"),
                           title="walens: unused suppression"))
    return out


def annotate(doc: Mapping[str, Any], stream: TextIO, lang: str = "en") -> None:
    for line in workflow_commands(doc, lang):
        stream.write(line + "\n")


def write_step_summary(doc: dict[str, Any], lang: str = "en") -> bool:
    """Append the Markdown report to ``$GITHUB_STEP_SUMMARY``; False when there is none to write to."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    from walens.reporters import markdown

    try:
        with open(path, "a", encoding="utf-8", newline="\n") as handle:
            handle.write(markdown.render(doc, lang) + "\n")
    except OSError:
        return False  # a summary is a courtesy: never fail the review for it
    return True
