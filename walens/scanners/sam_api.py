"""SAM REST and HTTP APIs: API, stage, and one Method/Route per path and verb, with auth and validation.

SAM writes methods, authorizers and validators into the API's OpenAPI ``DefinitionBody``; walens
emits them as ``AWS::ApiGateway::Method``/``Authorizer``/``RequestValidator`` (and ApiGatewayV2
``Route``/``Authorizer``) resources, so rules about auth and validation read one resource each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from walens.model import Unknown

from walens.scanners.sam import (
    Expansion, Source, alnum, as_list, as_map, id_hash, is_intrinsic, resource_properties,
    s3_location, sam_error, tag_list,
)

_VERBS = ("get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method", "any")
_METHODS_UNKNOWN = "WalensMethodsUnknown"  # Metadata key: why the API's methods could not be listed


def _verb(method: str) -> str:
    return "ANY" if method.lower() in ("x-amazon-apigateway-any-method", "any") else method.upper()


def _unique(exp: Expansion, wanted: str) -> str:
    """``wanted``, or ``wanted`` + a hash when another resource already has that ID."""
    candidate, attempt = wanted, 0
    while candidate in exp.taken or candidate in exp.resources:
        attempt += 1
        candidate = f"{wanted}{id_hash(f'{wanted}/{attempt}')}"
    return candidate


def _stage_id(api_id: str, stage: Any, http: bool) -> str:
    prefix = stage if isinstance(stage, str) else ""
    if prefix.isalnum():
        return f"{api_id}{prefix}Stage"
    if http and prefix == "$default":
        return f"{api_id}ApiGatewayDefaultStage"
    return f"{api_id}Stage{id_hash(prefix)}"


def _endpoint_configuration(value: Any) -> Any:
    if isinstance(value, str) or is_intrinsic(value):
        return {"Types": [value]}
    if isinstance(value, Mapping):
        conf: dict[str, Any] = {}
        if value.get("Type") is not None:
            conf["Types"] = [value["Type"]]
        for key in ("VPCEndpointIds", "VpcEndpointIds"):
            if value.get(key) is not None:
                conf["VpcEndpointIds"] = value[key]
        if value.get("IpAddressType") is not None:
            conf["IpAddressType"] = value["IpAddressType"]
        return conf
    return value


def _resource_policy(policy: Mapping[str, Any]) -> dict[str, Any]:
    """Auth.ResourcePolicy as a policy document (the conditions SAM writes, not its exact statement layout)."""
    invoke = {"Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    statements: list[Any] = []

    def add(effect: str, principal: Any, condition: dict[str, Any] | None = None) -> None:
        statement: dict[str, Any] = {**invoke, "Effect": effect, "Principal": principal}
        if condition:
            statement["Condition"] = condition
        statements.append(statement)

    for key, values in policy.items():
        if key == "CustomStatements":
            statements.extend(values if isinstance(values, list) else [values])
            continue
        values = values if isinstance(values, list) else [values]
        allow = key.endswith("Whitelist")
        if key.startswith("AwsAccount"):
            add("Allow" if allow else "Deny", {"AWS": values})
        elif key.startswith("IpRange"):
            add("Allow", "*")
            add("Deny", "*", {"NotIpAddress" if allow else "IpAddress": {"aws:SourceIp": values}})
        elif key in ("SourceVpcWhitelist", "SourceVpcBlacklist", "IntrinsicVpcWhitelist",
                     "IntrinsicVpcBlacklist", "IntrinsicVpceWhitelist", "IntrinsicVpceBlacklist"):
            op = "StringNotEquals" if allow else "StringEquals"
            vpce = [v for v in values if key.startswith("IntrinsicVpce")
                    or (isinstance(v, str) and v.startswith("vpce-"))]
            vpc = [v for v in values if v not in vpce]
            add("Allow", "*")
            if vpc:
                add("Deny", "*", {op: {"aws:SourceVpc": vpc}})
            if vpce:
                add("Deny", "*", {op: {"aws:SourceVpce": vpce}})
    return {"Version": "2012-10-17", "Statement": statements}


def _security_schemes(body: Mapping[str, Any]) -> dict[str, Any]:
    schemes = body.get("securityDefinitions")
    if not isinstance(schemes, Mapping):
        components = body.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
    return dict(schemes) if isinstance(schemes, Mapping) else {}


def _scheme_auth(scheme: Any) -> str | None:
    """AuthorizationType of an OpenAPI security scheme; None for an API key scheme."""
    if not isinstance(scheme, Mapping):
        return "CUSTOM"
    kind = str(scheme.get("x-amazon-apigateway-authtype", "")).lower()
    if kind == "cognito_user_pools":
        return "COGNITO_USER_POOLS"
    if kind == "awssigv4":
        return "AWS_IAM"
    if scheme.get("type") in ("oauth2", "openIdConnect") or "jwtConfiguration" in str(
            scheme.get("x-amazon-apigateway-authorizer", "")):
        return "JWT"
    if "x-amazon-apigateway-authorizer" in scheme or kind:
        return "CUSTOM"
    return None


def _when_true(value: Any) -> Any:
    """The true branch of an ``Fn::If`` (SAM wraps conditional functions' paths in one); else ``value``."""
    while isinstance(value, Mapping) and set(value) == {"Fn::If"}:
        branches = value["Fn::If"]
        if not isinstance(branches, list) or len(branches) != 3:
            return None
        value = branches[1]
    if isinstance(value, Mapping) and value == {"Ref": "AWS::NoValue"}:
        return None
    return value


def _event_auth(exp: Expansion, src: Source, name: Any, authorizers: Mapping[str, str],
                conf_authorizers: Mapping[str, Any]) -> dict[str, Any]:
    """AuthorizationType (+ AuthorizerId) for an authorizer name, NONE or AWS_IAM."""
    if isinstance(name, str) and name in authorizers:
        return {"AuthorizationType": _authorizer_type(exp, src, name, conf_authorizers),
                "AuthorizerId": {"Ref": authorizers[name]}}
    if name is None or name == "NONE":
        return {"AuthorizationType": "NONE"}
    if name == "AWS_IAM":
        return {"AuthorizationType": "AWS_IAM"}
    if isinstance(name, str):
        _authorizer_type(exp, src, name, conf_authorizers)  # raises: not defined
    raise sam_error(src.logical_id, "'Auth.Authorizer' must be the name of an authorizer, NONE or AWS_IAM",
                    src.line)


def _body_operations(body: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any], Any]]:
    """(path, verb, operation, security) for each operation of an inline OpenAPI document."""
    paths = _when_true(body.get("paths"))
    result: list[tuple[str, str, Mapping[str, Any], Any]] = []
    if not isinstance(paths, Mapping):
        return result
    for path, item in paths.items():
        item = _when_true(item)
        if not isinstance(item, Mapping) or not isinstance(path, str):
            continue
        for verb, operation in item.items():
            operation = _when_true(operation)
            if str(verb).lower() not in _VERBS or not isinstance(operation, Mapping):
                continue
            result.append((path, str(verb).lower(), operation, operation.get("security", body.get("security"))))
    return result


