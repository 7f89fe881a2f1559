"""WorkSpaces behaviours 1-5 and 8: pagination and filters, batch limits and duplicate users,
lifecycle, tags (with the Resource Groups Tagging API), bootstrap."""

from __future__ import annotations


import pytest
from botocore.exceptions import ClientError

from conftest import REGION, make_requests, wait_for


def code_of(err: ClientError) -> str:
    return err.response["Error"]["Code"]


def all_workspaces(ws, **params):
    out, pages = [], 0
    token = None
    while True:
        kw = dict(params)
        if token:
            kw["NextToken"] = token
        resp = ws.describe_workspaces(**kw)
        pages += 1
        out.extend(resp["Workspaces"])
        token = resp.get("NextToken")
        if not token:
            return out, pages


# 8 -------------------------------------------------------------------------------------
def test_bootstrap_gives_registered_directory_and_bundle(emu, dr):
    ws = emu.client("workspaces")
    assert dr["directory_id"].startswith("d-")
    assert dr["bundle_id"].startswith("wsb-")
    dirs = ws.describe_workspace_directories(DirectoryIds=[dr["directory_id"]])["Directories"]
    assert dirs[0]["State"] == "REGISTERED"
    assert dirs[0]["RegistrationCode"] == dr["registration_code"]
    bundles = ws.describe_workspace_bundles(BundleIds=[dr["bundle_id"]])["Bundles"]
    assert [b["BundleId"] for b in bundles] == [dr["bundle_id"]]
    assert any(b["BundleId"] == dr["bundle_id"]
               for b in ws.describe_workspace_bundles(Owner="AMAZON")["Bundles"])
    again = emu.bootstrap(region=REGION)  # idempotent
    assert again["directory_id"] == dr["directory_id"] and again["created"] is False
    resp = ws.create_workspaces(Workspaces=make_requests(dr["directory_id"], dr["bundle_id"], ["u1"]))
    assert resp["FailedRequests"] == [] and len(resp["PendingRequests"]) == 1


# 1 -------------------------------------------------------------------------------------
def test_describe_pages_of_at_most_25_with_opaque_token(emu, dr):
    ws = emu.client("workspaces")
    users = [f"user{i:03d}" for i in range(60)]
    for i in range(0, 60, 25):
        resp = ws.create_workspaces(
            Workspaces=make_requests(dr["directory_id"], dr["bundle_id"], users[i:i + 25]))
        assert resp["FailedRequests"] == []

    first = ws.describe_workspaces(DirectoryId=dr["directory_id"])
    assert len(first["Workspaces"]) == 25  # default Limit is 25
    assert first.get("NextToken")
    got, pages = all_workspaces(ws, DirectoryId=dr["directory_id"])
    assert pages == 3
    assert sorted(w["UserName"] for w in got) == users  # every one exactly once

    got7, pages7 = all_workspaces(ws, DirectoryId=dr["directory_id"], Limit=7)
    assert pages7 == 9 and len({w["WorkspaceId"] for w in got7}) == 60

    # The SDK paginator (what the Rust SDK's into_paginator() mirrors) sees every WorkSpace.
    pag = ws.get_paginator("describe_workspaces")
    seen = [w for page in pag.paginate(DirectoryId=dr["directory_id"]) for w in page["Workspaces"]]
    assert len(seen) == 60

    with pytest.raises(ClientError) as e:
        ws.describe_workspaces(DirectoryId=dr["directory_id"], Limit=26)
    assert code_of(e.value) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ws.describe_workspaces(DirectoryId=dr["directory_id"], NextToken="bm90LWEtdG9rZW4")
    assert code_of(e.value) == "InvalidParameterValuesException"
    # A token belongs to its query.
    with pytest.raises(ClientError) as e:
        ws.describe_workspaces(BundleId=dr["bundle_id"], NextToken=first["NextToken"])
    assert code_of(e.value) == "InvalidParameterValuesException"


