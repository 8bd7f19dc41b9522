"""Resolve CloudFormation intrinsics over parameter defaults into placeholders, literals and Unknowns.

References become placeholder strings (``{{ref:X}}``, ``{{getatt:X.Attr}}``, ``{{AWS::Region}}``) so
that the graph can match relations by plain equality; anything the template alone does not determine
becomes :class:`walens.model.Unknown` with a reason naming the intrinsic (see docs/ARCHITECTURE.md §3).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from walens.model import CfnResource, Location, Resource, Unknown

# Deeper nesting than this is no real template: stop before Python's recursion limit does.
MAX_DEPTH = 100

PSEUDO_PARAMETERS = frozenset({
    "AWS::AccountId", "AWS::NotificationARNs", "AWS::Partition", "AWS::Region",
    "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
})

# The property holding a resource's physical name, when the author may write it.
NAME_PROPERTIES: dict[str, str] = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": "PolicyName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::ApiGateway::RestApi": "Name",
    "AWS::ApiGateway::Stage": "StageName",
    "AWS::ApiGatewayV2::Api": "Name",
    "AWS::ApiGatewayV2::Stage": "StageName",
    "AWS::Events::Rule": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Lambda::Alias": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
}

# Types whose `Ref` returns the physical name (CloudFormation "Return values" of each resource type);
# for the rest `Ref` returns an ARN, URL or generated ID, so it stays a placeholder.
REF_RETURNS_NAME = frozenset({
    "AWS::Lambda::Function", "AWS::Logs::LogGroup", "AWS::IAM::Role", "AWS::DynamoDB::Table",
    "AWS::ApiGateway::Stage", "AWS::S3::Bucket", "AWS::Kinesis::Stream", "AWS::Events::EventBus",
    "AWS::Scheduler::Schedule",
})


class _NoValue:
    """The value of ``Ref: AWS::NoValue``: the enclosing key or list item disappears."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NoValue"


NOVALUE = _NoValue()

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


def _ref(logical_id: str) -> str:
    return "{{ref:" + logical_id + "}}"


def _getatt(logical_id: str, attr: str) -> str:
    return "{{getatt:" + logical_id + "." + attr + "}}"


def _scalar_text(value: Any) -> str | None:
    """A scalar as CloudFormation compares and concatenates it (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _because(intrinsic: str, unknown: Unknown) -> Unknown:
    """An Unknown for ``intrinsic`` caused by ``unknown``; a reason naming an intrinsic already says enough."""
    if unknown.reason.startswith(("Fn::", "Ref", "nesting")):
        return unknown
    return Unknown(f"{intrinsic}: {unknown.reason}")


def _first_unknown(value: Any) -> Unknown | None:
    """The first Unknown inside ``value`` (depth-first), or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Unknown):
            return item
        if isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return None