def _body_auth(security: Any, schemes: Mapping[str, Any]) -> tuple[str, str | None, Any, bool]:
    """(AuthorizationType, authorizer name, scopes, api key required) from an OpenAPI ``security`` list."""
    if not isinstance(security, list) or not security:
        return "NONE", None, None, False
    auth, name, scopes, api_key = "NONE", None, None, False
    for requirement in security:
        if not isinstance(requirement, Mapping):
            continue
        for scheme_name, scheme_scopes in requirement.items():
            if scheme_name == "NONE" and scheme_name not in schemes:
                continue  # SAM's marker for "Authorizer: NONE" under a default authorizer
            kind = _scheme_auth(schemes.get(scheme_name))
            if kind is None:
                api_key = True
            elif auth == "NONE":
                auth, name = kind, str(scheme_name)
                scopes = scheme_scopes or None
    return auth, name, scopes, api_key


def _integration(operation: Mapping[str, Any]) -> dict[str, Any] | None:
    raw = operation.get("x-amazon-apigateway-integration")
    if not isinstance(raw, Mapping):
        return None
    integration: dict[str, Any] = {"Type": str(raw.get("type", "")).upper() or None}
    if raw.get("uri") is not None:
        integration["Uri"] = raw["uri"]
    if raw.get("httpMethod") is not None:
        integration["IntegrationHttpMethod"] = raw["httpMethod"]
    if raw.get("requestParameters") is not None:  # X-Amz-Invocation-Type 'Event': an asynchronous call
        integration["RequestParameters"] = raw["requestParameters"]
    return integration


def _authorizer_type(exp: Expansion, src: Source, name: str, authorizers: Mapping[str, Any]) -> str:
    conf = authorizers.get(name)
    if not isinstance(conf, Mapping):
        raise sam_error(src.logical_id, f"Auth: authorizer '{name}' is not defined in the API's Auth.Authorizers",
                        src.line)
    if conf.get("UserPoolArn") is not None:
        return "COGNITO_USER_POOLS"
    if conf.get("JwtConfiguration") is not None:
        return "JWT"
    return "CUSTOM"


