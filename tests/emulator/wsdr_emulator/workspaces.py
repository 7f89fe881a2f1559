"""WorkSpaces operations made to behave as AWS documents them, on top of moto's backend.

The handlers below answer these operations themselves (moto never sees them):
DescribeWorkspaces, CreateWorkspaces, TerminateWorkspaces, StartWorkspaces, StopWorkspaces,
CreateTags, DeleteTags, DescribeTags, DescribeWorkspaceBundles. Every other WorkSpaces operation (directories,
images, client properties, ...) goes to stock moto. The WorkSpace objects live in moto's
own backend (``workspaces_backends[account][region].workspaces``), so moto's other
operations and the Resource Groups Tagging API see the same WorkSpaces.

Sources cited in comments:
  [DF5]   /work/shared/docs/domain-facts.md section 5 "WorkSpaces API facts"
          (botocore workspaces/2015-04-08 service-2.json + the WorkSpaces admin guide)
  [API]   AWS WorkSpaces API reference (DescribeWorkspaces, CreateWorkspaces, ...), as
          carried by botocore's service model (limits, patterns, error shapes)
  [COMMON] AWS "Common Errors": ValidationException / ThrottlingException, HTTP 400
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from moto.workspaces.models import Workspace, WorkSpacesBackend, workspaces_backends

from .knobs import Knobs

LOCK = threading.RLock()

# Patterns from the API model [API].
DIRECTORY_ID_RE = re.compile(r"^(d-[0-9a-f]{8,63}$)|(wsd-[0-9a-z]{8,63}$)")
BUNDLE_ID_RE = re.compile(r"^wsb-[0-9a-z]{8,63}$")
WORKSPACE_ID_RE = re.compile(r"^ws-[0-9a-z]{8,63}$")

MAX_BATCH = 25  # [DF5] "Batch sizes [V]: CreateWorkspaces 1-25; Terminate/Start/Stop/Reboot 1-25"
MAX_TAGS = 50  # AWS WorkSpaces: "Each resource can have a maximum of 50 tags" (CreateTags doc)

# Bundles the emulator knows, per region (AWS-owned public bundles exist in every region).
AMAZON_BUNDLES = [
    {
        "BundleId": "wsb-wsdrstd01",
        "Name": "Standard with Windows 10 (Server 2019 based) (wsdr emulator)",
        "Owner": "AMAZON",
        "Description": "Emulator bundle: Standard compute, 80 GB root, 50 GB user volume",
        "ImageId": "wsi-wsdrimg01",
        "RootStorage": {"Capacity": "80"},
        "UserStorage": {"Capacity": "50"},
        "ComputeType": {"Name": "STANDARD"},
        "State": "AVAILABLE",
        "BundleType": "REGULAR",
    },
    {
        "BundleId": "wsb-wsdrprf01",
        "Name": "Performance with Windows 10 (Server 2019 based) (wsdr emulator)",
        "Owner": "AMAZON",
        "Description": "Emulator bundle: Performance compute, 80 GB root, 100 GB user volume",
        "ImageId": "wsi-wsdrimg01",
        "RootStorage": {"Capacity": "80"},
        "UserStorage": {"Capacity": "100"},
        "ComputeType": {"Name": "PERFORMANCE"},
        "State": "AVAILABLE",
        "BundleType": "REGULAR",
    },
]
DEFAULT_BUNDLE_ID = AMAZON_BUNDLES[0]["BundleId"]


class ApiError(Exception):
    """A whole-request error: HTTP 400 with the JSON 1.1 body {"__type", "message"}."""

    def __init__(self, type_: str, message: str, status: int = 400):
        super().__init__(message)
        self.type = type_
        self.message = message
        self.status = status


def validation_error(field: str, value: Any, constraint: str) -> ApiError:
    # The message shape AWS (Coral) validation uses for modelled constraints [COMMON].
    shown = json.dumps(value) if not isinstance(value, str) else value
    if len(shown) > 200:
        shown = shown[:200] + "..."
    return ApiError(
        "ValidationException",
        f"1 validation error detected: Value '{shown}' at '{field}' failed to satisfy "
        f"constraint: {constraint}",
    )


@dataclass
class Meta:
    seq: int
    visible_at: float
    available_at: float
    terminating_until: float | None = None
    gone_at: float | None = None
    # STARTING -> AVAILABLE, STOPPING -> STOPPED
    next_state: str | None = None
    next_at: float = 0.0


_seq_lock = threading.Lock()
_seq = 0


def _next_seq() -> int:
    global _seq
    with _seq_lock:
        _seq += 1
        return _seq


def meta(ws: Workspace) -> Meta:
    m = getattr(ws, "_wsdr", None)
    if m is None:  # created by a moto path we do not own (e.g. state loaded otherwise)
        now = time.monotonic()
        m = Meta(seq=_next_seq(), visible_at=now, available_at=now)
        ws._wsdr = m  # type: ignore[attr-defined]
    return m


def advance(backend: WorkSpacesBackend, now: float | None = None, settle: bool = False) -> None:
    """Apply the lifecycle transitions that are due (lazily, on every access).

    PENDING -> AVAILABLE after pending_seconds; TERMINATING -> TERMINATED after
    terminating_seconds; TERMINATED -> gone after terminated_linger_seconds.
    With settle=True every transition completes now (the /_wsdr/settle control call).
    """
    now = time.monotonic() if now is None else now
    with LOCK:
        for wid, ws in list(backend.workspaces.items()):
            m = meta(ws)
            if settle:
                m.visible_at = min(m.visible_at, now)
            if ws.state == "PENDING" and (settle or now >= m.available_at):
                ws.state = "AVAILABLE"
            if ws.state in ("STARTING", "STOPPING") and m.next_state and (settle or now >= m.next_at):
                ws.state, m.next_state = m.next_state, None
            if ws.state == "TERMINATING" and (settle or now >= (m.terminating_until or 0)):
                ws.state = "TERMINATED"
            if ws.state == "TERMINATED" and (settle or now >= (m.gone_at or 0)):
                del backend.workspaces[wid]


def _install_moto_patches() -> None:
    """Patch moto's backend so paths we do not own stay consistent with ours."""

    orig_iter = WorkSpacesBackend.iter_tagged_resources

    def iter_tagged_resources(self: WorkSpacesBackend):  # type: ignore[no-untyped-def]
        # Resource Groups Tagging API GetResources: apply due transitions first, so a
        # WorkSpace that is gone is not listed.
        advance(self)
        with LOCK:
            items = list(orig_iter(self))
        return iter(items)

    def create_tags(self: WorkSpacesBackend, resource_id: str, tags: list[dict[str, str]]) -> None:
        # Upsert: a tag key appears once per resource (AWS CreateTags overwrites the value of
        # an existing key). Stock moto appended duplicates.
        target = find_taggable(self, resource_id)
        if target is None:
            raise ApiError("ResourceNotFoundException", "The resource could not be found.")
        merged = {t["Key"]: t.get("Value", "") for t in (target.tags or [])}
        for t in tags:
            merged[t["Key"]] = t.get("Value", "")
        if len(merged) > MAX_TAGS:
            raise ApiError(
                "ResourceLimitExceededException",
                f"The resource can have a maximum of {MAX_TAGS} tags.",
            )
        target.tags = [{"Key": k, "Value": v} for k, v in merged.items()]

    def untag_resource(self: WorkSpacesBackend, arn: str, tag_keys: list[str]) -> None:
        self.delete_tags(arn.split("/")[-1], tag_keys)

    def delete_tags(self: WorkSpacesBackend, resource_id: str, tag_keys: list[str]) -> None:
        target = find_taggable(self, resource_id)
        if target is None:
            raise ApiError("ResourceNotFoundException", "The resource could not be found.")
        drop = set(tag_keys)
        target.tags = [t for t in (target.tags or []) if t["Key"] not in drop]

    WorkSpacesBackend.iter_tagged_resources = iter_tagged_resources  # type: ignore[method-assign]
    WorkSpacesBackend.create_tags = create_tags  # type: ignore[method-assign]
    WorkSpacesBackend.delete_tags = delete_tags  # type: ignore[attr-defined]
    WorkSpacesBackend.untag_resource = untag_resource  # type: ignore[method-assign]


