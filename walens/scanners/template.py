"""Load CloudFormation/SAM templates (YAML or JSON) into position-carrying nodes.

libyaml composes the node graph; we construct our own nodes from it, mirroring what cfn-lint's
decoder (``cfnlint.decode.cfn_yaml``) produces: short-form tags in long form, YAML 1.1 scalar
typing (``2010-09-09`` is a date, ``yes`` a bool, ``0755`` an int), merge keys, duplicate keys
rejected. cfn-lint is the test oracle, never imported here.
"""

from __future__ import annotations

import glob
import hashlib
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from walens.errors import InputError, NotATemplate
from walens.model import Unknown
from walens.nodes import DictNode, ListNode, StrNode, mark
from walens.scanners import includes

__all__ = [
    "MAX_BYTES", "MAX_DEPTH", "MAX_ALIAS_NODES", "SAM_TRANSFORM", "Template",
    "decode_text", "discover", "load_file", "load_text", "mark",
]

MAX_BYTES = 5 * 1024 * 1024  # CloudFormation accepts 1 MB via S3; 5 MiB leaves room for SAM sources
MAX_DEPTH = 100  # real templates nest < 20 levels
# Nodes reached through aliases (each alias counts the full size of what it stands for): bounds
# "billion laughs" documents that compose small but expand exponentially for any later walker.
MAX_ALIAS_NODES = 100_000
# libyaml composes recursively in C: nesting beyond ~50k levels overflows the C stack (a segfault,
# not an exception), so documents that *could* nest deeper than this are depth-checked on the
# (non-recursive) event stream before composing.
_SAFE_COMPOSE_BOUND = 2_000

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
EXTENSIONS = (".yaml", ".yml", ".json", ".template")
SKIP_DIRS = frozenset({"node_modules", ".aws-sam", "cdk.out", ".git"})

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_MERGE = "tag:yaml.org,2002:merge"
_VALUE = "tag:yaml.org,2002:value"
# cfn-lint keeps these two without the "Fn::" prefix.
_UNPREFIXED = frozenset({"Ref", "Condition"})

# SafeConstructor's scalar converters are pure functions of the node: reuse them for the YAML 1.1
# typing cfn-lint inherits (ints in bases and sexagesimal, floats, timestamps, binary, ...).
_SAFE = SafeConstructor()
_BOOL_VALUES: dict[str, bool] = SafeConstructor.bool_values


@dataclass(slots=True)
class Template:
    """One loaded template: its path, its top-level mapping, the SHA-256 of its bytes, SAM or not."""

    path: str
    data: DictNode
    sha256: str
    is_sam: bool
    # Local DefinitionUri documents, by the DefinitionUri value: decoded content or an Unknown (includes.py).
    local_files: dict[str, Any] = field(default_factory=dict)


