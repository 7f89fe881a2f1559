"""Offline invariant checks for wsdr's CloudFormation/SAM templates.

Every check is a pure function: it takes a parsed template (a dict, as returned by `load_template`) and returns a list
of human-readable violations; an empty list means the invariant holds. test_iam.py runs them against the real
templates and against deliberately broken mini-templates, so each check is proven to fail on the regression it guards.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import yaml

# ----------------------------------------------------------------------------------------------------------------
# Loading: CloudFormation short-form tags (!Ref, !Sub, !GetAtt, ...) become their long-form dicts.
# ----------------------------------------------------------------------------------------------------------------

_SHORT_FORMS = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!Sub": "Fn::Sub",
    "!GetAtt": "Fn::GetAtt",
    "!If": "Fn::If",
    "!Equals": "Fn::Equals",
    "!Not": "Fn::Not",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!FindInMap": "Fn::FindInMap",
    "!Base64": "Fn::Base64",
    "!Cidr": "Fn::Cidr",
    "!GetAZs": "Fn::GetAZs",
    "!ImportValue": "Fn::ImportValue",
    "!Length": "Fn::Length",
    "!ToJsonString": "Fn::ToJsonString",
    "!Transform": "Fn::Transform",
    # Rule-specific functions (Rules section only).
    "!Contains": "Fn::Contains",
    "!EachMemberEquals": "Fn::EachMemberEquals",
    "!EachMemberIn": "Fn::EachMemberIn",
    "!RefAll": "Fn::RefAll",
    "!ValueOf": "Fn::ValueOf",
    "!ValueOfAll": "Fn::ValueOfAll",
}


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that understands CloudFormation's short-form intrinsic functions."""


