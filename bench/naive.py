"""The naive way, as tutorials write it: one account after another, one call after another.

for each account: assume role; list users; for each user list access keys; for each key get last used.
Run: python -m bench.naive --endpoint URL --accounts FILE [--max-seconds N]; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import boto3


def scan_naive(account_ids: list[str], max_seconds: float) -> dict:
    """Scan accounts in order until done or `max_seconds` have passed (the account in hand is finished)."""
    started = time.monotonic()
    sts = boto3.client("sts")
    done = 0
    keys = users = 0
    for account_id in account_ids:
        if time.monotonic() - started > max_seconds:
            break
        credentials = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/IAMListRole", RoleSessionName="naive"
        )["Credentials"]
        iam = boto3.client(
            "iam",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        for page in iam.get_paginator("list_users").paginate():
            for user in page["Users"]:
                users += 1
                for key in iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]:
                    iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
                    keys += 1
        done += 1
    return {"accounts_done": done, "users": users, "keys": keys, "wall": time.monotonic() - started}


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.naive")
    parser.add_argument("--accounts", type=Path, required=True)
    parser.add_argument("--max-seconds", type=float, default=float("inf"))
    args = parser.parse_args()
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    result = scan_naive(args.accounts.read_text().split(), args.max_seconds)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result |= {"cpu": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
