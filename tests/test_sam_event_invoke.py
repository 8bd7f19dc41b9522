"""SAM EventInvokeConfig destinations: SAM creates the queue or topic when Destination is absent, also in the
AWS::NoValue branch of an Fn::If (as the translator's function_with_event_dest output does); a function
with such a destination has an on-failure destination (REL003 passes)."""

from __future__ import annotations

from pathlib import Path

from walens.pipeline import scan_templates
from walens.scanners import intrinsics, sam
from walens.scanners.template import load_text

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  CreateTopic: {Type: String, Default: "true"}
Conditions:
  TopicCreationEnabled: !Equals [!Ref CreateTopic, "true"]
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: src/
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
      EventInvokeConfig:
        DestinationConfig:
          OnFailure:
            Type: SNS
            Destination: !If [TopicCreationEnabled, !Ref AWS::NoValue, arn:aws:sns:us-east-1:123456789012:failed]
  Uploads:
    Type: AWS::S3::Bucket
"""


def test_no_value_branch_gets_the_topic_sam_creates(tmp_path: Path) -> None:
    template = load_text(TEMPLATE, "t.yaml")
    resources = {r.id: r for r in intrinsics.resolve_resources(template.data, sam.expand(template.data), "t.yaml")}
    topic = resources["WorkerEventInvokeConfigOnFailureTopic"]
    assert topic.type == "AWS::SNS::Topic"
    config = resources["WorkerEventInvokeConfig"].properties["DestinationConfig"]
    assert config["OnFailure"]["Destination"] == "{{ref:WorkerEventInvokeConfigOnFailureTopic}}"
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE)
    doc = scan_templates([str(path)], select=["REL003"], fail_on="never")
    assert [(f["resource"]["id"], f["status"]) for f in doc["findings"]] == [("Worker", "pass")]
    # The other branch: the topic is not created and the written ARN is the destination.
    path.write_text(TEMPLATE.replace('Default: "true"', 'Default: "false"'))
    template = load_text(path.read_text(), "t.yaml")
    resources = {r.id: r for r in intrinsics.resolve_resources(template.data, sam.expand(template.data), "t.yaml")}
    assert "WorkerEventInvokeConfigOnFailureTopic" not in resources
    config = resources["WorkerEventInvokeConfig"].properties["DestinationConfig"]
    assert config["OnFailure"]["Destination"] == "arn:aws:sns:us-east-1:123456789012:failed"
