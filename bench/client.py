"""The benchmark's children: the responder process, and running an implementation in a process of its own."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.request

from bench.estate import Size


class Responder:
    """A responder child process for one size."""

    def __init__(self, size: Size, latency: float, rate: float) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.responder",
                "--size",
                size.label,
                "--latency",
                str(latency),
                "--rate",
                str(rate),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def _call(self, path: str, method: str = "GET") -> dict:
        request = urllib.request.Request(
            f"{self.endpoint}{path}", method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def stats(self) -> dict:
        """Counters since the last reset."""
        return self._call("/__stats")

    def reset(self, keep_reports: bool = False, rotate: int = 0) -> dict[str, str]:
        """Clear counters and throttling state, and the reports unless kept; rotate keys in `rotate`
        accounts (one user each). Returns account -> the user whose key was rotated."""
        query = "&".join(
            part
            for part in ("reports=keep" if keep_reports else "", f"rotate={rotate}" if rotate else "")
            if part
        )
        return self._call(f"/__reset?{query}", "POST")["rotated"]

    def stop(self) -> None:
        """Stop the child."""
        self.process.terminate()
        self.process.wait(timeout=10)


def child_environment(endpoint: str, args: argparse.Namespace) -> dict[str, str]:
    """Environment for a child: AWS pointed at the responder, iam-inventory settings from the options."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "POWERTOOLS_"))
    }
    return (
        environment
        | {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "NO_PROXY": "127.0.0.1",
            "POWERTOOLS_SERVICE_NAME": "iam-inventory",
            "POWERTOOLS_METRICS_NAMESPACE": "IAMInventoryBench",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "COLLECTION_MODE": args.mode,
            # Tags come with GetAccountAuthorizationDetails' user pages, so the budget holds with them on.
            "USER_TAG_KEYS": "owner,team",
        }
        | {
            # Unset: the defaults, as deployed (WORKERS sized to the estate and the CPUs).
            name: str(value)
            for name, value in (("WORKERS", args.workers), ("ACCOUNT_CONCURRENCY", args.account_concurrency))
            if value is not None
        }
    )


def run_child(command: list[str], environment: dict[str, str]) -> dict:
    """Run an implementation's command and read its JSON line (the last line it prints)."""
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{completed.stderr[-4000:]}")
    # Under --profile, py-spy prints its own lines after the implementation's.
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])