class Resolver:
    """Resolves the intrinsics of one template's resources from its parameters, mappings and conditions."""

    def __init__(self, data: Mapping[str, Any], cfn: list[CfnResource]) -> None:
        params = data.get("Parameters")
        self.parameters: Mapping[str, Any] = params if isinstance(params, Mapping) else {}
        mappings = data.get("Mappings")
        self.mappings: Mapping[str, Any] = mappings if isinstance(mappings, Mapping) else {}
        conditions = data.get("Conditions")
        self.conditions: Mapping[str, Any] = conditions if isinstance(conditions, Mapping) else {}
        authored = data.get("Resources")
        self.authored: frozenset[str] = frozenset(authored) if isinstance(authored, Mapping) else frozenset()
        self.resources: dict[str, CfnResource] = {r.logical_id: r for r in cfn}
        # A malformed Type (an intrinsic, a number) names no known type rather than crashing a lookup.
        self.types: dict[str, str] = {r.logical_id: r.type if isinstance(r.type, str) else "" for r in cfn}
        self._condition_cache: dict[str, bool | None] = {}
        self._conditions_open: set[str] = set()
        self._name_cache: dict[str, Any] = {}
        self._names_open: set[str] = set()

    # -- conditions -------------------------------------------------------------------------------
    def condition(self, name: str) -> bool | None:
        """The named condition's value from parameter defaults; None when it cannot be decided."""
        if name in self._condition_cache:
            return self._condition_cache[name]
        if name not in self.conditions or name in self._conditions_open:
            return None  # undeclared or circular: undecidable rather than a crash
        self._conditions_open.add(name)
        try:
            result = self._evaluate(self.conditions[name], 0)
        finally:
            self._conditions_open.discard(name)
        self._condition_cache[name] = result
        return result

    def _evaluate(self, node: Any, depth: int) -> bool | None:
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, bool):
            return node
        if not isinstance(node, Mapping) or len(node) != 1:
            return None
        (key, arg), = node.items()
        if key == "Condition":
            return self.condition(arg) if isinstance(arg, str) else None
        if key == "Fn::Equals":
            if not isinstance(arg, list) or len(arg) != 2:
                return None
            left, right = (self.value(a, depth + 1) for a in arg)
            if _first_unknown(left) is not None or _first_unknown(right) is not None:
                return None
            lt, rt = _scalar_text(left), _scalar_text(right)
            if lt is not None and rt is not None:
                # A placeholder such as {{AWS::Region}} is no value at all: equality is undecidable.
                if "{{" in lt or "{{" in rt:
                    return None if lt != rt else True
                return lt == rt
            return bool(left == right)
        if key in ("Fn::And", "Fn::Or"):
            if not isinstance(arg, list) or not arg:
                return None
            results = [self._evaluate(a, depth + 1) for a in arg]
            if key == "Fn::And":
                if False in results:
                    return False
                return None if None in results else True
            if True in results:
                return True
            return None if None in results else False
        if key == "Fn::Not":
            if not isinstance(arg, list) or len(arg) != 1:
                return None
            inner = self._evaluate(arg[0], depth + 1)
            return None if inner is None else not inner
        return None

    # -- values -----------------------------------------------------------------------------------
    def value(self, node: Any, depth: int = 0) -> Any:
        """``node`` with every intrinsic resolved; may be :data:`NOVALUE` or contain Unknowns."""
        if depth > MAX_DEPTH:
            return Unknown(f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, str):  # the commonest node first: Mapping is an ABC, slow to reject a leaf
            return str(node)  # drop loader node subclasses: views hold plain values
        if isinstance(node, Mapping):
            if len(node) == 1:
                (key, arg), = node.items()
                if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
                    return self._intrinsic(key, arg, depth)
            out: dict[str, Any] = {}
            for k, v in node.items():
                resolved = self.value(v, depth + 1)
                if resolved is not NOVALUE:
                    out[str(k)] = resolved
            return out
        if isinstance(node, list):
            return [r for r in (self.value(v, depth + 1) for v in node) if r is not NOVALUE]
        return node

    def _intrinsic(self, key: str, arg: Any, depth: int) -> Any:
        handler = _HANDLERS.get(key)
        if handler is None:
            return Unknown(f"{key} is not evaluated")
        return handler(self, arg, depth + 1)

    def ref(self, name: Any, depth: int = 0) -> Any:
        """The value of ``Ref: name``."""
        if not isinstance(name, str):
            return Unknown("Ref: malformed argument")
        if name == "AWS::NoValue":
            return NOVALUE
        if name in PSEUDO_PARAMETERS:
            return "{{" + name + "}}"
        if name in self.parameters:
            return self._parameter(name)
        if name in self.resources:
            return self._resource_ref(name)
        if name in self.authored:
            return _ref(name)
        return Unknown(f"Ref: {name} is neither a parameter nor a resource")

    def _parameter(self, name: str) -> Any:
        spec = self.parameters[name]
        if not isinstance(spec, Mapping) or "Default" not in spec:
            return Unknown(f"parameter {name} has no default")
        default = spec["Default"]
        ptype = str(spec.get("Type", "String"))
        if ptype.startswith("AWS::SSM::Parameter::Value"):
            return Unknown(f"parameter {name} is read from SSM parameter {default}")
        if ptype == "CommaDelimitedList" or ptype.startswith("List<"):
            if isinstance(default, list):
                return [str(v) for v in default]
            text = _scalar_text(default)
            return [] if not text else [part.strip() for part in text.split(",")]
        return str(default) if isinstance(default, str) else default

    def _resource_ref(self, logical_id: str) -> Any:
        if self.types[logical_id] not in REF_RETURNS_NAME:
            return _ref(logical_id)
        name = self.physical_name(logical_id)
        return name if isinstance(name, str) else _ref(logical_id)

    def physical_name(self, logical_id: str) -> Any:
        """The resolved name property of a resource, or None when it is not written (or circular)."""
        if logical_id in self._name_cache:
            return self._name_cache[logical_id]
        res = self.resources[logical_id]
        prop = NAME_PROPERTIES.get(self.types[logical_id])
        if prop is None or not isinstance(res.properties, Mapping) or prop not in res.properties:
            return None
        if logical_id in self._names_open:
            return None  # a name that refers to itself: fall back to the placeholder
        self._names_open.add(logical_id)
        try:
            name = self.value(res.properties[prop])
        finally:
            self._names_open.discard(logical_id)
        if name is NOVALUE:
            name = None
        self._name_cache[logical_id] = name
        return name