def test_describe_filters_are_exclusive_and_username_is_case_insensitive(emu, dr):
    ws = emu.client("workspaces")
    created = ws.create_workspaces(
        Workspaces=make_requests(dr["directory_id"], dr["bundle_id"], ["Alice", "bob"]))
    ids = [p["WorkspaceId"] for p in created["PendingRequests"]]

    hit = ws.describe_workspaces(DirectoryId=dr["directory_id"], UserName="ALICE")["Workspaces"]
    assert [w["UserName"] for w in hit] == ["Alice"]
    assert len(ws.describe_workspaces(WorkspaceIds=ids)["Workspaces"]) == 2
    assert len(ws.describe_workspaces(BundleId=dr["bundle_id"])["Workspaces"]) == 2
    assert ws.describe_workspaces(BundleId="wsb-0000000000")["Workspaces"] == []

    for bad in ({"DirectoryId": dr["directory_id"], "BundleId": dr["bundle_id"]},
                {"DirectoryId": dr["directory_id"], "WorkspaceIds": ids},
                {"WorkspaceIds": ids, "BundleId": dr["bundle_id"]},
                {"UserName": "alice"}):
        with pytest.raises(ClientError) as e:
            ws.describe_workspaces(**bad)
        assert code_of(e.value) == "InvalidParameterValuesException", bad

    with pytest.raises(ClientError) as e:
        ws.describe_workspaces(WorkspaceIds=[f"ws-{i:09d}" for i in range(26)])
    assert code_of(e.value) == "ValidationException"


# 2 -------------------------------------------------------------------------------------
def test_create_refuses_26_items(emu, dr):
    ws = emu.client("workspaces")
    reqs = make_requests(dr["directory_id"], dr["bundle_id"], [f"u{i}" for i in range(26)])
    with pytest.raises(ClientError) as e:
        ws.create_workspaces(Workspaces=reqs)
    assert code_of(e.value) == "ValidationException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert ws.describe_workspaces(DirectoryId=dr["directory_id"])["Workspaces"] == []
    ok = ws.create_workspaces(Workspaces=reqs[:25])
    assert len(ok["PendingRequests"]) == 25 and ok["FailedRequests"] == []


def test_second_workspace_for_a_user_fails_per_item(emu, dr):
    ws = emu.client("workspaces")
    d, b = dr["directory_id"], dr["bundle_id"]
    # Same user twice in one batch (different case): the first is created, the second fails.
    resp = ws.create_workspaces(Workspaces=make_requests(d, b, ["bob", "BOB", "carol"]))
    assert [p["UserName"] for p in resp["PendingRequests"]] == ["bob", "carol"]
    assert len(resp["FailedRequests"]) == 1
    failed = resp["FailedRequests"][0]
    assert failed["ErrorCode"] == "ResourceExists.WorkSpace"
    assert failed["ErrorMessage"] == "A WorkSpace already exists for the specified user."
    assert failed["WorkspaceRequest"]["UserName"] == "BOB"
    # A later request for an existing user fails the same way, per item, not for the batch.
    resp = ws.create_workspaces(Workspaces=make_requests(d, b, ["Bob", "dave"]))
    assert [p["UserName"] for p in resp["PendingRequests"]] == ["dave"]
    assert [f["ErrorCode"] for f in resp["FailedRequests"]] == ["ResourceExists.WorkSpace"]
    assert len(ws.describe_workspaces(DirectoryId=d)["Workspaces"]) == 3
    # Another directory is another namespace.
    other = emu.bootstrap(region=REGION, directory_name="dr2.example.com", vpc_cidr="10.43.0.0/16")
    resp = ws.create_workspaces(Workspaces=make_requests(other["directory_id"], b, ["bob"]))
    assert len(resp["PendingRequests"]) == 1
    # An unregistered directory is a per-item failure too.
    resp = ws.create_workspaces(Workspaces=make_requests("d-0123456789", b, ["erin"]))
    assert resp["FailedRequests"][0]["ErrorCode"] == "ResourceNotFound.Directory"


def test_create_tags_are_stored_on_the_workspace(emu, dr):
    ws = emu.client("workspaces")
    tags = [{"Key": "wsdr:managed-by", "Value": "wsdr"}, {"Key": "team", "Value": "dr"}]
    resp = ws.create_workspaces(
        Workspaces=make_requests(dr["directory_id"], dr["bundle_id"], ["frank"], tags=tags))
    wid = resp["PendingRequests"][0]["WorkspaceId"]
    got = ws.describe_tags(ResourceId=wid)["TagList"]
    assert sorted((t["Key"], t["Value"]) for t in got) == sorted((t["Key"], t["Value"]) for t in tags)


