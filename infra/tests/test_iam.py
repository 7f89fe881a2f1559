"""IAM and template invariants of infra/template.yaml and infra/health-forwarder.yaml.

Runs offline (PyYAML only). Each invariant is a checker in cfnchecks.py; the second half of this file feeds the same
checkers deliberately broken mini-templates, so every assertion is shown to fail on the regression it guards against.
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cfnchecks as cc  # noqa: E402

INFRA = Path(__file__).resolve().parent.parent
TEMPLATE = cc.load_template(INFRA / "template.yaml")
FORWARDER = cc.load_template(INFRA / "health-forwarder.yaml")
README = (INFRA / "README.md").read_text(encoding="utf-8")

# What each function may use: the brief's least-privilege contract. Secrets Manager (the service account's password)
# and EC2 (the network interfaces of a function in a VPC) only with UsersSource=directory: see the "Users source"
# tests below, which check each source's deployed stack.
EXPORT_SERVICES = {
    "ReconcileFunction": {"workspaces", "tag", "s3", "sns", "logs", "kms", "sqs"},
    "HealthFunction": {"s3", "sns", "kms", "logs", "sqs", "health"},
    "PublishFunction": {"s3", "sns", "kms", "logs", "sqs"},
}
ALLOWED_SERVICES = {**EXPORT_SERVICES, "ReconcileFunction": EXPORT_SERVICES["ReconcileFunction"] | {"secretsmanager", "ec2"}}
EXPORT_S3_PREFIXES = {
    "ReconcileFunction": {
        "UsersBucket": {"users/"},
        "StateBucket": {"state/reconcile/", "state/failover/", "reports/"},
    },
    "HealthFunction": {"StateBucket": {"state/failover/", "status/"}},
    "PublishFunction": {"StateBucket": {"state/failover/", "status/"}},
}
# UsersSource=directory adds one object: the CA bundle (its parameter's pattern keeps it under directory/).
S3_PREFIXES = {
    **EXPORT_S3_PREFIXES,
    "ReconcileFunction": {
        **EXPORT_S3_PREFIXES["ReconcileFunction"],
        "UsersBucket": {"users/", "${DirectoryCaBundleKey}"},
    },
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


# Granted actions no code path calls, each with the reason it is granted (the Lambda service, S3 or SNS use them with
# the function's role, or S3 needs them for an answer the code relies on). Everything else a function's role grants
# must be an operation named in the code (`"service:Action"` literals of wsdr-aws and wsdr-lambda).
USED_ON_THE_FUNCTIONS_BEHALF = {
    "logs:createlogstream": "Lambda writes the function's logs with its role",
    "logs:putlogevents": "Lambda writes the function's logs with its role",
    "sqs:sendmessage": "Lambda parks failed asynchronous invocations in the dead-letter queue with the function's role",
    "kms:decrypt": "S3 (SSE-KMS users bucket) and SNS (encrypted topic) use the data key on the caller's behalf",
    "kms:generatedatakey": "S3 (SSE-KMS) and SNS (encrypted topic) use the data key on the caller's behalf",
    "s3:listbucket": "S3 answers 404 instead of 403 for a missing key only with it (GetObject, Permissions)",
    "kms:describekey": "WorkSpaces checks the volume encryption key with the caller's rights (VolumeEncryptionKeyArn)",
    "kms:creategrant": "WorkSpaces creates a grant on the volume encryption key for each new WorkSpace",
    "ec2:describenetworkinterfaces": "Lambda manages the VPC function's network interfaces with its role",
    "ec2:describesubnets": "Lambda manages the VPC function's network interfaces with its role",
    "ec2:createnetworkinterface": "Lambda manages the VPC function's network interfaces with its role",
    "ec2:deletenetworkinterface": "Lambda manages the VPC function's network interfaces with its role",
    "ec2:assignprivateipaddresses": "Lambda manages the VPC function's network interfaces with its role",
    "ec2:unassignprivateipaddresses": "Lambda manages the VPC function's network interfaces with its role",
}
# The SDK's signing name differs from the IAM service prefix.
IAM_PREFIX = {"tagging": "tag"}


def code_operations() -> set[str]:
    found = set()
    for crate in ("backend/wsdr-aws/src", "backend/wsdr-lambda/src"):
        for path in sorted((REPO / crate).rglob("*.rs")):
            code = path.read_text(encoding="utf-8").split("#[cfg(test)]", 1)[0]
            for service, action in re.findall(r'"([a-z0-9-]+):([A-Z][A-Za-z]+)"', code):
                found.add(f"{IAM_PREFIX.get(service, service)}:{action}".lower())
    return found


@pytest.mark.parametrize("stack", ["export", "directory", "all options"])
def test_function_roles_grant_only_what_the_code_calls_or_a_written_reason(stack):
    template = {"export": EXPORT_STACK, "directory": DIRECTORY_STACK, "all options": ALL_OPTIONS_STACK}[stack]
    called = code_operations()
    assert {"workspaces:createworkspaces", "tag:getresources", "kms:sign", "health:describeevents"} <= called
    unused = {
        f"{fn}: {action}"
        for fn in cc.functions(template)
        for st in cc.role_statements(template, cc.function_role(template, fn))
        for action in st.actions
        if action not in called and action not in USED_ON_THE_FUNCTIONS_BEHALF
    }
    assert unused == set()


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


REPO = INFRA.parent


def code_reads() -> dict[str, set[str]]:
    return cc.code_reads(REPO)


def test_each_function_gets_exactly_the_variables_its_code_reads():
    reads = code_reads()
    # Guard: the scan finds the configuration reads (a moved reader would make this vacuous).
    assert {"WSDR_STATE_BUCKET", "WSDR_DIRECTORY_ID", "WSDR_USERS_BUCKET"} <= set(reads)
    assert reads["WSDR_STATUS_KEY_ID"] == {"HealthFunction", "PublishFunction"}
    assert cc.check_environment_matches_code(TEMPLATE, README, reads) == []


def test_the_code_contract_check_catches_a_variable_set_for_a_function_that_never_reads_it():
    reads = code_reads()
    broken = copy.deepcopy(TEMPLATE)
    broken["Globals"]["Function"]["Environment"]["Variables"]["WSDR_DIRECTORY_ID"] = {"Ref": "DirectoryId"}
    errors = cc.check_environment_matches_code(broken, README, reads)
    assert "WSDR_DIRECTORY_ID: set for HealthFunction, whose code never reads it" in errors
    del broken["Resources"]["ReconcileFunction"]["Properties"]["Environment"]["Variables"]["WSDR_BUNDLE_ID"]
    assert "WSDR_BUNDLE_ID: ReconcileFunction's code reads it, the template does not set it for ReconcileFunction" in (
        cc.check_environment_matches_code(broken, README, reads)
    )


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
# Users source: export (the default) or directory - the stacks each choice deploys
# ------------------------------------------------------------------------------------------------------------------
# cc.deployed evaluates the parameters, Rules, Conditions and every Fn::If as CloudFormation would for one stack, so
# these tests see exactly what each source gets (the tests above see every branch at once).

REQUIRED = {
    "DirectoryId": "d-1234567890",
    "BundleId": "wsb-0123abcd9",
    "PrimaryRegion": "us-east-1",  # the pseudo AWS::Region of these evaluations is eu-west-1, the DR region
    "PrimaryRegistrationCode": "WSpdx+ABC12D",
    "DrRegistrationCode": "WSdub+XYZ34E",
}
EXPORT = {
    **REQUIRED,  # UsersSource left at its default
    "DcInstanceId": "i-0123456789abcdef0",
    "UsersOu": "OU=users,OU=workspaces,DC=example,DC=com",
    "ExportScriptSha256": "0" * 64,
}
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:wsdr/ldap-AbC123"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
SECURITY_GROUPS = ["sg-0123456789abcdef0"]
DIRECTORY = {
    **REQUIRED,
    "UsersSource": "directory",
    "DirectoryUrl": "ldaps://dc1.corp.example.com/OU=DR Users,DC=corp,DC=example,DC=com",
    "DirectoryBindDn": "svc-wsdr@corp.example.com",
    "DirectoryPasswordSecretArn": SECRET_ARN,
    "DirectoryCaBundleKey": "directory/ad-root-ca.pem",
    "DirectorySubnetIds": ",".join(SUBNETS),
    "DirectorySecurityGroupIds": ",".join(SECURITY_GROUPS),
}
DIRECTORY_WITHOUT_CA = {**DIRECTORY, "DirectoryCaBundleKey": ""}
EXPORT_STACK = cc.deployed(TEMPLATE, EXPORT)
DIRECTORY_STACK = cc.deployed(TEMPLATE, DIRECTORY)
ALL_OPTIONS = {
    **EXPORT,
    "EnableHealthPoll": "true",
    "AutoFailover": "true",
    "VolumeEncryptionKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "StatusDomainName": "status.example.com",
    "StatusCertificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/1234abcd-12ab-34cd-56ef-1234567890ab",
    "WorkspaceTags": "CostCenter=dr",
}
ALL_OPTIONS_STACK = cc.deployed(TEMPLATE, ALL_OPTIONS)
DIRECTORY_VARIABLES = {
    "WSDR_USERS_LDAP_URL",
    "WSDR_LDAP_BIND_DN",
    "WSDR_LDAP_PASSWORD_SECRET",
    "WSDR_LDAP_CA_BUNDLE",
    "WSDR_LDAP_TIMEOUT_SECONDS",
    "WSDR_LDAP_PAGE_SIZE",
}
EXPORT_MACHINERY = {
    "ExportWindowRole", "ExportWindow", "ExportWindowTarget", "ExportTask", "ExportInstancePolicy", "UsersExportStaleAlarm",
}
ENI_ACTIONS = {
    "ec2:createnetworkinterface",
    "ec2:describenetworkinterfaces",
    "ec2:describesubnets",
    "ec2:deletenetworkinterface",
    "ec2:assignprivateipaddresses",
    "ec2:unassignprivateipaddresses",
}


def reconcile_statements(stack):
    return cc.role_statements(stack, "ReconcileRole")


def reconcile_function(stack):
    return cc.props(cc.resources(stack)["ReconcileFunction"])


def rendered(value, given):
    return cc.render(value, cc.parameter_values(TEMPLATE, given))


def test_export_is_the_default_and_its_reconcile_role_has_no_secret_network_or_vpc():
    assert EXPORT_STACK["Conditions"]["UseExport"] and not EXPORT_STACK["Conditions"]["UseDirectory"]
    actions = {a for st in reconcile_statements(EXPORT_STACK) for a in st.actions}
    assert not {a for a in actions if a.startswith(("secretsmanager:", "ec2:"))}
    assert cc.check_function_services(EXPORT_STACK, EXPORT_SERVICES) == []
    assert cc.check_role_scoping(EXPORT_STACK, EXPORT_S3_PREFIXES) == []
    # Only the one policy that predates the directory source.
    policies = cc.props(cc.resources(EXPORT_STACK)["ReconcileRole"])["Policies"]
    assert [p["PolicyName"] for p in policies] == ["reconcile"]
    function = reconcile_function(EXPORT_STACK)
    assert "VpcConfig" not in function
    assert not DIRECTORY_VARIABLES & set(function["Environment"]["Variables"])
    assert EXPORT_MACHINERY <= set(cc.resources(EXPORT_STACK))
    assert {"ExportMaintenanceWindowId", "ExportInstancePolicyArn"} <= set(EXPORT_STACK["Outputs"])
    assert not {"DirectoryVpcEndpoints", "DirectoryCaBundleLocation"} & set(EXPORT_STACK["Outputs"])


def test_directory_reconcile_reads_exactly_the_password_secret():
    secret = [st for st in reconcile_statements(DIRECTORY_STACK) if any(a.startswith("secretsmanager:") for a in st.actions)]
    assert len(secret) == 1, [st.where() for st in secret]
    (statement,) = secret
    assert statement.effect == "Allow" and statement.actions == ["secretsmanager:getsecretvalue"]
    assert statement.resources == [{"Ref": "DirectoryPasswordSecretArn"}] and not statement.not_resources
    assert rendered(statement.resources, DIRECTORY) == [SECRET_ARN]


def test_directory_kms_decrypt_only_through_secrets_manager_for_that_secret():
    decrypts = [
        st
        for st in reconcile_statements(DIRECTORY_STACK)
        if "kms:decrypt" in st.actions and st.resources != [{"Fn::GetAtt": ["DataKey", "Arn"]}]
    ]
    (statement,) = decrypts
    assert statement.actions == ["kms:decrypt"]
    assert rendered(statement.resources, DIRECTORY) == ["arn:aws:kms:eu-west-1:111122223333:key/*"]
    assert statement.condition == {
        "StringEquals": {
            "kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"},
            "kms:EncryptionContext:SecretARN": {"Ref": "DirectoryPasswordSecretArn"},
        }
    }
    assert cc.check_kms(DIRECTORY_STACK) == []


def test_directory_reconcile_may_read_the_ca_bundle_object_and_nothing_else_new_in_s3():
    def s3_statements(stack):
        return [st.raw for st in reconcile_statements(stack) if any(a.startswith("s3:") for a in st.actions)]

    with_ca = [st for st in s3_statements(DIRECTORY_STACK) if st not in s3_statements(EXPORT_STACK)]
    assert [(st["Action"], st["Resource"]) for st in with_ca] == [
        ("s3:GetObject", {"Fn::Sub": "${UsersBucket.Arn}/${DirectoryCaBundleKey}"})
    ]
    assert rendered(with_ca[0]["Resource"], DIRECTORY) == "${UsersBucket.Arn}/directory/ad-root-ca.pem"
    assert cc.check_role_scoping(DIRECTORY_STACK, S3_PREFIXES) == []
    without_ca = cc.deployed(TEMPLATE, DIRECTORY_WITHOUT_CA)
    assert s3_statements(without_ca) == s3_statements(EXPORT_STACK)
    assert "WSDR_LDAP_CA_BUNDLE" not in reconcile_function(without_ca)["Environment"]["Variables"]
    assert "DirectoryCaBundleLocation" not in without_ca["Outputs"]


def test_directory_network_interface_permissions_are_scoped_to_the_given_subnets_and_groups():
    ec2 = [st for st in reconcile_statements(DIRECTORY_STACK) if any(a.startswith("ec2:") for a in st.actions)]
    assert {a for st in ec2 for a in st.actions} == ENI_ACTIONS
    for st in ec2:
        assert st.effect == "Allow" and not st.not_resources
        if st.has_star_resource():
            # Only the read-only actions without resource types.
            assert set(st.actions) == {"ec2:describenetworkinterfaces", "ec2:describesubnets"}, st.where()
        else:
            for resource in rendered(st.resources, DIRECTORY):
                assert resource.startswith("arn:aws:ec2:eu-west-1:111122223333:"), (st.where(), resource)
    creates = {
        rendered(st.resources[0], DIRECTORY).rsplit(":", 1)[1]: st
        for st in ec2
        if st.actions == ["ec2:createnetworkinterface"]
    }
    assert set(creates) == {"subnet/*", "security-group/*", "network-interface/*"}
    assert rendered(creates["subnet/*"].condition, DIRECTORY) == {"StringEquals": {"ec2:SubnetID": SUBNETS}}
    assert rendered(creates["security-group/*"].condition, DIRECTORY) == {
        "StringEquals": {"ec2:SecurityGroupID": SECURITY_GROUPS}
    }
    (manage,) = [st for st in ec2 if "ec2:deletenetworkinterface" in st.actions]
    assert set(manage.actions) == {
        "ec2:deletenetworkinterface", "ec2:assignprivateipaddresses", "ec2:unassignprivateipaddresses",
    }
    assert rendered(manage.resources, DIRECTORY) == ["arn:aws:ec2:eu-west-1:111122223333:network-interface/*"]
    assert rendered(manage.condition, DIRECTORY) == {
        "ArnLike": {"ec2:Subnet": [f"arn:*:ec2:*:*:subnet/{subnet}" for subnet in SUBNETS]}
    }
    # A single subnet renders to a one-item list, not to a bare prefix.
    one = {**DIRECTORY, "DirectorySubnetIds": SUBNETS[0]}
    assert rendered(manage.condition, one)["ArnLike"]["ec2:Subnet"] == [f"arn:*:ec2:*:*:subnet/{SUBNETS[0]}"]


def test_directory_function_runs_in_the_given_subnets_with_the_ldap_environment():
    function = reconcile_function(DIRECTORY_STACK)
    assert function["VpcConfig"] == {
        "SubnetIds": {"Ref": "DirectorySubnetIds"},
        "SecurityGroupIds": {"Ref": "DirectorySecurityGroupIds"},
    }
    assert rendered(function["VpcConfig"], DIRECTORY) == {"SubnetIds": SUBNETS, "SecurityGroupIds": SECURITY_GROUPS}
    variables = function["Environment"]["Variables"]
    assert DIRECTORY_VARIABLES <= set(variables)
    assert {name: rendered(variables[name], DIRECTORY) for name in DIRECTORY_VARIABLES} == {
        "WSDR_USERS_LDAP_URL": DIRECTORY["DirectoryUrl"],
        "WSDR_LDAP_BIND_DN": "svc-wsdr@corp.example.com",
        "WSDR_LDAP_PASSWORD_SECRET": SECRET_ARN,
        "WSDR_LDAP_CA_BUNDLE": "s3://${UsersBucket}/directory/ad-root-ca.pem",
        "WSDR_LDAP_TIMEOUT_SECONDS": "30",
        "WSDR_LDAP_PAGE_SIZE": "500",
    }
    # The other functions stay out of the VPC and never see the directory settings.
    for other in ("HealthFunction", "PublishFunction"):
        props = cc.props(cc.resources(DIRECTORY_STACK)[other])
        assert "VpcConfig" not in props
        assert not DIRECTORY_VARIABLES & set((props.get("Environment") or {}).get("Variables") or {})
        assert not {
            a for st in cc.role_statements(DIRECTORY_STACK, cc.function_role(DIRECTORY_STACK, other)) for a in st.actions
            if a.startswith(("secretsmanager:", "ec2:"))
        }


def test_directory_deploys_no_export_machinery_and_keeps_both_triggers():
    assert not EXPORT_MACHINERY & set(cc.resources(DIRECTORY_STACK))
    assert not {"ExportMaintenanceWindowId", "ExportInstancePolicyArn"} & set(DIRECTORY_STACK["Outputs"])
    assert {"DirectoryVpcEndpoints", "DirectoryCaBundleLocation"} <= set(DIRECTORY_STACK["Outputs"])
    events = reconcile_function(DIRECTORY_STACK)["Events"]
    # The schedule is what runs directory reconciliations; the upload rule stays (the function ignores uploads).
    assert events["SafetyNet"] == {
        "Type": "Schedule",
        "Properties": {**events["SafetyNet"]["Properties"], "Schedule": {"Ref": "ReconcileSchedule"}},
    }
    assert cc.check_users_trigger(DIRECTORY_STACK, "ReconcileFunction", "UsersBucket", "users/") == []


@pytest.mark.parametrize("stack", [EXPORT_STACK, DIRECTORY_STACK], ids=["export", "directory"])
def test_each_source_passes_the_iam_checks(stack):
    assert cc.check_workspaces_mutations_scoped(stack) == []
    assert cc.check_terminate_requires_ownership_tag(stack) == []
    assert cc.check_no_passrole_on_star(stack) == []
    assert cc.check_functions_have_own_roles(stack) == []
    assert cc.check_function_services(stack, ALLOWED_SERVICES) == []
    assert cc.check_role_scoping(stack, S3_PREFIXES) == []
    assert cc.check_kms(stack) == []
    assert cc.check_no_fixed_names(stack) == []


# Rules: CloudFormation refuses a stack whose parameters fail an assertion; cc.failed_rules evaluates them.


@pytest.mark.parametrize("given", [EXPORT, DIRECTORY, DIRECTORY_WITHOUT_CA], ids=["export", "directory", "no-ca"])
def test_rules_and_patterns_accept_complete_configurations(given):
    values = cc.parameter_values(TEMPLATE, given)
    assert cc.check_parameter_values(TEMPLATE, values) == []
    assert cc.failed_rules(TEMPLATE, values) == []


@pytest.mark.parametrize(
    "missing",
    ["DirectoryUrl", "DirectoryBindDn", "DirectoryPasswordSecretArn", "DirectorySubnetIds", "DirectorySecurityGroupIds"],
)
def test_rules_refuse_the_directory_source_without(missing):
    given = {name: value for name, value in DIRECTORY.items() if name != missing}
    failed = cc.failed_rules(TEMPLATE, cc.parameter_values(TEMPLATE, given))
    assert len(failed) == 1 and f"needs {missing}" in failed[0], failed
    with pytest.raises(ValueError, match=missing):
        cc.deployed(TEMPLATE, given)


@pytest.mark.parametrize("name", ["DirectorySubnetIds", "DirectorySecurityGroupIds"])
def test_rules_refuse_an_empty_item_in_the_directory_lists(name):
    given = {**DIRECTORY, name: DIRECTORY[name] + ","}
    failed = cc.failed_rules(TEMPLATE, cc.parameter_values(TEMPLATE, given))
    assert len(failed) == 1 and f"needs {name}" in failed[0], failed


@pytest.mark.parametrize("missing", ["DcInstanceId", "UsersOu", "ExportScriptSha256"])
def test_rules_refuse_the_export_source_without(missing):
    given = {name: value for name, value in EXPORT.items() if name != missing}
    failed = cc.failed_rules(TEMPLATE, cc.parameter_values(TEMPLATE, given))
    assert len(failed) == 1 and f"needs {missing}" in failed[0], failed


def test_the_directory_source_needs_none_of_the_export_parameters():
    assert not any("export" in f for f in cc.failed_rules(TEMPLATE, cc.parameter_values(TEMPLATE, DIRECTORY)))
    assert not any("directory" in f for f in cc.failed_rules(TEMPLATE, cc.parameter_values(TEMPLATE, EXPORT)))


@pytest.mark.parametrize(
    "name, value",
    [
        ("DirectoryUrl", "ldaps://dc1.corp.example.com:636/OU=DR Users,DC=corp,DC=example,DC=com??one"),
        ("DirectoryUrl", "ldap://dc1.corp.example.com/OU=DR%20Users,DC=corp,DC=example,DC=com"),
        ("DirectoryUrl", "ldaps://corp.example.com/OU=DR Users,DC=corp,DC=example,DC=com??sub"),
        ("DirectoryBindDn", "CN=svc-wsdr,OU=Service Accounts,DC=corp,DC=example,DC=com"),
        ("DirectoryPasswordSecretArn", "arn:aws-us-gov:secretsmanager:us-gov-west-1:111122223333:secret:ldap-AbC123"),
        ("DirectoryCaBundleKey", "directory/pki/ad-root-ca.pem"),
        ("ReconcileSchedule", "rate(15 minutes)"),
        ("ReconcileSchedule", "rate(10 minutes)"),
        ("ReconcileSchedule", "rate(6 hours)"),
    ],
)
def test_parameter_patterns_accept(name, value):
    assert cc.check_parameter_values(TEMPLATE, cc.parameter_values(TEMPLATE, {**DIRECTORY, name: value})) == []


@pytest.mark.parametrize(
    "name, value",
    [
        ("UsersSource", "ldap"),
        ("DirectoryUrl", "http://dc1.corp.example.com/OU=DR Users,DC=corp"),  # not LDAP
        ("DirectoryUrl", "ldaps://dc1.corp.example.com"),  # no OU
        ("DirectoryUrl", "ldaps://svc:pw@dc1.corp.example.com/OU=x,DC=corp"),  # credentials in the URL
        ("DirectoryUrl", "ldaps://dc1.corp.example.com/OU=x,DC=corp?cn?sub?(objectClass=*)"),  # attributes, filter
        ("DirectoryUrl", "ldaps://dc1.corp.example.com/OU=x,DC=corp??base"),
        ("DirectoryBindDn", "svc-wsdr"),
        ("DirectoryPasswordSecretArn", "wsdr/ldap"),  # a name: IAM needs the ARN
        ("DirectoryPasswordSecretArn", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:wsdr/ldap"),  # partial
        ("DirectoryPasswordSecretArn", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:*"),  # a wildcard
        ("DirectoryCaBundleKey", "users/ad-root-ca.pem"),  # under the prefix that triggers runs and the DC writes
        ("DirectoryCaBundleKey", "directory/*"),  # a wildcard in the IAM resource
        ("DirectoryCaBundleKey", "directory/${aws:username}"),  # a policy variable
        ("DirectorySubnetIds", "subnet-0123456789abcdef0, subnet-0fedcba9876543210"),  # a space
        ("DirectorySecurityGroupIds", "sg-12"),
        ("ReconcileSchedule", "rate(5 minutes)"),
        ("ReconcileSchedule", "rate(1 minute)"),
        ("ReconcileSchedule", "cron(0/15 * * * ? *)"),
    ],
)
def test_parameter_patterns_refuse(name, value):
    errors = cc.check_parameter_values(TEMPLATE, cc.parameter_values(TEMPLATE, {**DIRECTORY, name: value}))
    assert errors and all(f"parameter {name}:" in e for e in errors), errors


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
    "list bucket conditioned on a prefix": ("scoping", lambda t: add_statement(t, {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": {"Fn::GetAtt": ["Bucket", "Arn"]}, "Condition": {"StringLike": {"s3:prefix": ["users/*"]}}})),
    "list another bucket": ("scoping", lambda t: add_statement(t, {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": {"Fn::GetAtt": ["OtherBucket", "Arn"]}})),
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


# ------------------------------------------------------------------------------------------------------------------
# The deployment evaluator itself (cc.deployed, cc.failed_rules, cc.render) on a mini-template
# ------------------------------------------------------------------------------------------------------------------

SOURCES = cc.loads_template(
    """