_install_moto_patches()


def find_taggable(backend: WorkSpacesBackend, resource_id: str) -> Any | None:
    if resource_id in backend.workspaces:
        return backend.workspaces[resource_id]
    if resource_id in backend.workspace_directories:
        return backend.workspace_directories[resource_id]
    if resource_id in backend.workspace_images:
        return backend.workspace_images[resource_id]
    return None


# ------------------------------------------------------------------------------------------
# Pagination tokens: opaque to the client (base64 of a small JSON document). The token holds
# the creation sequence number of the last WorkSpace returned, so WorkSpaces created or
# terminated between pages neither repeat nor shift the next page, and a hash of the filter
# so a token cannot be replayed against a different query.
# ------------------------------------------------------------------------------------------
def _filter_hash(params: dict[str, Any]) -> str:
    keys = ("WorkspaceIds", "DirectoryId", "UserName", "BundleId", "WorkspaceName")
    basis = json.dumps({k: params.get(k) for k in keys}, sort_keys=True)
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def _encode_token(after: int, fhash: str) -> str:
    raw = json.dumps({"v": 1, "after": after, "q": fhash}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: Any, fhash: str) -> int:
    bad = ApiError("InvalidParameterValuesException", "The specified NextToken is not valid.")
    if not isinstance(token, str) or not 1 <= len(token) <= 2048:
        raise bad
    try:
        pad = "=" * (-len(token) % 4)
        doc = json.loads(base64.urlsafe_b64decode(token + pad))
        after = int(doc["after"])
        if doc.get("v") != 1 or doc.get("q") != fhash:
            raise ValueError
    except Exception:  # noqa: BLE001 - any malformed token is the same client error
        raise bad from None
    return after