class _Builder:
    """Constructs DictNode/ListNode/StrNode values from a composed libyaml node graph."""

    __slots__ = ("name", "memo", "alias_nodes", "sizes")

    def __init__(self, name: str, anchors: bool) -> None:
        self.name = name
        # Aliases compose to the very same node object; memoising by identity keeps them shared
        # (as cfn-lint does) and lets us count how much they expand. Only needed with anchors.
        self.memo: dict[int, Any] | None = {} if anchors else None
        self.sizes: dict[int, int] = {}
        self.alias_nodes = 0

    def error(self, message: str, node: Any, kind: str = "yaml") -> InputError:
        line = node.start_mark.line + 1 if node is not None else None
        return InputError(message, file=self.name, line=line, kind=kind)

    def build(self, node: Any, depth: int) -> Any:
        """Construct ``node``; depth-guarded so Python's recursion limit is never reached."""
        memo = self.memo
        if memo is not None:
            hit = memo.get(id(node))
            if hit is not None:
                self.alias_nodes += self._size(hit[1])
                if self.alias_nodes > MAX_ALIAS_NODES:
                    raise self.error(f"YAML aliases expand to more than {MAX_ALIAS_NODES} nodes",
                                     node, "alias-bomb")
                return hit[0]
        if depth > MAX_DEPTH:
            raise self.error(f"nesting deeper than {MAX_DEPTH} levels", node, "too-deep")
        tag = node.tag
        cls = node.__class__
        if cls is ScalarNode:
            value = self.scalar(node, tag)
        elif tag[0] == "!":
            value = self.short_form(node, tag[1:], depth)
        elif cls is MappingNode:
            value = self.mapping(node, depth, check_duplicates=True) if tag == _MAP else self.other(node)
        elif tag == _SEQ:
            start = node.start_mark
            value = ListNode([self.build(child, depth + 1) for child in node.value],
                             line=start.line + 1, col=start.column + 1)
        else:
            value = self.other(node)
        if memo is not None:
            memo[id(node)] = (value, node)
        return value

    def _size(self, node: Any) -> int:
        """The number of nodes under ``node`` once aliases are expanded (memoised)."""
        sizes = self.sizes
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if node.__class__ is MappingNode:
            for key_node, value_node in node.value:
                total += self._size(key_node) + self._size(value_node)
                if total > MAX_ALIAS_NODES:
                    break
        elif node.__class__ is SequenceNode:
            for child in node.value:
                total += self._size(child)
                if total > MAX_ALIAS_NODES:
                    break
        sizes[id(node)] = total
        return total

    def scalar(self, node: Any, tag: str) -> Any:
        if tag == _STR:
            start = node.start_mark
            return StrNode(node.value, start.line + 1, start.column + 1)
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return _BOOL_VALUES[node.value.lower()]
        if tag == _INT:
            text = node.value
            if text.isdigit() and (text[0] != "0" or len(text) == 1):
                return int(text)
        if tag[0] == "!":
            # cfn-lint: a tagged scalar is its raw text, whatever it looks like (!Ref 123 -> "123").
            start = node.start_mark
            line, col = start.line + 1, start.column + 1
            name = _fn(tag[1:])
            inner: Any
            if name == "Fn::GetAtt":
                inner = ListNode([StrNode(part, line, col) for part in node.value.split(".", 1)],
                                 line=line, col=col)
            else:
                inner = StrNode(node.value, line, col)
            result = DictNode({name: inner}, line=line, col=col)
            result.key_marks[name] = (line, col)
            return result
        return self.other(node)

    def other(self, node: Any) -> Any:
        """Rare YAML tags (timestamps, floats, binary, omap, set ...) via PyYAML's SafeConstructor."""
        constructor = _SAFE.yaml_constructors.get(node.tag)
        if constructor is None:
            raise self.error(f"unsupported YAML tag {node.tag!r}", node)
        try:
            result = constructor(_SAFE, node)
            if hasattr(result, "__next__"):  # collections construct lazily in two steps
                obj = next(result)
                for _ in result:
                    pass
                result = obj
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            raise self.error(f"invalid {node.tag.rsplit(':', 1)[-1]} value: {_one_line(exc)}",
                             node) from exc
        finally:
            _SAFE.constructed_objects.clear()
            _SAFE.recursive_objects.clear()
        return result

    def mapping(self, node: Any, depth: int, *, check_duplicates: bool) -> DictNode:
        pairs = node.value
        merged = False
        for key_node, _ in pairs:
            if key_node.tag == _MERGE:
                merged = True
                break
        if merged:
            try:
                _SAFE.flatten_mapping(node)
            except yaml.YAMLError as exc:
                raise self.error(f"invalid merge key: {_one_line(exc)}", node) from exc
            pairs = node.value
            check_duplicates = False  # cfn-lint: merges override keys by design
        start = node.start_mark
        result = DictNode(line=start.line + 1, col=start.column + 1)
        marks = result.key_marks
        child_depth = depth + 1
        for key_node, value_node in pairs:
            if key_node.__class__ is ScalarNode:
                ktag = key_node.tag
                key = self.scalar(key_node, _STR if ktag == _VALUE else ktag)
            else:
                key = self.build(key_node, child_depth)
            key_mark = key_node.start_mark
            if key is None and check_duplicates:
                raise self.error(f"null key {key_node.value!r} not supported", key_node)
            try:
                seen = key in result
            except TypeError as exc:
                raise self.error("a mapping key must be a scalar, not a mapping or a list",
                                 key_node) from exc
            if seen and check_duplicates:
                first = marks[key][0]
                raise self.error(f"duplicate key {str(key)!r} (first at line {first})",
                                 key_node, "duplicate-key")
            result[key] = self.build(value_node, child_depth)
            if not seen:
                marks[key] = (key_mark.line + 1, key_mark.column + 1)
        return result

    def short_form(self, node: Any, suffix: str, depth: int) -> DictNode:
        """``!Ref x`` -> ``{"Ref": "x"}``, ``!GetAtt a.b`` -> ``{"Fn::GetAtt": ["a", "b"]}`` ..."""
        start = node.start_mark
        line, col = start.line + 1, start.column + 1
        name = _fn(suffix)
        if node.__class__ is SequenceNode:
            inner: Any = ListNode([self.build(child, depth + 1) for child in node.value],
                                  line=line, col=col)
        elif name == "Fn::GetAtt" and not node.value:
            inner = ListNode(line=line, col=col)  # cfn-lint: `!GetAtt {}` is an empty list
        else:
            # cfn-lint builds tagged mappings without its duplicate check, except under !GetAtt.
            inner = self.mapping(node, depth + 1, check_duplicates=name == "Fn::GetAtt")
        result = DictNode({name: inner}, line=line, col=col)
        result.key_marks[name] = (line, col)
        return result