Parameters:
  Source: { Type: String, Default: a, AllowedValues: [a, b] }
  Name: { Type: String, Default: "", AllowedPattern: "^$|^n-[0-9]+$" }
  Ids: { Type: CommaDelimitedList, Default: "", AllowedPattern: "^$|^id-[0-9]+$" }
Rules:
  BNeedsNameAndIds:
    RuleCondition: !Equals [!Ref Source, b]
    Assertions:
      - Assert: !Not [!Equals [!Ref Name, ""]]
        AssertDescription: b needs Name
      - Assert: !Not [!Contains [!Ref Ids, ""]]
        AssertDescription: b needs Ids
Conditions:
  IsB: !Equals [!Ref Source, b]
  IsA: !Not [!Condition IsB]
Resources:
  OnlyA: { Type: AWS::SNS::Topic, Condition: IsA }
  Both:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: always
        - !If [IsB, { PolicyName: b-only }, !Ref AWS::NoValue]
      Tags: !If [IsB, [{ Key: name, Value: !Sub "x-${Name}-${AWS::Region}" }], !Ref AWS::NoValue]
      Arns: !Split [",", !Join ["", ["p/", !Join [",p/", !Ref Ids]]]]
Outputs:
  OnlyB: { Condition: IsB, Value: !Ref Name }