# ------------------------------------------------------------------------------------------
# Handlers. Each takes (backend, params, knobs) and returns the JSON response document.
# ------------------------------------------------------------------------------------------
def describe_workspaces(b: WorkSpacesBackend, p: dict[str, Any], knobs: Knobs) -> dict[str, Any]:
    limit = p.get("Limit")
    if limit is not None:
        # [DF5] "`Limit` 1-25" / [API] Limit: Valid Range 1..25 -> ValidationException.
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise validation_error("limit", limit, "Member must be an integer")
        if limit < 1:
            raise validation_error("limit", limit, "Member must have value greater than or equal to 1")
        if limit > MAX_BATCH:
            raise validation_error("limit", limit, "Member must have value less than or equal to 25")
    page_size = limit or MAX_BATCH  # default page size: 25, the maximum

    ids = p.get("WorkspaceIds")
    if ids is not None:
        # [DF5] "DescribeWorkspaces `WorkspaceIds` <=25" / [API] WorkspaceIdList 1..25 items.
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BATCH:
            raise validation_error(
                "workspaceIds", ids,
                "Member must have length less than or equal to 25" if isinstance(ids, list) and ids
                else "Member must have length greater than or equal to 1")
        for i in ids:
            if not isinstance(i, str) or not WORKSPACE_ID_RE.match(i):
                raise validation_error("workspaceIds", ids,
                                       "Member must satisfy regular expression pattern: ^ws-[0-9a-z]{8,63}$")
    directory_id = p.get("DirectoryId")
    if directory_id is not None and not (isinstance(directory_id, str) and DIRECTORY_ID_RE.match(directory_id)):
        raise validation_error("directoryId", directory_id,
                               "Member must satisfy regular expression pattern: "
                               "^(d-[0-9a-f]{8,63}$)|(wsd-[0-9a-z]{8,63}$)")
    bundle_id = p.get("BundleId")
    if bundle_id is not None and not (isinstance(bundle_id, str) and BUNDLE_ID_RE.match(bundle_id)):
        raise validation_error("bundleId", bundle_id,
                               "Member must satisfy regular expression pattern: ^wsb-[0-9a-z]{8,63}$")
    user_name = p.get("UserName")
    ws_name = p.get("WorkspaceName")

    # [DF5] "DescribeWorkspaces filters are mutually exclusive: WorkspaceIds | DirectoryId
    # (+optional UserName, which requires DirectoryId) | BundleId | WorkspaceName".
    # [API] lists InvalidParameterValuesException as DescribeWorkspaces' error; the message is
    # the one AWS returns (moto copied it, including the unmodelled word "Filters").
    given = [k for k in ("WorkspaceIds", "DirectoryId", "BundleId", "WorkspaceName") if p.get(k)]
    if len(given) > 1:
        raise ApiError(
            "InvalidParameterValuesException",
            "An invalid number of parameters provided with DescribeWorkspaces. Only one of the "
            "following are allowed to be specified: BundleId, DirectoryId, WorkSpaceIds, Filters.",
        )
    if user_name and not directory_id:
        raise ApiError("InvalidParameterValuesException",
                       "The DirectoryId parameter is required when UserName is used.")

    fhash = _filter_hash(p)
    after = _decode_token(p["NextToken"], fhash) if p.get("NextToken") is not None else 0

    now = time.monotonic()
    advance(b, now)
    with LOCK:
        items = []
        for ws in b.workspaces.values():
            m = meta(ws)
            # [DF5] "Newly created ids are not immediately describable (async)".
            if now < m.visible_at:
                continue
            if ids and ws.workspace_id not in ids:
                continue
            if directory_id and ws.directory_id != directory_id:
                continue
            # [DF5] "Username: not case-sensitive" -> the UserName filter matches case-insensitively.
            if user_name and ws.user_name.casefold() != str(user_name).casefold():
                continue
            if bundle_id and ws.bundle_id != bundle_id:
                continue
            if ws_name and ws.workspace.get("WorkspaceName") != ws_name:
                continue
            if m.seq <= after:
                continue
            items.append((m.seq, ws))
        items.sort(key=lambda x: x[0])
        page = items[:page_size]
        out: dict[str, Any] = {"Workspaces": [_describe(ws) for _, ws in page]}
        # [DF5] "`Limit` 1-25; `NextToken`": a token only while more results remain.
        if len(items) > page_size:
            out["NextToken"] = _encode_token(page[-1][0], fhash)
        return out


