"""IAM and template invariants of infra/template.yaml and infra/health-forwarder.yaml.

Runs offline (PyYAML only). Each invariant is a checker in cfnchecks.py; the second half of this file feeds the same
checkers deliberately broken mini-templates, so every assertion is shown to fail on the regression it guards against.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cfnchecks as cc  # noqa: E402

INFRA = Path(__file__).resolve().parent.parent
TEMPLATE = cc.load_template(INFRA / "template.yaml")
FORWARDER = cc.load_template(INFRA / "health-forwarder.yaml")
README = (INFRA / "README.md").read_text(encoding="utf-8")

# What each function may use: the brief's least-privilege contract.
ALLOWED_SERVICES = {
    "ReconcileFunction": {"workspaces", "tag", "s3", "sns", "logs", "cloudwatch", "kms", "sqs"},
    "HealthFunction": {"s3", "sns", "kms", "logs", "sqs", "health"},
    "PublishFunction": {"s3", "sns", "kms", "logs", "sqs"},
}
S3_PREFIXES = {
    "ReconcileFunction": {
        "UsersBucket": {"users/"},
        "StateBucket": {"state/reconcile/", "state/failover/", "reports/"},
    },
    "HealthFunction": {"StateBucket": {"state/failover/", "status/"}},
    "PublishFunction": {"StateBucket": {"state/failover/", "status/"}},
}


# ------------------------------------------------------------------------------------------------------------------
# The real templates
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("template", [TEMPLATE, FORWARDER], ids=["template", "forwarder"])
def test_no_mutating_workspaces_action_on_star(template):
    assert cc.check_workspaces_mutations_scoped(template) == []


def test_terminate_only_owned_workspaces():
    assert cc.check_terminate_requires_ownership_tag(TEMPLATE) == []
    terminate = [
        st for _, st in cc.identity_statements(TEMPLATE) if "workspaces:terminateworkspaces" in st.actions
    ]
    assert terminate, "the reconcile role must be able to terminate (owned) WorkSpaces"


def test_create_scoped_to_directory_and_bundle():
    (create,) = [st for _, st in cc.identity_statements(TEMPLATE) if "workspaces:createworkspaces" in st.actions]
    texts = [cc.text_of(r) for r in create.resources]
    assert any(t.endswith(":directory/${DirectoryId}") for t in texts)
    assert any(t.endswith(":workspacebundle/${BundleId}") for t in texts)
    assert all("${AWS::Region}:${AWS::AccountId}" in t for t in texts)


@pytest.mark.parametrize("template", [TEMPLATE, FORWARDER], ids=["template", "forwarder"])
def test_no_passrole_on_star(template):
    assert cc.check_no_passrole_on_star(template) == []


def test_no_passrole_at_all():
    """Nothing in wsdr passes a role (the maintenance-window task runs Run Command without notifications)."""
    for template in (TEMPLATE, FORWARDER):
        for _, st in cc.identity_statements(template):
            assert not any(cc._action_matches(a, "iam:passrole") for a in st.actions), st.where()


def test_each_function_has_its_own_role():
    assert cc.check_functions_have_own_roles(TEMPLATE) == []
    assert set(cc.functions(TEMPLATE)) == set(ALLOWED_SERVICES)


def test_function_roles_use_only_their_services():
    assert cc.check_function_services(TEMPLATE, ALLOWED_SERVICES) == []


def test_function_roles_are_scoped():
    assert cc.check_role_scoping(TEMPLATE, S3_PREFIXES) == []


def test_only_reconcile_touches_workspaces_and_only_health_publish_sign():
    def actions(fn):
        return {a for st in cc.role_statements(TEMPLATE, cc.function_role(TEMPLATE, fn)) for a in st.actions}

    assert not any(a.startswith("workspaces:") for a in actions("HealthFunction") | actions("PublishFunction"))
    assert "kms:sign" not in actions("ReconcileFunction")
    assert "kms:sign" in actions("HealthFunction") and "kms:sign" in actions("PublishFunction")


@pytest.mark.parametrize("template", [TEMPLATE, FORWARDER], ids=["template", "forwarder"])
def test_kms_sign_only_on_status_key(template):
    assert cc.check_kms(template) == []


def test_status_key_is_p256_sign_verify():
    (key,) = [n for n, r in cc.resources(TEMPLATE).items() if cc.props(r).get("KeyUsage") == "SIGN_VERIFY"]
    assert cc.props(cc.resources(TEMPLATE)[key])["KeySpec"] == "ECC_NIST_P256"


@pytest.mark.parametrize("template", [TEMPLATE, FORWARDER], ids=["template", "forwarder"])
def test_no_fixed_physical_names(template):
    assert cc.check_no_fixed_names(template) == []


def test_buckets_are_hardened():
    assert cc.check_buckets(TEMPLATE) == []
    assert len([r for r in cc.resources(TEMPLATE).values() if r["Type"] == "AWS::S3::Bucket"]) == 2


def test_maintenance_window_uses_a_rate_expression():
    assert cc.check_maintenance_window_schedule(TEMPLATE) == []


def test_s3_triggers_cover_all_object_created_events():
    assert cc.check_s3_triggers_cover_all_object_created(TEMPLATE) == []
    assert cc.check_users_trigger(TEMPLATE, "ReconcileFunction", "UsersBucket", "users/") == []


@pytest.mark.parametrize("template", [TEMPLATE, FORWARDER], ids=["template", "forwarder"])
def test_parameters_are_validated(template):
    assert cc.check_parameters_validated(template) == []


def test_environment_contract_matches_readme():
    assert cc.check_environment_contract(TEMPLATE, README) == []


def test_functions_are_built_from_the_workspace_with_cargo_lambda():
    for fn in cc.functions(TEMPLATE):
        res = cc.resources(TEMPLATE)[fn]
        assert res["Metadata"]["BuildMethod"] == "rust-cargolambda"
        assert res["Metadata"]["BuildProperties"]["Binary"] in {"reconcile", "health", "publish"}
        # The SAM builder copies <CodeUri>/target/lambda/<bin>/bootstrap: CodeUri must be the workspace root.
        assert cc.props(res)["CodeUri"] == ".."
    globals_fn = TEMPLATE["Globals"]["Function"]
    assert globals_fn["Runtime"] == "provided.al2023"
    assert globals_fn["Architectures"] == [{"Ref": "Architecture"}]
    assert TEMPLATE["Parameters"]["Architecture"]["Default"] == "arm64"


def test_health_rule_matches_workspaces_health_events():
    events = cc.props(cc.resources(TEMPLATE)["HealthFunction"])["Events"]
    patterns = [e["Properties"]["Pattern"] for e in events.values() if e["Type"] == "EventBridgeRule"]
    assert {"source": ["aws.health"], "detail-type": ["AWS Health Event"], "detail": {"service": ["WORKSPACES"]}} in patterns
    forwarder = cc.props(cc.resources(FORWARDER)["ForwardWorkSpacesHealthEvents"])
    assert forwarder["EventPattern"] in patterns
    (target,) = forwarder["Targets"]
    assert cc.text_of(target["Arn"]).endswith(":event-bus/default")
    assert "${DrRegion}" in cc.text_of(target["Arn"])


def test_alarms_cover_errors_blocked_plans_and_readiness():
    alarms = [cc.props(r) for r in cc.resources(TEMPLATE).values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    wsdr_metrics = {a["MetricName"] for a in alarms if a["Namespace"] == "wsdr"}
    assert {"PlanBlocked", "Readiness", "OperationsFailed", "UsersListAgeMinutes", "ReconcileCompleted"} <= wsdr_metrics
    for alarm in alarms:
        if alarm["Namespace"] == "wsdr":
            assert alarm["Dimensions"] == [{"Name": "DirectoryId", "Value": {"Ref": "DirectoryId"}}]
    lambda_errors = {cc.text_of(a["Dimensions"][0]["Value"]) for a in alarms if a["MetricName"] == "Errors"}
    assert lambda_errors == {"${ReconcileFunction}", "${HealthFunction}", "${PublishFunction}"}
    assert all(a["AlarmActions"] == [{"Ref": "AlertsTopic"}] for a in alarms)


def test_log_groups_have_retention_and_functions_use_them():
    res = cc.resources(TEMPLATE)
    for fn in cc.functions(TEMPLATE):
        group = cc.props(res[fn])["LoggingConfig"]["LogGroup"]["Ref"]
        assert res[group]["Type"] == "AWS::Logs::LogGroup"
        assert cc.props(res[group])["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_export_task_pins_the_script_and_passes_the_region():
    task = cc.props(cc.resources(TEMPLATE)["ExportTask"])
    assert task["TaskType"] == "RUN_COMMAND" and task["TaskArn"] == "AWS-RunPowerShellScript"
    assert task["ServiceRoleArn"] == {"Fn::GetAtt": ["ExportWindowRole", "Arn"]}
    commands = " ".join(
        cc.text_of(c) for c in task["TaskInvocationParameters"]["MaintenanceWindowRunCommandParameters"]["Parameters"]["commands"]
    )
    assert "Get-FileHash -Algorithm SHA256" in commands and "${ExportScriptSha256}" in commands
    assert "-Region '${AWS::Region}'" in commands
    assert "-SearchScope ${UsersSearchScope}" in commands


# ------------------------------------------------------------------------------------------------------------------
# The checkers fail on regressions (deliberately bad mini-templates)
# ------------------------------------------------------------------------------------------------------------------

GOOD = cc.loads_template(
    """
