"""Knobs (throttling, faults, latency, lifecycle delays), the token bucket and the call counters.

Everything here is process-wide and guarded by locks: the server is threaded.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from typing import Any

# Operation keys are "service:Operation" where service is the SigV4 signing name
# (workspaces, s3, sns, sqs, kms, events, tagging, ds, ec2, ...). Dict-valued knobs
# (latency_ms, faults) also accept "service:*" and "*".

DEFAULTS: dict[str, Any] = {
    # New WorkSpaces stay PENDING this long, then turn AVAILABLE (domain-facts s5:
    # "CreateWorkspaces is async"; "Newly created ids are not immediately describable").
    "pending_seconds": 1.0,
    # Terminated WorkSpaces stay TERMINATING this long (domain-facts s5: Terminate ...
    # "TERMINATED shown only briefly - confirm by id disappearing").
    "terminating_seconds": 1.0,
    # ... then TERMINATED this long before the id disappears (0: disappears at once).
    "terminated_linger_seconds": 0.0,
    # A new WorkSpace is invisible to DescribeWorkspaces for this long (0: visible at once).
    "visibility_delay_seconds": 0.0,
    # domain-facts s5 "Throttling [V]: documented default 2 calls/s sustained, burst 5".
    "throttle": {"enabled": True, "rate": 2.0, "burst": 5, "services": ["workspaces"]},
    # Extra latency in milliseconds per call, by operation key.
    "latency_ms": {},
    # Injected errors by operation key:
    #   {"next": N, "probability": P, "seed": S, "status": 500, "when": "before"|"after"}
    "faults": {},
    # Per-item CreateWorkspaces failures by username (case-insensitive):
    #   {"alice": {"ErrorCode": "...", "ErrorMessage": "..."}}
    "create_failures": {},
    # When a list: users that exist in every directory (case-insensitive); others fail
    # CreateWorkspaces with ResourceNotFound.User. null: every user exists.
    "known_users": None,
    # When true, CreateWorkspaces fails items whose BundleId is not a known bundle.
    "strict_bundles": False,
}

DICT_KNOBS = ("throttle", "latency_ms", "faults", "create_failures")


class ConfigError(ValueError):
    pass


def _num(value: Any, name: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}")
    return float(value)


class Knobs:
    """The live configuration plus the state derived from it (bucket, fault RNGs)."""

    def __init__(self, defaults: dict[str, Any]):
        self._lock = threading.RLock()
        self._defaults = copy.deepcopy(defaults)
        self._cfg: dict[str, Any] = {}
        self._rngs: dict[str, random.Random] = {}
        self.bucket = TokenBucket()
        self.reset()

    # -- configuration -----------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self._cfg = copy.deepcopy(self._defaults)
            self._rngs = {}
            self._apply_derived()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._cfg)

    def get(self, name: str) -> Any:
        with self._lock:
            return copy.deepcopy(self._cfg[name])

    def update(self, patch: dict[str, Any]) -> dict[str, Any]:
        """Merge a patch: scalar knobs are replaced; dict knobs are merged key by key and a
        key set to null is removed. Validates before applying anything."""
        if not isinstance(patch, dict):
            raise ConfigError("config patch must be a JSON object")
        with self._lock:
            new = copy.deepcopy(self._cfg)
            for key, value in patch.items():
                if key not in DEFAULTS:
                    raise ConfigError(f"unknown knob {key!r}; known: {sorted(DEFAULTS)}")
                if key in DICT_KNOBS:
                    if value is None:
                        new[key] = copy.deepcopy(DEFAULTS[key]) if key == "throttle" else {}
                        continue
                    if not isinstance(value, dict):
                        raise ConfigError(f"{key} must be an object")
                    for k, v in value.items():
                        if v is None:
                            new[key].pop(k, None)
                        else:
                            new[key][k] = copy.deepcopy(v)
                else:
                    new[key] = copy.deepcopy(value)
            validate(new)
            changed_faults = patch.get("faults") or {}
            for k in list(changed_faults):
                self._rngs.pop(k, None)
            self._cfg = new
            self._apply_derived()
            return copy.deepcopy(self._cfg)

    def _apply_derived(self) -> None:
        t = self._cfg["throttle"]
        self.bucket.configure(bool(t["enabled"]), float(t["rate"]), float(t["burst"]))

    # -- per-call decisions ----------------------------------------------------------------
    def latency_for(self, service: str, op: str) -> float:
        with self._lock:
            table = self._cfg["latency_ms"]
            for key in (f"{service}:{op}", f"{service}:*", "*"):
                if key in table:
                    return float(table[key]) / 1000.0
        return 0.0

    def throttles(self, service: str) -> bool:
        with self._lock:
            return service in self._cfg["throttle"]["services"]

    def take_fault(self, service: str, op: str) -> dict[str, Any] | None:
        """Decide whether this call gets an injected error; consumes one of `next` if so."""
        with self._lock:
            table = self._cfg["faults"]
            for key in (f"{service}:{op}", f"{service}:*", "*"):
                spec = table.get(key)
                if not spec:
                    continue
                fire = False
                nxt = int(spec.get("next", 0) or 0)
                if nxt > 0:
                    spec["next"] = nxt - 1
                    fire = True
                else:
                    p = float(spec.get("probability", 0) or 0)
                    if p > 0:
                        rng = self._rngs.get(key)
                        if rng is None:
                            rng = self._rngs[key] = random.Random(spec.get("seed", 0))
                        fire = rng.random() < p
                if fire:
                    return {
                        "key": key,
                        "status": int(spec.get("status", 500)),
                        "when": spec.get("when", "before"),
                        "message": spec.get("message", "Injected fault (wsdr emulator)"),
                    }
            return None

    def create_failure_for(self, username: str) -> dict[str, str] | None:
        with self._lock:
            for user, spec in self._cfg["create_failures"].items():
                if user.casefold() == username.casefold():
                    return {
                        "ErrorCode": str(spec.get("ErrorCode", "InternalError")),
                        "ErrorMessage": str(spec.get("ErrorMessage", "Injected failure")),
                    }
        return None


def validate(cfg: dict[str, Any]) -> None:
    for key in ("pending_seconds", "terminating_seconds", "terminated_linger_seconds",
                "visibility_delay_seconds"):
        _num(cfg[key], key)
    t = cfg["throttle"]
    for k in t:
        if k not in ("enabled", "rate", "burst", "services"):
            raise ConfigError(f"throttle.{k} is not a knob (enabled, rate, burst, services)")
    if not isinstance(t.get("enabled"), bool):
        raise ConfigError("throttle.enabled must be true or false")
    _num(t["rate"], "throttle.rate")
    _num(t["burst"], "throttle.burst", 1)
    if not isinstance(t["services"], list) or not all(isinstance(s, str) for s in t["services"]):
        raise ConfigError("throttle.services must be a list of service names")
    for k, v in cfg["latency_ms"].items():
        _num(v, f"latency_ms[{k!r}]")
    for k, spec in cfg["faults"].items():
        if not isinstance(spec, dict):
            raise ConfigError(f"faults[{k!r}] must be an object")
        for f in spec:
            if f not in ("next", "probability", "seed", "status", "when", "message"):
                raise ConfigError(f"faults[{k!r}].{f} is not a field")
        if "next" in spec:
            _num(spec["next"], f"faults[{k!r}].next")
        if "probability" in spec:
            p = _num(spec["probability"], f"faults[{k!r}].probability")
            if p > 1:
                raise ConfigError(f"faults[{k!r}].probability must be <= 1")
        status = spec.get("status", 500)
        if not isinstance(status, int) or not 500 <= status <= 599:
            raise ConfigError(f"faults[{k!r}].status must be a 5xx integer")
        if spec.get("when", "before") not in ("before", "after"):
            raise ConfigError(f"faults[{k!r}].when must be 'before' or 'after'")
    for user, spec in cfg["create_failures"].items():
        if not isinstance(spec, dict) or "ErrorCode" not in spec:
            raise ConfigError(f"create_failures[{user!r}] needs at least ErrorCode")
    ku = cfg["known_users"]
    if ku is not None and (not isinstance(ku, list) or not all(isinstance(u, str) for u in ku)):
        raise ConfigError("known_users must be null or a list of names")
    if not isinstance(cfg["strict_bundles"], bool):
        raise ConfigError("strict_bundles must be true or false")


class TokenBucket:
    """Classic token bucket: `burst` tokens, refilled at `rate` per second; one per call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.enabled = False
        self.rate = 0.0
        self.burst = 1.0
        self.tokens = 0.0
        self.stamp = time.monotonic()

    def configure(self, enabled: bool, rate: float, burst: float) -> None:
        with self._lock:
            self.enabled, self.rate, self.burst = enabled, rate, burst
            self.tokens = burst  # a (re)configured bucket starts full
            self.stamp = time.monotonic()

    def refill(self) -> None:
        with self._lock:
            self.tokens = self.burst
            self.stamp = time.monotonic()

    def try_take(self) -> bool:
        with self._lock:
            if not self.enabled:
                return True
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return True
            return False


class Counters:
    """Calls by "service:Operation": every request received (`calls`), and the subsets that
    were throttled, got an injected fault, or got another error status (>= 400)."""

    KINDS = ("calls", "throttled", "faulted", "errors")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._data: dict[str, dict[str, int]] = {k: {} for k in self.KINDS}
            self._since = time.time()

    def add(self, kind: str, key: str) -> None:
        with self._lock:
            table = self._data[kind]
            table[key] = table.get(key, 0) + 1

    def snapshot(self, reset: bool = False) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = {k: dict(sorted(v.items())) for k, v in self._data.items()}
            out["total_calls"] = sum(self._data["calls"].values())
            out["total_throttled"] = sum(self._data["throttled"].values())
            out["since"] = self._since
            if reset:
                self._data = {k: {} for k in self.KINDS}
                self._since = time.time()
            return out
