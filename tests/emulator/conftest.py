"""Fixtures: start the emulator launcher as a subprocess, stop it at the end."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config

HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
# Short lifecycle delays keep the suite fast; the tests that need them set their own.
FAST = ["--pending-seconds", "0.3", "--terminating-seconds", "0.3"]


class Emulator:
    def __init__(self, proc: subprocess.Popen[str], url: str):
        self.proc = proc
        self.url = url

    # control plane
    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/_wsdr/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def config(self, **patch: Any) -> Any:
        return self.control("POST", "config", patch)

    def counters(self, reset: bool = False) -> Any:
        return self.control("GET", "counters" + ("?reset=1" if reset else ""))

    def bootstrap(self, **body: Any) -> Any:
        return self.control("POST", "bootstrap", body)

    def client(self, service: str, **kw: Any) -> Any:
        return boto3.client(
            service,
            region_name=kw.pop("region", REGION),
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            # No client retries: the tests look at what the server answers to each call.
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                          s3={"addressing_style": "path"}),
            **kw,
        )


def start_emulator(*extra: str, ready_file: str | None = None,
                   timeout: float = 30.0) -> Emulator:
    cmd = [sys.executable, "-m", "wsdr_emulator", "--port", "0", *extra]
    if ready_file:
        cmd += ["--ready-file", ready_file]
    proc = subprocess.Popen(cmd, cwd=HERE, stdout=subprocess.PIPE, stderr=None, text=True,
                            env={**os.environ, "PYTHONPATH": str(HERE)})
    assert proc.stdout is not None
    # The launcher prints exactly one line when ready; wait for it with a deadline.
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        ready = sel.select(timeout)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("WSDR_EMULATOR_READY "):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"emulator did not get ready within {timeout}s: {line!r}")
    return Emulator(proc, line.split()[1])


def stop_emulator(emu: Emulator) -> int:
    emu.proc.send_signal(signal.SIGTERM)
    try:
        return emu.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        emu.proc.kill()
        raise


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emu = start_emulator(*FAST)
    try:
        yield emu
    finally:
        rc = stop_emulator(emu)
        assert rc == 0, f"emulator exited {rc} on SIGTERM"


@pytest.fixture
def emu(emulator: Emulator, request: pytest.FixtureRequest) -> Emulator:
    """Fresh state for each test: knobs back to the launcher's defaults, counters zero, moto
    state wiped; throttling off unless the test is marked `throttled`."""
    emulator.control("POST", "reset", {"state": True})
    if request.node.get_closest_marker("throttled") is None:
        emulator.config(throttle={"enabled": False})
    return emulator


@pytest.fixture
def dr(emu: Emulator) -> dict[str, Any]:
    """A registered DR directory and a bundle id."""
    return emu.bootstrap(region=REGION)


def make_requests(directory_id: str, bundle_id: str, users: list[str],
                  tags: list[dict[str, str]] | None = None) -> list[dict[str, Any]]:
    out = []
    for u in users:
        r: dict[str, Any] = {"DirectoryId": directory_id, "UserName": u, "BundleId": bundle_id}
        if tags is not None:
            r["Tags"] = tags
        out.append(r)
    return out


def wait_for(predicate: Any, timeout: float = 5.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
