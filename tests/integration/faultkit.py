"""Fault rules for the simulator's fault layer, and the invariants every faulted run must keep."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import boto3

from iam_inventory.entrypoints import handlers as handler
from iam_inventory.publish.render.schema import report_schema_errors
from iam_inventory_sim import Fault, SimRequest
from tests.integration.conftest import read_s3_json
from tests.integration.fanout_machine import deploy, running_interpreter

RUN_DAY = "2026-11-23"  # the day of tests.builders.NOW


@dataclass
class InjectedFaults:
    """A fault rule that counts what it injected, per spoke account (thread-safe)."""

    decide: Callable[[SimRequest, int], Fault | None]
    injected: Counter[str] = field(default_factory=Counter)
    _seen: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: SimRequest) -> Fault | None:
        """The fault for this request, if any; `decide` gets the request's arrival number per account."""
        with self._lock:
            self._seen[request.caller_account] += 1
            arrival = self._seen[request.caller_account]
        fault = self.decide(request, arrival)
        if fault is not None:
            with self._lock:
                self.injected[request.caller_account] += 1
        return fault


def throttling_storm(rate: float, seed: int) -> InjectedFaults:
    """Answer `rate` of IAM calls with Throttling, chosen by a seeded hash of the request itself.

    Hashing (seed, account, action, parameters, nth identical request) instead of drawing from one
    shared random stream keeps the choice independent of thread scheduling, so runs are repeatable.
    """
    repeats: Counter[str] = Counter()
    lock = threading.Lock()

    def decide(request: SimRequest, _arrival: int) -> Fault | None:
        if request.service != "iam":
            return None
        identity = f"{request.caller_account}|{request.action}|{sorted(request.params.items())}"
        with lock:
            repeats[identity] += 1
            nth = repeats[identity]
        digest = hashlib.sha256(f"{seed}|{identity}|{nth}".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 < rate:
            return Fault("Throttling", "Rate exceeded", status=400)
        return None

    return InjectedFaults(decide)


def server_error_burst(
    first: int, length: int, accounts: Iterable[str] | None = None, alternate: bool = True
) -> InjectedFaults:
    """Answer IAM requests number first..first+length-1 of each account with 503 (alternating with 500)."""
    only = set(accounts) if accounts is not None else None

    def decide(request: SimRequest, arrival: int) -> Fault | None:
        if request.service != "iam" or (only is not None and request.caller_account not in only):
            return None
        if first <= arrival < first + length:
            if arrival % 2 or not alternate:
                return Fault("ServiceUnavailable", "Service unavailable", status=503, sender=False)
            return Fault("InternalFailure", "Internal failure", status=500, sender=False)
        return None

    return InjectedFaults(decide)


# The two ways a run is deployed: one Lambda, or the fan-out state machine (statemachine/fanout.asl.json).
MODES = ("single", "fanout")


def invoke(event: dict, lambda_context: object, mode: str = "single") -> dict:
    """The run summary of the real Lambda handler, or of an execution of the fan-out state machine on
    moto's interpreter (tests/integration/fanout_machine.py); a failed execution raises ExecutionFailed."""
    if mode == "fanout":
        with running_interpreter(os.environ["AWS_ENDPOINT_URL"]):
            return deploy().run_to_output(event)
    return handler.lambda_handler(event, lambda_context)


def manual_event(run_id: str, accounts: Iterable[str]) -> dict:
    """A manual event with a known run id, so the test knows where the report lands."""
    return {"source": "manual", "run_id": run_id, "accounts": list(accounts)}


def baseline_event(run_id: str) -> dict:
    """A manual event over the configured accounts that asks to become the baseline (moves latest.json)."""
    return {"source": "manual", "run_id": run_id, "baseline": True}


def run_report(bucket: str, run_id: str, prefix: str = "iam-inventory") -> dict:
    """The report.json a run wrote to S3 (a manual event naming its accounts publishes under manual/)."""
    try:
        return read_s3_json(bucket, f"{prefix}/manual/runs/dt={RUN_DAY}/{run_id}/report.json")
    except boto3.client("s3").exceptions.NoSuchKey:
        return read_s3_json(bucket, f"{prefix}/runs/dt={RUN_DAY}/{run_id}/report.json")


def assert_run_invariants(report: dict, discovered: Iterable[str]) -> None:
    """Each discovered account exactly once, no duplicate findings or users, a schema-valid report."""
    discovered = list(discovered)
    listed = [entry["account_id"] for entry in report["accounts"]]
    assert sorted(listed) == sorted(set(discovered)), "every discovered account appears exactly once"
    inventoried = [entry["account_id"] for entry in report["inventory"]]
    assert len(inventoried) == len(set(inventoried))
    scanned = {entry["account_id"] for entry in report["accounts"] if entry["status"] == "scanned"}
    assert set(inventoried) == scanned
    for entry in report["inventory"]:
        names = [user["user_name"] for user in entry["users"]]
        assert len(names) == len(set(names)), f"duplicate users in {entry['account_id']}"
    finding_ids = [finding["finding_id"] for finding in report["findings"]]
    assert len(finding_ids) == len(set(finding_ids)), "duplicate findings"
    identities = [
        (f["account_id"], f["user_name"], f["access_key_id"], f["rule_id"]) for f in report["findings"]
    ]
    assert len(identities) == len(set(identities))
    assert report["summary"]["accounts"]["expected"] == len(discovered)
    assert report_schema_errors(report) == []


def s3_keys(bucket: str) -> set[str]:
    """Every key in the bucket."""
    response = boto3.client("s3").list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in response.get("Contents", [])}
