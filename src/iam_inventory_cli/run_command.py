"""`iam-inventory run`: settings from the environment and flags, preflight, the job, the summary."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import uuid
from typing import Any, TextIO

from iam_inventory.config.events import RunRequest
from iam_inventory.config.settings import ConfigError, Settings
from iam_inventory.core.clock import utcnow
from iam_inventory.models import AccountResult
from iam_inventory_cli.checks import (
    UsageError,
    access_denied_hint,
    check_cli_log_level,
    check_out_dir,
    parse_accounts,
)
from iam_inventory_cli.log_stream import logs_to
from iam_inventory_cli.tables import (
    exit_code,
    print_summary,
)


def command_run(args: argparse.Namespace, out: TextIO, err: TextIO | None = None) -> int:
    """`iam-inventory run`."""
    stream = err or sys.stderr
    with logs_to(stream, check_cli_log_level(os.environ)):
        return _run(args, out, stream)


# Flags that override a setting, by the environment variable they set: errors name the flag.
_FLAG_VARIABLES = {"region": "AWS_REGION", "role_name": "ROLE_NAME", "bucket": "REPORT_BUCKET"}


def settings_from_flags(args: argparse.Namespace, environ: dict[str, str]) -> Settings:
    """Settings from the environment with the flags laid over; an error names the flag it came from."""
    overrides = {variable: getattr(args, flag) for flag, variable in _FLAG_VARIABLES.items()}
    overrides["ACCOUNT_SOURCE"] = "organizations" if args.organization else None
    environ.update({name: value for name, value in overrides.items() if value})
    try:
        return Settings.from_env(environ)
    except ConfigError as error:
        message = str(error)
        for flag, variable in _FLAG_VARIABLES.items():
            if getattr(args, flag):
                message = message.replace(f"environment variable {variable}", "--" + flag.replace("_", "-"))
        raise ConfigError(message) from None


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from iam_inventory.assume.preflight import check_hub_credentials, check_report_bucket, open_hub
    from iam_inventory.entrypoints.bootstrap import bootstrap
    from iam_inventory.pipeline.finalize import Outputs
    from iam_inventory.pipeline.job import run_job
    from iam_inventory.pipeline.outcome import run_summary
    from iam_inventory.pipeline.runtime import hub_pool_size

    accounts = parse_accounts(args.accounts) if args.accounts else None
    environ = dict(os.environ)
    settings = settings_from_flags(args, environ)
    if not args.dry_run:
        if args.out is None and not settings.report_bucket:
            raise UsageError("run: say where the report goes: --out DIR or --bucket BUCKET (or --dry-run)")
        if args.out is not None:
            check_out_dir(args.out)
    event: dict[str, Any] = {"source": "manual", "dry_run": bool(args.dry_run)}
    if args.baseline:
        event["baseline"] = True
    if accounts:
        event["accounts"] = accounts
    request = RunRequest.from_event(event)
    factory = open_hub(settings, args.profile, max_pool_connections=hub_pool_size(settings))
    runtime = bootstrap(
        environ, default_log_level="WARNING", factory=factory, settings=settings, local_dir=args.out
    )
    # One early, clear stop instead of every account failing with the same credential error.
    check_hub_credentials(factory, f"--profile {args.profile}" if args.profile else "the default credentials")
    if settings.report_bucket and not args.dry_run:
        check_report_bucket(factory, settings.report_bucket, "--bucket" if args.bucket else "REPORT_BUCKET")
    bar = ProgressBar(err)
    findings_csv = io.BytesIO() if args.format == "csv" else None
    try:
        outputs = Outputs(
            progress=bar,
            findings_csv=findings_csv,
            exceptions_file=getattr(args, "exceptions", None),
        )
        outcome = run_job(request, runtime, utcnow, str(uuid.uuid4()), outputs)
    finally:
        bar.close()
    summary = run_summary(outcome)
    if args.format == "json":
        print(json.dumps(summary, indent=2), file=out)
    elif findings_csv is not None:
        out.write(findings_csv.getvalue().decode())
    else:
        print_summary(outcome, out)
    hint = access_denied_hint(outcome.accounts, settings)
    if hint:
        print(f"iam-inventory: {hint}", file=err)
    return exit_code(summary["accounts"])


class ProgressBar:
    """A tqdm bar on stderr, created at the first finished account and drawn only on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._bar: Any = None

    def __call__(self, result: AccountResult, done: int, total: int) -> None:
        """Advance by one finished account."""
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                file=self._stream,
                unit="account",
                desc="Scanning",
                disable=not self._stream.isatty(),
                leave=False,
                dynamic_ncols=True,
                # Each update is a whole account (seconds of work): draw every one, not every 0.1 s.
                mininterval=0,
            )
        self._bar.set_postfix_str(f"{result.account.account_id} {result.status.value}", refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        """Remove the bar before the summary is printed."""
        if self._bar is not None:
            self._bar.close()
