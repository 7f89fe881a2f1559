"""The WSGI application: moto's server app wrapped in wsdr's middleware.

Per request: classify (service, operation, region, account) -> count -> latency ->
throttle (WorkSpaces) -> injected fault -> WorkSpaces handler or stock moto.
Requests under /_wsdr/ are the control plane (JSON in, JSON out; see README.md).
"""

from __future__ import annotations

import io
import json
import threading
import time
import traceback
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from . import __version__, cfn, workspaces
from .knobs import ConfigError, Counters, Knobs

cfn.install()

INTERNAL_HEADER = "HTTP_X_WSDR_INTERNAL"  # set by the emulator's own bootstrap calls
CONTROL_PREFIX = "/_wsdr/"

StartResponse = Callable[..., Any]


class RequestInfo:
    __slots__ = ("service", "op", "region", "account", "protocol")

    def __init__(self, service: str, op: str, region: str, account: str, protocol: str):
        self.service, self.op, self.region, self.account, self.protocol = (
            service, op, region, account, protocol)

    @property
    def key(self) -> str:
        return f"{self.service}:{self.op}"


_router_cache: dict[str, Any] = {}
_router_lock = threading.Lock()


def _rest_operation(service: str, environ: dict[str, Any]) -> str | None:
    """Operation name of a REST request (S3 ...) from method, path and query alone."""
    try:
        from moto.core.request import Request
        from moto.core.routing import get_service_router

        with _router_lock:
            router = _router_cache.get(service)
            if router is None:
                router = _router_cache[service] = get_service_router(service)
        # A shallow copy of the environ without the body: routing never needs it.
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(b"")
        env["CONTENT_LENGTH"] = "0"
        operation, _ = router.match(Request(env))
        return str(operation.name)
    except Exception:  # noqa: BLE001 - unknown shapes are counted under a fallback name
        return None


def _account_for(access_key: str | None) -> str:
    from moto.core import DEFAULT_ACCOUNT_ID

    if not access_key:
        return DEFAULT_ACCOUNT_ID
    try:
        from moto.iam.models import get_account_id_from

        return get_account_id_from(access_key)
    except Exception:  # noqa: BLE001
        return DEFAULT_ACCOUNT_ID


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back for the next reader."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def classify(environ: dict[str, Any]) -> RequestInfo:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    service, region, access_key = "unknown", "us-east-1", None
    cred = None
    if "Credential=" in auth:
        cred = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
    else:  # presigned URL: the credential scope is in the query string
        qcred = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential")
        cred = qcred[0] if qcred else None
    if cred:
        try:
            access_key, _date, region, service, _term = cred.split("/")
        except ValueError:
            pass
    elif auth.startswith("AWS ") or "AWSAccessKeyId=" in environ.get("QUERY_STRING", ""):
        service = "s3"  # SigV2 (header or presigned query): only S3 still accepts it
    target = environ.get("HTTP_X_AMZ_TARGET")
    ctype = environ.get("CONTENT_TYPE", "")
    op: str | None = None
    protocol = "rest"
    if target:
        op = target.split(".")[-1]
        protocol = "json"
    else:
        qs = parse_qs(environ.get("QUERY_STRING", ""))
        if "Action" in qs:
            op, protocol = qs["Action"][0], "query"
        elif ctype.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(_read_body(environ).decode("utf-8", "replace"))
            if "Action" in form:
                op, protocol = form["Action"][0], "query"
    if op is None:
        op = _rest_operation(service, environ) if service != "unknown" else None
        if op is None:
            op = f"{environ.get('REQUEST_METHOD', 'GET')} (unrouted)"
    return RequestInfo(service, op, region, _account_for(access_key), protocol)


def _json_response(start_response: StartResponse, status: int, doc: Any,
                   content_type: str = "application/json",
                   extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = json.dumps(doc, default=str).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error",
              503: "Service Unavailable"}.get(status, "Status")
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))),
               ("x-amzn-RequestId", str(uuid.uuid4()))]
    headers.extend(extra or [])
    start_response(f"{status} {reason}", headers)
    return [body]


