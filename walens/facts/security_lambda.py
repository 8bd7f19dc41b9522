"""Security facts for Lambda functions: secrets and static keys in the environment, VPC placement,
resource-based permissions and layers.

Secret values are never returned: facts name the environment variables or parameters, nothing else.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources as package_files
from typing import Any

from walens.facts import fact, of_type, shared
from walens.facts.iam import analyse_vpc_guardrail, policy_documents
from walens.model import Resource, Unknown

FUNCTION = "AWS::Lambda::Function"

# Words that make a variable or parameter name secret-like (LENS.md §3 SEC 3: PASSWORD|SECRET|TOKEN|
# API_?KEY|PRIVATE_KEY), matched on the name's words so that SECRET_ARN or TOKEN_TTL do not count.
_SECRET_WORDS = frozenset({"PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE", "SECRET", "SECRETS", "TOKEN", "TOKENS",
                           "APIKEY", "PRIVATEKEY", "SECRETKEY", "SIGNINGKEY", "CLIENTSECRET"})
_SECRET_PAIRS = frozenset({"APIKEY", "PRIVATEKEY", "SECRETKEY", "SIGNINGKEY", "CLIENTSECRET", "ENCRYPTIONKEY"})
# A last word that makes the name a pointer to a secret or a setting about it, not the secret itself.
_POINTER_WORDS = frozenset({
    "ARN", "ARNS", "NAME", "NAMES", "ID", "IDS", "PATH", "PARAM", "PARAMS", "PARAMETER", "URL", "URI",
    "ENDPOINT", "HOST", "PORT", "HEADER", "TTL", "EXPIRY", "EXPIRES", "EXPIRATION", "LENGTH", "TABLE",
    "BUCKET", "QUEUE", "TOPIC", "REGION", "TYPE", "FILE", "ENABLED", "DISABLED", "SECONDS", "MINUTES",
    "HOURS", "DAYS", "MS", "TIMEOUT", "TIME", "COUNT", "SIZE", "MAX", "MIN", "LIMIT", "VERSION", "FIELD",
    "PREFIX", "LOCATION", "STAGE", "MODE", "ISSUER", "AUDIENCE", "SCOPE", "SCOPES", "ALGORITHM", "SOURCE",
    "CACHE", "POLICY", "ROTATION", "STORE", "KEYID", "ALIAS", "LEVEL", "FORMAT", "ENCODING", "STRATEGY",
})
_ACCESS_KEY_VALUE = re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_URL_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@{}]+:([^/\s@]+)@")
_PLACEHOLDER = re.compile(r"\{\{(ref|getatt):([^.}]+)(?:\.([^}]+))?\}\}")
_NO_DEFAULT = re.compile(r"^parameter (\S+) has no default$")


def _props(r: Resource | dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(r, Resource):
        return r.properties if isinstance(r.properties, dict) else {}
    props = (r or {}).get("Properties")
    return props if isinstance(props, dict) else {}


def name_words(name: str) -> list[str]:
    """The words of an identifier, upper-cased: ``dbPassword`` / ``DB_PASSWORD`` → ``[DB, PASSWORD]``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name))
    return [w.upper() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def is_static_key_name(name: str) -> bool:
    """Whether a variable name says it holds an AWS access key, secret key or session token."""
    words = name_words(name)
    joined = "_".join(words)
    return any(seq in joined for seq in ("ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")) or (
        "AWS" in words and ("ACCESS" in words and "KEY" in words))


def is_secret_name(name: str) -> bool:
    """Whether a name reads as a secret itself (``DB_PASSWORD``, ``apiKey``) rather than a pointer to one."""
    words = name_words(name)
    if not words or words[-1] in _POINTER_WORDS:
        return False
    pairs = {a + b for a, b in zip(words, words[1:])}
    return bool(_SECRET_WORDS.intersection(words) or _SECRET_PAIRS.intersection(pairs))


def value_kind(value: Any) -> str | Unknown:
    """How an environment value is supplied: ``literal`` (written in the template), ``reference``
    (a dynamic reference, a resource reference, an ARN or a path), ``parameter`` (a deploy-time parameter
    without default), ``empty``; an Unknown otherwise."""
    if isinstance(value, Unknown):
        return "parameter" if _NO_DEFAULT.match(value.reason) else value
    if value is None or isinstance(value, (bool, int, float)):
        return "empty"
    if not isinstance(value, str):
        return Unknown("the value is not a string")
    text = value.strip()
    if not text or text.lower() in ("true", "false", "none", "null"):
        return "empty"
    if "{{resolve:" in text or _PLACEHOLDER.search(text) or text.startswith(("arn:", "/")):
        return "reference"
    return "literal"


def _variables(fn: Resource) -> dict[str, Any] | Unknown:
    env = _props(fn).get("Environment")
    if isinstance(env, Unknown):
        return env
    variables = env.get("Variables") if isinstance(env, dict) else None
    if isinstance(variables, Unknown):
        return variables
    return variables if isinstance(variables, dict) else {}


def _access_key_refs(value: Any, inventory: Sequence[Resource]) -> bool:
    """Whether a value carries an ``AWS::IAM::AccessKey`` of the template (its id or its secret)."""
    if not isinstance(value, str):
        return False
    keys = {r.id for r in inventory if r.type == "AWS::IAM::AccessKey"}
    return any(m.group(2) in keys for m in _PLACEHOLDER.finditer(value))


def _first_or_list(found: list[str], unknown: Unknown | None) -> list[str] | Unknown:
    """A definite finding wins; otherwise an undecided value makes the whole answer undecided."""
    if found or unknown is None:
        return sorted(found)
    return unknown


@fact("environment_secrets", types=[FUNCTION])
def environment_secrets(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """Names of environment variables holding a secret written in the template (``literal``) or an AWS
    access key (``static_keys``). Values are inspected in memory and never returned."""
    variables = _variables(resource)
    if isinstance(variables, Unknown):
        return {"literal": variables, "static_keys": variables}
    literal: list[str] = []
    static: list[str] = []
    unknown_literal: Unknown | None = None
    unknown_static: Unknown | None = None
    for name, value in variables.items():
        name = str(name)
        kind = value_kind(value)
        text = value if isinstance(value, str) else ""
        if _ACCESS_KEY_VALUE.search(text) or _access_key_refs(value, inventory):
            static.append(name)
            continue
        if is_static_key_name(name):
            if isinstance(kind, Unknown):
                unknown_static = unknown_static or kind
            elif kind != "empty":
                static.append(name)
            continue
        m = _URL_CREDENTIALS.search(text)
        if m and "{{" not in m.group(1):
            literal.append(name)  # a connection string with a password in it
            continue
        if not is_secret_name(name):
            continue
        if isinstance(kind, Unknown):
            unknown_literal = unknown_literal or kind
        elif kind == "literal":
            literal.append(name)
    return {"literal": _first_or_list(literal, unknown_literal),
            "static_keys": _first_or_list(static, unknown_static)}


# -- parameters ------------------------------------------------------------------------------------


def authored_template(resource: Resource) -> Mapping[str, Any] | None:
    """The template a resource was read from, as authored (parameters, Globals, unresolved intrinsics).

    The loaded model, never the file again: a template read from stdin has no file, and a file may have
    changed since it was read."""
    return resource.template if isinstance(resource.template, Mapping) else None


def _referenced_parameters(node: Any, parameters: dict[str, Any]) -> Iterable[str]:
    """Parameters a value references through ``Ref`` or ``Fn::Sub`` (``${Name}``)."""
    if isinstance(node, dict):
        if set(node) == {"Ref"} and isinstance(node["Ref"], str) and node["Ref"] in parameters:
            yield node["Ref"]
            return
        if set(node) == {"Fn::Sub"}:
            arg = node["Fn::Sub"]
            text, local = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
            if isinstance(text, str):
                for var in re.findall(r"\$\{([^}!.]+)\}", text):
                    if var in parameters and not (isinstance(local, dict) and var in local):
                        yield var
            if isinstance(local, dict):
                for value in local.values():
                    yield from _referenced_parameters(value, parameters)
            return
        for value in node.values():
            yield from _referenced_parameters(value, parameters)
    elif isinstance(node, list):
        for item in node:
            yield from _referenced_parameters(item, parameters)


def _authored_variables(data: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """The authored ``Environment.Variables`` of a function, SAM ``Globals.Function`` merged in."""
    resources = data.get("Resources") if isinstance(data.get("Resources"), dict) else {}
    authored = resources.get(origin) if isinstance(resources, dict) else None
    out: dict[str, Any] = {}
    if not isinstance(authored, dict):
        return out
    layers = []
    if authored.get("Type") == "AWS::Serverless::Function" and authored.get("IgnoreGlobals") != "*":
        glob = data.get("Globals")
        fn_glob = glob.get("Function") if isinstance(glob, dict) else None
        layers.append(fn_glob.get("Environment") if isinstance(fn_glob, dict) else None)
    props = authored.get("Properties")
    layers.append(props.get("Environment") if isinstance(props, dict) else None)
    for env in layers:
        variables = env.get("Variables") if isinstance(env, dict) else None
        if isinstance(variables, dict):
            out.update(variables)
    return out


def _no_echo(spec: Any) -> bool:
    value = spec.get("NoEcho") if isinstance(spec, dict) else None
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _template_behind(resource: Resource) -> Mapping[str, Any] | list[str] | Unknown:
    """The authored template, when the function has environment variables whose sources need tracing;
    otherwise the parameter facts' result: none for a deployed function or one without variables (the
    parameters are the template author's; SEC010/SEC027 are template rules), or why it cannot be told."""
    if resource.source != "template":
        return []
    variables = _variables(resource)
    if isinstance(variables, Unknown):
        return variables
    if not variables:
        return []
    data = authored_template(resource)
    return Unknown("the authored template is not available") if data is None else data


@fact("secret_parameters", types=[FUNCTION])
def secret_parameters(resource: Resource, inventory: Sequence[Resource]) -> list[str] | Unknown:
    """Template parameters without ``NoEcho`` that reach the function's environment and are secret-like
    (by the parameter's name, or by the name of the variable they fill)."""
    data = _template_behind(resource)
    if not isinstance(data, Mapping):
        return data
    parameters = data.get("Parameters")
    if not isinstance(parameters, dict) or not parameters:
        return []
    found: set[str] = set()
    for var, value in _authored_variables(data, resource.origin or resource.id).items():
        for param in _referenced_parameters(value, parameters):
            spec = parameters.get(param)
            ptype = str(spec.get("Type", "String")) if isinstance(spec, dict) else "String"
            if ptype.startswith("AWS::SSM::Parameter::Value"):
                continue  # the value comes from Parameter Store, not from whoever deploys
            if (is_secret_name(param) or is_secret_name(str(var))) and not is_static_key_name(str(var)) \
                    and not _no_echo(spec):
                found.add(param)
    return sorted(found)


def _dynamic_secret_references(node: Any) -> bool:
    """Whether an authored value holds a ``{{resolve:secretsmanager:...}}`` dynamic reference."""
    if isinstance(node, str):
        return "{{resolve:secretsmanager:" in node
    if isinstance(node, dict):
        return any(_dynamic_secret_references(v) for v in node.values())
    if isinstance(node, list):
        return any(_dynamic_secret_references(v) for v in node)
    return False


@fact("deploy_time_secrets", types=[FUNCTION])
def deploy_time_secrets(resource: Resource, inventory: Sequence[Resource]) -> list[str] | Unknown:
    """Environment variables that receive a secret's value when the stack deploys: a ``NoEcho`` parameter
    or a Secrets Manager dynamic reference (``VAR (NoEcho parameter P)``, ``VAR (Secrets Manager dynamic
    reference)``). Names only: values are never read into the result."""
    data = _template_behind(resource)
    if not isinstance(data, Mapping):
        return data
    parameters = data.get("Parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    found: list[str] = []
    for var, value in _authored_variables(data, resource.origin or resource.id).items():
        for param in _referenced_parameters(value, parameters):
            entry = f"{var} (NoEcho parameter {param})"
            if _no_echo(parameters.get(param)) and entry not in found:
                found.append(entry)
        if _dynamic_secret_references(value):
            found.append(f"{var} (Secrets Manager dynamic reference)")
    return sorted(found)


# -- VPC -------------------------------------------------------------------------------------------

_GUARDRAIL_TYPES = frozenset({"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role",
                              "AWS::Organizations::Policy"})


@fact("vpc_guardrails", types=[FUNCTION])
def vpc_guardrails(resource: Resource, inventory: Sequence[Resource]) -> list[str]:
    """Ids of the template's policies that require Lambda functions to be VPC-connected."""
    return list(shared(inventory, "vpc_guardrails", _vpc_guardrails))


def _vpc_guardrails(inventory: Sequence[Resource]) -> list[str]:
    out = []
    for rtype in _GUARDRAIL_TYPES:
        for r in of_type(inventory, rtype):
            analysis = r.facts.get("lambda_vpc_guardrail") if "lambda_vpc_guardrail" in r.facts \
                else analyse_vpc_guardrail(policy_documents(r))
            if isinstance(analysis, dict) and analysis.get("requires_vpc"):
                out.append(r.id)
    return sorted(out)


# Resources reachable only from inside a VPC (unless the noted property opens them up).
_VPC_ONLY: dict[str, tuple[str, Any] | None] = {
    "AWS::RDS::DBInstance": ("PubliclyAccessible", True),
    "AWS::RDS::DBCluster": ("EnableHttpEndpoint", True),  # the RDS Data API is reachable without a VPC
    "AWS::RDS::DBProxy": None,
    "AWS::ElastiCache::CacheCluster": None,
    "AWS::ElastiCache::ReplicationGroup": None,
    "AWS::ElastiCache::ServerlessCache": None,
    "AWS::MemoryDB::Cluster": None,
    "AWS::DocDB::DBCluster": None,
    "AWS::Neptune::DBCluster": None,
}


def _in_vpc(fn: Resource) -> bool | Unknown:
    config = _props(fn).get("VpcConfig")
    if isinstance(config, Unknown):
        return config
    subnets = config.get("SubnetIds") if isinstance(config, dict) else None
    if isinstance(subnets, Unknown):
        return subnets
    return bool(subnets)


@fact("vpc_only_targets", types=[FUNCTION])
def vpc_only_targets(resource: Resource, inventory: Sequence[Resource]) -> list[str]:
    """Ids of the template's VPC-only resources (RDS, ElastiCache, ...) the function's environment names."""
    variables = _variables(resource)
    if isinstance(variables, Unknown) or not variables:
        return []
    by_id = {r.id: r for r in inventory if r.type in _VPC_ONLY}
    out: set[str] = set()
    for value in variables.values():
        for m in _PLACEHOLDER.finditer(value if isinstance(value, str) else ""):
            target = by_id.get(m.group(2))
            if target is None:
                continue
            opener = _VPC_ONLY[target.type]
            if opener is not None and _props(target).get(opener[0]) in (opener[1], str(opener[1]).lower()):
                continue
            out.add(target.id)
    return sorted(out)


_ANYWHERE = ("0.0.0.0/0", "::/0")


def _to_anywhere(rule: dict[str, Any]) -> bool:
    return rule.get("CidrIp") in _ANYWHERE or rule.get("CidrIpv6") in _ANYWHERE


def _port(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _all_ports(rule: dict[str, Any]) -> bool:
    """Whether a rule covers every port of its protocol: protocol -1, or no range / 0-65535 / -1."""
    protocol = str(rule.get("IpProtocol", "")).lower()
    if protocol in ("-1", "all"):
        return True
    low, high = _port(rule.get("FromPort")), _port(rule.get("ToPort"))
    if protocol in ("tcp", "udp", "6", "17"):
        return (low is None or low <= 0) and (high is None or high in (-1, 65535))
    return low in (None, -1) and high in (None, -1)  # ICMP and other protocols: -1 means every type


def _open_egress(rule: Any) -> bool:
    return isinstance(rule, dict) and _to_anywhere(rule) and _all_ports(rule)


def _open_ingress(rule: Any) -> bool:
    return isinstance(rule, dict) and _to_anywhere(rule)


def _function_groups(resource: Resource, inventory: Sequence[Resource],
                     direction: str) -> tuple[list[tuple[Resource, list[Any] | Unknown]], Unknown | None]:
    """The function's security groups defined in the template, each with its rules in ``direction``
    (``Egress`` or ``Ingress``: the group's own and those of ``AWS::EC2::SecurityGroup<direction>``
    resources); or the Unknown that hides which groups the function uses."""
    config = _props(resource).get("VpcConfig")
    groups = config.get("SecurityGroupIds") if isinstance(config, dict) else None
    if isinstance(config, Unknown) or isinstance(groups, Unknown):
        unknown = config if isinstance(config, Unknown) else groups
        if _NO_DEFAULT.match(unknown.reason):  # type: ignore[union-attr]
            return [], None  # a parameter never names a security group of this template
        return [], unknown
    by_id = {r.id: r for r in of_type(inventory, "AWS::EC2::SecurityGroup")}
    extra: dict[str, list[dict[str, Any]]] = {}
    for r in of_type(inventory, f"AWS::EC2::SecurityGroup{direction}"):
        m = _PLACEHOLDER.search(str(_props(r).get("GroupId", "")))
        if m:
            extra.setdefault(m.group(2), []).append(_props(r))
    out: list[tuple[Resource, list[Any] | Unknown]] = []
    for value in groups if isinstance(groups, list) else []:
        m = _PLACEHOLDER.fullmatch(value) if isinstance(value, str) else None
        group = by_id.get(m.group(2)) if m else None
        if group is None:
            continue
        rules = _props(group).get(f"SecurityGroup{direction}")
        if isinstance(rules, Unknown):
            out.append((group, rules))
            continue
        out.append((group, (rules if isinstance(rules, list) else []) + extra.get(group.id, [])))
    return out, None


@fact("open_egress_security_groups", types=[FUNCTION])
def open_egress_security_groups(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """The function's security groups defined in the template (``judged``) and those of them that allow
    all traffic to anywhere (``open``): a rule to 0.0.0.0/0 or ::/0 on every port (protocol -1, or TCP or
    UDP over 0-65535), or no egress rule at all (EC2 then adds allow-all)."""
    return _open_groups(resource, inventory, "Egress",
                        lambda rules: not rules or any(_open_egress(rule) for rule in rules))


@fact("open_ingress_security_groups", types=[FUNCTION])
def open_ingress_security_groups(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """The function's security groups defined in the template (``judged``) and those of them that accept
    inbound traffic from anywhere (``open``: a rule from 0.0.0.0/0 or ::/0, whatever its ports)."""
    return _open_groups(resource, inventory, "Ingress", lambda rules: any(_open_ingress(rule) for rule in rules))


def _open_groups(resource: Resource, inventory: Sequence[Resource], direction: str,
                 is_open: Callable[[list[Any]], bool]) -> dict[str, Any]:
    """``{judged, open}`` for the function's template-defined security groups in one direction: the groups
    judged, and those whose rules ``is_open`` finds open (an Unknown where a group's rules are undecided)."""
    groups, unknown = _function_groups(resource, inventory, direction)
    if unknown is not None:
        return {"judged": unknown, "open": unknown}
    judged, open_groups = [], []
    for group, rules in groups:
        judged.append(group.id)
        if isinstance(rules, Unknown):
            return {"judged": judged, "open": rules}
        if is_open(rules):
            open_groups.append(group.id)
    return {"judged": judged, "open": open_groups}


# -- permissions and layers ------------------------------------------------------------------------

_RESTRICTING = ("SourceArn", "SourceAccount", "PrincipalOrgID", "EventSourceToken")


@fact("permission_exposure", types=["AWS::Lambda::Permission"])
def permission_exposure(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """Who a Lambda permission lets invoke: ``public`` (principal ``*`` with no source or organization
    condition), ``unscoped_service`` (a service principal without ``SourceArn``/``SourceAccount``), and
    ``url_public`` (the permission of a function URL with ``AuthType: NONE``, which SEC004 judges)."""
    props = _props(resource)
    principal = props.get("Principal")
    if isinstance(principal, Unknown):
        return {"public": principal, "unscoped_service": principal, "url_public": False, "principal": "(unknown)"}
    text = principal if isinstance(principal, str) else str(principal)
    scoped = any(props.get(key) is not None for key in _RESTRICTING)
    url_public = str(props.get("FunctionUrlAuthType", "")).upper() == "NONE"
    service = text.endswith((".amazonaws.com", ".amazon.com", "{{AWS::URLSuffix}}")) or text.endswith(".aws.internal")
    if service and resource.origin_type == "AWS::Serverless::Function" and text.startswith("logs."):
        scoped = True  # SAM's CloudWatchLogs event sets SourceArn to the log group (the expansion omits it)
    return {"public": text == "*" and not scoped, "unscoped_service": service and not scoped,
            "url_public": url_public, "principal": text}


_SEGMENT = r"(?:\{\{[^}]*\}\}|[^:{])*"  # one ARN segment, pseudo-parameter placeholders included
_LAYER_ARN = re.compile(rf"^arn:{_SEGMENT}:lambda:{_SEGMENT}:({_SEGMENT}):layer:({_SEGMENT})")


@functools.cache
def aws_layer_publishers() -> dict[str, tuple[str, ...]]:
    """AWS-owned layer publisher accounts → the layer name prefixes they publish (``walens/data/``)."""
    import yaml  # data file, read once

    text = package_files.files("walens").joinpath("data", "aws_layer_publishers.yaml").read_text(encoding="utf-8")
    out: dict[str, tuple[str, ...]] = {}
    for row in yaml.safe_load(text)["publishers"]:
        for account in row["accounts"]:
            out[str(account)] = out.get(str(account), ()) + tuple(str(p) for p in row["layers"])
    return out


def is_aws_layer(account: str, name: str) -> bool:
    """Whether a layer is one of AWS's own public layers (Powertools, Lambda Insights, ADOT, ...)."""
    return any(name.startswith(prefix) for prefix in aws_layer_publishers().get(account, ()))


@fact("external_layers", types=[FUNCTION])
def external_layers(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any] | Unknown:
    """The accounts the function's layers come from, other than its own and AWS's own public layers
    (``{account: [layer ARNs]}``)."""
    layers = _props(resource).get("Layers")
    if isinstance(layers, Unknown):
        return layers
    out: dict[str, Any] = {}
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, Unknown):
            return layer
        m = _LAYER_ARN.match(layer) if isinstance(layer, str) else None
        if m is None:
            continue  # a layer of this template ({{ref:...}}) or not an ARN
        account = m.group(1)
        # The function's own account: the template's pseudo parameter, or the account a scan read it from.
        if account in ("{{AWS::AccountId}}", "", resource.account) or is_aws_layer(account, m.group(2)):
            continue
        out.setdefault(account, []).append(layer)
    return out


# -- dependency scanning ---------------------------------------------------------------------------


@fact("image_scanning", types=["AWS::ECR::Repository"])
def image_scanning(resource: Resource, inventory: Sequence[Resource]) -> bool | Unknown:
    """Whether images pushed to the repository are scanned for vulnerabilities: ``ScanOnPush`` on the
    repository, or an ``AWS::ECR::RegistryScanningConfiguration`` of the template with enhanced scanning
    or a scan-on-push / continuous rule."""
    config = _props(resource).get("ImageScanningConfiguration")
    scan = config.get("ScanOnPush") if isinstance(config, dict) else None
    if scan is True or (isinstance(scan, str) and scan.lower() == "true"):
        return True
    for r in inventory:
        if r.type != "AWS::ECR::RegistryScanningConfiguration":
            continue
        props = _props(r)
        scan_type, rules = props.get("ScanType"), props.get("Rules")
        if isinstance(scan_type, Unknown):
            return scan_type
        if scan_type == "ENHANCED":
            return True
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, dict) and rule.get("ScanFrequency") in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"):
                return True
    return scan if isinstance(scan, Unknown) else False