"""
)


def test_deployed_keeps_the_chosen_branches_only():
    a = cc.deployed(SOURCES, {})
    assert set(a["Resources"]) == {"OnlyA", "Both"} and a["Outputs"] == {}
    assert a["Resources"]["Both"]["Properties"]["Policies"] == [{"PolicyName": "always"}]
    assert "Tags" not in a["Resources"]["Both"]["Properties"]
    b = cc.deployed(SOURCES, {"Source": "b", "Name": "n-1", "Ids": "id-1,id-2"})
    assert set(b["Resources"]) == {"Both"} and set(b["Outputs"]) == {"OnlyB"}
    assert [p["PolicyName"] for p in b["Resources"]["Both"]["Properties"]["Policies"]] == ["always", "b-only"]
    assert b["Conditions"] == {"IsB": True, "IsA": False}


def test_failed_rules_and_patterns_refuse_like_cloudformation():
    def failed(given):
        return cc.failed_rules(SOURCES, cc.parameter_values(SOURCES, given))

    assert failed({}) == []  # the rule does not apply to Source=a
    assert failed({"Source": "b", "Name": "n-1", "Ids": "id-1"}) == []
    assert failed({"Source": "b", "Ids": "id-1"}) == ["BNeedsNameAndIds: b needs Name"]
    assert failed({"Source": "b", "Name": "n-1"}) == ["BNeedsNameAndIds: b needs Ids"]
    assert failed({"Source": "b", "Name": "n-1", "Ids": "id-1,"}) == ["BNeedsNameAndIds: b needs Ids"]
    values = cc.parameter_values(SOURCES, {"Source": "c", "Ids": "id-1,x-2"})
    assert cc.check_parameter_values(SOURCES, values) == [
        "parameter Source: 'c' is not one of ['a', 'b']",
        "parameter Ids: 'x-2' does not match ^$|^id-[0-9]+$",
    ]
    with pytest.raises(ValueError, match="b needs Name"):
        cc.deployed(SOURCES, {"Source": "b", "Ids": "id-1"})
    with pytest.raises(KeyError):
        cc.parameter_values(SOURCES, {"NotAParameter": "x"})


def test_render_substitutes_parameters_and_keeps_resources_symbolic():
    values = cc.parameter_values(SOURCES, {"Source": "b", "Name": "n-1", "Ids": "id-1,id-2"})
    both = cc.deployed(SOURCES, {"Source": "b", "Name": "n-1", "Ids": "id-1,id-2"})["Resources"]["Both"]["Properties"]
    assert cc.render(both["Tags"], values) == [{"Key": "name", "Value": "x-n-1-eu-west-1"}]
    assert cc.render(both["Arns"], values) == ["p/id-1", "p/id-2"]
    assert cc.render({"Fn::Sub": "${Bucket.Arn}/${Name}"}, values) == "${Bucket.Arn}/n-1"
    assert cc.render({"Ref": "Bucket"}, values) == "${Bucket}"


def test_the_evaluator_refuses_what_it_does_not_implement():
    with pytest.raises(cc.Unsupported):
        cc.evaluate({"Fn::EachMemberIn": [["a"], ["a"]]}, {})
    with pytest.raises(cc.Unsupported):
        cc.evaluate({"Fn::Equals": [{"Ref": "Unknown"}, ""]}, {})