def _rest_authorizers(exp: Expansion, api_id: str, src: Source, auth: Mapping[str, Any]) -> dict[str, str]:
    """Generate AWS::ApiGateway::Authorizer per Auth.Authorizers entry; map name → logical ID."""
    result: dict[str, str] = {}
    authorizers = as_map(auth.get("Authorizers"), src.logical_id, "Auth.Authorizers", src.line)
    for name, conf in authorizers.items():
        conf = as_map(conf, src.logical_id, f"Auth.Authorizers.{name}", src.line)
        identity: Mapping[str, Any] = conf["Identity"] if isinstance(conf.get("Identity"), Mapping) else {}
        props: dict[str, Any] = {"RestApiId": {"Ref": api_id}, "Name": name}
        if conf.get("UserPoolArn") is not None:
            arns = conf["UserPoolArn"]
            props.update(Type="COGNITO_USER_POOLS", ProviderARNs=arns if isinstance(arns, list) else [arns])
        else:
            payload = str(conf.get("FunctionPayloadType", "TOKEN")).upper()
            props["Type"] = payload
            if conf.get("FunctionArn") is not None:
                props["AuthorizerUri"] = {"Fn::Sub": [
                    "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                    "${__FunctionArn__}/invocations", {"__FunctionArn__": conf["FunctionArn"]}]}
            if conf.get("FunctionInvokeRole") is not None:
                props["AuthorizerCredentials"] = conf["FunctionInvokeRole"]
        if props["Type"] == "REQUEST":
            sources: list[str] = []
            for key, prefix in (("Headers", "method.request.header."), ("QueryStrings", "method.request.querystring."),
                                ("StageVariables", "stageVariables."), ("Context", "context.")):
                sources += [f"{prefix}{item}" for item in as_list(identity.get(key), src.logical_id,
                                                                   f"Auth.Authorizers.{name}.Identity.{key}")]
            if sources:
                props["IdentitySource"] = ", ".join(str(s) for s in sources)
        else:
            props["IdentitySource"] = f"method.request.header.{identity.get('Header', 'Authorization')}"
            if identity.get("ValidationExpression") is not None:
                props["IdentityValidationExpression"] = identity["ValidationExpression"]
        if identity.get("ReauthorizeEvery") is not None:
            props["AuthorizerResultTtlInSeconds"] = identity["ReauthorizeEvery"]
        lid = _unique(exp, f"{api_id}{alnum(str(name))}Authorizer")
        exp.add(lid, "AWS::ApiGateway::Authorizer", props, src)
        result[str(name)] = lid
    return result


def _validator(exp: Expansion, api_id: str, src: Source, validators: dict[str, str], name: str,
               body: bool, params: bool) -> str:
    if name not in validators:
        lid = _unique(exp, f"{api_id}RequestValidator{alnum(name.title())}")
        exp.add(lid, "AWS::ApiGateway::RequestValidator", {
            "RestApiId": {"Ref": api_id}, "Name": name, "ValidateRequestBody": body,
            "ValidateRequestParameters": params}, src)
        validators[name] = lid
    return validators[name]


def _validator_name(body: bool, params: bool) -> str:
    return {(True, True): "body-and-params", (True, False): "body-only", (False, True): "params-only",
            (False, False): "no-validation"}[(body, params)]


def _request_parameters(src: Source, where: str, raw: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in as_list(raw, src.logical_id, f"{where}.RequestParameters", src.line):
        if isinstance(item, str):
            params[item] = False
        elif isinstance(item, Mapping) and len(item) == 1:
            name, conf = next(iter(item.items()))
            params[str(name)] = bool(conf.get("Required", False)) if isinstance(conf, Mapping) else False
        else:
            raise sam_error(src.logical_id, f"{where}: 'RequestParameters' items must be names or "
                            "one-key maps", src.line)
    return params


def _definition(exp: Expansion, props: Mapping[str, Any], api: dict[str, Any]) -> tuple[Any, str | None]:
    """Set the API's Body (or BodyS3Location); return the OpenAPI body SAM reads and why methods are unknown.

    A local ``DefinitionUri`` file was read by the loader (scanners/includes.py): its content is the body.
    """
    body = props.get("DefinitionBody")
    uri = props.get("DefinitionUri")
    local = exp.local_definition(uri) if body is None else None
    if isinstance(local, Mapping):
        body = local
    if body is not None:
        api["Body"] = body
        if isinstance(body, Unknown):
            return body, body.reason
        if not isinstance(body, Mapping) or is_intrinsic(body):
            return body, "DefinitionBody is an intrinsic function"
        return body, None
    if uri is not None:
        api["BodyS3Location"] = s3_location(uri, "Bucket", "Key", "Version")
        if isinstance(local, Unknown):
            return None, local.reason
        if local is not None:
            return None, f"DefinitionUri {uri} is not a mapping"
        return None, "DefinitionUri points to an OpenAPI file in S3"
    return None, None


def expand_rest_api(exp: Expansion, src: Source, props: Mapping[str, Any], explicit: bool) -> None:
    """Expand one ``AWS::Serverless::Api`` (explicit or the implicit ``ServerlessRestApi``)."""
    api_id = src.logical_id if explicit else "ServerlessRestApi"
    auth = as_map(props.get("Auth"), api_id, "Auth", src.line)
    api: dict[str, Any] = {}
    if props.get("Name") is not None:
        api["Name"] = props["Name"]
    metadata: dict[str, Any] = {}
    body, unknown = _definition(exp, props, api)
    if unknown:
        metadata[_METHODS_UNKNOWN] = unknown
    if props.get("EndpointConfiguration") is not None:
        api["EndpointConfiguration"] = _endpoint_configuration(props["EndpointConfiguration"])
    if auth.get("ResourcePolicy") is not None:
        api["Policy"] = _resource_policy(as_map(auth["ResourcePolicy"], api_id, "Auth.ResourcePolicy", src.line))
    if props.get("Policy") is not None:
        # SAM's Policy property is the RestApi's resource policy as written; Auth.ResourcePolicy statements
        # are added to it.
        written = props["Policy"]
        generated = api.get("Policy")
        if (isinstance(generated, Mapping) and isinstance(written, Mapping)
                and isinstance(written.get("Statement"), list)):
            written = {**written, "Statement": [*written["Statement"], *generated.get("Statement", [])]}
        api["Policy"] = written
    if props.get("BinaryMediaTypes") is not None:
        api["BinaryMediaTypes"] = [t.replace("~1", "/") if isinstance(t, str) else t
                                   for t in as_list(props["BinaryMediaTypes"], api_id, "BinaryMediaTypes")]
    for name in ("MinimumCompressionSize", "DisableExecuteApiEndpoint", "Description", "Mode",
                 "ApiKeySourceType", "FailOnWarnings"):
        if props.get(name) is not None:
            api[name] = props[name]
    if props.get("Tags") is not None:
        api["Tags"] = tag_list(props["Tags"])
    exp.add(api_id, "AWS::ApiGateway::RestApi", api, src, metadata)

    stage_name = props.get("StageName")
    if stage_name is None:
        raise sam_error(api_id, "'StageName' is required", src.line)
    stage_id = _stage_id(api_id, stage_name, http=False)
    stage: dict[str, Any] = {"RestApiId": {"Ref": api_id}, "StageName": stage_name}
    for name in ("CacheClusterEnabled", "CacheClusterSize", "Variables", "MethodSettings", "AccessLogSetting",
                 "CanarySetting", "TracingEnabled", "Description"):
        if props.get(name) is not None:
            stage[name] = props[name]
    if props.get("Tags") is not None:
        stage["Tags"] = tag_list(props["Tags"])
    exp.add(stage_id, "AWS::ApiGateway::Stage", stage, src)

    authorizers = _rest_authorizers(exp, api_id, src, auth)
    conf_authorizers = as_map(auth.get("Authorizers"), api_id, "Auth.Authorizers", src.line)
    validators: dict[str, str] = {}
    models = as_map(props.get("Models"), api_id, "Models", src.line)
    for model_key, schema in models.items():
        lid = _unique(exp, f"{api_id}Model{alnum(str(model_key))}")
        exp.add(lid, "AWS::ApiGateway::Model", {"RestApiId": {"Ref": api_id}, "Name": model_key,
                                                "ContentType": "application/json", "Schema": schema}, src)
    methods: dict[tuple[str, str], dict[str, Any]] = {}

    if isinstance(body, Mapping) and not is_intrinsic(body):
        schemes = _security_schemes(body)
        defined = body.get("x-amazon-apigateway-request-validators")
        defined = defined if isinstance(defined, Mapping) else {}
        default_validator = body.get("x-amazon-apigateway-request-validator")
        preflight = auth.get("AddDefaultAuthorizerToCorsPreflight", True)
        for path, verb, operation, security in _body_operations(body):
            kind, scheme, scopes, api_key = _body_auth(security, schemes)
            method: dict[str, Any] = {"RestApiId": {"Ref": api_id}, "ResourcePath": path,
                                      "HttpMethod": _verb(verb), "AuthorizationType": kind,
                                      "ApiKeyRequired": api_key or auth.get("ApiKeyRequired") is True}
            if scheme and scheme in authorizers:
                method["AuthorizerId"] = {"Ref": authorizers[scheme]}
            if "security" not in operation and auth.get("DefaultAuthorizer") is not None and (verb != "options" or preflight):
                # SAM adds the default authorizer to every path of the body (api_generator._add_auth)
                method.update(_event_auth(exp, src, auth["DefaultAuthorizer"], authorizers, conf_authorizers))
            if scopes:
                method["AuthorizationScopes"] = scopes
            validator = operation.get("x-amazon-apigateway-request-validator", default_validator)
            if isinstance(validator, str) and isinstance(defined.get(validator), Mapping):
                conf = defined[validator]
                method["RequestValidatorId"] = {"Ref": _validator(
                    exp, api_id, src, validators, validator, bool(conf.get("validateRequestBody")),
                    bool(conf.get("validateRequestParameters")))}
            integration = _integration(operation)
            if integration:
                method["Integration"] = integration
            methods[(path, _verb(verb))] = method

    default_auth = auth.get("DefaultAuthorizer")
    managed = (body is None and props.get("DefinitionUri") is None) or bool(props.get("MergeDefinitions"))
    for event in exp.rest_events.get(api_id, []):
        ev = event.props
        ev_auth = as_map(ev.get("Auth"), event.source.logical_id, f"{event.where}.Auth", event.source.line)
        chosen: Any = ev_auth.get("Authorizer", default_auth)
        key = (event.path, _verb(event.method))
        if not managed:
            # SAM leaves a hand-written DefinitionBody alone unless the event sets OverrideApiAuth.
            if ev_auth.get("OverrideApiAuth") and key in methods:
                methods[key].pop("AuthorizerId", None)
                methods[key].update(_event_auth(exp, src, chosen, authorizers, conf_authorizers))
            continue
        method = {"RestApiId": {"Ref": api_id}, "ResourcePath": event.path, "HttpMethod": _verb(event.method)}
        method.update(_event_auth(exp, src, chosen, authorizers, conf_authorizers))
        scopes = ev_auth.get("AuthorizationScopes")
        if scopes is None and isinstance(chosen, str) and isinstance(conf_authorizers.get(chosen), Mapping):
            scopes = conf_authorizers[chosen].get("AuthorizationScopes")
        if scopes and method["AuthorizationType"] == "COGNITO_USER_POOLS":
            method["AuthorizationScopes"] = scopes
        method["ApiKeyRequired"] = bool(ev_auth.get("ApiKeyRequired", auth.get("ApiKeyRequired", False)))
        model = ev.get("RequestModel")
        if model is not None:
            model = as_map(model, event.source.logical_id, f"{event.where}.RequestModel", event.source.line)
            model_name = model.get("Model")
            if not isinstance(model_name, str) or model_name not in models:
                raise sam_error(event.source.logical_id, f"{event.where}: RequestModel '{model_name}' is not "
                                f"defined in the Models of {api_id}", event.source.line)
            method["RequestModels"] = {"application/json": model_name}
            vb, vp = model.get("ValidateBody"), model.get("ValidateParameters")
            if vb is not None or vp is not None:
                vb, vp = bool(vb) if vb is not None else False, bool(vp) if vp is not None else False
                method["RequestValidatorId"] = {"Ref": _validator(
                    exp, api_id, src, validators, _validator_name(vb, vp), vb, vp)}
        if ev.get("RequestParameters") is not None:
            method["RequestParameters"] = _request_parameters(event.source, event.where,
                                                              ev["RequestParameters"])
        method["Integration"] = {"Type": "AWS_PROXY" if "lambda" in str(event.integration_uri) else "AWS",
                                 "IntegrationHttpMethod": "POST", "Uri": event.integration_uri}
        methods[(event.path, _verb(event.method))] = method

    cors = props.get("Cors")
    if cors is not None and methods:
        preflight_auth = auth.get("AddDefaultAuthorizerToCorsPreflight", True)
        for path in sorted({p for p, _ in methods}):
            if (path, "OPTIONS") in methods:
                continue
            option: dict[str, Any] = {"RestApiId": {"Ref": api_id}, "ResourcePath": path, "HttpMethod": "OPTIONS",
                                      "AuthorizationType": "NONE", "ApiKeyRequired": False,
                                      "Integration": {"Type": "MOCK"}}
            if preflight_auth and isinstance(default_auth, str) and default_auth != "NONE":
                option["AuthorizationType"] = ("AWS_IAM" if default_auth == "AWS_IAM" else
                                               _authorizer_type(exp, src, default_auth, conf_authorizers))
                if default_auth in authorizers:
                    option["AuthorizerId"] = {"Ref": authorizers[default_auth]}
            methods[(path, "OPTIONS")] = option

    origins = {(e.path, _verb(e.method)): e.source for e in exp.rest_events.get(api_id, [])}
    for (path, verb), method in methods.items():
        # SAM puts methods in the OpenAPI DefinitionBody; walens names them <Api>Method<Path><Verb>.
        lid = _unique(exp, f"{api_id}Method{alnum(path.title()) or 'Root'}{verb.title()}")
        exp.add(lid, "AWS::ApiGateway::Method", method, origins.get((path, verb), src))

    _usage_plan(exp, api_id, stage_id, src, auth)


def _usage_plan(exp: Expansion, api_id: str, stage_id: str, src: Source, auth: Mapping[str, Any]) -> None:
    plan = as_map(auth.get("UsagePlan"), api_id, "Auth.UsagePlan", src.line)
    create = exp.literal(plan.get("CreateUsagePlan"))
    if create is None or create == "NONE":
        return
    api_stage = {"ApiId": {"Ref": api_id}, "Stage": {"Ref": stage_id}}
    if create == "SHARED":
        for res in exp.out:
            if res.logical_id == "ServerlessUsagePlan":
                res.properties["ApiStages"].append(api_stage)
                return
        prefix = "Serverless"
    elif create == "PER_API":
        prefix = api_id
    else:
        raise sam_error(api_id, "'Auth.UsagePlan.CreateUsagePlan' must be PER_API, SHARED or NONE", src.line)
    props: dict[str, Any] = {"ApiStages": [api_stage]}
    for name in ("Description", "Quota", "Throttle", "UsagePlanName"):
        if plan.get(name) is not None:
            props[name] = plan[name]
    if plan.get("Tags") is not None:
        props["Tags"] = plan["Tags"]
    exp.add(f"{prefix}UsagePlan", "AWS::ApiGateway::UsagePlan", props, src)
    exp.add(f"{prefix}ApiKey", "AWS::ApiGateway::ApiKey", {"Enabled": True, "StageKeys": [
        {"RestApiId": {"Ref": api_id}, "StageName": {"Ref": stage_id}}]}, src)
    exp.add(f"{prefix}UsagePlanKey", "AWS::ApiGateway::UsagePlanKey", {
        "KeyId": {"Ref": f"{prefix}ApiKey"}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": f"{prefix}UsagePlan"}},
        src)


def _http_authorizers(exp: Expansion, api_id: str, src: Source, auth: Mapping[str, Any]) -> dict[str, str]:
    result: dict[str, str] = {}
    authorizers = as_map(auth.get("Authorizers"), api_id, "Auth.Authorizers", src.line)
    for name, conf in authorizers.items():
        conf = as_map(conf, api_id, f"Auth.Authorizers.{name}", src.line)
        props: dict[str, Any] = {"ApiId": {"Ref": api_id}, "Name": name}
        if conf.get("JwtConfiguration") is not None:
            props["AuthorizerType"] = "JWT"
            props["JwtConfiguration"] = conf["JwtConfiguration"]
            if conf.get("IdentitySource") is not None:
                props["IdentitySource"] = [conf["IdentitySource"]]
        else:
            props["AuthorizerType"] = "REQUEST"
            if conf.get("FunctionArn") is not None:
                props["AuthorizerUri"] = {"Fn::Sub": [
                    "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                    "${__FunctionArn__}/invocations", {"__FunctionArn__": conf["FunctionArn"]}]}
            for src_name, target in (("AuthorizerPayloadFormatVersion", "AuthorizerPayloadFormatVersion"),
                                     ("EnableSimpleResponses", "EnableSimpleResponses"),
                                     ("FunctionInvokeRole", "AuthorizerCredentialsArn")):
                if conf.get(src_name) is not None:
                    props[target] = conf[src_name]
        lid = _unique(exp, f"{api_id}{alnum(str(name))}Authorizer")
        exp.add(lid, "AWS::ApiGatewayV2::Authorizer", props, src)
        result[str(name)] = lid
    return result


def _route_key(path: str, method: str) -> str:
    if path == "$default" and _verb(method) == "ANY":
        return "$default"
    return f"{_verb(method)} {path}"


def expand_http_api(exp: Expansion, src: Source, props: Mapping[str, Any], explicit: bool) -> None:
    """Expand one ``AWS::Serverless::HttpApi`` (explicit or the implicit ``ServerlessHttpApi``)."""
    api_id = src.logical_id if explicit else "ServerlessHttpApi"
    auth = as_map(props.get("Auth"), api_id, "Auth", src.line)
    api: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    body, unknown = _definition(exp, props, api)
    if unknown:
        metadata[_METHODS_UNKNOWN] = unknown
    if body is None and props.get("DefinitionUri") is None:
        api["ProtocolType"] = "HTTP"
    for name in ("Name", "Description", "DisableExecuteApiEndpoint", "CorsConfiguration", "FailOnWarnings"):
        if props.get(name) is not None:
            api[name] = props[name]
    tags = props.get("Tags")
    api["Tags"] = {"httpapi:createdBy": "SAM", **(dict(tags) if isinstance(tags, Mapping) else {})}
    exp.add(api_id, "AWS::ApiGatewayV2::Api", api, src, metadata)

    stage_name = props.get("StageName") or "$default"
    stage: dict[str, Any] = {"ApiId": {"Ref": api_id}, "StageName": stage_name, "AutoDeploy": True}
    for name in ("AccessLogSettings", "DefaultRouteSettings", "RouteSettings", "StageVariables"):
        if props.get(name) is not None:
            stage[name] = props[name]
    exp.add(_stage_id(api_id, stage_name, http=True), "AWS::ApiGatewayV2::Stage", stage, src)

    authorizers = _http_authorizers(exp, api_id, src, auth)
    conf_authorizers = as_map(auth.get("Authorizers"), api_id, "Auth.Authorizers", src.line)
    routes: dict[str, tuple[dict[str, Any], Source]] = {}
    if isinstance(body, Mapping) and not is_intrinsic(body):
        schemes = _security_schemes(body)
        for path, verb, operation, security in _body_operations(body):
            kind, scheme, scopes, _ = _body_auth(security, schemes)
            route: dict[str, Any] = {"ApiId": {"Ref": api_id}, "RouteKey": _route_key(path, verb),
                                     "AuthorizationType": kind}
            if scheme and scheme in authorizers:
                route["AuthorizerId"] = {"Ref": authorizers[scheme]}
            if "security" not in operation and auth.get("DefaultAuthorizer") is not None and verb != "options":
                route.update(_event_auth(exp, src, auth["DefaultAuthorizer"], authorizers, conf_authorizers))
            if scopes:
                route["AuthorizationScopes"] = scopes
            integration = _integration(operation)
            if integration:
                route["Integration"] = integration
            routes[route["RouteKey"]] = (route, src)
    default_auth = auth.get("DefaultAuthorizer")
    for event in exp.http_events.get(api_id, []):
        ev_auth = as_map(event.props.get("Auth"), event.source.logical_id, f"{event.where}.Auth",
                         event.source.line)
        chosen: Any = ev_auth.get("Authorizer", default_auth)
        path = event.path
        if path == "$default" and props.get("FailOnWarnings"):
            path = "/$default"  # SAM renames it so the import does not warn (http_api_generator._update_default_path)
        route = {"ApiId": {"Ref": api_id}, "RouteKey": _route_key(path, event.method)}
        existing = routes.get(route["RouteKey"])
        if "Authorizer" not in ev_auth and existing is not None:
            # SAM keeps the auth a hand-written route already has (open_api.add_lambda_integration)
            route.update({k: v for k, v in existing[0].items() if k.startswith("Author")})
        else:
            if "Authorizer" not in ev_auth and event.method == "options":
                chosen = None  # SAM does not put the default authorizer on CORS preflight routes
            route.update(_event_auth(exp, src, chosen, authorizers, conf_authorizers))
        scopes = ev_auth.get("AuthorizationScopes")
        if scopes is None and isinstance(chosen, str) and isinstance(conf_authorizers.get(chosen), Mapping):
            scopes = conf_authorizers[chosen].get("AuthorizationScopes")
        if scopes and route["AuthorizationType"] == "JWT":
            route["AuthorizationScopes"] = scopes
        # Extra property: the Lambda proxy integration, inline rather than an Integration resource.
        route["Integration"] = {"Type": "AWS_PROXY", "Uri": event.integration_uri}
        routes[route["RouteKey"]] = (route, event.source)
    for key, (route, origin) in routes.items():
        # SAM writes routes into the OpenAPI Body; walens names them <Api>Route<Verb><Path>.
        lid = _unique(exp, f"{api_id}Route{alnum(key.title()) or 'Default'}")
        exp.add(lid, "AWS::ApiGatewayV2::Route", route, origin)


def expand_implicit_apis(exp: Expansion) -> None:
    """Create ServerlessRestApi / ServerlessHttpApi when events use APIs no resource declares."""
    if "ServerlessRestApi" in exp.rest_events and "ServerlessRestApi" not in exp.resources:
        first = exp.rest_events["ServerlessRestApi"][0].source
        props = resource_properties(exp, "ServerlessRestApi", {"Type": "AWS::Serverless::Api", "Properties": {}},
                                    first.line)
        # SAM fixes the implicit API's stage to Prod (implicit_rest_api_plugin.py).
        props["StageName"] = "Prod"
        expand_rest_api(exp, first, props, explicit=False)
    if "ServerlessHttpApi" in exp.http_events and "ServerlessHttpApi" not in exp.resources:
        first = exp.http_events["ServerlessHttpApi"][0].source
        props = resource_properties(exp, "ServerlessHttpApi",
                                    {"Type": "AWS::Serverless::HttpApi", "Properties": {}}, first.line)
        expand_http_api(exp, first, props, explicit=False)


def _websocket_route_id(api_id: str, src: Source, key: Any) -> str:
    if key in ("$connect", "$disconnect", "$default"):
        return f"{api_id}{str(key)[1:].capitalize()}"
    if isinstance(key, str) and key.isalnum():
        return f"{api_id}{key.capitalize()}"
    raise sam_error(src.logical_id, f"route key '{key}' must be alphanumeric or $connect/$disconnect/$default",
                    src.line)


def expand_websocket_api(exp: Expansion, src: Source, props: Mapping[str, Any], metadata: dict[str, Any]) -> None:
    """Expand one ``AWS::Serverless::WebSocketApi``: API, stage, and a route + integration per route key."""
    api_id = src.logical_id
    api: dict[str, Any] = {"Name": props.get("Name", api_id), "ProtocolType": "WEBSOCKET",
                           "RouteSelectionExpression": props.get("RouteSelectionExpression")}
    for name in ("ApiKeySelectionExpression", "Description", "DisableExecuteApiEndpoint",
                 "DisableSchemaValidation", "IpAddressType"):
        if props.get(name) is not None:
            api[name] = props[name]
    tags = props.get("Tags")
    api["Tags"] = {"websocketapi:createdBy": "SAM", **(dict(tags) if isinstance(tags, Mapping) else {})}
    exp.add(api_id, "AWS::ApiGatewayV2::Api", api, src, metadata)
    stage_name = props.get("StageName", "default")
    if stage_name == "$default":
        raise sam_error(api_id, "a WebSocket API stage cannot be named $default", src.line)
    prefix = stage_name if isinstance(stage_name, str) else ""
    stage_id = f"{api_id}DefaultStage" if prefix == "default" else f"{api_id}{prefix}Stage"
    stage: dict[str, Any] = {"ApiId": {"Ref": api_id}, "StageName": stage_name, "AutoDeploy": True}
    for name in ("AccessLogSettings", "DefaultRouteSettings", "RouteSettings", "StageVariables"):
        if props.get(name) is not None:
            stage[name] = props[name]
    exp.add(stage_id, "AWS::ApiGatewayV2::Stage", stage, src)
    auth = as_map(props.get("Auth"), api_id, "Auth", src.line)
    routes = as_map(props.get("Routes"), api_id, "Routes", src.line)
    if not routes:
        raise sam_error(api_id, "a WebSocket API needs at least one route", src.line)
    for key, spec in routes.items():
        spec = as_map(spec, api_id, f"Routes.{key}", src.line)
        base = _websocket_route_id(api_id, src, key)
        if spec.get("FunctionArn") is None:
            raise sam_error(api_id, f"Routes.{key}: 'FunctionArn' is required", src.line)
        exp.add(f"{base}Integration", "AWS::ApiGatewayV2::Integration", {
            "ApiId": {"Ref": api_id}, "IntegrationType": "AWS_PROXY", "IntegrationUri": {"Fn::Sub": [
                "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                "${FunctionArn}/invocations", {"FunctionArn": spec["FunctionArn"]}]}}, src)
        route: dict[str, Any] = {"ApiId": {"Ref": api_id}, "RouteKey": key,
                                 "Target": {"Fn::Join": ["/", ["integrations", {"Ref": f"{base}Integration"}]]}}
        for name in ("ApiKeyRequired", "ModelSelectionExpression", "OperationName", "RequestModels",
                     "RequestParameters", "RouteResponseSelectionExpression"):
            if spec.get(name) is not None:
                route[name] = spec[name]
        if key == "$connect" and auth:
            # Only $connect is authorised on a WebSocket API (websocket_api_generator.py).
            kind = auth.get("AuthType")
            if kind == "CUSTOM":
                if auth.get("AuthArn") is None:
                    raise sam_error(api_id, "Auth.AuthArn is required when AuthType is CUSTOM", src.line)
                authorizer: dict[str, Any] = {
                    "ApiId": {"Ref": api_id}, "AuthorizerType": "REQUEST", "Name": f"{api_id}ConnectAuthorizer",
                    "AuthorizerUri": {"Fn::Sub": [
                        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                        "${AuthArn}/invocations", {"AuthArn": auth["AuthArn"]}]}}
                if auth.get("IdentitySource") is not None:
                    authorizer["IdentitySource"] = auth["IdentitySource"]
                exp.add(f"{api_id}ConnectAuthorizer", "AWS::ApiGatewayV2::Authorizer", authorizer, src)
                route.update(AuthorizationType="CUSTOM", AuthorizerId={"Ref": f"{api_id}ConnectAuthorizer"})
            elif kind in ("AWS_IAM", "NONE"):
                route["AuthorizationType"] = kind
            else:
                raise sam_error(api_id, "Auth.AuthType must be AWS_IAM, CUSTOM or NONE", src.line)
        exp.add(f"{base}Route", "AWS::ApiGatewayV2::Route", route, src)
