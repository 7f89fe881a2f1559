"""The rest is stock moto and must keep working through the middleware: S3 (with conditional
writes), SNS -> SQS, KMS ECDSA signing, EventBridge -> SQS, and the launcher itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import FAST, HERE, start_emulator, stop_emulator


def test_s3_conditional_writes(emu):
    s3 = emu.client("s3")
    s3.create_bucket(Bucket="ledger")
    first = s3.put_object(Bucket="ledger", Key="lock.json", Body=b"{}", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="ledger", Key="lock.json", Body=b"{}", IfNoneMatch="*")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert e.value.response["Error"]["Code"] == "PreconditionFailed"
    # If-Match with the current ETag succeeds, with a stale one answers 412.
    second = s3.put_object(Bucket="ledger", Key="lock.json", Body=b'{"v":2}', IfMatch=first["ETag"])
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="ledger", Key="lock.json", Body=b'{"v":3}', IfMatch=first["ETag"])
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert s3.get_object(Bucket="ledger", Key="lock.json")["ETag"] == second["ETag"]


def test_sns_delivers_to_sqs(emu):
    sns, sqs = emu.client("sns"), emu.client("sqs")
    topic = sns.create_topic(Name="wsdr-alerts")["TopicArn"]
    q = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn,
                  Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="failover", Subject="DR")
    msgs = sqs.receive_message(QueueUrl=q, WaitTimeSeconds=1)["Messages"]
    assert msgs[0]["Body"] == "failover"
    c = emu.counters()["calls"]
    assert c["sns:Publish"] == 1 and c["sqs:ReceiveMessage"] == 1


def test_kms_ecdsa_sign_and_verify(emu):
    kms = emu.client("kms")
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    sig = kms.sign(KeyId=key, Message=b"payload", MessageType="RAW",
                   SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    assert sig[0] == 0x30  # DER SEQUENCE
    assert kms.verify(KeyId=key, Message=b"payload", MessageType="RAW", Signature=sig,
                      SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]
    assert kms.get_public_key(KeyId=key)["PublicKey"]


def test_eventbridge_rule_to_sqs(emu):
    events, sqs = emu.client("events"), emu.client("sqs")
    q = sqs.create_queue(QueueName="health")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="health", EventPattern=json.dumps({"source": ["aws.health"]}))
    events.put_targets(Rule="health", Targets=[{"Id": "q", "Arn": qarn}])
    events.put_events(Entries=[{"Source": "aws.health", "DetailType": "AWS Health Event",
                                "Detail": json.dumps({"eventTypeCode": "AWS_WORKSPACES_OPERATIONAL_ISSUE"})}])
    events.put_events(Entries=[{"Source": "other", "DetailType": "x", "Detail": "{}"}])
    msgs = sqs.receive_message(QueueUrl=q, WaitTimeSeconds=1, MaxNumberOfMessages=10)["Messages"]
    assert len(msgs) == 1 and json.loads(msgs[0]["Body"])["source"] == "aws.health"


def test_launcher_ready_file_health_and_sigterm():
    with tempfile.TemporaryDirectory() as tmp:
        ready = os.path.join(tmp, "ready")
        emu = start_emulator(*FAST, "--no-throttle", "--latency-ms", "5", ready_file=ready)
        try:
            with open(ready, encoding="utf-8") as f:
                assert f.read().strip() == emu.url
            assert emu.url.startswith("http://127.0.0.1:")
            with urllib.request.urlopen(emu.url + "/_wsdr/health", timeout=5) as r:
                health = json.loads(r.read())
            assert health["ok"] and health["moto"] == "5.2.5"
            cfg = emu.control("GET", "config")
            assert cfg["throttle"]["enabled"] is False
            assert cfg["latency_ms"] == {"workspaces:*": 5.0}
            assert cfg["pending_seconds"] == 0.3
        finally:
            assert stop_emulator(emu) == 0


def test_launcher_exits_on_sigint():
    emu = start_emulator()
    emu.proc.send_signal(signal.SIGINT)
    assert emu.proc.wait(timeout=10) == 0


def test_exit_with_parent():
    """A harness that dies without stopping the emulator does not leave it running."""
    parent = subprocess.run(
        [sys.executable, "-c", (
            "import subprocess, sys\n"
            "p = subprocess.Popen([sys.executable, '-m', 'wsdr_emulator', '--port', '0',"
            " '--exit-with-parent'], stdout=subprocess.PIPE, text=True)\n"
            "print(p.pid, p.stdout.readline().strip(), flush=True)\n")],
        cwd=HERE, env={**os.environ, "PYTHONPATH": str(HERE)},
        capture_output=True, text=True, timeout=30)
    pid_text, ready, url = parent.stdout.split()
    assert ready == "WSDR_EMULATOR_READY"
    pid = int(pid_text)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return  # gone (reaped by init)
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError("emulator outlived its parent")


@pytest.mark.skipif(not (Path(sys.prefix) / ".wsdr-emulator-stamp").exists(),
                    reason="runs only inside the venv that setup.sh made")
def test_run_emulator_wrapper_prints_only_the_ready_line():
    proc = subprocess.Popen([str(HERE / "run-emulator.sh"), "--port", "0"],
                            env={**os.environ, "WSDR_EMULATOR_VENV": sys.prefix},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("WSDR_EMULATOR_READY http://127.0.0.1:")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and out == ""