def _describe(ws: Workspace) -> dict[str, Any]:
    d = ws.to_dict_pending()
    d["State"] = ws.state
    name = ws.workspace.get("WorkspaceName")
    if name:
        d["WorkspaceName"] = name
    return d


def _bundle_ids() -> set[str]:
    return {bd["BundleId"] for bd in AMAZON_BUNDLES}


def create_workspaces(b: WorkSpacesBackend, p: dict[str, Any], knobs: Knobs) -> dict[str, Any]:
    reqs = p.get("Workspaces")
    # [DF5] "CreateWorkspaces 1-25" / [API] WorkspaceRequestList min 1, max 25 -> the whole
    # request is refused with ValidationException [COMMON] (stock moto accepted any number).
    if not isinstance(reqs, list) or not reqs:
        raise validation_error("workspaces", reqs, "Member must have length greater than or equal to 1")
    if len(reqs) > MAX_BATCH:
        raise validation_error("workspaces", f"[{len(reqs)} items]",
                               "Member must have length less than or equal to 25")
    for i, r in enumerate(reqs):
        if not isinstance(r, dict):
            raise validation_error(f"workspaces.{i + 1}.member", r, "Member must be a structure")
        for field in ("DirectoryId", "UserName", "BundleId"):
            if not isinstance(r.get(field), str) or not r.get(field):
                raise validation_error(f"workspaces.{i + 1}.member.{field[0].lower() + field[1:]}",
                                       r.get(field), "Member must not be null")
        if not DIRECTORY_ID_RE.match(r["DirectoryId"]):
            raise validation_error(f"workspaces.{i + 1}.member.directoryId", r["DirectoryId"],
                                   "Member must satisfy regular expression pattern: "
                                   "^(d-[0-9a-f]{8,63}$)|(wsd-[0-9a-z]{8,63}$)")
        if not BUNDLE_ID_RE.match(r["BundleId"]):
            raise validation_error(f"workspaces.{i + 1}.member.bundleId", r["BundleId"],
                                   "Member must satisfy regular expression pattern: ^wsb-[0-9a-z]{8,63}$")
        # [DF5] "`UserName` 1-63 chars".
        if len(r["UserName"]) > 63:
            raise validation_error(f"workspaces.{i + 1}.member.userName", r["UserName"],
                                   "Member must have length less than or equal to 63")

    failed: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    cfg = knobs.snapshot()
    known = {u.casefold() for u in cfg["known_users"]} if cfg["known_users"] is not None else None

    def fail(req: dict[str, Any], code: str, message: str) -> None:
        # [DF5] "result = FailedRequests[{WorkspaceRequest, ErrorCode, ErrorMessage}] + PendingRequests".
        failed.append({"WorkspaceRequest": req, "ErrorCode": code, "ErrorMessage": message})

    now = time.monotonic()
    advance(b, now)
    with LOCK:
        for req in reqs:
            user = req["UserName"]
            injected = knobs.create_failure_for(user)
            if injected:  # knob: per-item failure for this username
                fail(req, injected["ErrorCode"], injected["ErrorMessage"])
                continue
            if req["DirectoryId"] not in b.workspace_directories:
                # The code stock moto uses; AWS answers this per item, not for the request.
                fail(req, "ResourceNotFound.Directory",
                     "The specified directory could not be found in the specified region.")
                continue
            if known is not None and user.casefold() not in known:
                # ErrorCode seen in real FailedRequests handling code (scripts that create
                # WorkSpaces check 'ResourceNotFound.User' next to 'ResourceExists.WorkSpace').
                fail(req, "ResourceNotFound.User", "The user could not be found in the directory.")
                continue
            if cfg["strict_bundles"] and req["BundleId"] not in _bundle_ids():
                # Not confirmed against AWS: code chosen by analogy with ResourceNotFound.Directory.
                fail(req, "ResourceNotFound.Bundle", "The specified bundle could not be found.")
                continue
            # One WorkSpace per user per directory: [DF5] usernames are "not case-sensitive";
            # a user who already has a WorkSpace that is not TERMINATED (PENDING, AVAILABLE,
            # TERMINATING, ...) - or one created earlier in this same batch - gets the per-item
            # error AWS returns: ErrorCode 'ResourceExists.WorkSpace', "A WorkSpace already
            # exists for the specified user." (seen in real FailedRequests). A TERMINATING
            # WorkSpace still blocks: terraform-provider-aws #14517 (replace = destroy/create
            # race) was fixed by #15705, waiting until the terminated WorkSpace's directory
            # metadata is cleaned up before creating again.
            clash = next(
                (ws for ws in b.workspaces.values()
                 if ws.directory_id == req["DirectoryId"]
                 and ws.user_name.casefold() == user.casefold()
                 and ws.state != "TERMINATED"),
                None,
            )
            if clash is not None:
                fail(req, "ResourceExists.WorkSpace", "A WorkSpace already exists for the specified user.")
                continue

            # Let moto build the WorkSpace (and apply its RunningMode/AutoStop checks) from a
            # copy of the request, then make it AWS-like.
            req_copy = json.loads(json.dumps(req))
            m_failed, m_pending = b.create_workspaces(workspaces=[req_copy])
            if m_failed:
                for f in m_failed:
                    fail(req, f.get("ErrorCode", "InvalidParameterValues"), f.get("ErrorMessage", ""))
                continue
            ws = b.workspaces[m_pending[0]["WorkspaceId"]]
            # [DF5] "CreateWorkspaces is async": a new WorkSpace is PENDING, AVAILABLE later.
            ws.state = "PENDING"
            ws._wsdr = Meta(  # type: ignore[attr-defined]
                seq=_next_seq(),
                visible_at=now + float(cfg["visibility_delay_seconds"]),
                available_at=now + float(cfg["pending_seconds"]),
            )
            # Tags given at creation are stored on the WorkSpace, one value per key.
            tags = {t["Key"]: t.get("Value", "") for t in (req.get("Tags") or [])}
            ws.tags = [{"Key": k, "Value": v} for k, v in tags.items()]
            pending.append(_describe(ws))
    return {"FailedRequests": failed, "PendingRequests": pending}


