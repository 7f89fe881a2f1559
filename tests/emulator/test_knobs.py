"""Behaviours 6, 7, 9: throttling, injected faults/latency/per-item failures, call counters."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import REGION, make_requests


def raw_workspaces_call(url: str, op: str, body: dict) -> tuple[int, dict]:
    """A hand-made JSON 1.1 call, to see the exact bytes an SDK would parse."""
    req = urllib.request.Request(
        url + "/", data=json.dumps(body).encode(), method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"WorkspacesService.{op}",
            "Authorization": ("AWS4-HMAC-SHA256 Credential=testing/20250101/"
                              f"{REGION}/workspaces/aws4_request, SignedHeaders=host, Signature=00"),
        })
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


# 6 -------------------------------------------------------------------------------------
@pytest.mark.throttled
def test_throttling_burst_and_paced_loop(emu):
    cfg = emu.control("GET", "config")["throttle"]
    assert cfg == {"enabled": True, "rate": 2.0, "burst": 5, "services": ["workspaces"]}
    ws = emu.client("workspaces")
    codes = []
    for _ in range(10):
        try:
            ws.describe_workspaces()
            codes.append("ok")
        except ClientError as e:
            codes.append(e.response["Error"]["Code"])
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert codes.count("ok") >= 5  # the burst
    assert codes.count("ThrottlingException") >= 3
    assert set(codes) <= {"ok", "ThrottlingException"}

    counters = emu.counters()
    assert counters["throttled"]["workspaces:DescribeWorkspaces"] == codes.count("ThrottlingException")
    assert counters["calls"]["workspaces:DescribeWorkspaces"] == 10

    # The exact bytes: HTTP 400, JSON 1.1 body {"__type": "ThrottlingException", ...}.
    emu.config(throttle={"rate": 0.001, "burst": 1})  # reconfiguring refills the bucket
    assert raw_workspaces_call(emu.url, "DescribeWorkspaces", {})[0] == 200
    status, body = raw_workspaces_call(emu.url, "DescribeWorkspaces", {})
    assert (status, body) == (400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
    emu.config(throttle={"rate": 2.0, "burst": 5})

    # Other services are not throttled.
    s3 = emu.client("s3")
    for _ in range(10):
        s3.list_buckets()

    # 2 calls per second, paced: 8 calls > the burst of 5, so this passes only because the
    # bucket refills at the sustained rate.
    start = time.monotonic()
    for i in range(8):
        target = start + i * 0.5
        time.sleep(max(0.0, target - time.monotonic()))
        ws.describe_workspaces()  # raises if throttled
    emu.config(throttle={"enabled": False})
    for _ in range(20):
        ws.describe_workspaces()


# 7 -------------------------------------------------------------------------------------
def test_injected_5xx_next_n_calls(emu, dr):
    ws = emu.client("workspaces")
    emu.config(faults={"workspaces:DescribeWorkspaces": {"next": 2, "status": 503}})
    statuses = []
    for _ in range(3):
        try:
            ws.describe_workspaces()
            statuses.append(200)
        except ClientError as e:
            statuses.append(e.response["ResponseMetadata"]["HTTPStatusCode"])
    assert statuses == [503, 503, 200]
    assert emu.control("GET", "config")["faults"]["workspaces:DescribeWorkspaces"]["next"] == 0
    assert emu.counters()["faulted"] == {"workspaces:DescribeWorkspaces": 2}
    ws.create_workspaces(Workspaces=make_requests(dr["directory_id"], dr["bundle_id"], ["a"]))


def test_injected_5xx_probability_is_reproducible(emu):
    ws = emu.client("workspaces")

    def run():
        emu.config(faults={"workspaces:*": {"probability": 0.5, "seed": 42}})
        out = []
        for _ in range(16):
            try:
                ws.describe_workspaces()
                out.append(0)
            except ClientError as e:
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 500
                out.append(1)
        return out

    first, second = run(), run()
    assert first == second  # same seed, same sequence
    assert 0 < sum(first) < 16


def test_injected_fault_after_the_operation_happened(emu, dr):
    ws = emu.client("workspaces")
    emu.config(faults={"workspaces:CreateWorkspaces": {"next": 1, "when": "after"}})
    with pytest.raises(ClientError) as e:
        ws.create_workspaces(Workspaces=make_requests(dr["directory_id"], dr["bundle_id"], ["zed"]))
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    # The WorkSpace exists anyway: a retry meets ResourceExists.WorkSpace.
    found = ws.describe_workspaces(DirectoryId=dr["directory_id"], UserName="zed")["Workspaces"]
    assert len(found) == 1
    resp = ws.create_workspaces(Workspaces=make_requests(dr["directory_id"], dr["bundle_id"], ["zed"]))
    assert resp["FailedRequests"][0]["ErrorCode"] == "ResourceExists.WorkSpace"


def test_faults_on_other_services(emu):
    s3 = emu.client("s3")
    s3.create_bucket(Bucket="faulty")
    emu.config(faults={"s3:PutObject": {"next": 1}})
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="faulty", Key="k", Body=b"x")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    s3.put_object(Bucket="faulty", Key="k", Body=b"x")
    assert s3.get_object(Bucket="faulty", Key="k")["Body"].read() == b"x"


def test_injected_latency(emu):
    ws = emu.client("workspaces")
    ws.describe_workspaces()
    emu.config(latency_ms={"workspaces:DescribeWorkspaces": 300})
    start = time.monotonic()
    ws.describe_workspaces()
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    ws.describe_workspace_directories()  # other operations are not slowed
    assert time.monotonic() - start < 0.3


def test_injected_per_item_create_failures(emu, dr):
    ws = emu.client("workspaces")
    emu.config(create_failures={"Mallory": {"ErrorCode": "ResourceLimitExceeded",
                                            "ErrorMessage": "Your quota has been exceeded."}})
    resp = ws.create_workspaces(Workspaces=make_requests(
        dr["directory_id"], dr["bundle_id"], ["mallory", "nina"]))
    assert [p["UserName"] for p in resp["PendingRequests"]] == ["nina"]
    assert resp["FailedRequests"] == [{
        "WorkspaceRequest": {"DirectoryId": dr["directory_id"], "UserName": "mallory",
                             "BundleId": dr["bundle_id"]},
        "ErrorCode": "ResourceLimitExceeded",
        "ErrorMessage": "Your quota has been exceeded.",
    }]
    emu.config(create_failures={"Mallory": None}, known_users=["nina", "oscar"])
    resp = ws.create_workspaces(Workspaces=make_requests(
        dr["directory_id"], dr["bundle_id"], ["mallory", "OSCAR"]))
    assert [f["ErrorCode"] for f in resp["FailedRequests"]] == ["ResourceNotFound.User"]
    assert [p["UserName"] for p in resp["PendingRequests"]] == ["OSCAR"]


def test_bad_config_is_refused(emu):
    import urllib.error

    for bad in ({"nope": 1}, {"throttle": {"rate": "fast"}}, {"faults": {"x": {"status": 404}}}):
        with pytest.raises(urllib.error.HTTPError) as e:
            emu.control("POST", "config", bad)
        assert e.value.code == 400


# 9 -------------------------------------------------------------------------------------
def test_counters_by_service_and_operation(emu, dr):
    emu.counters(reset=True)
    ws = emu.client("workspaces")
    s3 = emu.client("s3")
    for _ in range(3):
        ws.describe_workspaces(DirectoryId=dr["directory_id"])
    ws.create_workspaces(Workspaces=make_requests(dr["directory_id"], dr["bundle_id"], ["pat"]))
    with pytest.raises(ClientError):
        ws.create_workspaces(Workspaces=make_requests(
            dr["directory_id"], dr["bundle_id"], [f"x{i}" for i in range(26)]))
    s3.create_bucket(Bucket="counted")
    s3.put_object(Bucket="counted", Key="a", Body=b"1")
    s3.get_object(Bucket="counted", Key="a")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "counted", "Key": "a"})
    with urllib.request.urlopen(url, timeout=5) as r:  # presigned: credential in the query
        assert r.read() == b"1"
    c = emu.counters(reset=True)
    assert c["calls"]["workspaces:DescribeWorkspaces"] == 3
    assert c["calls"]["workspaces:CreateWorkspaces"] == 2
    assert c["errors"] == {"workspaces:CreateWorkspaces": 1}
    assert c["calls"]["s3:CreateBucket"] == 1
    assert c["calls"]["s3:PutObject"] == 1
    assert c["calls"]["s3:GetObject"] == 2
    assert c["throttled"] == {}
    assert c["total_calls"] == sum(c["calls"].values())
    # The bootstrap's own calls are never counted, and reading with reset=1 zeroed them.
    emu.bootstrap(region=REGION, directory_name="other.example.com", vpc_cidr="10.44.0.0/16")
    assert emu.counters()["calls"] == {}