# 3 + 4 ---------------------------------------------------------------------------------
def test_pending_then_available_then_terminating_then_gone(emu, dr):
    ws = emu.client("workspaces")
    emu.config(pending_seconds=0.4, terminating_seconds=0.4)
    resp = ws.create_workspaces(Workspaces=make_requests(dr["directory_id"], dr["bundle_id"], ["gina"]))
    pending = resp["PendingRequests"][0]
    assert pending["State"] == "PENDING"
    wid = pending["WorkspaceId"]

    def state():
        found = ws.describe_workspaces(WorkspaceIds=[wid])["Workspaces"]
        return found[0]["State"] if found else None

    assert state() == "PENDING"
    wait_for(lambda: state() == "AVAILABLE", timeout=3)

    assert ws.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": wid}])["FailedRequests"] == []
    assert state() == "TERMINATING"
    # While the old one is TERMINATING the user still has a WorkSpace.
    again = ws.create_workspaces(Workspaces=make_requests(dr["directory_id"], dr["bundle_id"], ["gina"]))
    assert [f["ErrorCode"] for f in again["FailedRequests"]] == ["ResourceExists.WorkSpace"]
    wait_for(lambda: state() is None, timeout=3)  # the id disappears
    again = ws.create_workspaces(Workspaces=make_requests(dr["directory_id"], dr["bundle_id"], ["gina"]))
    assert again["FailedRequests"] == [] and len(again["PendingRequests"]) == 1


def test_zero_delays_and_linger_and_settle(emu, dr):
    ws = emu.client("workspaces")
    emu.config(pending_seconds=0, terminating_seconds=0, terminated_linger_seconds=30)
    wid = ws.create_workspaces(Workspaces=make_requests(
        dr["directory_id"], dr["bundle_id"], ["hank"]))["PendingRequests"][0]["WorkspaceId"]
    assert ws.describe_workspaces(WorkspaceIds=[wid])["Workspaces"][0]["State"] == "AVAILABLE"
    ws.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": wid}])
    assert ws.describe_workspaces(WorkspaceIds=[wid])["Workspaces"][0]["State"] == "TERMINATED"
    emu.control("POST", "settle")  # fast-forward every transition
    assert ws.describe_workspaces(WorkspaceIds=[wid])["Workspaces"] == []


def test_terminate_limits_and_unknown_ids(emu, dr):
    ws = emu.client("workspaces")
    emu.config(pending_seconds=0)
    wid = ws.create_workspaces(Workspaces=make_requests(
        dr["directory_id"], dr["bundle_id"], ["ivan"]))["PendingRequests"][0]["WorkspaceId"]
    resp = ws.terminate_workspaces(TerminateWorkspaceRequests=[
        {"WorkspaceId": wid}, {"WorkspaceId": "ws-000000000"}])
    assert [(f["WorkspaceId"], f["ErrorCode"]) for f in resp["FailedRequests"]] == [
        ("ws-000000000", "ResourceNotFound.Workspace")]
    with pytest.raises(ClientError) as e:
        ws.terminate_workspaces(TerminateWorkspaceRequests=[
            {"WorkspaceId": f"ws-{i:09d}"} for i in range(26)])
    assert code_of(e.value) == "ValidationException"


def test_visibility_delay_hides_new_ids(emu, dr):
    ws = emu.client("workspaces")
    emu.config(visibility_delay_seconds=0.3)
    wid = ws.create_workspaces(Workspaces=make_requests(
        dr["directory_id"], dr["bundle_id"], ["jill"]))["PendingRequests"][0]["WorkspaceId"]
    assert ws.describe_workspaces(WorkspaceIds=[wid])["Workspaces"] == []
    wait_for(lambda: ws.describe_workspaces(WorkspaceIds=[wid])["Workspaces"], timeout=3)


# 5 -------------------------------------------------------------------------------------
def test_tags_upsert_delete_describe(emu, dr):
    ws = emu.client("workspaces")
    wid = ws.create_workspaces(Workspaces=make_requests(
        dr["directory_id"], dr["bundle_id"], ["kate"]))["PendingRequests"][0]["WorkspaceId"]
    ws.create_tags(ResourceId=wid, Tags=[{"Key": "wsdr:managed-by", "Value": "someone"}])
    ws.create_tags(ResourceId=wid, Tags=[{"Key": "wsdr:managed-by", "Value": "wsdr"},
                                          {"Key": "x", "Value": "1"}])
    tags = ws.describe_tags(ResourceId=wid)["TagList"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("wsdr:managed-by", "wsdr"), ("x", "1")]
    ws.delete_tags(ResourceId=wid, TagKeys=["x", "not-there"])
    assert ws.describe_tags(ResourceId=wid)["TagList"] == [{"Key": "wsdr:managed-by", "Value": "wsdr"}]
    for call in (lambda: ws.describe_tags(ResourceId="ws-000000000"),
                 lambda: ws.create_tags(ResourceId="ws-000000000", Tags=[{"Key": "a", "Value": "b"}]),
                 lambda: ws.delete_tags(ResourceId="ws-000000000", TagKeys=["a"])):
        with pytest.raises(ClientError) as e:
            call()
        assert code_of(e.value) == "ResourceNotFoundException"
    # Directories are taggable too.
    ws.create_tags(ResourceId=dr["directory_id"], Tags=[{"Key": "role", "Value": "dr"}])
    assert {"Key": "role", "Value": "dr"} in ws.describe_tags(ResourceId=dr["directory_id"])["TagList"]