def _sub(r: Resolver, arg: Any, depth: int) -> Any:
    variables: Mapping[Any, Any]
    if isinstance(arg, str):
        text, variables = arg, {}
    elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], Mapping):
        text, variables = arg[0], arg[1]
    else:
        return Unknown("Fn::Sub: malformed argument")
    parts: list[str] = []
    pos = 0
    for m in _SUB_VAR.finditer(text):
        parts.append(text[pos:m.start()])
        pos = m.end()
        var = m.group(1)
        if var.startswith("!"):
            parts.append("${" + var[1:] + "}")  # ${!Literal} writes ${Literal}
            continue
        var = var.strip()
        if var in variables:
            value = r.value(variables[var], depth + 1)
        elif "." in var and var not in r.parameters and not var.startswith("AWS::"):
            logical_id, attr = var.split(".", 1)
            value = _getatt_value(r, [logical_id, attr], depth + 1)
        else:
            value = r.ref(var, depth + 1)
        if isinstance(value, Unknown):
            return _because(f"Fn::Sub: ${{{var}}}", value)
        text_value = _scalar_text(value)
        if text_value is None:
            return Unknown(f"Fn::Sub: ${{{var}}} is not a string")
        parts.append(text_value)
    parts.append(text[pos:])
    return "".join(parts)


def _getatt_value(r: Resolver, arg: Any, depth: int) -> Any:
    if isinstance(arg, str) and "." in arg:
        arg = arg.split(".", 1)
    if not isinstance(arg, list) or len(arg) != 2 or not isinstance(arg[0], str):
        return Unknown("Fn::GetAtt: malformed argument")
    attr = r.value(arg[1], depth + 1)
    if not isinstance(attr, str):
        return Unknown(f"Fn::GetAtt: attribute of {arg[0]} cannot be determined")
    return _getatt(arg[0], attr)


def _join(r: Resolver, arg: Any, depth: int) -> Any:
    if not isinstance(arg, list) or len(arg) != 2:
        return Unknown("Fn::Join: malformed argument")
    delimiter = r.value(arg[0], depth + 1)
    items = r.value(arg[1], depth + 1)
    if isinstance(delimiter, Unknown):
        return _because("Fn::Join", delimiter)
    if not isinstance(delimiter, str):
        return Unknown("Fn::Join: delimiter is not a string")
    if isinstance(items, Unknown):
        return _because("Fn::Join", items)
    if not isinstance(items, list):
        return Unknown("Fn::Join: malformed argument")
    texts: list[str] = []
    for item in items:
        if isinstance(item, Unknown):
            return _because("Fn::Join", item)
        text = _scalar_text(item)
        if text is None:
            return Unknown("Fn::Join: an item is not a string")
        texts.append(text)
    return delimiter.join(texts)


def _select(r: Resolver, arg: Any, depth: int) -> Any:
    if not isinstance(arg, list) or len(arg) != 2:
        return Unknown("Fn::Select: malformed argument")
    index = r.value(arg[0], depth + 1)
    try:
        i = int(index)  # CloudFormation accepts "0" as well as 0
    except (TypeError, ValueError):
        return Unknown("Fn::Select: index cannot be determined")
    source = arg[1]
    if isinstance(source, Mapping) and set(source) == {"Fn::GetAZs"}:
        region = r.value(source["Fn::GetAZs"], depth + 1) or "{{AWS::Region}}"
        if not isinstance(region, str):
            return Unknown("Fn::GetAZs: region cannot be determined")
        return "{{az:" + region + ":" + str(i) + "}}"
    items = r.value(source, depth + 1)
    if isinstance(items, Unknown):
        return _because("Fn::Select", items)
    if not isinstance(items, list):
        return Unknown("Fn::Select: malformed argument")
    if not 0 <= i < len(items):
        return Unknown(f"Fn::Select: index {i} out of range")
    return items[i]


def _split(r: Resolver, arg: Any, depth: int) -> Any:
    if not isinstance(arg, list) or len(arg) != 2:
        return Unknown("Fn::Split: malformed argument")
    delimiter = r.value(arg[0], depth + 1)
    source = r.value(arg[1], depth + 1)
    if isinstance(source, Unknown):
        return _because("Fn::Split", source)
    if not isinstance(delimiter, str) or not delimiter or not isinstance(source, str):
        return Unknown("Fn::Split: malformed argument")
    return source.split(delimiter)