def _make_constructor(long_name: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if long_name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {long_name: value}

    return construct


for _tag, _long in _SHORT_FORMS.items():
    CfnLoader.add_constructor(_tag, _make_constructor(_long))


def load_template(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass


def loads_template(text: str) -> dict[str, Any]:
    return yaml.load(text, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass


# ----------------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------------

FUNCTION_TYPES = {"AWS::Serverless::Function", "AWS::Lambda::Function"}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return template.get("Resources") or {}


def props(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("Properties") or {}


def text_of(value: Any) -> str:
    """A flat, comparable rendering of a (possibly intrinsic) value."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), = value.items()
        if key == "Ref":
            return "${%s}" % inner
        if key == "Fn::GetAtt":
            return "${%s}" % ".".join(as_list(inner))
        if key == "Fn::Sub":
            return inner if isinstance(inner, str) else str(inner[0])
        if key == "Fn::Join":
            return str(inner[0]).join(text_of(part) for part in inner[1])
    return repr(value)


def refs_in(value: Any) -> set[str]:
    """Logical ids and parameters a value refers to (Ref, GetAtt, ${X} / ${X.Attr} inside Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(as_list(inner)[0])
            elif key == "Fn::Sub":
                template = inner if isinstance(inner, str) else inner[0]
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", template))
                if not isinstance(inner, str):
                    found.update(refs_in(inner[1]))
            else:
                found.update(refs_in(inner))
    elif isinstance(value, list):
        for item in value:
            found.update(refs_in(item))
    return found


def expand_if(items: list[Any]) -> Iterator[Any]:
    """Yield list items, expanding Fn::If into both branches (AWS::NoValue dropped): checks apply to every branch."""
    for item in items:
        if isinstance(item, dict) and list(item) == ["Fn::If"]:
            _, yes, no = item["Fn::If"]
            for branch in (yes, no):
                if branch == {"Ref": "AWS::NoValue"}:
                    continue
                yield from expand_if(as_list(branch))
        else:
            yield item


class Statement:
    def __init__(self, source: str, raw: dict[str, Any]):
        self.source = source
        self.raw = raw
        self.effect = raw.get("Effect", "Allow")
        self.actions = [str(a).lower() for a in as_list(raw.get("Action"))]
        self.not_actions = as_list(raw.get("NotAction"))
        self.resources = as_list(raw.get("Resource"))
        self.not_resources = as_list(raw.get("NotResource"))
        self.condition = raw.get("Condition") or {}

    @property
    def sid(self) -> str:
        return str(self.raw.get("Sid", "?"))

    def where(self) -> str:
        return f"{self.source} statement {self.sid}"

    def condition_keys(self) -> set[str]:
        keys: set[str] = set()
        for operator_block in self.condition.values():
            if isinstance(operator_block, dict):
                keys.update(str(k) for k in operator_block)
        return keys

    def condition_value(self, key: str) -> list[Any]:
        for operator_block in self.condition.values():
            if isinstance(operator_block, dict) and key in operator_block:
                return as_list(operator_block[key])
        return []

    def has_star_resource(self) -> bool:
        return any(r == "*" for r in self.resources) or bool(self.not_resources)


def _statements_of(document: Any, source: str) -> list[Statement]:
    if not isinstance(document, dict):
        return []
    return [Statement(source, s) for s in expand_if(as_list(document.get("Statement"))) if isinstance(s, dict)]


def identity_statements(template: dict[str, Any]) -> list[tuple[str | None, Statement]]:
    """Every identity-policy statement in the template, with the role it is attached to (None: not to a role here)."""
    out: list[tuple[str | None, Statement]] = []
    for name, res in resources(template).items():
        kind = res.get("Type")
        p = props(res)
        if kind == "AWS::IAM::Role":
            for policy in expand_if(as_list(p.get("Policies"))):
                source = f"{name}/{policy.get('PolicyName', '?')}"
                out.extend((name, s) for s in _statements_of(policy.get("PolicyDocument"), source))
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            roles = [r["Ref"] for r in expand_if(as_list(p.get("Roles"))) if isinstance(r, dict) and "Ref" in r]
            statements = _statements_of(p.get("PolicyDocument"), name)
            if roles:
                for role in roles:
                    out.extend((role, s) for s in statements)
            else:
                out.extend((None, s) for s in statements)
    return out


def role_statements(template: dict[str, Any], role: str) -> list[Statement]:
    return [s for r, s in identity_statements(template) if r == role]


def function_role(template: dict[str, Any], function: str) -> str | None:
    role = props(resources(template)[function]).get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        return as_list(role["Fn::GetAtt"])[0]
    if isinstance(role, dict) and "Ref" in role:
        return role["Ref"]
    return None


def functions(template: dict[str, Any]) -> list[str]:
    return [n for n, r in resources(template).items() if r.get("Type") in FUNCTION_TYPES]


def _action_matches(pattern: str, action: str) -> bool:
    """Does an IAM action pattern (may contain * and ?) cover the concrete action (both lower-case)?"""
    regex = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
    return re.match(regex, action) is not None


# ----------------------------------------------------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------------------------------------------------

READ_ONLY_PREFIXES = ("describe", "list", "get")
# WorkSpaces mutations that have no resource types in the Service Authorization Reference, so "*" is the only valid
# resource; they are allowed on "*" only with a tag condition that limits what they can do.
WORKSPACES_MUTATIONS_WITHOUT_RESOURCE_TYPES = {"workspaces:createtags"}
TAG_CONDITION_KEYS = ("aws:requesttag/", "aws:tagkeys")


def check_workspaces_mutations_scoped(template: dict[str, Any]) -> list[str]:
    """No mutating WorkSpaces action on Resource "*" (or NotResource), except tagging with a tag condition."""
    errors = []
    for _, st in identity_statements(template):
        if st.effect != "Allow":
            continue
        for action in st.actions:
            if action == "*" or action.startswith("workspaces:"):
                verb = action.split(":", 1)[1] if ":" in action else "*"
                if verb.startswith(READ_ONLY_PREFIXES) and "*" not in verb:
                    continue
                if not st.has_star_resource():
                    continue
                if action in WORKSPACES_MUTATIONS_WITHOUT_RESOURCE_TYPES and any(
                    k.lower().startswith(TAG_CONDITION_KEYS) for k in st.condition_keys()
                ):
                    continue
                errors.append(f'{st.where()}: mutating action {action} on Resource "*"')
        if st.not_actions:
            errors.append(f"{st.where()}: NotAction in an Allow statement")
    return errors


def check_terminate_requires_ownership_tag(template: dict[str, Any]) -> list[str]:
    """TerminateWorkspaces only on workspace ARNs and only for WorkSpaces tagged wsdr:managed-by=wsdr."""
    errors = []
    for _, st in identity_statements(template):
        if st.effect != "Allow" or not any(_action_matches(a, "workspaces:terminateworkspaces") for a in st.actions):
            continue
        if st.condition_value("aws:ResourceTag/wsdr:managed-by") != ["wsdr"]:
            errors.append(f"{st.where()}: TerminateWorkspaces without the aws:ResourceTag/wsdr:managed-by=wsdr condition")
        for resource in st.resources:
            if ":workspace/" not in text_of(resource):
                errors.append(f"{st.where()}: TerminateWorkspaces on {text_of(resource)} (expected a workspace/ ARN)")
    return errors


def check_no_passrole_on_star(template: dict[str, Any]) -> list[str]:
    errors = []
    for _, st in identity_statements(template):
        if st.effect != "Allow":
            continue
        if any(_action_matches(a, "iam:passrole") for a in st.actions) and st.has_star_resource():
            errors.append(f'{st.where()}: iam:PassRole on Resource "*"')
    return errors


def check_functions_have_own_roles(template: dict[str, Any]) -> list[str]:
    errors = []
    seen: dict[str, str] = {}
    for fn in functions(template):
        role = function_role(template, fn)
        if role is None:
            errors.append(f"{fn}: no explicit Role (a generated role escapes these checks)")
            continue
        if role in seen:
            errors.append(f"{fn}: shares role {role} with {seen[role]}")
        seen[role] = fn
        if props(resources(template).get(role, {})).get("ManagedPolicyArns"):
            errors.append(f"{role}: managed policies on a function role (grant inline, scoped)")
    return errors


def check_function_services(template: dict[str, Any], allowed: dict[str, set[str]]) -> list[str]:
    """Each function's role uses only the services listed for it, and no action wildcards."""
    errors = []
    for fn, services in allowed.items():
        if fn not in resources(template):
            errors.append(f"{fn}: function missing")
            continue
        role = function_role(template, fn)
        for st in role_statements(template, role or ""):
            for action in st.actions:
                service, _, verb = action.partition(":")
                if "*" in action or "?" in action:
                    errors.append(f"{st.where()}: wildcard action {action} in a function role")
                if service not in services:
                    errors.append(f"{st.where()}: {fn} may not use service {service} ({action})")
    return errors


def _status_keys(template: dict[str, Any]) -> set[str]:
    return {
        n
        for n, r in resources(template).items()
        if r.get("Type") == "AWS::KMS::Key" and props(r).get("KeyUsage") == "SIGN_VERIFY"
    }


def check_kms(template: dict[str, Any]) -> list[str]:
    """kms:Sign/GetPublicKey only on the asymmetric status key; no KMS action on "*"."""
    errors = []
    status_keys = _status_keys(template)
    for _, st in identity_statements(template):
        if st.effect != "Allow":
            continue
        kms_actions = [a for a in st.actions if a.startswith("kms:") or a == "*"]
        if not kms_actions:
            continue
        if st.has_star_resource():
            errors.append(f'{st.where()}: KMS actions {kms_actions} on Resource "*"')
        signs = [a for a in kms_actions if _action_matches(a, "kms:sign") or _action_matches(a, "kms:getpublickey")]
        if signs:
            targets = set().union(*(refs_in(r) for r in st.resources)) if st.resources else set()
            if not targets or not targets <= status_keys:
                errors.append(f"{st.where()}: {signs} on {sorted(targets) or st.resources}, not only the status key")
    return errors


def check_role_scoping(template: dict[str, Any], s3_prefixes: dict[str, dict[str, set[str]]]) -> list[str]:
    """Per function role: S3 only on its prefixes, SNS only on the template's topics, logs only on its own log group,
    PutMetricData only in the wsdr namespace, SQS only on the template's queues."""
    errors = []
    res = resources(template)
    topics = {n for n, r in res.items() if r.get("Type") == "AWS::SNS::Topic"}
    queues = {n for n, r in res.items() if r.get("Type") == "AWS::SQS::Queue"}
    for fn, buckets in s3_prefixes.items():
        role = function_role(template, fn) or ""
        logging = props(res.get(fn, {})).get("LoggingConfig") or {}
        own_log_group = logging.get("LogGroup", {}).get("Ref") if isinstance(logging.get("LogGroup"), dict) else None
        for st in role_statements(template, role):
            if st.effect != "Allow":
                continue
            for action in st.actions:
                service, _, verb = action.partition(":")
                if service == "s3":
                    if verb == "listbucket":
                        # ListBucket turns a GET of a missing key from 403 into 404 (S3 GetObject, "Permissions").
                        # A GetObject carries no s3:prefix, so a prefix condition would silently cancel that.
                        if st.condition_value("s3:prefix"):
                            errors.append(f"{st.where()}: {fn} s3:ListBucket conditioned on s3:prefix: a GetObject "
                                          "of a missing key is then 403, not 404")
                        for resource in st.resources:
                            bucket = refs_in(resource)
                            if len(bucket) != 1 or not bucket <= set(buckets) or "/" in text_of(resource):
                                errors.append(f"{st.where()}: {fn} s3:ListBucket on {text_of(resource)} (only the "
                                              "ARNs of the buckets it reads)")
                        continue
                    for resource in st.resources:
                        text = text_of(resource)
                        match = re.match(r"^\$\{(\w+)\.Arn\}/(.+)$", text)
                        if not match:
                            errors.append(f"{st.where()}: {fn} {action} on {text} (expected <bucket ARN>/<prefix>)")
                            continue
                        bucket, key = match.groups()
                        if not any(key.startswith(p) for p in buckets.get(bucket, set())):
                            errors.append(f"{st.where()}: {fn} {action} on {bucket}/{key} outside its prefixes")
                elif service == "sns":
                    targets = set().union(*(refs_in(r) for r in st.resources)) if st.resources else set()
                    if verb != "publish" or not targets or not targets <= topics:
                        errors.append(f"{st.where()}: {fn} {action} on {sorted(targets)} (only sns:Publish to the topic)")
                elif service == "logs":
                    targets = set().union(*(refs_in(r) for r in st.resources)) if st.resources else set()
                    if verb not in ("createlogstream", "putlogevents"):
                        errors.append(f"{st.where()}: {fn} {action} (only CreateLogStream/PutLogEvents)")
                    if own_log_group is None or targets != {own_log_group}:
                        errors.append(f"{st.where()}: {fn} logs on {sorted(targets)}, not only its log group {own_log_group}")
                elif service == "cloudwatch":
                    if verb != "putmetricdata" or st.condition_value("cloudwatch:namespace") != ["wsdr"]:
                        errors.append(f"{st.where()}: {fn} {action} without the cloudwatch:namespace=wsdr condition")
                elif service == "sqs":
                    targets = set().union(*(refs_in(r) for r in st.resources)) if st.resources else set()
                    if verb != "sendmessage" or not targets or not targets <= queues:
                        errors.append(f"{st.where()}: {fn} {action} on {sorted(targets)} (only SendMessage to the DLQ)")
    return errors


# Properties that set a physical name, for every resource type.
PHYSICAL_NAME_KEYS = {
    "RoleName", "FunctionName", "BucketName", "TopicName", "QueueName", "LogGroupName", "AliasName",
    "ManagedPolicyName", "AlarmName", "RuleName", "InstanceProfileName", "StateMachineName", "TableName",
    "DocumentName", "ParameterName", "ScheduleName", "GroupName", "UserName",
}
# Types whose top-level "Name" is a physical name.
NAME_TYPES = {
    "AWS::SSM::MaintenanceWindow", "AWS::Events::Rule", "AWS::SSM::Document", "AWS::SSM::Parameter",
    "AWS::Scheduler::Schedule", "AWS::Events::EventBus", "AWS::SQS::Queue",
}
# Types whose <X>Config.Name is a physical name.
CONFIG_NAME_TYPES = {
    "AWS::CloudFront::OriginAccessControl": "OriginAccessControlConfig",
    "AWS::CloudFront::CachePolicy": "CachePolicyConfig",
    "AWS::CloudFront::ResponseHeadersPolicy": "ResponseHeadersPolicyConfig",
    "AWS::CloudFront::OriginRequestPolicy": "OriginRequestPolicyConfig",
}


def _derived_from_stack(value: Any) -> bool:
    """Derived from the stack's name or id, so a second stack gets a different name."""
    if not isinstance(value, dict):
        return False
    found = refs_in(value) | {m for m in ("AWS::StackName", "AWS::StackId") if m in text_of(value)}
    return bool(found & {"AWS::StackName", "AWS::StackId"})


def check_no_fixed_names(template: dict[str, Any]) -> list[str]:
    """No literal physical names; a name the service requires must be derived from the stack name or id."""
    errors = []
    for name, res in resources(template).items():
        kind = res.get("Type", "")
        p = props(res)
        candidates = [(k, v) for k, v in p.items() if k in PHYSICAL_NAME_KEYS]
        if kind in NAME_TYPES and "Name" in p:
            candidates.append(("Name", p["Name"]))
        if kind in CONFIG_NAME_TYPES:
            config = p.get(CONFIG_NAME_TYPES[kind]) or {}
            if "Name" in config:
                candidates.append((f"{CONFIG_NAME_TYPES[kind]}.Name", config["Name"]))
        if kind == "AWS::Serverless::Function":
            for event_name, event in (p.get("Events") or {}).items():
                for key in ("Name", "RuleName"):
                    if key in (event.get("Properties") or {}):
                        candidates.append((f"Events.{event_name}.{key}", event["Properties"][key]))
        for key, value in candidates:
            # A Ref/GetAtt of another resource of this template is a reference (e.g. a permission's FunctionName),
            # not a name.
            if isinstance(value, dict) and ("Ref" in value or "Fn::GetAtt" in value) and refs_in(value) <= set(
                resources(template)
            ):
                continue
            if not _derived_from_stack(value):
                errors.append(f"{name}: fixed physical name {key}={text_of(value)!r}")
    return errors


def check_buckets(template: dict[str, Any]) -> list[str]:
    """Every bucket: default encryption, versioning, all four public-access blocks, lifecycle, TLS-only policy."""
    errors = []
    res = resources(template)
    policies = {}
    for n, r in res.items():
        if r.get("Type") == "AWS::S3::BucketPolicy":
            target = props(r).get("Bucket")
            if isinstance(target, dict) and "Ref" in target:
                policies[target["Ref"]] = props(r).get("PolicyDocument")
    for name, r in res.items():
        if r.get("Type") != "AWS::S3::Bucket":
            continue
        p = props(r)
        rules = ((p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration")) or []
        if not any((rule.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm") for rule in rules):
            errors.append(f"{name}: no default encryption")
        if (p.get("VersioningConfiguration") or {}).get("Status") != "Enabled":
            errors.append(f"{name}: versioning not enabled")
        block = p.get("PublicAccessBlockConfiguration") or {}
        for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
            if block.get(key) is not True:
                errors.append(f"{name}: PublicAccessBlockConfiguration.{key} is not true")
        if not (p.get("LifecycleConfiguration") or {}).get("Rules"):
            errors.append(f"{name}: no lifecycle rules")
        tls_only = any(
            st.effect == "Deny" and st.condition_value("aws:SecureTransport") in (["false"], [False])
            for st in _statements_of(policies.get(name), f"{name}Policy")
        )
        if not tls_only:
            errors.append(f"{name}: no bucket policy denying aws:SecureTransport=false")
    return errors


# SSM rate expressions: rate(<value> <unit>), unit minute(s)/hour(s)/day(s), singular exactly when value is 1.
SSM_RATE = re.compile(r"^rate\((?:1 (?:minute|hour|day)|(?:[2-9]|[1-9][0-9]+) (?:minutes|hours|days))\)$")
SCHEDULE_MUST_REJECT = [
    "cron(0 */10 * ? * *)",  # the original sample's string: '?' lands in the Month field under SSM's 6 fields
    "cron(0/5 * * * ? *)",
    "rate(1 hours)",
    "rate(5 hour)",
    "rate(0 minutes)",
    "rate(1 minute)",  # below SSM's 5-minute floor
    "rate(4 minutes)",
    "at(2030-01-01T00:00:00)",
]


def check_maintenance_window_schedule(template: dict[str, Any]) -> list[str]:
    """Every maintenance window runs on a valid SSM rate(...) expression (via a validated parameter or a literal)."""
    errors = []
    params = template.get("Parameters") or {}
    windows = [(n, r) for n, r in resources(template).items() if r.get("Type") == "AWS::SSM::MaintenanceWindow"]
    for name, r in windows:
        schedule = props(r).get("Schedule")
        if isinstance(schedule, str):
            candidates = [schedule]
            pattern = None
        elif isinstance(schedule, dict) and "Ref" in schedule and schedule["Ref"] in params:
            param = params[schedule["Ref"]]
            candidates = [param.get("Default")] + list(param.get("AllowedValues") or [])
            pattern = param.get("AllowedPattern")
            if pattern is None and not param.get("AllowedValues"):
                errors.append(f"{name}: schedule parameter {schedule['Ref']} has no AllowedPattern/AllowedValues")
        else:
            errors.append(f"{name}: unrecognised Schedule {schedule!r}")
            continue
        for value in candidates:
            if value is None:
                continue
            match = SSM_RATE.match(str(value))
            minutes = re.match(r"^rate\((\d+) minutes?\)$", str(value))
            if not match or (minutes and int(minutes.group(1)) < 5):
                errors.append(f"{name}: schedule {value!r} is not a valid SSM rate(...) expression")
        if pattern:
            for bad in SCHEDULE_MUST_REJECT:
                if re.fullmatch(pattern, bad):
                    errors.append(f"{name}: the schedule parameter's AllowedPattern accepts {bad!r}")
    if not windows:
        errors.append("no AWS::SSM::MaintenanceWindow")
    return errors


def _eventbridge_s3_triggers(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, r in resources(template).items():
        if r.get("Type") == "AWS::Serverless::Function":
            for event_name, event in (props(r).get("Events") or {}).items():
                if event.get("Type") in ("EventBridgeRule", "CloudWatchEvent"):
                    yield f"{name}.{event_name}", (event.get("Properties") or {}).get("Pattern") or {}
        elif r.get("Type") == "AWS::Events::Rule":
            yield name, props(r).get("EventPattern") or {}


def check_s3_triggers_cover_all_object_created(template: dict[str, Any]) -> list[str]:
    """S3 triggers fire on every kind of object creation (multipart uploads and copies included)."""
    errors = []
    for name, r in resources(template).items():
        # Direct S3 notifications (SAM S3 events or raw NotificationConfiguration): only s3:ObjectCreated:*.
        if r.get("Type") == "AWS::Serverless::Function":
            for event_name, event in (props(r).get("Events") or {}).items():
                if event.get("Type") == "S3":
                    kinds = as_list((event.get("Properties") or {}).get("Events"))
                    created = [k for k in kinds if str(k).startswith("s3:ObjectCreated")]
                    if created and "s3:ObjectCreated:*" not in created:
                        errors.append(f"{name}.{event_name}: S3 trigger on {created}, not s3:ObjectCreated:*")
        if r.get("Type") == "AWS::S3::Bucket":
            notification = props(r).get("NotificationConfiguration") or {}
            for kind in ("LambdaConfigurations", "QueueConfigurations", "TopicConfigurations"):
                for config in as_list(notification.get(kind)):
                    event = str(config.get("Event", ""))
                    if event.startswith("s3:ObjectCreated") and event != "s3:ObjectCreated:*":
                        errors.append(f"{name}: {kind} on {event}, not s3:ObjectCreated:*")
    # EventBridge S3 events: "Object Created" covers every creation reason unless narrowed by detail.reason.
    for where, pattern in _eventbridge_s3_triggers(template):
        if "aws.s3" not in as_list(pattern.get("source")):
            continue
        detail = pattern.get("detail") or {}
        if "reason" in detail:
            errors.append(f"{where}: S3 event pattern narrowed by detail.reason {detail['reason']}")
        if "Object Created" not in as_list(pattern.get("detail-type")):
            errors.append(f"{where}: S3 event pattern without detail-type 'Object Created'")
    return errors


def check_users_trigger(template: dict[str, Any], function: str, bucket: str, prefix: str) -> list[str]:
    """`function` is triggered by object creation under `prefix` in `bucket`."""
    res = resources(template)
    fn = res.get(function)
    if fn is None:
        return [f"{function}: missing"]
    bucket_props = props(res.get(bucket, {}))
    for event in (props(fn).get("Events") or {}).values():
        p = event.get("Properties") or {}
        if event.get("Type") == "S3" and p.get("Bucket") == {"Ref": bucket}:
            rules = (((p.get("Filter") or {}).get("S3Key") or {}).get("Rules")) or []
            if any(r.get("Name", "").lower() == "prefix" and r.get("Value") == prefix for r in rules):
                return []
        if event.get("Type") in ("EventBridgeRule", "CloudWatchEvent"):
            pattern = p.get("Pattern") or {}
            detail = pattern.get("detail") or {}
            names = as_list((detail.get("bucket") or {}).get("name"))
            keys = as_list((detail.get("object") or {}).get("key"))
            if (
                "aws.s3" in as_list(pattern.get("source"))
                and {"Ref": bucket} in names
                and {"prefix": prefix} in keys
                and ((bucket_props.get("NotificationConfiguration") or {}).get("EventBridgeConfiguration") or {}).get(
                    "EventBridgeEnabled"
                )
                is True
            ):
                return []
    return [f"{function}: no object-created trigger on {bucket}/{prefix}"]


def check_parameters_validated(template: dict[str, Any]) -> list[str]:
    errors = []
    for name, param in (template.get("Parameters") or {}).items():
        kind = param.get("Type")
        if kind == "String" and not (param.get("AllowedPattern") or param.get("AllowedValues")):
            errors.append(f"parameter {name}: String without AllowedPattern/AllowedValues")
        if kind == "Number" and not (
            param.get("AllowedValues") or ("MinValue" in param and "MaxValue" in param)
        ):
            errors.append(f"parameter {name}: Number without AllowedValues or MinValue/MaxValue")
        default = param.get("Default")
        pattern = param.get("AllowedPattern")
        if kind == "String" and default is not None and pattern and not re.fullmatch(pattern, str(default)):
            errors.append(f"parameter {name}: Default {default!r} does not match its AllowedPattern")
    return errors


def environment_variables(template: dict[str, Any]) -> dict[str, set[str]]:
    """WSDR_* variable -> functions that get it (Globals apply to every function)."""
    out: dict[str, set[str]] = {}
    global_vars = ((((template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}).get("Variables")) or {}
    for fn in functions(template):
        local = ((props(resources(template)[fn]).get("Environment") or {}).get("Variables")) or {}
        for var in list(global_vars) + list(local):
            if var.startswith("WSDR_"):
                out.setdefault(var, set()).add(fn)
    return out


def readme_contract(readme_text: str) -> set[str]:
    """WSDR_* names in the first column of the README's configuration-contract table."""
    return set(re.findall(r"^\|\s*`(WSDR_[A-Z0-9_]+)`\s*\|", readme_text, flags=re.MULTILINE))


def readme_contract_users(readme_text: str) -> dict[str, set[str]]:
    """WSDR_* name -> the "used by" column (second column) of the README's contract table, as lower-case words."""
    rows = re.findall(r"^\|\s*`(WSDR_[A-Z0-9_]+)`\s*\|([^|]*)\|", readme_text, flags=re.MULTILINE)
    return {name: {w.strip().lower() for w in used.split(",") if w.strip()} for name, used in rows}


# The source of truth of the environment contract: the files whose `"WSDR_*"` literals each function's binary reads
# (the failover configuration is shared by health and publish). A file that moves fails test_iam's guard.
FAILOVER_CONFIG = "backend/wsdr-drivers/src/failover.rs"
CODE_ENVIRONMENT = {
    "ReconcileFunction": ["backend/wsdr-lambda/src/reconcile.rs", "backend/wsdr-lambda/src/bin/reconcile.rs"],
    "HealthFunction": ["backend/wsdr-lambda/src/bin/health.rs", "backend/wsdr-lambda/src/bin/common/mod.rs", FAILOVER_CONFIG],
    "PublishFunction": ["backend/wsdr-lambda/src/bin/publish.rs", "backend/wsdr-lambda/src/bin/common/mod.rs", FAILOVER_CONFIG],
}


def code_reads(repo: Path) -> dict[str, set[str]]:
    """WSDR_* variable -> the functions whose code reads it (CODE_ENVIRONMENT's files under `repo`)."""
    return code_environment({fn: [(repo / f).read_text(encoding="utf-8") for f in files] for fn, files in CODE_ENVIRONMENT.items()})


def code_environment(sources: dict[str, list[str]]) -> dict[str, set[str]]:
    """WSDR_* variable -> functions whose code reads it, from each function's source texts (string literals
    `"WSDR_..."`; a file's `#[cfg(test)]` part onwards is left out)."""
    out: dict[str, set[str]] = {}
    for fn, texts in sources.items():
        for text in texts:
            code = text.split("#[cfg(test)]", 1)[0]
            for name in re.findall(r'"(WSDR_[A-Z0-9_]+)"', code):
                out.setdefault(name, set()).add(fn)
    return out


def check_environment_matches_code(template: dict[str, Any], readme_text: str, code: dict[str, set[str]]) -> list[str]:
    """Each function gets exactly the WSDR_* variables its code reads, and the README's "used by" column says so."""
    errors = []
    in_template = environment_variables(template)
    all_functions = set(functions(template))
    for name in sorted(set(in_template) | set(code)):
        got, reads = in_template.get(name, set()), code.get(name, set())
        for fn in sorted(reads - got):
            errors.append(f"{name}: {fn}'s code reads it, the template does not set it for {fn}")
        for fn in sorted(got - reads):
            errors.append(f"{name}: set for {fn}, whose code never reads it")
    for name, used_by in readme_contract_users(readme_text).items():
        documented = all_functions if used_by == {"all"} else {
            fn for fn in all_functions if {fn.lower(), fn.lower().removesuffix("function")} & used_by
        }
        if documented != code.get(name, set()):
            errors.append(f"{name}: README says used by {sorted(used_by)}, the code of {sorted(code.get(name, set()))} reads it")
    return errors


def check_environment_contract(template: dict[str, Any], readme_text: str) -> list[str]:
    """The README's contract table and the template agree on the names and on which function gets each one."""
    in_template = environment_variables(template)
    in_readme = readme_contract(readme_text)
    errors = [f"{v}: set in the template but not documented in infra/README.md" for v in sorted(set(in_template) - in_readme)]
    errors += [f"{v}: documented in infra/README.md but not set in the template" for v in sorted(in_readme - set(in_template))]
    all_functions = set(functions(template))
    for name, used_by in readme_contract_users(readme_text).items():
        if name not in in_template or not used_by:
            continue
        documented = all_functions if used_by == {"all"} else {
            fn for fn in all_functions if {fn.lower(), fn.lower().removesuffix("function")} & used_by
        }
        if documented != in_template[name]:
            errors.append(f"{name}: README says used by {sorted(used_by)}, template sets it for {sorted(in_template[name])}")
    return errors


# ----------------------------------------------------------------------------------------------------------------
# Deployments: parameter values, Rules, Conditions and Fn::If evaluated as CloudFormation would for one stack
# ----------------------------------------------------------------------------------------------------------------
# The checks above look at every branch of every Fn::If at once (expand_if). These helpers answer the other question
# - what exactly does a stack deployed with these parameter values get - for the intrinsic functions this template
# uses in Conditions and Rules (Ref, Condition, Fn::Equals/Not/And/Or, and the rule functions Fn::Contains and
# Fn::EachMemberEquals). Anything else in a condition or rule raises, rather than being guessed.

PSEUDO_PARAMETERS = {
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "111122223333",
    "AWS::Partition": "aws",
    "AWS::StackName": "wsdr",
    "AWS::URLSuffix": "amazonaws.com",
}
LIST_PARAMETER_TYPES = ("CommaDelimitedList", "List<")


class Unsupported(ValueError):
    """An intrinsic function the evaluator does not implement."""


def parameter_values(template: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Every parameter's value in a stack created with `given`: given, else the Default. List types become lists
    (CloudFormation splits a CommaDelimitedList on commas: "" is [""]). A parameter without a value is an error, as in
    CloudFormation."""
    params = template.get("Parameters") or {}
    unknown = set(given) - set(params)
    if unknown:
        raise KeyError(f"not parameters of the template: {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, param in params.items():
        if name in given:
            value = given[name]
        elif "Default" in param:
            value = param["Default"]
        else:
            raise KeyError(f"parameter {name} has no Default and no value was given")
        if str(param.get("Type", "")).startswith(LIST_PARAMETER_TYPES):
            value = value if isinstance(value, list) else str(value).split(",")
        values[name] = value
    return values


def check_parameter_values(template: dict[str, Any], values: dict[str, Any]) -> list[str]:
    """AllowedValues and AllowedPattern as CloudFormation applies them: the whole String, each CommaDelimitedList
    item (Java regexes; the template's patterns use only syntax Python reads the same way)."""
    errors = []
    for name, param in (template.get("Parameters") or {}).items():
        items = values[name] if isinstance(values[name], list) else [values[name]]
        for item in items:
            allowed = param.get("AllowedValues")
            if allowed is not None and str(item) not in [str(a) for a in allowed]:
                errors.append(f"parameter {name}: {item!r} is not one of {allowed}")
            pattern = param.get("AllowedPattern")
            if pattern and not re.fullmatch(pattern, str(item)):
                errors.append(f"parameter {name}: {item!r} does not match {pattern}")
    return errors


def _value(expr: Any, values: dict[str, Any]) -> Any:
    if isinstance(expr, dict) and list(expr) == ["Ref"]:
        name = expr["Ref"]
        if name in values:
            return values[name]
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        raise Unsupported(f"Ref {name}: not a parameter or a known pseudo parameter")
    if isinstance(expr, (str, int, float, bool)):
        return str(expr).lower() if isinstance(expr, bool) else str(expr)
    if isinstance(expr, list):
        return [_value(item, values) for item in expr]
    raise Unsupported(f"cannot evaluate {expr!r}")


def evaluate(expr: Any, values: dict[str, Any], conditions: dict[str, Any] | None = None) -> bool:
    """A condition (or a rule's RuleCondition/Assert) for these parameter values."""
    if not isinstance(expr, dict) or len(expr) != 1:
        raise Unsupported(f"not a condition: {expr!r}")
    (key, arg), = expr.items()
    if key == "Condition":
        if conditions is None or arg not in conditions:
            raise Unsupported(f"Condition {arg}: unknown here")
        return evaluate(conditions[arg], values, conditions)
    if key == "Fn::Equals":
        left, right = (_value(side, values) for side in arg)
        return left == right
    if key == "Fn::Not":
        (inner,) = arg
        return not evaluate(inner, values, conditions)
    if key == "Fn::And":
        return all(evaluate(inner, values, conditions) for inner in arg)
    if key == "Fn::Or":
        return any(evaluate(inner, values, conditions) for inner in arg)
    if key == "Fn::Contains":  # rules only: is the string one of the list's items
        items, wanted = (_value(side, values) for side in arg)
        return wanted in items
    if key == "Fn::EachMemberEquals":  # rules only
        items, wanted = (_value(side, values) for side in arg)
        return all(item == wanted for item in items)
    raise Unsupported(f"{key} is not evaluated here")


def failed_rules(template: dict[str, Any], values: dict[str, Any]) -> list[str]:
    """The AssertDescription of every rule assertion that fails for these values (CloudFormation then refuses the
    stack): a rule applies when it has no RuleCondition or its RuleCondition is true."""
    failed = []
    for name, rule in (template.get("Rules") or {}).items():
        condition = rule.get("RuleCondition")
        if condition is not None and not evaluate(condition, values):
            continue
        for assertion in rule.get("Assertions") or []:
            if not evaluate(assertion["Assert"], values):
                failed.append(f"{name}: {assertion.get('AssertDescription', '(no description)')}")
    return failed


_NO_VALUE = object()


def _resolve_ifs(value: Any, truth: dict[str, bool]) -> Any:
    """`value` with each Fn::If replaced by its chosen branch; AWS::NoValue removes the key or list item."""
    if isinstance(value, dict):
        if list(value) == ["Fn::If"]:
            name, yes, no = value["Fn::If"]
            return _resolve_ifs(yes if truth[name] else no, truth)
        if value == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        out = {}
        for key, inner in value.items():
            resolved = _resolve_ifs(inner, truth)
            if resolved is not _NO_VALUE:
                out[key] = resolved
        return out
    if isinstance(value, list):
        return [r for r in (_resolve_ifs(item, truth) for item in value) if r is not _NO_VALUE]
    return value


def deployed(template: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The template as a stack created with these parameter values gets it: resources and outputs whose Condition is
    false removed, every Fn::If replaced by its branch, AWS::NoValue dropped, and "Conditions" replaced by each
    condition's value (name -> bool). The checks above then apply to it unchanged. Raises ValueError when a
    parameter's AllowedValues/AllowedPattern or a rule refuses the values, as CloudFormation would."""
    values = parameter_values(template, given)
    refused = check_parameter_values(template, values) + failed_rules(template, values)
    if refused:
        raise ValueError("CloudFormation refuses these parameter values: " + "; ".join(refused))
    conditions = template.get("Conditions") or {}
    truth = {name: evaluate(expr, values, conditions) for name, expr in conditions.items()}
    out = {key: value for key, value in template.items() if key not in ("Resources", "Outputs", "Conditions")}
    for section in ("Resources", "Outputs"):
        kept = {
            name: entry
            for name, entry in (template.get(section) or {}).items()
            if "Condition" not in entry or truth[entry["Condition"]]
        }
        out[section] = _resolve_ifs(kept, truth)
    out["Conditions"] = truth
    return out


def render(value: Any, values: dict[str, Any]) -> Any:
    """A property value as the stack would see it: parameters and pseudo parameters substituted (Ref, Fn::Sub),
    Fn::Join and Fn::Split applied; references to resources stay symbolic ("${Name}", "${Name.Attr}")."""
    if isinstance(value, list):
        return [render(item, values) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {key: render(inner, values) for key, inner in value.items()}
    (key, arg), = value.items()
    if key == "Ref":
        if arg in values:
            return values[arg]
        return PSEUDO_PARAMETERS.get(arg, "${%s}" % arg)
    if key == "Fn::GetAtt":
        return "${%s}" % ".".join(as_list(arg))
    if key == "Fn::Sub":
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], {k: render(v, values) for k, v in arg[1].items()})

        def substitute(match: re.Match) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            if name in values and not isinstance(values[name], list):
                return str(values[name])
            return str(PSEUDO_PARAMETERS.get(name, match.group(0)))

        return re.sub(r"\$\{([^!}][^}]*)\}", substitute, text)
    if key == "Fn::Join":
        delimiter, parts = arg
        rendered = render(parts, values)
        flat = [p for part in (rendered if isinstance(rendered, list) else [rendered]) for p in as_list(part)]
        return str(delimiter).join(str(p) for p in flat)
    if key == "Fn::Split":
        delimiter, text = arg
        return str(render(text, values)).split(delimiter)
    return {key: render(arg, values)}