def terminate_workspaces(b: WorkSpacesBackend, p: dict[str, Any], knobs: Knobs) -> dict[str, Any]:
    ids = _change_requests(p, "TerminateWorkspaceRequests")
    cfg = knobs.snapshot()
    failed: list[dict[str, Any]] = []
    now = time.monotonic()
    advance(b, now)
    with LOCK:
        for wid in ids:
            ws = b.workspaces.get(wid)
            if ws is None or ws.state == "TERMINATED":
                failed.append(_not_found(wid))
                continue
            if ws.state == "SUSPENDED":
                # [DF5] "Terminate: any state except SUSPENDED".
                failed.append(_invalid_state(wid))
                continue
            if ws.state == "TERMINATING":
                continue  # already on its way out; terminating again is not an error
            # [DF5] "Terminate ... irreversible; TERMINATED shown only briefly - confirm by id
            # disappearing": TERMINATING, then TERMINATED (briefly), then gone.
            m = meta(ws)
            ws.state, m.next_state = "TERMINATING", None
            m.terminating_until = now + float(cfg["terminating_seconds"])
            m.gone_at = m.terminating_until + float(cfg["terminated_linger_seconds"])
    return {"FailedRequests": failed}


def _change_requests(p: dict[str, Any], field: str) -> list[str]:
    reqs = p.get(field)
    wire = field[0].lower() + field[1:]
    # [DF5] "Terminate/Start/Stop/Reboot 1-25" -> ValidationException beyond [COMMON].
    if not isinstance(reqs, list) or not reqs:
        raise validation_error(wire, reqs, "Member must have length greater than or equal to 1")
    if len(reqs) > MAX_BATCH:
        raise validation_error(wire, f"[{len(reqs)} items]",
                               "Member must have length less than or equal to 25")
    ids = []
    for i, r in enumerate(reqs):
        wid = r.get("WorkspaceId") if isinstance(r, dict) else None
        if not isinstance(wid, str) or not WORKSPACE_ID_RE.match(wid):
            raise validation_error(f"{wire}.{i + 1}.member.workspaceId", wid,
                                   "Member must satisfy regular expression pattern: ^ws-[0-9a-z]{8,63}$")
        ids.append(wid)
    return ids