def _fn(suffix: str) -> str:
    return suffix if suffix in _UNPREFIXED else f"Fn::{suffix}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _compose(text: str, name: str) -> Any:
    """Compose ``text`` with libyaml, falling back like cfn-lint for JSON indented with tabs."""
    try:
        return yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or ""
        # cfn-lint retries as JSON when YAML stumbles on a tab; tabs are JSON whitespace (and
        # invalid raw inside JSON strings), so turning them into spaces keeps every line and column.
        if "'\\t'" in problem and text.lstrip()[:1] == "{":
            try:
                return yaml.compose(text.replace("\t", " "), Loader=yaml.CSafeLoader)
            except yaml.YAMLError:
                pass
        raise _yaml_error(exc, name) from exc
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, name) from exc


def _yaml_error(exc: yaml.YAMLError, name: str) -> InputError:
    line = None
    detail = _one_line(exc)
    if isinstance(exc, yaml.MarkedYAMLError):
        where = exc.problem_mark or exc.context_mark
        line = where.line + 1 if where is not None else None
        detail = " ".join(p for p in (exc.context, exc.problem) if p) or detail
        # libyaml 0.2.6 (in PyYAML 6.0.4's wheels; 6.0.1 to 6.0.3 bundle 0.2.5) stops at 1000 nested
        # levels itself; its scanner reads ahead, so this can come before our guards see level 101.
        if exc.problem == "exceeded maximum nesting depth":
            return InputError(f"nesting deeper than {MAX_DEPTH} levels", file=name, line=line, kind="too-deep")
    kind = "json" if name.endswith(".json") else "yaml"
    return InputError(f"invalid {kind.upper()}: {detail}", file=name, line=line, kind=kind)


def _max_depth(text: str, name: str) -> int:
    """The nesting depth of ``text``, from libyaml's event stream (no recursion, no nodes)."""
    loader = yaml.CSafeLoader(text)
    depth = deepest = 0
    try:
        while True:
            event = loader.get_event()
            if event is None:
                return deepest
            cls = event.__class__
            if cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
                depth += 1
                if depth > deepest:
                    deepest = depth
                    if deepest > MAX_DEPTH:
                        mark_ = event.start_mark
                        raise InputError(f"nesting deeper than {MAX_DEPTH} levels", file=name,
                                         line=mark_.line + 1, kind="too-deep")
            elif cls is yaml.MappingEndEvent or cls is yaml.SequenceEndEvent:
                depth -= 1
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, name) from exc
    finally:
        loader.dispose()


def _depth_bound(text: str) -> int:
    """A cheap upper bound on nesting depth: every level needs a bracket, an indicator or a line."""
    return (text.count("[") + text.count("{") + text.count("-") + text.count("?")
            + text.count(":") + text.count("\n") + 1)


def load_text(data: bytes | str, name: str, base: str | None = None, *, local_files: bool = False) -> Template:
    """Decode template text (bytes or str) named ``name``; raise InputError or NotATemplate.

    With ``local_files`` (what :func:`load_file` does), local files it names (``AWS::Include``, SAM
    ``DefinitionUri``) are read relative to ``base``, the template's folder (None: standard input, where
    they are not read but become Unknowns saying so); see :mod:`walens.scanners.includes`.
    """
    value, sha = _decode(data, name)
    local: dict[str, Any] = {}
    if local_files and isinstance(value, DictNode) and includes.needs_resolving(data):
        local = includes.resolve(value, base, _decode_file, name)
    template = _template(value, name, sha)
    template.local_files = local
    return template


def _decode_file(raw: bytes, path: str) -> Any:
    if len(raw) > MAX_BYTES:
        raise InputError(f"file is larger than {MAX_BYTES} bytes", file=path, kind="too-large")
    return _decode(raw, path)[0]


def decode_text(data: bytes | str, name: str) -> Any:
    """Decode YAML/JSON text into nodes without the template checks (``{}`` for an empty document)."""
    return _decode(data, name)[0]


def _decode(data: bytes | str, name: str) -> tuple[Any, str]:
    if isinstance(data, str):
        raw = data.encode("utf-8", "surrogatepass")
        text = data
    else:
        raw = data
        if len(raw) > MAX_BYTES:
            raise InputError(f"file is larger than {MAX_BYTES} bytes", file=name, kind="too-large")
        if b"\x00" in raw:
            raise InputError("binary file (contains NUL bytes)", file=name, kind="binary")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise InputError(f"not UTF-8 text (byte {exc.start})", file=name, line=line,
                             kind="encoding") from exc
    if len(text) > MAX_BYTES:
        raise InputError(f"file is larger than {MAX_BYTES} bytes", file=name, kind="too-large")
    if "\x00" in text:
        raise InputError("binary file (contains NUL bytes)", file=name, kind="binary")
    sha = hashlib.sha256(raw).hexdigest()
    if _depth_bound(text) > _SAFE_COMPOSE_BOUND:
        _max_depth(text, name)
    root = _compose(text, name)
    if root is None:
        return DictNode(line=1, col=1), sha  # as cfn-lint: an empty document is an empty mapping
    return _Builder(name, anchors="&" in text).build(root, 1), sha


