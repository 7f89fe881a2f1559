"""Launcher: ``python -m wsdr_emulator --port 0 [--ready-file F] [knob defaults...]``.

Binds 127.0.0.1 only, prints one line ``WSDR_EMULATOR_READY http://127.0.0.1:PORT`` on stdout
once the socket accepts connections (and writes the URL to --ready-file, atomically), then
serves until SIGTERM/SIGINT (or, with --exit-with-parent, until its parent dies).
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from . import READY_PREFIX, __version__


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m wsdr_emulator",
                                description="moto server with AWS-faithful WorkSpaces behaviour")
    p.add_argument("--host", default="127.0.0.1",
                   help="loopback address to bind (default 127.0.0.1; must be in 127.0.0.0/8 or ::1)")
    p.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default 0)")
    p.add_argument("--ready-file", help="write the base URL here (atomically) once ready")
    p.add_argument("--pending-seconds", type=float, default=1.0,
                   help="PENDING -> AVAILABLE delay for new WorkSpaces (default 1.0)")
    p.add_argument("--terminating-seconds", type=float, default=1.0,
                   help="TERMINATING duration after TerminateWorkspaces (default 1.0)")
    p.add_argument("--terminated-linger-seconds", type=float, default=0.0,
                   help="how long TERMINATED is shown before the id disappears (default 0)")
    p.add_argument("--visibility-delay-seconds", type=float, default=0.0,
                   help="new WorkSpaces invisible to DescribeWorkspaces this long (default 0)")
    p.add_argument("--throttle-rate", type=float, default=2.0,
                   help="WorkSpaces API sustained calls per second (default 2)")
    p.add_argument("--throttle-burst", type=float, default=5,
                   help="WorkSpaces API burst size (default 5)")
    p.add_argument("--no-throttle", action="store_true", help="turn throttling off")
    p.add_argument("--latency-ms", type=float, default=0.0,
                   help="added latency for every WorkSpaces call, in ms (default 0)")
    p.add_argument("--fault-probability", type=float, default=0.0,
                   help="probability of an injected 5xx on every WorkSpaces call (default 0)")
    p.add_argument("--fault-seed", type=int, default=0, help="seed for --fault-probability (default 0)")
    p.add_argument("--fault-status", type=int, default=500, help="status of injected faults (default 500)")
    p.add_argument("--config-json",
                   help="a JSON object merged over the defaults, same shape as POST /_wsdr/config")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="exit when the parent process dies (Linux: PR_SET_PDEATHSIG)")
    p.add_argument("--log-requests", action="store_true", help="log every request to stderr")
    p.add_argument("--call-log", help="append one JSON line per AWS call to this file (caller's access key, "
                   "service, operation, path, query, body)")
    p.add_argument("--version", action="version", version=f"wsdr_emulator {__version__}")
    return p.parse_args(argv)


def build_defaults(args: argparse.Namespace) -> dict[str, Any]:
    from .knobs import DEFAULTS, Knobs

    d = copy.deepcopy(DEFAULTS)
    d["pending_seconds"] = args.pending_seconds
    d["terminating_seconds"] = args.terminating_seconds
    d["terminated_linger_seconds"] = args.terminated_linger_seconds
    d["visibility_delay_seconds"] = args.visibility_delay_seconds
    d["throttle"].update({"enabled": not args.no_throttle, "rate": args.throttle_rate,
                          "burst": args.throttle_burst})
    if args.latency_ms:
        d["latency_ms"]["workspaces:*"] = args.latency_ms
    if args.fault_probability:
        d["faults"]["workspaces:*"] = {"probability": args.fault_probability,
                                       "seed": args.fault_seed, "status": args.fault_status}
    if args.config_json:
        probe = Knobs(d)
        probe.update(json.loads(args.config_json))
        d = probe.snapshot()
    from .knobs import validate

    validate(d)
    return d


def _set_pdeathsig() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:  # noqa: BLE001 - best effort; the parent watcher below covers the rest
        pass


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (args.host.startswith("127.") or args.host in ("::1", "localhost")):
        print(f"refusing to bind {args.host}: loopback only", file=sys.stderr)
        return 2
    # Quiet moto/werkzeug unless asked; the harness reads stdout for the ready line.
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.log_requests else logging.ERROR)

    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    from .app import EmulatorApp
    from .knobs import ConfigError, Knobs

    try:
        defaults = build_defaults(args)
    except (ConfigError, ValueError) as e:
        print(f"bad knob: {e}", file=sys.stderr)
        return 2

    app = EmulatorApp(Knobs(defaults), log=lambda m: print(m, file=sys.stderr, flush=True),
                      call_log=args.call_log)
    server = make_server(args.host, args.port, app, threaded=True,
                         request_handler=MotoRequestHandler)
    # make_server has bound and is listening: connections queue from here on.
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{server.server_port}"
    app.base_url = url

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.exit_with_parent:
        _set_pdeathsig()
        parent = os.getppid()

        def watch_parent() -> None:
            while not stop.is_set():
                if os.getppid() != parent:
                    stop.set()
                time.sleep(0.5)

        threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="wsdr-emulator", daemon=True)
    thread.start()

    if args.ready_file:
        tmp = f"{args.ready_file}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(url + "\n")
        os.replace(tmp, args.ready_file)
    print(f"{READY_PREFIX} {url}", flush=True)

    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    print("wsdr emulator stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
