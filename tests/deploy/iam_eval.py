"""Least privilege, both ways: the AWS calls each function made (the emulator's --call-log) as IAM requests
(action, resource ARNs, condition context), evaluated against that function's deployed role policies.

moto's own IAM mode cannot do this (tests/emulator and the probe: it evaluates only S3 object ARNs, ignores
conditions and never checks WorkSpaces), so the request mapping and a small evaluator live here: Allow/Deny,
Action/NotAction and Resource wildcards, and the condition operators the template uses (String*, Arn*, Bool, with
IfExists). A call this file cannot map fails the proof rather than passing unchecked.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote


@dataclass
class Request:
    action: str  # e.g. s3:GetObject
    resources: list[str]
    context: dict[str, str] = field(default_factory=dict)
    note: str = ""  # e.g. "on behalf of s3:GetObject"

    def key(self) -> str:
        return f"{self.action} {' '.join(self.resources)}"


@dataclass
class World:
    """What the mapping needs to know about the deployment."""

    region: str
    account: str
    kms_buckets: dict[str, str]  # bucket -> KMS key ARN of its default encryption (SSE-KMS)
    kms_topics: dict[str, str]  # topic ARN -> its KMS key ARN
    workspace_tags: dict[str, dict[str, str]]  # workspace id -> tags (before the calls that change them)


def requests_of(call: dict[str, Any], world: World) -> list[Request]:
    """The IAM requests one logged call makes (the call itself plus what a service does with the caller's rights)."""
    service, op = call["service"], call["operation"]
    arn = f"arn:aws:{{}}:{world.region}:{world.account}:{{}}"
    if service == "s3":
        parts = unquote(call["path"]).lstrip("/").split("/", 1)
        bucket, key = parts[0], (parts[1] if len(parts) > 1 else "")
        query = parse_qs(call["query"])
        if key and call["method"] in ("GET", "HEAD"):
            out = [Request("s3:GetObject", [f"arn:aws:s3:::{bucket}/{key}"])]
            if bucket in world.kms_buckets:
                out.append(Request("kms:Decrypt", [world.kms_buckets[bucket]], note="S3 SSE-KMS read"))
            return out
        if key and call["method"] == "PUT":
            out = [Request("s3:PutObject", [f"arn:aws:s3:::{bucket}/{key}"])]
            if bucket in world.kms_buckets:
                out.append(Request("kms:GenerateDataKey", [world.kms_buckets[bucket]], note="S3 SSE-KMS write"))
            return out
        if not key and call["method"] == "GET" and ("list-type" in query or "prefix" in query):
            ctx = {"s3:prefix": query.get("prefix", [""])[0]}
            return [Request("s3:ListBucket", [f"arn:aws:s3:::{bucket}"], ctx)]
    if service == "sns" and op == "Publish":
        topic = parse_qs(call["body"]).get("TopicArn", [""])[0]
        out = [Request("sns:Publish", [topic])]
        if topic in world.kms_topics:
            key = world.kms_topics[topic]
            out += [Request("kms:GenerateDataKey", [key], note="SNS encrypted topic"),
                    Request("kms:Decrypt", [key], note="SNS encrypted topic")]
        return out
    if service == "kms" and op in ("Sign", "GetPublicKey", "Decrypt", "DescribeKey"):
        key_id = json.loads(call["body"] or "{}").get("KeyId", "")
        return [Request(f"kms:{op}", [key_id if key_id.startswith("arn:") else arn.format("kms", f"key/{key_id}")])]
    if service == "tagging" and op == "GetResources":
        return [Request("tag:GetResources", ["*"])]
    if service == "secretsmanager" and op == "GetSecretValue":
        return [Request("secretsmanager:GetSecretValue", [json.loads(call["body"])["SecretId"]])]
    if service == "workspaces":
        body = json.loads(call["body"] or "{}")
        if op == "DescribeWorkspaces":
            return [Request("workspaces:DescribeWorkspaces", ["*"])]
        if op == "CreateWorkspaces":
            out = []
            for item in body.get("Workspaces", []):
                ctx = {f"aws:RequestTag/{t['Key']}": t["Value"] for t in item.get("Tags", [])}
                out.append(Request("workspaces:CreateWorkspaces", [
                    arn.format("workspaces", f"directory/{item['DirectoryId']}"),
                    arn.format("workspaces", f"workspacebundle/{item['BundleId']}"),
                    arn.format("workspaces", "workspace/ws-new"),
                ], ctx))
            return out
        if op == "CreateTags":
            ctx = {f"aws:RequestTag/{t['Key']}": t["Value"] for t in body.get("Tags", [])}
            return [Request("workspaces:CreateTags", ["*"], ctx)]
        if op == "TerminateWorkspaces":
            out = []
            for item in body.get("TerminateWorkspaceRequests", []):
                ws = item["WorkspaceId"]
                ctx = {f"aws:ResourceTag/{k}": v for k, v in world.workspace_tags.get(ws, {}).items()}
                out.append(Request("workspaces:TerminateWorkspaces", [arn.format("workspaces", f"workspace/{ws}")], ctx))
            return out
    raise ValueError(f"no IAM mapping for {service}:{op} {call['method']} {call['path']}")


def _matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower()) if ":" in pattern or pattern == "*" else False


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    lowered = {k.lower(): v for k, v in context.items()}
    for operator, block in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        for key, wanted in block.items():
            value = lowered.get(key.lower())
            if value is None:
                if if_exists:
                    continue
                return False
            wanted = [str(w) for w in _list(wanted)]
            if base in ("StringEquals", "ArnEquals"):
                ok = value in wanted
            elif base == "StringEqualsIgnoreCase":
                ok = value.lower() in [w.lower() for w in wanted]
            elif base in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(value, w) for w in wanted)
            elif base == "Bool":
                ok = value.lower() in [w.lower() for w in wanted]
            else:
                raise ValueError(f"condition operator {operator} is not evaluated here")
            if not ok:
                return False
    return True


def statements(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for d in documents for s in _list(d.get("Statement", []))]


def applies(st: dict[str, Any], request: Request, resource: str) -> bool:
    """Whether one statement applies to the request on one of its resources (action, resource, condition)."""
    action = request.action.lower()
    if "Action" in st and not any(fnmatch.fnmatchcase(action, a.lower()) for a in _list(st["Action"])):
        return False
    if "NotAction" in st and any(fnmatch.fnmatchcase(action, a.lower()) for a in _list(st["NotAction"])):
        return False
    if "Resource" in st and not any(r == "*" or _matches(r, resource) for r in _list(st["Resource"])):
        return False
    return _condition_holds(st.get("Condition") or {}, request.context)


def allowed(request: Request, documents: list[dict[str, Any]]) -> tuple[bool, list[str]]:
    """Whether the role's identity policies allow the request (every resource), and the Sids that allowed it."""
    sids: list[str] = []
    for resource in request.resources:
        allowing = None
        for st in statements(documents):
            if not applies(st, request, resource):
                continue
            if st.get("Effect") == "Deny":
                return False, []
            allowing = allowing or st.get("Sid", "?")
        if allowing is None:
            return False, []
        sids.append(allowing)
    return True, sids


def granted_actions(documents: list[dict[str, Any]]) -> set[str]:
    return {a.lower() for st in statements(documents) if st.get("Effect") == "Allow" for a in _list(st.get("Action", []))}