def test_tagging_api_get_resources_finds_tagged_workspaces(emu, dr):
    ws = emu.client("workspaces")
    tagging = emu.client("resourcegroupstaggingapi")
    emu.config(pending_seconds=0, terminating_seconds=0)
    owned = [{"Key": "wsdr:managed-by", "Value": "wsdr"}]
    created = ws.create_workspaces(Workspaces=make_requests(
        dr["directory_id"], dr["bundle_id"], ["l1", "l2", "l3"], tags=owned))["PendingRequests"]
    ids = [p["WorkspaceId"] for p in created]
    later = ws.create_workspaces(Workspaces=make_requests(
        dr["directory_id"], dr["bundle_id"], ["l4", "l5"]))["PendingRequests"]
    ws.create_tags(ResourceId=later[0]["WorkspaceId"], Tags=owned)  # tagged after creation
    ids.append(later[0]["WorkspaceId"])

    def managed(per_page):
        arns, token, pages = [], "", 0
        while True:
            resp = tagging.get_resources(
                TagFilters=[{"Key": "wsdr:managed-by", "Values": ["wsdr"]}],
                ResourceTypeFilters=["workspaces:workspace"],
                ResourcesPerPage=per_page, PaginationToken=token)
            pages += 1
            arns += [r["ResourceARN"] for r in resp["ResourceTagMappingList"]]
            token = resp.get("PaginationToken", "")
            if not token:
                return arns, pages

    arns, pages = managed(2)
    assert pages >= 2
    assert sorted(a.rsplit("/", 1)[1] for a in arns) == sorted(ids)
    assert all(a.startswith(f"arn:aws:workspaces:{REGION}:") and ":workspace/ws-" in a for a in arns)
    # A terminated (gone) WorkSpace is no longer listed.
    ws.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": ids[0]}])
    arns, _ = managed(100)
    assert ids[0] not in {a.rsplit("/", 1)[1] for a in arns} and len(arns) == 3
    # Untag through the tagging API is seen by DescribeTags.
    tagging.untag_resources(ResourceARNList=[arns[0]], TagKeys=["wsdr:managed-by"])
    assert ws.describe_tags(ResourceId=arns[0].rsplit("/", 1)[1])["TagList"] == []


def test_start_and_stop_follow_running_mode_and_state(emu, dr):
    ws = emu.client("workspaces")
    emu.config(pending_seconds=0.2)
    reqs = make_requests(dr["directory_id"], dr["bundle_id"], ["auto", "always"])
    reqs[0]["WorkspaceProperties"] = {"RunningMode": "AUTO_STOP",
                                      "RunningModeAutoStopTimeoutInMinutes": 60}
    auto, always = [p["WorkspaceId"] for p in ws.create_workspaces(Workspaces=reqs)["PendingRequests"]]

    def state(wid):
        return ws.describe_workspaces(WorkspaceIds=[wid])["Workspaces"][0]["State"]

    # Not yet AVAILABLE (PENDING): stopping is refused per item.
    assert [f["ErrorCode"] for f in ws.stop_workspaces(
        StopWorkspaceRequests=[{"WorkspaceId": auto}])["FailedRequests"]] == ["InvalidResourceState"]
    wait_for(lambda: state(auto) == "AVAILABLE" and state(always) == "AVAILABLE", timeout=3)
    resp = ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": auto}, {"WorkspaceId": always}])
    assert [(f["WorkspaceId"], f["ErrorCode"]) for f in resp["FailedRequests"]] == [
        (always, "InvalidResourceState")]  # ALWAYS_ON cannot be stopped
    assert state(auto) == "STOPPING"
    wait_for(lambda: state(auto) == "STOPPED", timeout=3)
    assert ws.start_workspaces(StartWorkspaceRequests=[{"WorkspaceId": auto}])["FailedRequests"] == []
    assert state(auto) == "STARTING"
    wait_for(lambda: state(auto) == "AVAILABLE", timeout=3)