def _not_found(wid: str) -> dict[str, str]:
    # Per item [API: FailedWorkspaceChangeRequest]. AWS does not publish the ErrorCode; this
    # one follows the 'ResourceNotFound.<Type>' form of the CreateWorkspaces codes.
    return {"WorkspaceId": wid, "ErrorCode": "ResourceNotFound.Workspace",
            "ErrorMessage": "The specified WorkSpace cannot be found. Confirm that the "
                            "workspace exists in your AWS account, and try again."}


def _invalid_state(wid: str) -> dict[str, str]:
    # ErrorCode not published by AWS either; named after the documented
    # InvalidResourceStateException.
    return {"WorkspaceId": wid, "ErrorCode": "InvalidResourceState",
            "ErrorMessage": "The specified WorkSpace has an invalid state for this operation."}


def _start_stop(b: WorkSpacesBackend, p: dict[str, Any], knobs: Knobs, field: str,
                allowed: tuple[str, ...], via: str, to: str) -> dict[str, Any]:
    ids = _change_requests(p, field)
    delay = float(knobs.snapshot()["pending_seconds"])
    failed: list[dict[str, str]] = []
    now = time.monotonic()
    advance(b, now)
    with LOCK:
        for wid in ids:
            ws = b.workspaces.get(wid)
            if ws is None or ws.state == "TERMINATED":
                failed.append(_not_found(wid))
                continue
            mode = (ws.workspace_properties or {}).get("RunningMode", "ALWAYS_ON")
            # [DF5] "Start: only AUTO_STOP/MANUAL in STOPPED. Stop: only AUTO_STOP/MANUAL in
            # AVAILABLE/IMPAIRED/UNHEALTHY/ERROR."
            if mode not in ("AUTO_STOP", "MANUAL") or ws.state not in allowed:
                failed.append(_invalid_state(wid))
                continue
            m = meta(ws)
            ws.state, m.next_state, m.next_at = via, to, now + delay
    return {"FailedRequests": failed}


def start_workspaces(b: WorkSpacesBackend, p: dict[str, Any], knobs: Knobs) -> dict[str, Any]:
    return _start_stop(b, p, knobs, "StartWorkspaceRequests", ("STOPPED",), "STARTING", "AVAILABLE")