def _template(data: Any, name: str, sha: str) -> Template:
    """Check the top-level shape and wrap it in a Template."""
    if not isinstance(data, DictNode):
        what = "a list" if isinstance(data, list) else "a scalar"
        raise InputError(f"the top level must be a mapping, not {what}", file=name, line=1,
                         kind="structure")
    resources = data.get("Resources")
    transform = data.get("Transform")
    if "Resources" not in data and "AWSTemplateFormatVersion" not in data and transform is None:
        raise NotATemplate(f"{name}: no Resources, AWSTemplateFormatVersion or Transform")
    line = mark(data, "Resources")
    if not isinstance(resources, dict) or not resources:
        problem = ("is missing" if "Resources" not in data
                   else "must be a non-empty mapping of resources")
        raise InputError(f"'Resources' {problem}", file=name,
                         line=line[0] if line else 1, kind="structure")
    marks = resources.key_marks if isinstance(resources, DictNode) else {}
    for logical_id, resource in resources.items():
        where = marks.get(logical_id, (0, 0))[0] or None
        if isinstance(resource, Unknown):  # a whole resource from an AWS::Include that was not read
            raise InputError(f"resource {logical_id!s}: {resource.reason}", file=name, line=where, kind="include")
        if not isinstance(resource, dict):
            raise InputError(f"resource {logical_id!s} must be a mapping", file=name, line=where,
                             kind="structure")
        if isinstance(resource.get("Properties"), Unknown):  # its defaults would be guesses: not reviewable
            raise InputError(f"resource {logical_id!s} Properties: {resource['Properties'].reason}", file=name,
                             line=where, kind="include")
        rtype = resource.get("Type")
        if not isinstance(rtype, str):
            problem = "has no Type" if rtype is None else "Type must be a string"
            raise InputError(f"resource {logical_id!s} {problem}", file=name, line=where,
                             kind="structure")
    return Template(path=name, data=data, sha256=sha, is_sam=_is_sam(transform))


def _is_sam(transform: Any) -> bool:
    if isinstance(transform, str):
        return transform == SAM_TRANSFORM
    if isinstance(transform, list):
        return any(isinstance(t, str) and t == SAM_TRANSFORM for t in transform)
    return False


def load_file(path: str) -> Template:
    """Read and decode the template at ``path`` (``-`` reads standard input as ``<stdin>``)."""
    if path == "-":
        try:
            raw = sys.stdin.buffer.read(MAX_BYTES + 1)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", file="<stdin>", kind="io") from exc
        return load_text(raw, "<stdin>", local_files=True)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_BYTES:
                raise InputError(f"file is larger than {MAX_BYTES} bytes ({size})", file=path,
                                 kind="too-large")
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=path, kind="io") from exc
    return load_text(raw, path, os.path.dirname(os.path.abspath(path)), local_files=True)


def discover(paths: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Expand files, folders and globs into template files; also (path, problem) for no match."""
    found: set[str] = set()
    stdin = False
    missing: list[tuple[str, str]] = []
    for given in paths:
        if given == "-":
            stdin = True
        elif os.path.isfile(given):
            found.add(os.path.normpath(given))
        elif os.path.isdir(given):
            matches = _walk(given)
            if not matches:
                missing.append((given, "no .yaml, .yml, .json or .template files in this folder"))
            found.update(matches)
        elif glob.has_magic(given):
            matches = set()
            for hit in glob.glob(given, recursive=True):
                if _skipped(hit):
                    continue
                if os.path.isdir(hit):
                    matches.update(_walk(hit))
                elif os.path.isfile(hit):
                    matches.add(os.path.normpath(hit))
            if not matches:
                missing.append((given, "no files match this pattern"))
            found.update(matches)
        else:
            missing.append((given, "no such file or directory"))
    return (["-"] if stdin else []) + sorted(found), missing


def _walk(folder: str) -> set[str]:
    hits: set[str] = set()
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for file in files:
            if file.endswith(EXTENSIONS):
                hits.add(os.path.normpath(os.path.join(root, file)))
    return hits


def _skipped(path: str) -> bool:
    return any(part in SKIP_DIRS for part in os.path.normpath(path).split(os.sep))