Parameters:
  Schedule:
    Type: String
    Default: rate(1 hour)
    AllowedPattern: ^rate\\((([5-9]|[1-5][0-9]) minutes|1 hour|([2-9]|1[0-9]|2[0-3]) hours|1 day)\\)$
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties: { KeySpec: ECC_NIST_P256, KeyUsage: SIGN_VERIFY }
  Topic:
    Type: AWS::SNS::Topic
  Dlq:
    Type: AWS::SQS::Queue
  Logs:
    Type: AWS::Logs::LogGroup
  OtherLogs:
    Type: AWS::Logs::LogGroup
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: AES256 } }]
      VersioningConfiguration: { Status: Enabled }
      PublicAccessBlockConfiguration:
        { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true }
      LifecycleConfiguration: { Rules: [{ Id: r, Status: Enabled, ExpirationInDays: 1 }] }
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } }
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: s3:*
            Resource: !Sub "${Bucket.Arn}/*"
            Condition: { Bool: { aws:SecureTransport: "false" } }
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Sid: Describe
                Effect: Allow
                Action: workspaces:DescribeWorkspaces
                Resource: "*"
              - Sid: Terminate
                Effect: Allow
                Action: workspaces:TerminateWorkspaces
                Resource: !Sub "arn:${AWS::Partition}:workspaces:${AWS::Region}:${AWS::AccountId}:workspace/*"
                Condition: { StringEquals: { aws:ResourceTag/wsdr:managed-by: wsdr } }
              - Sid: Tag
                Effect: Allow
                Action: workspaces:CreateTags
                Resource: "*"
                Condition: { StringEquals: { aws:RequestTag/wsdr:managed-by: wsdr } }
              - Sid: Read
                Effect: Allow
                Action: s3:GetObject
                Resource: !Sub "${Bucket.Arn}/users/*"
              - Sid: Sign
                Effect: Allow
                Action: [kms:Sign, kms:GetPublicKey]
                Resource: !GetAtt Key.Arn
              - Sid: Publish
                Effect: Allow
                Action: sns:Publish
                Resource: !Ref Topic
              - Sid: Logs
                Effect: Allow
                Action: [logs:CreateLogStream, logs:PutLogEvents]
                Resource: !GetAtt Logs.Arn
              - Sid: Metrics
                Effect: Allow
                Action: cloudwatch:PutMetricData
                Resource: "*"
                Condition: { StringEquals: { cloudwatch:namespace: wsdr } }
              - Sid: Dlq
                Effect: Allow
                Action: sqs:SendMessage
                Resource: !GetAtt Dlq.Arn
  Function:
    Type: AWS::Serverless::Function
    Properties:
      Role: !GetAtt Role.Arn
      LoggingConfig: { LogGroup: !Ref Logs }
      Environment: { Variables: { WSDR_DIRECTORY_ID: d-1234567890 } }
      Events:
        Upload:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [aws.s3]
              detail-type: [Object Created]
              detail: { bucket: { name: [!Ref Bucket] }, object: { key: [{ prefix: users/ }] } }
  Window:
    Type: AWS::SSM::MaintenanceWindow
    Properties:
      Name: !Sub "${AWS::StackName}-export"
      Schedule: !Ref Schedule
