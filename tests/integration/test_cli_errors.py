"""User errors at the CLI: one line naming the flag, the documented exit code, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iam_inventory_cli import main as cli_main
from iam_inventory_cli import run_command as cli
from iam_inventory_cli import tables
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, KeySpec, UserSpec

CLI = str(Path(sys.executable).parent / "iam-inventory")
ACCOUNTS = "111111111111,222222222222"


def estate() -> tuple[AccountSpec, ...]:
    return (
        AccountSpec("111111111111", "a", users=(UserSpec("old", keys=(KeySpec(200, 1),)),)),
        AccountSpec("222222222222", "b", users=(UserSpec("web", console=True),)),
    )


@pytest.fixture
def spokes(simulator, seed, monkeypatch):
    seed(estate())
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    return simulator


def requests_during(simulator, capsys, argv: list[str]) -> tuple[str, int]:
    """stderr of a failing CLI call, and the number of AWS requests it made."""
    before = sum(simulator.faults.operations.values())
    err = fails_cleanly(capsys, argv)
    return err, sum(simulator.faults.operations.values()) - before


def fails_cleanly(capsys, argv: list[str], code: int = tables.EXIT_BAD_INPUT) -> str:
    """Run the CLI; assert the exit code and that stderr is one message without a traceback."""
    assert cli_main.main(argv) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_unknown_profile_stops_before_any_account_with_exit_2(spokes, capsys):
    # When
    err, requests = requests_during(
        spokes, capsys, ["run", "--profile", "nope", "--accounts", ACCOUNTS, "--dry-run"]
    )
    # Then
    assert err == "iam-inventory: --profile nope: The config profile (nope) could not be found\n"
    assert requests == 0


@pytest.mark.parametrize("below", [False, True], ids=["a file", "below a file"])
def test_out_that_is_a_file_or_unwritable_is_refused_before_scanning(spokes, tmp_path, capsys, below):
    # Given a file where the output directory should be
    blocker = tmp_path / "report.txt"
    blocker.write_text("not a directory")
    out = blocker / "sub" if below else blocker
    # When
    err, requests = requests_during(spokes, capsys, ["run", "--accounts", ACCOUNTS, "--out", str(out)])
    # Then
    expected = "cannot write there (Not a directory)" if below else "is a file, not a directory"
    assert err == f"iam-inventory: --out {out}: {expected}\n"
    assert requests == 0


def test_missing_bucket_is_found_with_head_bucket_before_scanning(spokes, capsys):
    assume_before = spokes.faults.operations["sts:AssumeRole"]
    err = fails_cleanly(capsys, ["run", "--accounts", ACCOUNTS, "--bucket", "no-such-bucket"])
    assert err == "iam-inventory: --bucket no-such-bucket: no such bucket\n"
    assert spokes.faults.operations["sts:AssumeRole"] == assume_before


def test_missing_out_names_the_flags_not_report_bucket(spokes, monkeypatch, capsys):
    monkeypatch.delenv("REPORT_BUCKET", raising=False)
    err = fails_cleanly(capsys, ["run", "--accounts", ACCOUNTS])
    assert (
        err == "iam-inventory: run: say where the report goes: --out DIR or --bucket BUCKET (or --dry-run)\n"
    )


@pytest.mark.parametrize(
    ("accounts", "message"),
    [
        ("123", "--accounts: not a 12-digit AWS account ID: '123'"),
        ("1,2,3,4,5", "--accounts: not a 12-digit AWS account ID: '1', '2', '3' and 2 more"),
        (",".join(str(10**11 + i) for i in range(10_001)), "--accounts: 10001 accounts given, at most 10000"),
    ],
    ids=["short", "several", "too many"],
)
def test_bad_accounts_flag_is_named_and_summarised(simulator, capsys, accounts, message):
    err = fails_cleanly(capsys, ["run", "--accounts", accounts, "--dry-run"])
    assert err.startswith(f"iam-inventory: {message}")
    assert "event" not in err
    assert len(err) < 200


def test_bad_flag_value_names_the_flag_not_the_variable(simulator, capsys):
    err = fails_cleanly(capsys, ["run", "--accounts", ACCOUNTS, "--dry-run", "--role-name", "bad name!"])
    assert "--role-name:" in err
    assert "ROLE_NAME" not in err


def test_no_credentials_stop_the_run_at_once_with_one_message(simulator, monkeypatch, capsys):
    # Given no credentials anywhere in the chain (and no instance metadata to ask)
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # When
    err = fails_cleanly(capsys, ["run", "--accounts", ACCOUNTS, "--dry-run"])
    # Then
    assert err.startswith("iam-inventory: no AWS credentials found (the default credentials)")
    assert err.count("\n") == 1


def test_unreachable_endpoint_stops_the_run_at_once_with_one_message(simulator, monkeypatch, capsys):
    # Given an endpoint nothing listens on (port 9, discard; connection refused on loopback)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MAX_ATTEMPTS", "1")
    err = fails_cleanly(capsys, ["run", "--accounts", ACCOUNTS, "--dry-run"])
    assert err.startswith(
        'iam-inventory: cannot reach AWS: Could not connect to the endpoint URL: "http://127.0.0.1:9/"'
    )
    assert err.count("\n") == 1


def test_every_account_access_denied_says_what_to_check(simulator, seed, monkeypatch, capsys):
    # Given spoke roles that require an ExternalId, and none configured
    seed(estate())
    monkeypatch.delenv("EXTERNAL_ID", raising=False)
    # When
    err = fails_cleanly(capsys, ["run", "--accounts", ACCOUNTS, "--dry-run"], code=tables.EXIT_ACCOUNT_FAILED)
    # Then
    assert "iam-inventory: every account (2) refused AssumeRole (AccessDenied). Check:\n" in err
    assert "no ExternalId is configured: set EXTERNAL_ID (CLI) or EXTERNAL_ID_PARAMETER" in err
    assert "trust policy names the hub principal" in err
    assert "the role exists in every spoke as /IAMListRole (--role-name, ROLE_NAME, ROLE_PATH)" in err


def test_one_failed_account_gives_no_access_denied_hint(spokes, capsys):
    # Given one reachable account and one without the role
    err = fails_cleanly(capsys, ["run", "--accounts", "111111111111,444444444444", "--dry-run"], code=1)
    assert "refused AssumeRole" not in err


def test_report_with_the_right_keys_but_bad_contents_is_refused_by_the_schema(tmp_path, capsys):
    # Given a file with every top-level key of a report, and nonsense inside
    path = tmp_path / "report.json"
    keys = ("run", "summary", "accounts", "inventory")
    path.write_text(json.dumps({"schema_version": "1.0", **{key: {} for key in keys}, "findings": "oops"}))
    # When
    err = fails_cleanly(capsys, ["report", str(path)])
    # Then
    assert err.startswith(f"iam-inventory: report file {path}: does not match the report schema: ")
    assert len(err) < 400


def test_non_utf8_event_file_is_refused(tmp_path, capsys):
    path = tmp_path / "event.json"
    path.write_bytes(b'{"source": "manual", "run_id": "caf\xe9"}')
    err = fails_cleanly(capsys, ["invoke", str(path)])
    assert err == f"iam-inventory: event file {path}: not UTF-8 text (byte 35)\n"


def test_event_with_10001_accounts_is_refused_in_a_few_lines(tmp_path, simulator, capsys):
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"accounts": [str(10**11 + i) for i in range(10_001)]}))
    err = fails_cleanly(capsys, ["invoke", str(path)])
    assert "at most 10000 items" in err
    assert "... 10001 items]" in err
    assert len(err) < 300


def test_unexpected_error_is_one_line_and_the_traceback_needs_debug(monkeypatch, tmp_path, capsys):
    # Given a bug somewhere inside a command
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_main, "command_report", broken)
    # When / Then
    err = fails_cleanly(capsys, ["report", str(tmp_path / "r.json")], code=cli_main.EXIT_UNEXPECTED)
    assert err == (
        "iam-inventory: unexpected error RuntimeError (a bug: run again with --debug for the traceback)\n"
    )
    assert cli_main.main(["report", str(tmp_path / "r.json"), "--debug"]) == cli_main.EXIT_UNEXPECTED
    assert "Traceback" in capsys.readouterr().err


def test_run_help_names_the_external_id_variables(capsys):
    with pytest.raises(SystemExit):
        cli_main.main(["run", "--help"])
    text = capsys.readouterr().out
    assert "EXTERNAL_ID " in text
    assert "EXTERNAL_ID_PARAMETER" in text


@pytest.fixture
def saved_report(spokes, tmp_path) -> Path:
    code = cli.command_run(
        cli_main.build_parser().parse_args(["run", "--accounts", ACCOUNTS, "--out", str(tmp_path)]),
        open(os.devnull, "w"),  # noqa: SIM115
    )
    assert code == tables.EXIT_OK
    return tmp_path / "report.json"


def test_unknown_log_level_does_not_break_report_and_is_refused_by_run(saved_report):
    # Given LOG_LEVEL=LOUD in the environment (a fresh process: the level is read at import)
    env = dict(os.environ, LOG_LEVEL="LOUD")
    # When
    report = subprocess.run([CLI, "report", str(saved_report)], env=env, capture_output=True, text=True)
    run = subprocess.run(
        [CLI, "run", "--accounts", ACCOUNTS, "--dry-run"], env=env, capture_output=True, text=True
    )
    # Then report works and run says what is wrong, neither with a traceback
    assert (report.returncode, report.stderr) == (0, "")
    assert "Accounts: 2 expected, 2 scanned" in report.stdout
    assert run.returncode == tables.EXIT_BAD_INPUT
    assert run.stderr == (
        "iam-inventory: invalid configuration: environment variable LOG_LEVEL: 'LOUD' is not one of "
        "DEBUG, INFO, WARNING, ERROR, CRITICAL\n"
    )


def test_output_into_a_closed_pipe_ends_quietly(saved_report):
    # Given a reader that went away before anything was written (`... | head` that already exited)
    process = subprocess.Popen(
        [CLI, "report", str(saved_report), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()
    # When
    _, err = process.communicate()
    # Then no BrokenPipeError traceback, and the shell's code for a closed pipe
    assert err == b""
    assert process.returncode == cli_main.EXIT_BROKEN_PIPE