def _aws_error(start_response: StartResponse, info: RequestInfo, status: int, code: str,
               message: str) -> list[bytes]:
    """An error in the protocol the caller speaks: JSON 1.1 {"__type","message"} for
    X-Amz-Target services (WorkSpaces, KMS, EventBridge, Tagging, SQS-JSON), XML otherwise."""
    if info.protocol == "json":
        return _json_response(start_response, status, {"__type": code, "message": message},
                              content_type="application/x-amz-json-1.1")
    rid = str(uuid.uuid4())
    if info.protocol == "query":
        xml = (f"<ErrorResponse><Error><Type>{'Receiver' if status >= 500 else 'Sender'}</Type>"
               f"<Code>{code}</Code><Message>{message}</Message></Error>"
               f"<RequestId>{rid}</RequestId></ErrorResponse>")
    else:
        xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
               f"<Message>{message}</Message><RequestId>{rid}</RequestId></Error>")
    body = xml.encode()
    reason = "Service Unavailable" if status == 503 else "Error"
    start_response(f"{status} {reason}", [("Content-Type", "application/xml"),
                                          ("Content-Length", str(len(body))),
                                          ("x-amzn-RequestId", rid)])
    return [body]


class EmulatorApp:
    def __init__(self, knobs: Knobs, log: Callable[[str], None] | None = None,
                 call_log: str | None = None):
        self.knobs = knobs
        # --call-log FILE: one JSON line per AWS call (who, what, on which request), for tests/deploy's IAM check.
        self.call_log = open(call_log, "a", encoding="utf-8") if call_log else None  # noqa: SIM115
        self.call_log_lock = threading.Lock()
        self.counters = Counters()
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.base_url = ""  # set by the launcher once the port is known
        self.started = time.time()
        self.log = log or (lambda _msg: None)

    # -- WSGI entry ---------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX) or path == CONTROL_PREFIX.rstrip("/"):
            return self.control(environ, start_response)
        try:
            info = classify(environ)
        except Exception:  # noqa: BLE001 - never let classification break a request
            return self.moto(environ, start_response)
        if environ.get(INTERNAL_HEADER):
            return self.dispatch(info, environ, start_response)
        key = info.key
        self.counters.add("calls", key)
        if self.call_log is not None:
            self._log_call(info, environ)

        delay = self.knobs.latency_for(info.service, info.op)
        if delay > 0:
            time.sleep(delay)

        # domain-facts s5 "Throttling [V]: documented default 2 calls/s sustained, burst 5;
        # ThrottlingException": HTTP 400 with the JSON 1.1 error body AWS sends,
        # {"__type":"ThrottlingException","message":"Rate exceeded"}; the AWS SDKs (Rust
        # included) list the code ThrottlingException among their throttling errors.
        if self.knobs.throttles(info.service) and not self.knobs.bucket.try_take():
            self.counters.add("throttled", key)
            return _aws_error(start_response, info, 400, "ThrottlingException", "Rate exceeded")

        fault = self.knobs.take_fault(info.service, info.op)
        if fault and fault["when"] == "before":
            self.counters.add("faulted", key)
            return self._fault(start_response, info, fault)

        status_box: list[int] = []

        def recording_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            status_box.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        if fault:  # when == "after": the operation happens, the caller still sees a 5xx
            discard: list[Any] = []
            result = self.dispatch(info, environ, lambda s, h, e=None: discard.append(s))
            try:
                for _ in result:
                    pass
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
            self.counters.add("faulted", key)
            return self._fault(start_response, info, fault)

        result = self.dispatch(info, environ, recording_start_response)
        if status_box and status_box[0] >= 400:
            self.counters.add("errors", key)
        return result

    def _log_call(self, info: RequestInfo, environ: dict[str, Any]) -> None:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        access_key = auth.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in auth else None
        body = _read_body(environ)
        line = json.dumps({
            "access_key": access_key, "service": info.service, "operation": info.op, "region": info.region,
            "method": environ.get("REQUEST_METHOD"), "path": environ.get("PATH_INFO", ""),
            "query": environ.get("QUERY_STRING", ""), "target": environ.get("HTTP_X_AMZ_TARGET"),
            "body": body[:65536].decode("utf-8", "replace"),
        })
        with self.call_log_lock:
            self.call_log.write(line + "\n")
            self.call_log.flush()

    def _fault(self, start_response: StartResponse, info: RequestInfo,
               fault: dict[str, Any]) -> list[bytes]:
        status = fault["status"]
        code = "ServiceUnavailable" if status == 503 else (
            "InternalFailure" if info.protocol != "rest" else "InternalError")
        return _aws_error(start_response, info, status, code, fault["message"])

    def dispatch(self, info: RequestInfo, environ: dict[str, Any],
                 start_response: StartResponse) -> Iterable[bytes]:
        if info.service == "workspaces" and info.op in workspaces.HANDLERS:
            return self.workspaces_call(info, environ, start_response)
        return self.moto(environ, start_response)

    def workspaces_call(self, info: RequestInfo, environ: dict[str, Any],
                        start_response: StartResponse) -> list[bytes]:
        body = _read_body(environ)
        try:
            params = json.loads(body or b"{}")
            if not isinstance(params, dict):
                raise ValueError("body is not an object")
        except ValueError:
            return _json_response(start_response, 400,
                                  {"__type": "SerializationException",
                                   "message": "Request body is not valid JSON"},
                                  content_type="application/x-amz-json-1.1")
        try:
            backend = workspaces.backend_for(info.account, info.region)
            doc = workspaces.HANDLERS[info.op](backend, params, self.knobs)
        except workspaces.ApiError as e:
            return _json_response(start_response, e.status, {"__type": e.type, "message": e.message},
                                  content_type="application/x-amz-json-1.1")
        except KeyError as e:
            return _json_response(start_response, 400,
                                  {"__type": "InvalidParameterValuesException",
                                   "message": f"Unknown region or resource: {e}"},
                                  content_type="application/x-amz-json-1.1")
        except Exception as e:  # noqa: BLE001
            self.log(traceback.format_exc())
            return _json_response(start_response, 500,
                                  {"__type": "InternalFailure", "message": f"emulator error: {e}"},
                                  content_type="application/x-amz-json-1.1")
        return _json_response(start_response, 200, doc, content_type="application/x-amz-json-1.1")

    # -- control plane ------------------------------------------------------------------
    def control(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")[len(CONTROL_PREFIX):].strip("/")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        try:
            raw = _read_body(environ)
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return _json_response(start_response, 400, {"error": "body is not valid JSON"})
        try:
            doc = self._control(method, path, query, body)
        except ConfigError as e:
            return _json_response(start_response, 400, {"error": str(e)})
        except LookupError as e:
            return _json_response(start_response, 404, {"error": str(e)})
        except Exception as e:  # noqa: BLE001
            self.log(traceback.format_exc())
            return _json_response(start_response, 500, {"error": f"{type(e).__name__}: {e}"})
        return _json_response(start_response, 200, doc)

    def _control(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        import moto

        if path == "health" and method == "GET":
            return {"ok": True, "version": __version__, "moto": moto.__version__,
                    "url": self.base_url, "uptime_seconds": round(time.time() - self.started, 3)}
        if path == "config":
            if method == "GET":
                return self.knobs.snapshot()
            if method in ("POST", "PATCH", "PUT"):
                return self.knobs.update(body)
        if path == "counters":
            if method == "GET":
                flag = (query.get("reset") or ["0"])[0].lower()
                return self.counters.snapshot(reset=flag in ("1", "true", "yes"))
            if method in ("POST", "DELETE"):  # POST /_wsdr/counters: read and reset
                return self.counters.snapshot(reset=True)
        if path == "reset" and method == "POST":
            body = body or {}
            self.knobs.reset()
            self.counters.reset()
            wiped = False
            if body.get("state", True):
                from moto.moto_api import _internal

                _internal.moto_api_backend.reset()
                wiped = True
            return {"ok": True, "state_wiped": wiped, "config": self.knobs.snapshot()}
        if path == "settle" and method == "POST":
            workspaces.settle_all()
            return {"ok": True}
        if path == "bootstrap" and method == "POST":
            from .bootstrap import bootstrap

            return bootstrap(self.base_url, body or {})
        raise LookupError(f"no control endpoint {method} /_wsdr/{path}")
