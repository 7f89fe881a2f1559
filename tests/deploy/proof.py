"""The deploy proof: wsdr's SAM stack deployed into the emulator, the real Lambda bootstraps run with the
environment it gives them, and every AWS call they make checked against their role (tests/deploy/run.sh runs it).

    proof.py --bin-dir target/debug --deploy-python .venv-deploy/bin/python --emulator tests/emulator/run-emulator.sh

Steps (each prints its duration): start the emulator (port 0, call log); transform + adapt + create the stack for
each parameter set (export, directory, all options) and read it back; the forwarder stack routing a primary-region
event into the DR rule; the three bootstraps under a faithful Runtime API through the DR story (export stack) and a
directory run; each function's calls against its role; parliament over the policies; the log lines against
Lambda's log-level filter. Exits non-zero on the first failed assertion, naming it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config
from moto.events.models import EventPattern

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "infra" / "tests"))
sys.path.insert(0, str(HERE))
import cfnchecks as cc  # noqa: E402
import iam_eval  # noqa: E402
import moto_adapt  # noqa: E402
from rapi import RuntimeApi  # noqa: E402

DR, PRIMARY = "eu-west-1", "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
ADMIN = {"aws_access_key_id": "AKIAWSDRADMIN0000000", "aws_secret_access_key": "admin"}
FUNCTIONS = {"ReconcileFunction": "reconcile", "HealthFunction": "health", "PublishFunction": "publish"}
INIT_GOAL_MS = 50
LAMBDA_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
# Granted, never called by the code in this proof: who uses each, or where else it is exercised.
NOT_CALLED_BY_THE_CODE = {
    "logs:createlogstream": "Lambda writes the function's logs with its role",
    "logs:putlogevents": "Lambda writes the function's logs with its role",
    "sqs:sendmessage": "Lambda parks a failed asynchronous invocation in the DLQ with the function's role",
    "s3:listbucket": "makes S3 answer 404 instead of 403 for a missing key (GetObject, Permissions); never listed",
    "health:describeevents": "the Health API poll (EnableHealthPoll): moto has no Health API; aws-smithy-mocks tests",
    "kms:describekey": "WorkSpaces checks VolumeEncryptionKeyArn with the caller's rights (real account only)",
    "kms:creategrant": "WorkSpaces grants itself the volume key per new WorkSpace (real account only)",
    "ec2:describenetworkinterfaces": "Lambda manages the VPC function's interfaces with its role (directory mode)",
    "ec2:describesubnets": "Lambda manages the VPC function's interfaces with its role (directory mode)",
    "ec2:createnetworkinterface": "Lambda manages the VPC function's interfaces with its role (directory mode)",
    "ec2:deletenetworkinterface": "Lambda manages the VPC function's interfaces with its role (directory mode)",
    "ec2:assignprivateipaddresses": "Lambda manages the VPC function's interfaces with its role (directory mode)",
    "ec2:unassignprivateipaddresses": "Lambda manages the VPC function's interfaces with its role (directory mode)",
}


class Failed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(what)


def step(name: str, timings: list[tuple[str, float]]) -> Callable[[Callable[[], Any]], Any]:
    def run(body: Callable[[], Any]) -> Any:
        started = time.monotonic()
        print(f"--- {name}", flush=True)
        result = body()
        elapsed = time.monotonic() - started
        timings.append((name, elapsed))
        print(f"    {name}: {elapsed:.1f} s", flush=True)
        return result

    return run


def fixture(path: str) -> Any:
    return json.loads((REPO / "tests" / "fixtures" / path).read_text(encoding="utf-8"))


class Emulator:
    """The emulator on a free port, with a call log; stopped by `stop`."""

    def __init__(self, script: str, work: Path):
        self.call_log = work / "calls.jsonl"
        self.stderr = open(work / "emulator.stderr", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [script, "--port", "0", "--no-throttle", "--pending-seconds", "0.2", "--terminating-seconds", "0.2",
             "--exit-with-parent", "--call-log", str(self.call_log)],
            stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("WSDR_EMULATOR_READY "):
            raise Failed(f"emulator did not start: {line!r} (see {work / 'emulator.stderr'})")
        self.url = line.split(" ", 1)[1]

    def client(self, service: str, region: str = DR, keys: dict[str, str] | None = None) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=self.url, **(keys or ADMIN),
                            config=Config(retries={"max_attempts": 2}))

    def control(self, path: str, body: Any = None) -> Any:
        import urllib.request

        request = urllib.request.Request(f"{self.url}/_wsdr/{path}", data=json.dumps(body or {}).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request) as answer:
            return json.loads(answer.read())

    def calls(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.call_log.read_text(encoding="utf-8").splitlines() if line]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.stderr.close()


# ------------------------------------------------------------------------------------------------------------------
# Deploying and reading back
# ------------------------------------------------------------------------------------------------------------------


class Stack:
    """A deployed stack, read back."""

    def __init__(self, emu: Emulator, name: str, mode: str, parameters: dict[str, Any], template: dict[str, Any]):
        self.emu, self.name, self.mode, self.parameters, self.template = emu, name, mode, parameters, template
        cfn = emu.client("cloudformation")
        self.physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                         for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]}
        self.outputs = {o["OutputKey"]: o["OutputValue"]
                        for o in cfn.describe_stacks(StackName=name)["Stacks"][0].get("Outputs", [])}

    def function(self, logical: str) -> dict[str, Any]:
        return self.emu.client("lambda").get_function_configuration(FunctionName=self.physical[logical])

    def role_documents(self, logical_function: str) -> dict[str, dict[str, Any]]:
        iam = self.emu.client("iam")
        role = self.function(logical_function)["Role"].rsplit("/", 1)[1]
        docs = {}
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            docs[f"{role}/{name}"] = json.loads(document) if isinstance(document, str) else document
        for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
            version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"]
            docs[f"{role}/{attached['PolicyName']}"] = json.loads(document) if isinstance(document, str) else document
        return docs

    def rule(self, logical_function: str, event: str) -> dict[str, Any]:
        name = self.physical[f"{logical_function}{event}"]
        events = self.emu.client("events")
        return {**events.describe_rule(Name=name), "Targets": events.list_targets_by_rule(Rule=name)["Targets"]}


def transform(deploy_python: str, parameters: dict[str, Any]) -> dict[str, Any]:
    request = json.dumps({"template": str(REPO / "infra" / "template.yaml"), "region": DR, "parameters": parameters})
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([deploy_python, str(HERE / "transform.py")], input=request, capture_output=True,
                            text=True, env=env, check=False)
    if result.returncode != 0:
        raise Failed(f"SAM transform failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def deploy(emu: Emulator, deploy_python: str, name: str, mode: str, parameters: dict[str, Any]) -> tuple[Stack, float]:
    transformed = transform(deploy_python, parameters)
    template = moto_adapt.adapt(transformed, parameters, DR, ACCOUNT)
    resolved = cc.deployed(transformed, parameters)  # what CloudFormation gives the functions (moto drops some)
    cfn = emu.client("cloudformation")
    started = time.monotonic()
    cfn.create_stack(StackName=name, TemplateBody=moto_adapt.dumps(template),
                     Parameters=[{"ParameterKey": k, "ParameterValue": str(v)} for k, v in parameters.items()],
                     Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    while True:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            break
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    check(status == "CREATE_COMPLETE", f"{name}: {status}")
    return Stack(emu, name, mode, parameters, resolved), elapsed


def read_back(stack: Stack, code_reads: dict[str, set[str]]) -> None:
    """Each function's environment, rules, encryption, retries and DLQ, as deployed."""
    p = stack.physical
    resources = stack.template["Resources"]
    expected_values = {
        "WSDR_STATE_BUCKET": p["StateBucket"], "WSDR_USERS_BUCKET": p.get("UsersBucket"),
        "WSDR_ALERTS_TOPIC_ARN": p["AlertsTopic"], "WSDR_STATUS_KEY_ID": p["StatusSigningKey"],
        "WSDR_DIRECTORY_ID": stack.parameters["DirectoryId"], "WSDR_PRIMARY_REGION": PRIMARY, "WSDR_DR_REGION": DR,
        "WSDR_DRY_RUN": stack.parameters.get("DryRun", "true"),
    }
    for logical, binary in FUNCTIONS.items():
        config = stack.function(logical)
        env = config.get("Environment", {}).get("Variables", {})
        wanted = {name for name, fns in code_reads.items() if logical in fns}
        directory_only = {"WSDR_USERS_LDAP_URL", "WSDR_LDAP_BIND_DN", "WSDR_LDAP_PASSWORD_SECRET",
                          "WSDR_LDAP_CA_BUNDLE", "WSDR_LDAP_TIMEOUT_SECONDS", "WSDR_LDAP_PAGE_SIZE"}
        if stack.mode != "directory":
            wanted -= directory_only
        got = {k for k in env if k.startswith("WSDR_")}
        check(got == wanted, f"{stack.name} {binary}: environment {sorted(got ^ wanted)} differs from what its code reads")
        for name, value in expected_values.items():
            if name in env:
                check(str(env[name]) == str(value), f"{stack.name} {binary}: {name}={env[name]!r}, expected {value!r}")
        check(config["Runtime"] == "provided.al2023" and config["Handler"] == "bootstrap", f"{binary}: runtime")
        props = resources[logical]["Properties"]
        check(config["Timeout"] == props["Timeout"], f"{binary}: timeout")
        check(config["Role"].endswith("/" + p[props["Role"]["Fn::GetAtt"][0]]), f"{binary}: its own role")
        # moto drops LoggingConfig and DeadLetterConfig: asserted on what CloudFormation receives.
        logging = props["LoggingConfig"]
        check(logging["LogFormat"] == "JSON" and logging["ApplicationLogLevel"] == {"Ref": "LogLevel"},
              f"{binary}: JSON logs at LogLevel")
        check(props["DeadLetterConfig"]["TargetArn"] == {"Fn::GetAtt": ["FunctionsDeadLetterQueue", "Arn"]},
              f"{binary}: DLQ")
        check(props["ReservedConcurrentExecutions"] == 1, f"{binary}: concurrency 1")
        invoke = [r for r in resources.values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"
                  and r["Properties"]["FunctionName"] == {"Ref": logical}]
        check(len(invoke) == 1 and invoke[0]["Properties"]["MaximumRetryAttempts"] == 2, f"{binary}: 2 retries")
        if stack.mode == "directory" and logical == "ReconcileFunction":
            check(config.get("VpcConfig", {}).get("SubnetIds") == stack.parameters["DirectorySubnetIds"].split(","),
                  "directory reconcile in the given subnets")

    # Rules against the real fixtures.
    upload = stack.rule("ReconcileFunction", "UsersExportCreated") if "ReconcileFunctionUsersExportCreated" in p else None
    users_bucket, state_bucket = p["UsersBucket"], p["StateBucket"]
    created = fixture("reconcile-events/eventbridge-object-created.json")
    created["detail"]["bucket"]["name"] = users_bucket
    created["detail"]["object"]["key"] = "users/workspaces-users.csv"
    if upload is not None:
        pattern = EventPattern.load(upload["EventPattern"])
        check(pattern.matches_event(created), "upload rule matches a users/ upload")
        for name, event in [("scripts/ key", {**created, "detail": {**created["detail"], "object": {"key": "scripts/x.ps1"}}}),
                            ("state bucket", {**created, "detail": {**created["detail"], "bucket": {"name": state_bucket}}}),
                            ("scheduled event", fixture("reconcile-events/scheduled-event.json"))]:
            check(not pattern.matches_event(event), f"upload rule must not match a {name}")
        check(upload["Targets"][0]["RetryPolicy"] == {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
              "upload rule retry policy")
    health = stack.rule("HealthFunction", "WorkSpacesHealthEvent") if "HealthFunctionWorkSpacesHealthEvent" in p else None
    check(health is not None, f"{stack.name}: a health rule ({sorted(k for k in p if 'Health' in k)})")
    pattern = EventPattern.load(health["EventPattern"])
    for name in ("open-issue-primary.json", "open-issue-backup-copy.json"):
        check(pattern.matches_event(fixture(f"health/{name}")), f"health rule matches {name}")
    for name in ("other-service.json", "malformed-wrong-source.json"):
        check(not pattern.matches_event(fixture(f"health/{name}")), f"health rule must not match {name}")
    schedule = stack.rule("ReconcileFunction", "SafetyNet")
    check(schedule["ScheduleExpression"] == stack.parameters.get("ReconcileSchedule", "rate(6 hours)"), "reconcile schedule")
    refresh = stack.rule("PublishFunction", "Refresh") if "PublishFunctionRefresh" in p else None
    check(refresh is not None and json.loads(refresh["Targets"][0]["Input"]) == {"action": "refresh"}, "publish refresh input")
    for rule in (r for r in (upload, health, schedule, refresh) if r):
        arns = {t["Arn"] for t in rule["Targets"]}
        check(len(arns) == 1 and ":function:" in next(iter(arns)), f"{rule['Name']}: one Lambda target")

    # Encryption, the DLQ, the status key.
    s3 = stack.emu.client("s3")
    data_key = stack.emu.client("kms").describe_key(KeyId=p["DataKey"])["KeyMetadata"]["Arn"]
    users_sse = s3.get_bucket_encryption(Bucket=users_bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    check(users_sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
          and users_sse["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == data_key, "users bucket SSE-KMS")
    state_sse = s3.get_bucket_encryption(Bucket=state_bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    check(state_sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", "state bucket SSE-S3")
    topic = stack.emu.client("sns").get_topic_attributes(TopicArn=p["AlertsTopic"])["Attributes"]
    check(topic.get("KmsMasterKeyId") in (data_key, p["DataKey"]), "topic encrypted with the data key")
    queue = stack.emu.client("sqs").get_queue_attributes(QueueUrl=p["FunctionsDeadLetterQueue"], AttributeNames=["All"])["Attributes"]
    check(bool(queue.get("KmsMasterKeyId")), "DLQ encrypted")
    key = stack.emu.client("kms").describe_key(KeyId=p["StatusSigningKey"])["KeyMetadata"]
    check((key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY"), f"status key {key['KeySpec']}/{key['KeyUsage']}")


# ------------------------------------------------------------------------------------------------------------------
# The bootstraps
# ------------------------------------------------------------------------------------------------------------------


class Function:
    """A real bootstrap under its Runtime API, with its deployed environment and what Lambda supplies."""

    def __init__(self, stack: Stack, logical: str, bin_dir: Path, log_level: str = "INFO"):
        config = stack.function(logical)
        self.binary = FUNCTIONS[logical]
        self.name = config["FunctionName"]
        self.stack = stack
        self.logical = logical
        # One access key per function and stack, so that the call log says whose call each was.
        self.access_key = f"AKIA{stack.mode[:3].upper()}{self.binary.upper():0<13}"[:20]
        self.api = RuntimeApi(config["FunctionArn"], int(config["Timeout"]))
        logging = stack.template["Resources"][logical]["Properties"]["LoggingConfig"]
        self.env = {
            **{k: str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()},
            # What the Lambda service supplies (custom runtime, documented variables).
            "AWS_LAMBDA_RUNTIME_API": self.api.address, "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}", "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/04/[$LATEST]0",
            "AWS_LAMBDA_LOG_FORMAT": logging["LogFormat"], "AWS_LAMBDA_LOG_LEVEL": log_level,
            "AWS_REGION": DR, "AWS_DEFAULT_REGION": DR, "_HANDLER": config["Handler"], "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": "/var/task", "LAMBDA_RUNTIME_DIR": "/var/runtime", "PATH": os.environ["PATH"],
            "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": "role-secret", "AWS_SESSION_TOKEN": "role-token",
            # Only for the emulator: where "AWS" is.
            "AWS_ENDPOINT_URL": stack.emu.url,
        }
        self.lines: list[tuple[str, str]] = []
        started = time.monotonic()
        self.process = subprocess.Popen([str(bin_dir / self.binary)], env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        for stream, name in ((self.process.stdout, "stdout"), (self.process.stderr, "stderr")):
            threading.Thread(target=self._read, args=(stream, name), daemon=True).start()
        if not self.api.ready.wait(30):
            raise Failed(f"{self.binary}: no GET /next within 30 s")
        check(self.api.init_error is None, f"{self.binary}: init error {self.api.init_error}")
        self.init_ms = (self.api.first_next - started) * 1000

    def _read(self, stream: Any, name: str) -> None:
        for raw in stream:
            self.lines.append((name, raw.decode("utf-8", "replace").rstrip("\n")))

    def invoke(self, event: Any) -> Any:
        invocation = self.api.invoke(event)
        if not invocation.ok:
            raise Failed(f"{self.binary}: invocation failed: {invocation.error_type} {invocation.body}\n"
                         + "\n".join(line for _, line in self.lines[-10:]))
        return invocation.body

    def invoke_error(self, event: Any) -> Any:
        invocation = self.api.invoke(event)
        check(not invocation.ok, f"{self.binary}: expected an error for {event}")
        return invocation.body

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.api.close()


def check_log_lines(function: Function) -> dict[str, int]:
    """Every line Lambda would read is one JSON object with a level, an RFC 3339 timestamp and one message (EMF
    lines: their _aws metadata); none of the error or metric lines is dropped at any LogLevel the template allows."""
    from datetime import datetime

    allowed = cc.load_template(REPO / "infra" / "template.yaml")["Parameters"]["LogLevel"]["AllowedValues"]
    counts = {"lines": 0, "emf": 0, "error": 0}
    for stream, line in function.lines:
        duplicates: list[str] = []

        def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            keys = [k for k, _ in pairs]
            duplicates.extend(k for k in set(keys) if keys.count(k) > 1)
            return dict(pairs)

        try:
            record = json.loads(line, object_pairs_hook=unique)
        except ValueError:
            raise Failed(f"{function.binary} {stream}: not a JSON line: {line[:200]}") from None
        check(not duplicates, f"{function.binary}: duplicate keys {duplicates} (Logs Insights keeps one): {line[:200]}")
        level = record.get("level")
        check(level in LAMBDA_LEVELS, f"{function.binary}: no Lambda level: {line[:200]}")
        try:
            datetime.fromisoformat(str(record.get("timestamp")).replace("Z", "+00:00"))
        except ValueError:
            raise Failed(f"{function.binary}: no RFC 3339 timestamp (Lambda files it as INFO): {line[:200]}") from None
        is_emf = "_aws" in record
        check(is_emf or "message" in record, f"{function.binary}: no message: {line[:200]}")
        counts["lines"] += 1
        counts["emf"] += is_emf
        counts["error"] += level == "ERROR"
        if is_emf or level == "ERROR":
            for setting in allowed:
                check(LAMBDA_LEVELS.index(level) >= LAMBDA_LEVELS.index(setting),
                      f"{function.binary}: {'EMF' if is_emf else 'error'} line dropped at LogLevel={setting}")
    return counts


def self_check_log_checker() -> None:
    """The log check fails on the lines the functions printed before the logging fix (issue 15, defects 1 and 2):
    no timestamp (Lambda files them as INFO), two message keys, an EMF line without a level."""

    class Lines:
        binary = "before-the-fix"

        def __init__(self, line: str):
            self.lines = [("stdout", line)]

    good = '{"timestamp":"2026-12-04T10:00:00Z","level":"ERROR","target":"t","message":"refused event","detail":"x"}'
    check_log_lines(Lines(good))  # type: ignore[arg-type]
    for bad in ['{"level":"ERROR","fields":{"message":"refused event"},"target":"t"}',
                '{"timestamp":"2026-12-04T10:00:00Z","level":"ERROR","fields":{"message":"a","message":"b"}}',
                '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"Readiness":100}',
                '{"timestamp":"2026-12-04T10:00:00Z","level":"INFO","_aws":{"Timestamp":1},"Readiness":100}']:
        try:
            check_log_lines(Lines(bad))  # type: ignore[arg-type]
        except Failed:
            continue
        raise Failed(f"the log check accepts a line Lambda would drop or Logs Insights would misread: {bad}")


def pem_public_key(kms: Any, key_id: str) -> str:
    der = kms.get_public_key(KeyId=key_id)["PublicKey"]
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def run_cli(bin_dir: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run([str(bin_dir / "wsdr"), *args], env=env, capture_output=True, text=True, check=False)
    check(result.returncode == 0, f"wsdr {' '.join(args)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result.stdout


# ------------------------------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True, type=Path)
    parser.add_argument("--deploy-python", required=True)
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--stacks-only", action="store_true", help="deploy and read back only (no binaries needed)")
    args = parser.parse_args()
    for binary in [] if args.stacks_only else [*FUNCTIONS.values(), "wsdr"]:
        check((args.bin_dir / binary).is_file(), f"{args.bin_dir / binary}: missing (run cargo test --workspace first)")
    timings: list[tuple[str, float]] = []
    figures: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="wsdr-deploy-"))
    emu = step("emulator up", timings)(lambda: Emulator(args.emulator, work))
    functions: list[Function] = []
    try:
        run_proof(emu, args, timings, figures, functions, work)
    except Failed as failure:
        print(f"\nDEPLOY PROOF FAILED: {failure}\n(work files: {work})", file=sys.stderr)
        return 1
    finally:
        for function in functions:
            function.stop()
        emu.stop()
    shutil.rmtree(work, ignore_errors=True)
    print("\nFigures:")
    for line in figures:
        print(f"  {line}")
    print("Steps: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings))
    return 0


def run_proof(emu: Emulator, args: argparse.Namespace, timings: list, figures: list, functions: list, work: Path) -> None:
    code_reads = cc.code_reads(REPO)
    boot = emu.control("bootstrap", {"region": DR})
    required = {
        "DirectoryId": boot["directory_id"], "BundleId": boot["bundle_id"], "PrimaryRegion": PRIMARY,
        "PrimaryRegistrationCode": "WSpdx+ABC12D", "DrRegistrationCode": boot["registration_code"],
    }
    emu.client("iam").create_role(RoleName="dc-instance-role", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                  "Action": "sts:AssumeRole"}]}))
    script = (REPO / "infra" / "scripts" / "Export-WsdrUsers.ps1").read_bytes()
    export = {**required, "DcInstanceId": "i-0123456789abcdef0", "DcInstanceRoleName": "dc-instance-role",
              "UsersOu": "OU=users,OU=workspaces,DC=example,DC=com",
              "ExportScriptSha256": hashlib.sha256(script).hexdigest(), "AlertEmail": "admins@example.com",
              "DryRun": "false", "GraceDays": "0", "MaxTerminatePercent": "50"}
    secret = emu.client("secretsmanager").create_secret(Name="wsdr/ldap", SecretString='{"password": "s3cret"}')["ARN"]
    ec2 = emu.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="wsdr-ldap", Description="wsdr to the DCs", VpcId=vpc)["GroupId"]
    directory = {**required, "UsersSource": "directory",
                 "DirectoryUrl": "ldaps://dc1.corp.invalid/OU=DR Users,DC=corp,DC=example,DC=com",
                 "DirectoryBindDn": "svc-wsdr@corp.example.com", "DirectoryPasswordSecretArn": secret,
                 "DirectoryCaBundleKey": "directory/ad-root-ca.pem", "DirectorySubnetIds": subnet,
                 "DirectorySecurityGroupIds": group, "ReconcileSchedule": "rate(15 minutes)", "DryRun": "false"}
    all_options = {**export, "EnableHealthPoll": "true", "AutoFailover": "true",
                   "VolumeEncryptionKeyArn": f"arn:aws:kms:{DR}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                   "StatusDomainName": "status.example.com",
                   "StatusCertificateArn": f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/1234abcd-12ab-34cd-56ef-1234567890ab",
                   "WorkspaceTags": "CostCenter=dr"}
    # What `sam package` uploads: one zip per function (the stack never runs them; the bootstraps run locally).
    s3 = emu.client("s3")
    s3.create_bucket(Bucket="wsdr-artifacts", CreateBucketConfiguration={"LocationConstraint": DR})
    for binary in FUNCTIONS.values():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("bootstrap", f"placeholder for target/lambda/{binary}/bootstrap")
        s3.put_object(Bucket="wsdr-artifacts", Key=f"{binary}.zip", Body=buffer.getvalue())
    stacks: dict[str, Stack] = {}
    for mode, parameters in (("export", export), ("directory", directory), ("all-options", all_options)):
        def create(mode: str = mode, parameters: dict = parameters) -> None:
            stack, seconds = deploy(emu, args.deploy_python, f"wsdr-{mode}", mode, parameters)
            stacks[mode] = stack
            figures.append(f"stack create ({mode}): {seconds:.1f} s, {len(stack.physical)} resources created "
                           f"of {len(stack.template['Resources'])}")
            read_back(stack, code_reads)
        step(f"deploy + read back: {mode}", timings)(create)

    step("forwarder: primary-region event into the DR health rule", timings)(
        lambda: check_forwarder(emu, stacks["export"], work))

    if args.stacks_only:
        return
    step("bootstraps: the DR story on the export stack", timings)(
        lambda: story(emu, stacks["export"], args.bin_dir, functions, figures, work))
    step("bootstraps: the directory source", timings)(
        lambda: directory_run(emu, stacks["directory"], args.bin_dir, functions))

    step("least privilege: each call against its role, each grant used or reasoned", timings)(
        lambda: least_privilege(emu, stacks, functions, figures, work))
    step("parliament over the deployed role policies", timings)(
        lambda: parliament(args.deploy_python, stacks, figures))

    def logs() -> None:
        for function in functions:
            counts = check_log_lines(function)
            figures.append(f"log lines ({function.stack.mode} {function.binary}): {counts['lines']} checked, "
                           f"{counts['emf']} EMF, {counts['error']} ERROR, none dropped at any allowed LogLevel")
    step("log lines against Lambda's log-level filter", timings)(lambda: (self_check_log_checker(), logs()))


def check_forwarder(emu: Emulator, stack: Stack, work: Path) -> None:
    template = cc.load_template(REPO / "infra" / "health-forwarder.yaml")
    cfn = emu.client("cloudformation", PRIMARY)
    cfn.create_stack(StackName="wsdr-forwarder", TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": "DrRegion", "ParameterValue": DR}], Capabilities=["CAPABILITY_IAM"])
    check(cfn.describe_stacks(StackName="wsdr-forwarder")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE", "forwarder")
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cfn.list_stack_resources(StackName="wsdr-forwarder")["StackResourceSummaries"]}
    events_primary = emu.client("events", PRIMARY)
    rule = physical["ForwardWorkSpacesHealthEvents"]
    target = events_primary.list_targets_by_rule(Rule=rule)["Targets"][0]
    check(target["Arn"] == f"arn:aws:events:{DR}:{ACCOUNT}:event-bus/default", f"forwarder target {target['Arn']}")
    check(target.get("RetryPolicy", {}).get("MaximumEventAgeInSeconds") == 86400, "forwarder retry policy")
    check("DeadLetterConfig" in target, "forwarder DLQ")
    # A4: capture what the DR rules deliver.
    events_dr = emu.client("events")
    dr_rules = [r["Name"] for r in events_dr.list_rules()["Rules"]]  # every stack's rules share the DR bus
    queues = moto_adapt.capture_targets(events_dr, emu.client("sqs"), dr_rules, "wsdr")
    event = fixture("health/open-issue-primary.json")
    events_primary.put_events(Entries=[{"Source": event["source"], "DetailType": event["detail-type"],
                                        "Detail": json.dumps(event["detail"]), "Resources": event["resources"]}])
    health_rule = stack.physical["HealthFunctionWorkSpacesHealthEvent"]
    sqs = emu.client("sqs")
    got = sqs.receive_message(QueueUrl=queues[health_rule], WaitTimeSeconds=5).get("Messages", [])
    check(len(got) == 1, "the primary-region Health event reached the DR health rule")
    delivered = json.loads(got[0]["Body"])
    check(delivered["source"] == "aws.health" and delivered["detail"] == event["detail"], "forwarded envelope")
    (work / "forwarded-health-event.json").write_text(json.dumps(delivered))
    for other, url in queues.items():
        # A5 (moto_adapt): moto sends every event to schedule-only rules too (an empty pattern matches all).
        if other in stack.physical.values() and other != health_rule and events_dr.describe_rule(Name=other).get("EventPattern"):
            check(not sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages"), f"{other} got the Health event")


def story(emu: Emulator, stack: Stack, bin_dir: Path, functions: list, figures: list, work: Path) -> None:
    p = stack.physical
    s3, sqs, sns, kms = emu.client("s3"), emu.client("sqs"), emu.client("sns"), emu.client("kms")
    admins = sqs.create_queue(QueueName="admins")["QueueUrl"]
    admins_arn = sqs.get_queue_attributes(QueueUrl=admins, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=p["AlertsTopic"], Protocol="sqs", Endpoint=admins_arn, Attributes={"RawMessageDelivery": "false"})
    started = {}
    for logical in FUNCTIONS:
        function = Function(stack, logical, bin_dir)
        functions.append(function)
        started[function.binary] = function
        figures.append(f"init ({function.binary}): {function.init_ms:.0f} ms (goal < {INIT_GOAL_MS} ms)")
    reconcile, health, publish = started["reconcile"], started["health"], started["publish"]

    # An untagged WorkSpace of a listed user (made by hand before wsdr): adopted with CreateTags.
    workspaces = emu.client("workspaces")
    workspaces.create_workspaces(Workspaces=[{"DirectoryId": stack.parameters["DirectoryId"], "UserName": "JSmith",
                                              "BundleId": stack.parameters["BundleId"]}])
    # 1. The export lands: Object Created, as the deployed rule delivers it.
    users = (REPO / "tests" / "fixtures" / "users" / "improved-utf8-bom-crlf.csv").read_bytes()
    s3.put_object(Bucket=p["UsersBucket"], Key="users/workspaces-users.csv", Body=users)
    created = fixture("reconcile-events/eventbridge-object-created.json")
    created.update(account=ACCOUNT, region=DR, resources=[f"arn:aws:s3:::{p['UsersBucket']}"])
    created["detail"]["bucket"]["name"] = p["UsersBucket"]
    created["detail"]["object"]["key"] = "users/workspaces-users.csv"
    check(EventPattern.load(stack.rule("ReconcileFunction", "UsersExportCreated")["EventPattern"]).matches_event(created), "upload")
    report = reconcile.invoke(created)
    check(report["outcome"] == "completed", f"upload run: {report.get('outcome')} {report.get('summary', '')}")
    check(len(report["created"]) >= 3, f"users created: {report['created']}")
    emu.control("settle")
    # 2. The schedule (its deployed rule's event), then a smaller export: the removed user is terminated (GraceDays 0).
    scheduled = fixture("reconcile-events/scheduled-event.json")
    scheduled.update(account=ACCOUNT, region=DR, resources=[stack.rule("ReconcileFunction", "SafetyNet")["Arn"]])
    report = reconcile.invoke(scheduled)
    check(report["outcome"] == "completed", f"scheduled run: {report.get('outcome')}")
    smaller = b"\n".join(line for line in users.splitlines() if b"adoe" not in line)
    s3.put_object(Bucket=p["UsersBucket"], Key="users/workspaces-users.csv", Body=smaller)
    tags_before = {w["WorkspaceId"]: {t["Key"]: t["Value"] for t in workspaces.describe_tags(ResourceId=w["WorkspaceId"])["TagList"]}
                   for w in workspaces.describe_workspaces()["Workspaces"]}
    (work / "workspace-tags.json").write_text(json.dumps(tags_before))
    report = reconcile.invoke(created)
    check(len(report.get("terminated", [])) == 1, f"the removed user's WorkSpace terminated: {report.get('terminated')}")
    # A refused list (header only): the run is blocked and the admins are told, by the reconcile function.
    s3.put_object(Bucket=p["UsersBucket"], Key="users/header-only.csv",
                  Body=(REPO / "tests" / "fixtures" / "users" / "header-only.csv").read_bytes())
    refused = json.loads(json.dumps(created))
    refused["detail"]["object"]["key"] = "users/header-only.csv"
    report = reconcile.invoke(refused)
    check(report["outcome"] in ("blocked", "invalid_users"), f"header-only export: {report.get('outcome')}")
    check(len(drain(sqs, admins)) == 1, "one admins' alert for the refused list")
    error = reconcile.invoke_error({"dryrun": True})
    check(error.get("errorType") == "InvalidEvent", f"a refused event is an invocation error: {error}")
    # 3. The publish refresh (the deployed rule's Input).
    refresh = json.loads(stack.rule("PublishFunction", "Refresh")["Targets"][0]["Input"])
    report = publish.invoke(refresh)
    check(report["outcome"] == "renewed", f"refresh: {report}")
    # 4. The primary region's Health event, as the forwarder delivered it into the DR rule.
    forwarded = json.loads((work / "forwarded-health-event.json").read_text())
    report = health.invoke(forwarded)
    check(report["mode"] == "failover_recommended", f"health: {report}")
    alerts = drain(sqs, admins)
    check(len(alerts) == 1, f"one admins' alert on the deployed topic, got {len(alerts)}")
    check("failover_recommended" in alerts[0]["Body"], f"the alert recommends failover: {alerts[0]['Body'][:300]}")
    # 5. The admin: `wsdr failover` against the deployed stack (the publish function's settings, admin credentials).
    cli_env = {k: v for k, v in publish.env.items() if k.startswith("WSDR_")}
    cli_env.update(PATH=os.environ["PATH"], HOME=str(work), AWS_REGION=DR, AWS_ENDPOINT_URL=emu.url,
                   AWS_ACCESS_KEY_ID=ADMIN["aws_access_key_id"], AWS_SECRET_ACCESS_KEY="admin")
    run_cli(bin_dir, cli_env, "failover")
    # 6. The signed document at the deployed key verifies with the deployed key's public key, as the tray does.
    pem = work / "status-key.pem"
    pem.write_text(pem_public_key(kms, p["StatusSigningKey"]))
    out = run_cli(bin_dir, cli_env, "status", "verify", "--document",
                  f"s3://{p['StateBucket']}/status/status.json", "--public-key", str(pem))
    check("failover" in out, f"verified document in failover: {out[:400]}")
    # 7. Failback through the publish function (the admins' other path): alert and a newer signed document.
    drain(sqs, admins)
    report = publish.invoke({"action": "failback"})
    check(report["mode"] == "normal", f"failback: {report}")
    check(len(drain(sqs, admins)) == 1, "one admins' alert for the failback")
    out = run_cli(bin_dir, cli_env, "status", "verify", "--document",
                  f"s3://{p['StateBucket']}/status/status.json", "--public-key", str(pem))
    check("normal" in out, f"verified document back to normal: {out[:400]}")


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """The messages on the queue now (waits up to 3 s for the first, then takes what is there)."""
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=3).get("Messages", [])
    while got and (more := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])):
        got += more
    for message in got:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return got


def directory_run(emu: Emulator, stack: Stack, bin_dir: Path, functions: list) -> None:
    ca = Path("/etc/ssl/certs/ca-certificates.crt")
    pem = ca.read_bytes() if ca.exists() else b""
    check(bool(pem), "a CA bundle to upload")
    emu.client("s3").put_object(Bucket=stack.physical["UsersBucket"], Key="directory/ad-root-ca.pem", Body=pem)
    reconcile = Function(stack, "ReconcileFunction", bin_dir)
    functions.append(reconcile)
    created = fixture("reconcile-events/eventbridge-object-created.json")
    created["detail"]["bucket"]["name"] = stack.physical["UsersBucket"]
    check(reconcile.invoke(created)["outcome"] == "ignored", "directory source: uploads are ignored")
    report = reconcile.invoke({})
    check(report["outcome"] == "invalid_users", f"no DC here: the run is refused, not a failover: {report.get('outcome')}")


def least_privilege(emu: Emulator, stacks: dict[str, Stack], functions: list, figures: list, work: Path) -> None:
    calls = emu.calls()
    by_key: dict[str, list[dict]] = {}
    for call in calls:
        by_key.setdefault(call["access_key"], []).append(call)
    used: dict[str, set[str]] = {}
    granted: dict[str, set[str]] = {}
    for function in functions:
        stack = function.stack
        p = stack.physical
        kms = emu.client("kms")
        data_key = kms.describe_key(KeyId=p["DataKey"])["KeyMetadata"]["Arn"]
        tags = work / "workspace-tags.json"
        world = iam_eval.World(DR, ACCOUNT, {p["UsersBucket"]: data_key}, {p["AlertsTopic"]: data_key},
                               json.loads(tags.read_text()) if tags.exists() else {})
        documents = list(stack.role_documents(function.logical).values())
        mine = by_key.get(function.access_key, [])
        check(bool(mine), f"{function.binary}: no calls recorded")
        denied = []
        for call in mine:
            for request in iam_eval.requests_of(call, world):
                ok, _ = iam_eval.allowed(request, documents)
                if not ok:
                    denied.append(f"{request.key()} {request.context} {request.note}")
                used.setdefault(function.binary, set()).add(request.action.lower())
        check(not denied, f"{stack.mode} {function.binary}: denied by its role:\n  " + "\n  ".join(sorted(set(denied))))
        # Statement by statement, in the export stack (where the whole story ran): each Allow is used by a call
        # or reasoned. (The directory run stops at the DC; its extra statements are checked action by action.)
        requests = [r for call in mine for r in iam_eval.requests_of(call, world)]
        for st in iam_eval.statements(documents) if stack.mode == "export" else []:
            actions = {a.lower() for a in iam_eval._list(st.get("Action", []))}
            if st.get("Effect") != "Allow" or actions <= set(NOT_CALLED_BY_THE_CODE):
                continue
            check(any(iam_eval.applies(st, r, res) for r in requests for res in r.resources),
                  f"{stack.mode} {function.binary}: statement {st.get('Sid')} ({sorted(actions)}) allows no call made "
                  "and has no written reason")
        granted.setdefault(function.binary, set()).update(iam_eval.granted_actions(documents))
        figures.append(f"calls checked ({stack.mode} {function.binary}): {len(mine)} calls, all allowed by its role")
    # Every granted action of every deployed mode is used by some path or has a written reason.
    for mode, stack in stacks.items():
        for logical, binary in FUNCTIONS.items():
            actions = iam_eval.granted_actions(list(stack.role_documents(logical).values()))
            unused = actions - used.get(binary, set()) - set(NOT_CALLED_BY_THE_CODE)
            check(not unused, f"{mode} {binary}: granted but never used and no reason: {sorted(unused)}")
    # Sanity: admin and harness calls are not attributed to a function.
    check(all(f.access_key != ADMIN["aws_access_key_id"] for f in functions), "distinct keys")


def parliament(deploy_python: str, stacks: dict[str, Stack], figures: list) -> None:
    policies = {}
    for mode, stack in stacks.items():
        for logical in FUNCTIONS:
            for name, document in stack.role_documents(logical).items():
                policies[f"{mode}:{name}"] = document
    result = subprocess.run([deploy_python, str(HERE / "lint_policies.py")], input=json.dumps(policies),
                            capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    check(result.returncode == 0, f"parliament failed: {result.stderr[-2000:]}")
    findings = json.loads(result.stdout)
    check(not findings, "parliament findings:\n" + "\n".join(
        f"  {f['policy']}: {f['issue']} {json.dumps(f['detail'], default=str)[:300]}" for f in findings))
    figures.append(f"parliament: {len(policies)} role policies, no findings")


if __name__ == "__main__":
    sys.exit(main())
