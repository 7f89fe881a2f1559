"""POST /_wsdr/bootstrap: a registered WorkSpaces directory and a bundle id in one call.

moto's RegisterWorkspaceDirectory needs an AWS Directory Service directory, which needs a
VPC and two subnets in different Availability Zones. This does those steps through the
emulator's own API (boto3 over HTTP to itself, marked internal so they are neither counted,
throttled nor faulted) and is idempotent per (region, directory name).
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from .workspaces import AMAZON_BUNDLES, DEFAULT_BUNDLE_ID

_lock = threading.Lock()


def _client(base_url: str, service: str, region: str) -> Any:
    client = boto3.client(
        service,
        region_name=region,
        endpoint_url=base_url,
        aws_access_key_id="wsdr-emulator",
        aws_secret_access_key="wsdr-emulator",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )

    def mark_internal(request: Any, **_kwargs: Any) -> None:
        request.headers["X-Wsdr-Internal"] = "1"

    client.meta.events.register("before-send.*.*", mark_internal)
    return client


def bootstrap(base_url: str, body: dict[str, Any]) -> dict[str, Any]:
    region = str(body.get("region", "us-east-1"))
    name = str(body.get("directory_name", "corp.example.com"))
    cidr = str(body.get("vpc_cidr", "10.42.0.0/16"))
    with _lock:
        ds = _client(base_url, "ds", region)
        ws = _client(base_url, "workspaces", region)

        existing = [d for d in ds.describe_directories()["DirectoryDescriptions"] if d["Name"] == name]
        registered = {d["DirectoryId"]: d for d in ws.describe_workspace_directories()["Directories"]}
        created = False
        if existing:
            directory_id = existing[0]["DirectoryId"]
            vpc_id = existing[0]["VpcSettings"]["VpcId"]
            subnet_ids = existing[0]["VpcSettings"]["SubnetIds"]
        else:
            ec2 = _client(base_url, "ec2", region)
            vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
            base = cidr.split("/")[0].rsplit(".", 2)[0]  # "10.42"
            subnet_ids = [
                ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"{base}.{i}.0/24",
                                  AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"]
                for i, az in ((1, "a"), (2, "b"))
            ]
            directory_id = ds.create_directory(
                Name=name,
                ShortName=name.split(".")[0].upper()[:15],
                Password="Emulat0r-Passw0rd!",
                Size="Small",
                VpcSettings={"VpcId": vpc_id, "SubnetIds": subnet_ids},
            )["DirectoryId"]
            created = True
        if directory_id not in registered:
            ws.register_workspace_directory(DirectoryId=directory_id, SubnetIds=subnet_ids,
                                            EnableSelfService=False, Tenancy="SHARED")
            created = True
        d = ws.describe_workspace_directories(DirectoryIds=[directory_id])["Directories"][0]
        return {
            "region": region,
            "directory_id": directory_id,
            "directory_name": name,
            "registration_code": d.get("RegistrationCode"),
            "bundle_id": DEFAULT_BUNDLE_ID,
            "bundle_ids": [b["BundleId"] for b in AMAZON_BUNDLES],
            "vpc_id": vpc_id,
            "subnet_ids": subnet_ids,
            "created": created,
        }
