"""Local files a template names, read when it is loaded: ``AWS::Include`` snippets and SAM ``DefinitionUri``.

CloudFormation inserts an ``AWS::Include`` snippet (``Fn::Transform: {Name: AWS::Include, Parameters:
{Location: ...}}``) before it reads the template, and ``sam package`` uploads a local ``DefinitionUri``
(an OpenAPI document or a state machine definition) so SAM can point at it. A review of the source tree
sees what the deployed stack will: the loader reads such files when they are relative paths, so the
view carries their content and no fact reads the disk later.

Only a relative path is read, resolved against the folder of the file that names it. An S3 or other
URL, an absolute path, a template read from standard input, a missing or undecodable file, an include
cycle or too deep a nesting is not read: the property becomes an Unknown whose reason names the file,
so the rules that need it end ``not_assessed`` (an include that was to merge keys next to others cannot
be represented and is an input error naming the file).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from walens.errors import InputError
from walens.model import Unknown
from walens.nodes import DictNode

INCLUDE = "AWS::Include"
# Resource types whose DefinitionUri may name a local file, and the SAM Globals section that sets it.
DEFINITION_TYPES = frozenset({"AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::Serverless::StateMachine"})
_MAX_NESTING = 5
_READ_LIMIT = 5 * 1024 * 1024 + 1  # template.MAX_BYTES + 1: the decoder refuses a larger file

Decoder = Callable[[bytes, str], Any]


def needs_resolving(text: bytes | str) -> bool:
    """Whether the template text can name a local file at all (most do not: skip the walk)."""
    if isinstance(text, str):
        return "AWS::Include" in text or "DefinitionUri" in text
    return b"AWS::Include" in text or b"DefinitionUri" in text


def _problem(location: Any, base: str | None) -> str | None:
    """Why ``location`` is not read, or None when it is a relative path that can be."""
    if not isinstance(location, str):
        return "its Location is not a literal string"
    if "://" in location or location.startswith("s3:"):
        return f"{location} is not a local file (only relative paths next to the template are read)"
    if os.path.isabs(location) or location.startswith("~"):
        return f"{location} is an absolute path (only relative paths next to the template are read)"
    if base is None:
        return f"{location} is relative to the template's folder, unknown for a template read from standard input"
    return None


class _Reader:
    """Reads and decodes local files for one template, remembering what it read."""

    def __init__(self, decode: Decoder) -> None:
        self.decode = decode
        self.stack: list[str] = []

    def read(self, location: Any, base: str | None, *, text: bool = False) -> tuple[Any, str | None, str | None]:
        """(decoded content, the file's folder, None) or (None, None, why it was not read).

        With ``text``, a file that does not decode as it stands comes back as its text: a state machine
        definition may hold ``${Name}`` DefinitionSubstitutions where JSON wants a value.
        """
        problem = _problem(location, base)
        if problem is not None:
            return None, None, problem
        assert base is not None and isinstance(location, str)
        path = os.path.normpath(os.path.abspath(os.path.join(base, location)))
        if path in self.stack:
            return None, None, f"{location} includes itself (an include cycle)"
        if len(self.stack) >= _MAX_NESTING:
            return None, None, f"{location} is nested more than {_MAX_NESTING} includes deep"
        try:
            with open(path, "rb") as handle:
                raw = handle.read(_READ_LIMIT)
        except OSError as exc:
            return None, None, f"local file {location} cannot be read ({exc.strerror or exc})"
        try:
            content = self.decode(raw, path)
        except InputError as exc:
            if text:
                try:
                    return raw.decode("utf-8"), os.path.dirname(path), None
                except UnicodeDecodeError:
                    pass
            return None, None, f"local file {location} is not a YAML or JSON document ({exc.message})"
        return content, os.path.dirname(path), None


def _include_location(value: Any) -> tuple[bool, Any]:
    """(True, Location) when ``value`` is the argument of an ``AWS::Include`` transform."""
    if isinstance(value, dict) and value.get("Name") == INCLUDE:
        params = value.get("Parameters")
        return True, params.get("Location") if isinstance(params, dict) else None
    return False, None


def _walk(node: Any, base: str | None, reader: _Reader, file: str) -> Any:
    """``node`` with every ``AWS::Include`` replaced by the content it names (or an Unknown)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            node[i] = _walk(item, base, reader, file)
        return node
    if not isinstance(node, dict):
        return node
    transform = node.get("Fn::Transform")
    is_include, location = _include_location(transform)
    if is_include:
        content, folder, problem = reader.read(location, base)
        if problem is None:
            reader.stack.append(os.path.normpath(os.path.abspath(os.path.join(str(base), str(location)))))
            try:
                content = _walk(content, folder, reader, file)
            finally:
                reader.stack.pop()
        if len(node) == 1:
            return Unknown(f"AWS::Include: {problem}") if problem is not None else content
        if problem is not None or not isinstance(content, dict):
            why = problem or f"{location} is not a mapping"
            raise InputError(f"AWS::Include next to other keys cannot be reviewed: {why}", file=file,
                             line=getattr(node, "line", None) or None, kind="include")
        del node["Fn::Transform"]
        for key, value in content.items():
            node.setdefault(key, value)
            if isinstance(node, DictNode) and isinstance(content, DictNode) and key in content.key_marks:
                node.key_marks.setdefault(key, content.key_marks[key])
    for key, value in list(node.items()):
        node[key] = _walk(value, base, reader, file)
    return node


def resolve(data: DictNode, base: str | None, decode: Decoder, file: str) -> dict[str, Any]:
    """Insert local ``AWS::Include`` snippets into ``data`` (in place) and read local ``DefinitionUri``
    documents; return the latter as ``{DefinitionUri value: content (a state machine's may be its text)
    or Unknown}``."""
    reader = _Reader(decode)
    if base is not None:
        reader.stack.append(os.path.normpath(os.path.abspath(file)))
    _walk(data, base, reader, file)
    local: dict[str, Any] = {}
    uris: list[tuple[Any, bool]] = []  # (DefinitionUri, a state machine's)
    resources = data.get("Resources")
    for resource in resources.values() if isinstance(resources, dict) else ():
        if isinstance(resource, dict) and resource.get("Type") in DEFINITION_TYPES:
            props = resource.get("Properties")
            uris.append((props.get("DefinitionUri") if isinstance(props, dict) else None,
                         resource.get("Type") == "AWS::Serverless::StateMachine"))
    globals_ = data.get("Globals")
    api_globals = globals_.get("Api") if isinstance(globals_, dict) else None
    if isinstance(api_globals, dict):
        uris.append((api_globals.get("DefinitionUri"), False))
    for uri, state_machine in uris:
        if not isinstance(uri, str) or uri in local or uri.startswith("s3://"):
            continue  # a {Bucket, Key} mapping or an s3:// URI: the document is in S3
        content, _, problem = reader.read(uri, base, text=state_machine)
        local[uri] = Unknown(f"DefinitionUri: {problem}") if problem is not None else content
    return local
