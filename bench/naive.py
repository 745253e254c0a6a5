"""The naive ways, as tutorials write them: one account after another, one call after another, or the
same loop with a thread pool over accounts (what a user writes first when the loop is too slow).

per account: assume role; list users; for each user list access keys; for each key get last used.
Run: python -m bench.naive --accounts FILE [--threads N] [--max-seconds N]; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3


def scan_one(account_id: str) -> tuple[int, int]:
    """The tutorial loop for one account: (users, keys)."""
    # A session per account: boto3's default session is not thread-safe, and a user who adds threads
    # finds that out first.
    session = boto3.session.Session()
    credentials = session.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/IAMListRole", RoleSessionName="naive"
    )["Credentials"]
    iam = session.client(
        "iam",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    users = keys = 0
    for page in iam.get_paginator("list_users").paginate():
        for user in page["Users"]:
            users += 1
            for key in iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]:
                iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
                keys += 1
    return users, keys


def scan_naive(account_ids: list[str], max_seconds: float, threads: int = 1) -> dict:
    """Scan accounts (`threads` at a time) until done or `max_seconds` have passed (started ones finish)."""
    started = time.monotonic()
    totals = {"accounts_done": 0, "users": 0, "keys": 0}
    lock = threading.Lock()

    def scan(account_id: str) -> None:
        if time.monotonic() - started > max_seconds:
            return
        users, keys = scan_one(account_id)
        with lock:
            totals["accounts_done"] += 1
            totals["users"] += users
            totals["keys"] += keys

    if threads <= 1:
        for account_id in account_ids:
            scan(account_id)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(scan, account_ids))
    return {**totals, "wall": time.monotonic() - started}


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.naive")
    parser.add_argument("--accounts", type=Path, required=True)
    parser.add_argument("--max-seconds", type=float, default=float("inf"))
    parser.add_argument("--threads", type=int, default=1, help="accounts at once (1: sequential)")
    args = parser.parse_args()
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    result = scan_naive(args.accounts.read_text().split(), args.max_seconds, args.threads)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result |= {"cpu": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