def stop_workspaces(b: WorkSpacesBackend, p: dict[str, Any], knobs: Knobs) -> dict[str, Any]:
    return _start_stop(b, p, knobs, "StopWorkspaceRequests",
                       ("AVAILABLE", "IMPAIRED", "UNHEALTHY", "ERROR"), "STOPPING", "STOPPED")


def _resource_id(p: dict[str, Any]) -> str:
    rid = p.get("ResourceId")
    if not isinstance(rid, str) or not rid:
        raise validation_error("resourceId", rid, "Member must not be null")
    return rid


def create_tags(b: WorkSpacesBackend, p: dict[str, Any], knobs: Knobs) -> dict[str, Any]:
    rid = _resource_id(p)
    tags = p.get("Tags")
    if not isinstance(tags, list):
        raise validation_error("tags", tags, "Member must not be null")
    for t in tags:
        # [DF5] "Tags: key 1-127, value <=255".
        k, v = t.get("Key"), t.get("Value", "")
        if not isinstance(k, str) or not 1 <= len(k) <= 127:
            raise validation_error("tags.member.key", k, "Member must have length between 1 and 127")
        if not isinstance(v, str) or len(v) > 255:
            raise validation_error("tags.member.value", v, "Member must have length less than or equal to 255")
    advance(b)
    with LOCK:
        b.create_tags(rid, tags)  # patched above: upsert, ResourceNotFoundException
    return {}


def delete_tags(b: WorkSpacesBackend, p: dict[str, Any], knobs: Knobs) -> dict[str, Any]:
    rid = _resource_id(p)
    keys = p.get("TagKeys")
    if not isinstance(keys, list):
        raise validation_error("tagKeys", keys, "Member must not be null")
    advance(b)
    with LOCK:
        b.delete_tags(rid, keys)  # type: ignore[attr-defined]
    return {}


def describe_tags(b: WorkSpacesBackend, p: dict[str, Any], knobs: Knobs) -> dict[str, Any]:
    rid = _resource_id(p)
    advance(b)
    with LOCK:
        target = find_taggable(b, rid)
        if target is None:
            # [API] DescribeTags' only modelled error is ResourceNotFoundException.
            raise ApiError("ResourceNotFoundException", "The resource could not be found.")
        return {"TagList": [dict(t) for t in (target.tags or [])]}


def describe_workspace_bundles(b: WorkSpacesBackend, p: dict[str, Any], knobs: Knobs) -> dict[str, Any]:
    # [API] BundleIds (1-25) and Owner are mutually exclusive filters; no filter lists the
    # account's own bundles (none here), Owner=AMAZON lists AWS-owned bundles.
    ids = p.get("BundleIds")
    owner = p.get("Owner")
    if ids is not None and owner is not None:
        raise ApiError("InvalidParameterValuesException",
                       "BundleIds and Owner cannot be specified together.")
    if ids is not None:
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BATCH:
            raise validation_error("bundleIds", ids, "Member must have length between 1 and 25")
        bundles = [bd for bd in AMAZON_BUNDLES if bd["BundleId"] in ids]
    elif owner == "AMAZON":
        bundles = list(AMAZON_BUNDLES)
    else:
        bundles = []
    return {"Bundles": json.loads(json.dumps(bundles))}


HANDLERS: dict[str, Callable[[WorkSpacesBackend, dict[str, Any], Knobs], dict[str, Any]]] = {
    "DescribeWorkspaces": describe_workspaces,
    "CreateWorkspaces": create_workspaces,
    "TerminateWorkspaces": terminate_workspaces,
    "CreateTags": create_tags,
    "DeleteTags": delete_tags,
    "DescribeTags": describe_tags,
    "DescribeWorkspaceBundles": describe_workspace_bundles,
    "StartWorkspaces": start_workspaces,
    "StopWorkspaces": stop_workspaces,
}


def backend_for(account: str, region: str) -> WorkSpacesBackend:
    return workspaces_backends[account][region]


def settle_all() -> int:
    """Complete every pending transition in every account and region; returns how many
    backends were visited."""
    n = 0
    for account in list(workspaces_backends.keys()):
        for region in list(workspaces_backends[account].keys()):
            advance(workspaces_backends[account][region], settle=True)
            n += 1
    return n
