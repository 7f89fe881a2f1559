"""A small Lambda Runtime API (2018-06-01) as the Lambda service serves it to a custom runtime's bootstrap.

What real Lambda does and cargo-lambda's local runtime does not: `Lambda-Runtime-Deadline-Ms` is the absolute
deadline in Unix milliseconds (now + the function's Timeout), not a duration. Headers of /next, as documented:
`Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn`,
`Lambda-Runtime-Trace-Id`. Endpoints: GET /invocation/next (blocks), POST /invocation/{id}/response,
POST /invocation/{id}/error (with `Lambda-Runtime-Function-Error-Type`), POST /init/error.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"


@dataclass
class Invocation:
    request_id: str
    event: bytes
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False
    body: Any = None
    error_type: str | None = None


class RuntimeApi:
    """One function's Runtime API on 127.0.0.1:<free port>."""

    def __init__(self, function_arn: str, timeout_seconds: int):
        self.function_arn = function_arn
        self.timeout_seconds = timeout_seconds
        self.pending: queue.Queue[Invocation] = queue.Queue()
        self.inflight: dict[str, Invocation] = {}
        self.first_next: float | None = None  # time.monotonic() of the first GET /next: init is over
        self.init_error: Any = None
        self.ready = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                if self.path != f"{PREFIX}/invocation/next":
                    return self._reply(404)
                if api.first_next is None:
                    api.first_next = time.monotonic()
                    api.ready.set()
                invocation = api.pending.get()
                api.inflight[invocation.request_id] = invocation
                deadline_ms = int(time.time() * 1000) + api.timeout_seconds * 1000
                self._reply(200, invocation.event, {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": api.function_arn,
                    "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
                })

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path == f"{PREFIX}/init/error":
                    api.init_error = _json(body)
                    api.ready.set()
                    return self._reply(202, b'{"status":"OK"}')
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    invocation = api.inflight.pop(parts[1], None)
                    if invocation is None:
                        return self._reply(400, b'{"errorType":"InvalidRequestID"}')
                    invocation.ok = parts[2] == "response"
                    invocation.body = _json(body)
                    invocation.error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
                    invocation.done.set()
                    return self._reply(202, b'{"status":"OK"}')
                return self._reply(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, event: Any, wait_seconds: float = 120) -> Invocation:
        invocation = Invocation(str(uuid.uuid4()), json.dumps(event).encode())
        self.pending.put(invocation)
        if not invocation.done.wait(wait_seconds):
            raise TimeoutError(f"{self.function_arn}: no answer in {wait_seconds} s")
        return invocation

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return body.decode("utf-8", "replace")