"""
)
MINI_SERVICES = {"Function": {"workspaces", "s3", "sns", "logs", "cloudwatch", "kms", "sqs"}}
MINI_PREFIXES = {"Function": {"Bucket": {"users/"}}}
MINI_README = "| `WSDR_DIRECTORY_ID` | function | ... |\n"


def statements(template):
    return template["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


def add_statement(template, statement):
    statements(template).append(statement)
    return template


def mutate(fn):
    bad = copy.deepcopy(GOOD)
    fn(bad)
    return bad


ALL_CHECKS = {
    "workspaces": lambda t: cc.check_workspaces_mutations_scoped(t),
    "terminate": lambda t: cc.check_terminate_requires_ownership_tag(t),
    "passrole": lambda t: cc.check_no_passrole_on_star(t),
    "own_roles": lambda t: cc.check_functions_have_own_roles(t),
    "services": lambda t: cc.check_function_services(t, MINI_SERVICES),
    "scoping": lambda t: cc.check_role_scoping(t, MINI_PREFIXES),
    "kms": lambda t: cc.check_kms(t),
    "names": lambda t: cc.check_no_fixed_names(t),
    "buckets": lambda t: cc.check_buckets(t),
    "schedule": lambda t: cc.check_maintenance_window_schedule(t),
    "s3_trigger": lambda t: cc.check_s3_triggers_cover_all_object_created(t),
    "users_trigger": lambda t: cc.check_users_trigger(t, "Function", "Bucket", "users/"),
    "parameters": lambda t: cc.check_parameters_validated(t),
    "contract": lambda t: cc.check_environment_contract(t, MINI_README),
}


@pytest.mark.parametrize("check", sorted(ALL_CHECKS))
def test_good_mini_template_passes(check):
    assert ALL_CHECKS[check](GOOD) == []


def _set(path, value):
    def apply(t):
        node = t
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return apply


def _del(path):
    def apply(t):
        node = t
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return apply


BUCKET = ["Resources", "Bucket", "Properties"]
FUNCTION = ["Resources", "Function", "Properties"]

REGRESSIONS = {
    # check name, regression -> the checker must report it
    "terminate on *": ("workspaces", lambda t: add_statement(t, {"Effect": "Allow", "Action": "workspaces:TerminateWorkspaces", "Resource": "*"})),
    "create on *": ("workspaces", lambda t: add_statement(t, {"Effect": "Allow", "Action": "workspaces:CreateWorkspaces", "Resource": "*"})),
    "workspaces:* on *": ("workspaces", lambda t: add_statement(t, {"Effect": "Allow", "Action": "workspaces:*", "Resource": "*"})),
    "CreateTags on * without tag condition": ("workspaces", lambda t: add_statement(t, {"Effect": "Allow", "Action": "workspaces:CreateTags", "Resource": "*"})),
    "terminate without ownership condition": ("terminate", lambda t: statements(t)[1].pop("Condition")),
    "terminate on a directory ARN": ("terminate", lambda t: statements(t)[1].update(Resource={"Fn::Sub": "arn:aws:workspaces:r:a:directory/d-1"})),
    "PassRole on *": ("passrole", lambda t: add_statement(t, {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"})),
    "iam:* on *": ("passrole", lambda t: add_statement(t, {"Effect": "Allow", "Action": "iam:*", "Resource": "*"})),
    "function without role": ("own_roles", _del(FUNCTION + ["Role"])),
    "managed policy on function role": ("own_roles", _set(["Resources", "Role", "Properties", "ManagedPolicyArns"], ["arn:aws:iam::aws:policy/AdministratorAccess"])),
    "foreign service": ("services", lambda t: add_statement(t, {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"})),
    "wildcard action": ("services", lambda t: add_statement(t, {"Effect": "Allow", "Action": "s3:*", "Resource": {"Fn::Sub": "${Bucket.Arn}/users/*"}})),
    "s3 outside prefix": ("scoping", lambda t: statements(t)[3].update(Resource={"Fn::Sub": "${Bucket.Arn}/*"})),
    "s3 on bucket star": ("scoping", lambda t: statements(t)[3].update(Resource="*")),
    "list bucket without prefix": ("scoping", lambda t: add_statement(t, {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": {"Fn::GetAtt": ["Bucket", "Arn"]}})),
    "sns on *": ("scoping", lambda t: statements(t)[5].update(Resource="*")),
    "logs on *": ("scoping", lambda t: statements(t)[6].update(Resource="*")),
    "logs on another group": ("scoping", lambda t: statements(t)[6].update(Resource={"Fn::GetAtt": ["OtherLogs", "Arn"]})),
    "create log group": ("scoping", lambda t: statements(t)[6].update(Action=["logs:CreateLogGroup", "logs:PutLogEvents"])),
    "metrics without namespace": ("scoping", lambda t: statements(t)[7].pop("Condition")),
    "sqs on *": ("scoping", lambda t: statements(t)[8].update(Resource="*")),
    "sign on *": ("kms", lambda t: statements(t)[4].update(Resource="*")),
    "sign on another key": ("kms", lambda t: add_statement(t, {"Effect": "Allow", "Action": "kms:Sign", "Resource": {"Fn::GetAtt": ["Other", "Arn"]}})),
    "kms:* on status key": ("kms", lambda t: statements(t)[4].update(Action="kms:*", Resource="*")),
    "fixed role name": ("names", _set(["Resources", "Role", "Properties", "RoleName"], "ws-dr-lambda-compare-role")),
    "fixed bucket name": ("names", _set(BUCKET + ["BucketName"], "my-users-bucket")),
    "fixed window name": ("names", _set(["Resources", "Window", "Properties", "Name"], "ws-dr-maintenance-window")),
    "fixed function name": ("names", _set(FUNCTION + ["FunctionName"], {"Fn::Sub": "wsdr-${AWS::Region}"})),
    "no encryption": ("buckets", _del(BUCKET + ["BucketEncryption"])),
    "no versioning": ("buckets", _set(BUCKET + ["VersioningConfiguration"], {"Status": "Suspended"})),
    "partial public access block": ("buckets", _set(BUCKET + ["PublicAccessBlockConfiguration", "RestrictPublicBuckets"], False)),
    "no lifecycle": ("buckets", _del(BUCKET + ["LifecycleConfiguration"])),
    "no TLS-only policy": ("buckets", _del(["Resources", "BucketPolicy"])),
    "cron schedule (the original's)": ("schedule", _set(["Resources", "Window", "Properties", "Schedule"], "cron(0 */10 * ? * *)")),
    "plural mismatch": ("schedule", _set(["Parameters", "Schedule", "Default"], "rate(1 hours)")),
    "too frequent": ("schedule", _set(["Resources", "Window", "Properties", "Schedule"], "rate(2 minutes)")),
    "pattern accepts cron": ("schedule", _set(["Parameters", "Schedule", "AllowedPattern"], "^(rate|cron)\\(.*\\)$")),
    "S3 Put only": ("s3_trigger", _set(FUNCTION + ["Events", "Direct"], {"Type": "S3", "Properties": {"Bucket": {"Ref": "Bucket"}, "Events": "s3:ObjectCreated:Put"}})),
    "raw notification Put only": ("s3_trigger", _set(BUCKET + ["NotificationConfiguration", "LambdaConfigurations"], [{"Event": "s3:ObjectCreated:Put", "Function": "x"}])),
    "EventBridge narrowed to PutObject": ("s3_trigger", _set(FUNCTION + ["Events", "Upload", "Properties", "Pattern", "detail", "reason"], ["PutObject"])),
    "no users prefix": ("users_trigger", _set(FUNCTION + ["Events", "Upload", "Properties", "Pattern", "detail", "object", "key"], [{"prefix": "other/"}])),
    "bucket not sending to EventBridge": ("users_trigger", _del(BUCKET + ["NotificationConfiguration"])),
    "unvalidated parameter": ("parameters", _set(["Parameters", "Free"], {"Type": "String"})),
    "default violates pattern": ("parameters", _set(["Parameters", "Schedule", "Default"], "cron(0 1 * * ? *)")),
    "undocumented variable": ("contract", _set(FUNCTION + ["Environment", "Variables", "WSDR_SECRET_KNOB"], "1")),
    "documented but unset": ("contract", _del(FUNCTION + ["Environment"])),
    "set for the wrong function": ("contract", _set(["Resources", "Other"], {"Type": "AWS::Serverless::Function", "Properties": {"Environment": {"Variables": {"WSDR_DIRECTORY_ID": "x"}}}})),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_checker_catches_regression(name):
    check, regression = REGRESSIONS[name]
    bad = mutate(regression)
    assert ALL_CHECKS[check](bad) != [], f"{check} did not catch: {name}"


def test_forwarder_role_only_puts_events_on_the_dr_default_bus():
    statements = cc.role_statements(FORWARDER, "ForwarderRole")
    assert [a for st in statements for a in st.actions] == ["events:putevents"]
    (resource,) = statements[0].resources
    assert cc.text_of(resource) == "arn:${AWS::Partition}:events:${DrRegion}:${AWS::AccountId}:event-bus/default"