def _find_in_map(r: Resolver, arg: Any, depth: int) -> Any:
    if not isinstance(arg, list) or len(arg) not in (3, 4):
        return Unknown("Fn::FindInMap: malformed argument")
    keys = [r.value(a, depth + 1) for a in arg[:3]]
    default: Any = NOVALUE
    if len(arg) == 4 and isinstance(arg[3], Mapping) and "DefaultValue" in arg[3]:
        default = r.value(arg[3]["DefaultValue"], depth + 1)  # AWS::LanguageExtensions form
    for key in keys:
        if isinstance(key, Unknown):
            return _because("Fn::FindInMap", key)
        if _scalar_text(key) is None:
            return Unknown("Fn::FindInMap: malformed argument")
    name, top, second = (_scalar_text(k) or "" for k in keys)
    node: Any = r.mappings.get(name)
    if not isinstance(node, Mapping):
        return Unknown(f"Fn::FindInMap: mapping {name} is not declared")
    for key in (top, second):
        node = node.get(key) if isinstance(node, Mapping) else None
        if node is None:
            if default is not NOVALUE:
                return default
            return Unknown(f"Fn::FindInMap: {name} has no entry {top}/{second}")
    return r.value(node, depth + 1)


def _if(r: Resolver, arg: Any, depth: int) -> Any:
    if not isinstance(arg, list) or len(arg) != 3 or not isinstance(arg[0], str):
        return Unknown("Fn::If: malformed argument")
    decided = r.condition(arg[0])
    if decided is True:
        return r.value(arg[1], depth + 1)
    if decided is False:
        return r.value(arg[2], depth + 1)
    then, other = r.value(arg[1], depth + 1), r.value(arg[2], depth + 1)
    if then == other and _first_unknown(then) is None:
        return then
    return Unknown(f"Fn::If: condition {arg[0]} cannot be decided from parameter defaults")


def _base64(r: Resolver, arg: Any, depth: int) -> Any:
    value = r.value(arg, depth + 1)
    if isinstance(value, Unknown):
        return _because("Fn::Base64", value)
    if not isinstance(value, str):
        return Unknown("Fn::Base64: malformed argument")
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def _get_azs(r: Resolver, arg: Any, depth: int) -> Any:
    return Unknown("Fn::GetAZs: the Availability Zones depend on the account and region")


def _to_json_string(r: Resolver, arg: Any, depth: int) -> Any:
    value = r.value(arg, depth + 1)
    unknown = _first_unknown(value)
    if unknown is not None:
        return _because("Fn::ToJsonString", unknown)
    if not isinstance(value, (dict, list)):
        return Unknown("Fn::ToJsonString: malformed argument")
    return json.dumps(value, separators=(",", ":"))


def _length(r: Resolver, arg: Any, depth: int) -> Any:
    value = r.value(arg, depth + 1)
    if isinstance(value, Unknown):
        return _because("Fn::Length", value)
    if not isinstance(value, list):
        return Unknown("Fn::Length: malformed argument")
    return len(value)


def _import_value(r: Resolver, arg: Any, depth: int) -> Any:
    name = r.value(arg, depth + 1)
    if isinstance(name, str):
        return Unknown(f"Fn::ImportValue: export {name} is defined in another stack")
    return Unknown("Fn::ImportValue: export of another stack")


def _ref_handler(r: Resolver, arg: Any, depth: int) -> Any:
    return r.ref(arg, depth)


_HANDLERS = {
    "Ref": _ref_handler,
    "Fn::Sub": _sub,
    "Fn::GetAtt": _getatt_value,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::FindInMap": _find_in_map,
    "Fn::If": _if,
    "Fn::Base64": _base64,
    "Fn::GetAZs": _get_azs,
    "Fn::ToJsonString": _to_json_string,
    "Fn::Length": _length,
    "Fn::ImportValue": _import_value,
}


def resolve_resources(data: Mapping[str, Any], cfn: list[CfnResource], file: str) -> list[Resource]:
    """Turn a template's CfnResources into Resources: intrinsics resolved, defaults applied, false conditions dropped."""
    from walens.views import apply_defaults  # views imports nothing heavy; late to avoid an import cycle

    resolver = Resolver(data, cfn)
    out: list[Resource] = []
    for res in cfn:
        if res.condition and resolver.condition(res.condition) is False:
            continue
        props = resolver.value(res.properties) if isinstance(res.properties, Mapping) else {}
        if not isinstance(props, dict):
            props = {}
        name = resolver.physical_name(res.logical_id)
        resource = Resource(
            id=res.logical_id,
            type=resolver.types[res.logical_id],
            properties=props,
            location=Location(file, res.line, res.col or 1),
            origin=res.origin,
            origin_type=res.origin_type,
            name=name if isinstance(name, str) else _ref(res.logical_id),
            metadata=dict(resolver.value(res.metadata)) if isinstance(res.metadata, Mapping) else {},
            condition=res.condition,
            template=data,
        )
        resource.facts["defaulted"] = apply_defaults(resource.type, resource.properties)
        out.append(resource)
    return out
