"""Every adaptation of wsdr's stack to the emulator's CloudFormation (moto 5.2.5), in one place, each with the moto
behaviour it works around. Nothing here changes what the stack means; each is checked by proof.py's read-back.

Template (before create_stack), in `adapt`:
  A1 Conditions, Fn::If and AWS::NoValue are resolved first (infra/tests/cfnchecks.deployed), and Rules,
     Conditions and each resource's Condition dropped: moto keeps `!If [C, {...}, !Ref AWS::NoValue]` as None inside
     lists and its IAM Role handler crashes (TypeError at policy["PolicyName"]); moto checks no Rules at all
     (cfnchecks.deployed refuses what CloudFormation would, AllowedPattern included).
  A2 `!GetAtt StatusDistribution.DomainName` becomes a fixed CloudFront-style name: moto models no CloudFront and its
     validate_outputs crashes (AttributeError: 'NoneType' object has no attribute 'has_cfn_attr').
  A3 Each role's inline PolicyDocument is wrapped in Fn::ToJsonString: moto stores the dict and GetRolePolicy then
     answers its Python repr, which no policy tool can read. (AWS::IAM::Policy and ManagedPolicy are stored as JSON
     already; wrapping them makes moto refuse them as MalformedPolicyDocument.)
  (The status key's KeySpec/KeyUsage and the JSON KeyPolicy are fixed in the emulator itself:
   tests/emulator/wsdr_emulator/cfn.py.)

After create_stack, only for the event-routing check, in `capture_targets`:
  A4 Lambda targets of the rules on a bus are replaced by SQS capture queues: moto's PutEvents answers 500
     (NotImplementedError: Expr not defined for <class 'moto.events.models.Rule'>) whenever a rule on the bus has a
     Lambda target. The targets are read back and asserted before they are replaced.
  A5 moto delivers every PutEvents event to schedule-only rules as well (EventPattern.matches_event: an empty
     pattern matches everything), so "no other rule got it" is checked on the pattern rules only.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra" / "tests"))
import cfnchecks as cc  # noqa: E402

CLOUDFRONT_DOMAIN = "d111111abcdef8.cloudfront.net"


def adapt(transformed: dict[str, Any], parameters: dict[str, Any], region: str, account: str) -> dict[str, Any]:
    """The SAM-transformed template as the emulator can create it for these parameter values (A1-A3)."""
    cc.PSEUDO_PARAMETERS.update({"AWS::Region": region, "AWS::AccountId": account})
    resolved = cc.deployed(transformed, parameters)  # A1 (raises as CloudFormation would refuse)
    out = {k: v for k, v in resolved.items() if k not in ("Rules", "Conditions")}
    for entry in [*out["Resources"].values(), *(out.get("Outputs") or {}).values()]:
        entry.pop("Condition", None)
    out = _replace_cloudfront_domain(out)  # A2
    for resource in out["Resources"].values():  # A3
        props = resource.get("Properties") or {}
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies") or []:
                policy["PolicyDocument"] = {"Fn::ToJsonString": policy["PolicyDocument"]}
    return out


def _replace_cloudfront_domain(value: Any) -> Any:
    if isinstance(value, dict):
        if value == {"Fn::GetAtt": ["StatusDistribution", "DomainName"]}:
            return CLOUDFRONT_DOMAIN
        if list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], str) and "${StatusDistribution.DomainName}" in value["Fn::Sub"]:
            return {"Fn::Sub": value["Fn::Sub"].replace("${StatusDistribution.DomainName}", CLOUDFRONT_DOMAIN)}
        return {k: _replace_cloudfront_domain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_cloudfront_domain(v) for v in value]
    return value


def capture_targets(events: Any, sqs: Any, rule_names: list[str], prefix: str) -> dict[str, str]:
    """A4: each rule's Lambda targets replaced by one SQS queue (rule name -> queue URL)."""
    queues = {}
    for index, rule in enumerate(rule_names):
        targets = events.list_targets_by_rule(Rule=rule)["Targets"]
        lambdas = [t["Id"] for t in targets if ":lambda:" in t["Arn"]]
        if lambdas:
            events.remove_targets(Rule=rule, Ids=lambdas)
        url = sqs.create_queue(QueueName=f"{prefix}-capture-{index}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        kept = [copy.deepcopy(t) for t in targets if ":lambda:" in t["Arn"]][:1]
        target = {"Id": "capture", "Arn": arn}
        if kept and "Input" in kept[0]:
            target["Input"] = kept[0]["Input"]
        events.put_targets(Rule=rule, Targets=[target])
        queues[rule] = url
    return queues


def dumps(template: dict[str, Any]) -> str:
    return json.dumps(template)
