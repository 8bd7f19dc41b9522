"""SAM's ``Policy`` property of AWS::Serverless::Api becomes the RestApi's resource policy (as in the
translator's api_custom_domain_private_endpoint_* outputs), with Auth.ResourcePolicy statements added."""

from __future__ import annotations

from pathlib import Path

from walens.pipeline import scan_templates
from walens.scanners import intrinsics, sam
from walens.scanners.template import load_text

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  InternalApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      EndpointConfiguration:
        Type: PRIVATE
        VPCEndpointIds: [vpce-0123456789abcdef0]
      Policy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: execute-api:Invoke
            Resource: execute-api:/*
          - Effect: Deny
            Principal: "*"
            Action: execute-api:Invoke
            Resource: execute-api:/*
            Condition:
              StringNotEquals:
                aws:SourceVpce: vpce-0123456789abcdef0
      Auth:
        ResourcePolicy:
          IpRangeBlacklist: [198.51.100.0/24]
"""


def test_the_written_policy_reaches_the_rest_api_and_sec003_passes(tmp_path: Path) -> None:
    template = load_text(TEMPLATE, "t.yaml")
    resources = {r.id: r for r in intrinsics.resolve_resources(template.data, sam.expand(template.data), "t.yaml")}
    statements = resources["InternalApi"].properties["Policy"]["Statement"]
    assert statements[1]["Condition"] == {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}
    assert any("IpAddress" in (s.get("Condition") or {}) for s in statements[2:])  # Auth.ResourcePolicy's
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE)
    doc = scan_templates([str(path)], select=["SEC003"], fail_on="never")
    assert [(f["resource"]["id"], f["status"]) for f in doc["findings"]] == [("InternalApi", "pass")]
