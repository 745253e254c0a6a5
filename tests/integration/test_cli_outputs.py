"""The CLI for an engineer at a terminal: formats, progress bar, `report`, --help, AWS CLI-style profiles."""

from __future__ import annotations

import csv
import io
import json

import boto3
import pytest

from iam_inventory.publish.render.rows import FINDINGS_CSV_COLUMNS
from iam_inventory_cli import main as cli_main
from iam_inventory_cli import report_command, run_command, tables
from iam_inventory_sim import DEMO_EXTERNAL_ID, HUB_ACCOUNT_ID, AccountSpec, KeySpec, UserSpec
from iam_inventory_sim.estate import spoke_trust_policy


class FakeTerminal(io.StringIO):
    """A stderr that says it is a terminal, so the progress bar draws."""

    def isatty(self) -> bool:
        return True


def estate() -> tuple[AccountSpec, ...]:
    return (
        AccountSpec(
            "111111111111", "a", users=(UserSpec("old", keys=(KeySpec(200, 1),), tags={"team": "x"}),)
        ),
        AccountSpec("222222222222", "b", users=(UserSpec("web", console=True),)),
    )


@pytest.fixture
def spokes(simulator, seed, monkeypatch):
    seed(estate())
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    return "111111111111,222222222222"


def run_cli(argv: list[str], err: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), err if err is not None else io.StringIO()
    code = run_command.command_run(cli_main.build_parser().parse_args(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_format_csv_prints_only_the_findings_csv_on_stdout(spokes):
    # When
    code, out, _ = run_cli(["run", "--accounts", spokes, "--dry-run", "--format", "csv"])
    # Then stdout is a CSV with the documented header and one row per finding; no log line slipped in
    assert code == tables.EXIT_OK
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == FINDINGS_CSV_COLUMNS
    assert sorted(row[3] for row in rows[1:]) == ["access_key_too_old", "console_user_without_mfa"]
    assert "{" not in out


def test_progress_bar_is_drawn_on_a_terminal_and_hidden_otherwise(spokes):
    # Given stderr is a terminal
    code, _, drawn = run_cli(["run", "--accounts", spokes, "--dry-run"], err=FakeTerminal())
    # Then the bar counted both accounts
    assert code == tables.EXIT_OK
    assert "Scanning" in drawn
    assert "2/2" in drawn
    # And when stderr is a pipe or a file, nothing is drawn
    _, _, piped = run_cli(["run", "--accounts", spokes, "--dry-run"])
    assert "Scanning" not in piped


def test_summary_table_shows_changes_since_the_previous_run_in_out(spokes, tmp_path, monkeypatch):
    # Given a first run that asked to be the baseline (runs with --accounts never are)
    monkeypatch.setenv("ACCOUNT_IDS", spokes)
    run_cli(["run", "--baseline", "--out", str(tmp_path)])
    # When a second run writes to the same folder
    code, out, _ = run_cli(["run", "--out", str(tmp_path)])
    # Then its table compares with the first
    assert code == tables.EXIT_OK
    assert "Changes since run manual-" in out
    assert ": 0 new, 0 resolved" in out
    assert "Findings: 2 (0 critical, 1 high, 1 medium, 0 low)" in out


def test_report_re_renders_table_csv_and_html_identical_to_the_run(spokes, tmp_path):
    # Given a run that wrote its files to out/
    out_dir = tmp_path / "out"
    _, table, _ = run_cli(["run", "--accounts", spokes, "--out", str(out_dir)])
    # When the saved report is rendered again into another directory
    rendered = tmp_path / "rendered"
    printed = io.StringIO()
    code = report_command.command_report(
        cli_main.build_parser().parse_args(["report", str(out_dir / "report.json"), "--out", str(rendered)]),
        printed,
    )
    # Then the table and every file are the same as the run's own
    assert code == tables.EXIT_OK
    assert printed.getvalue().split("\nwrote ")[0] == table.split("\nwrote ")[0]
    for name in ("findings.csv", "inventory.csv", "index.html"):
        assert (rendered / name).read_bytes() == (out_dir / name).read_bytes(), name
    # And --format csv / html print to stdout
    csv_out = io.StringIO()
    report_command.command_report(
        cli_main.build_parser().parse_args(["report", str(out_dir / "report.json"), "--format", "csv"]),
        csv_out,
    )
    assert csv_out.getvalue() == (out_dir / "findings.csv").read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file"),
        ("{oops", "Expecting property name"),
        ('{"a": 1}', "not an iam-inventory report"),
    ],
)
def test_report_refuses_what_is_not_a_report_with_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content)
    assert cli_main.main(["report", str(path)]) == tables.EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["run"], ["report"], ["invoke"], ["demo"]])
def test_every_command_has_help_with_examples(command, capsys):
    with pytest.raises(SystemExit) as exited:
        cli_main.main([*command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text
    assert "iam-inventory " in text.split("examples:")[1]


def test_profile_with_role_arn_source_profile_and_external_id_works_like_the_aws_cli(
    spokes, simulator, tmp_path, monkeypatch
):
    # Given a hub role that only trusts its own account with an ExternalId, and an AWS CLI-style profile
    external_id = "hub-profile-external-id"
    boto3.client("iam").create_role(
        RoleName="InventoryHub",
        AssumeRolePolicyDocument=json.dumps(
            spoke_trust_policy(f"arn:aws:iam::{HUB_ACCOUNT_ID}:root", external_id)
        ),
    )
    config = tmp_path / "config"
    config.write_text(
        "[profile base]\naws_access_key_id = testing\naws_secret_access_key = testing\nregion = us-east-1\n\n"
        f"[profile hub]\nrole_arn = arn:aws:iam::{HUB_ACCOUNT_ID}:role/InventoryHub\nsource_profile = base\n"
        f"external_id = {external_id}\nregion = us-east-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    assumed = []
    simulator.faults.rules.append(
        lambda request: assumed.append(request.params) if request.action == "AssumeRole" else None
    )
    # When
    code, out, _ = run_cli(["run", "--profile", "hub", "--accounts", spokes, "--dry-run", "--format", "json"])
    # Then the profile's role was assumed with its ExternalId, and the spokes with theirs, from it
    assert code == tables.EXIT_OK, out
    hub = [params for params in assumed if params["RoleArn"].endswith(":role/InventoryHub")]
    assert len(hub) == 1
    assert hub[0]["ExternalId"] == external_id
    assert sorted(params["RoleArn"] for params in assumed if params not in hub) == [
        "arn:aws:iam::111111111111:role/IAMListRole",
        "arn:aws:iam::222222222222:role/IAMListRole",
    ]
    assert json.loads(out)["accounts"]["scanned"] == 2


def test_profile_with_a_wrong_external_id_stops_the_run_at_once(spokes, tmp_path, monkeypatch, capsys):
    boto3.client("iam").create_role(
        RoleName="InventoryHub",
        AssumeRolePolicyDocument=json.dumps(
            spoke_trust_policy(f"arn:aws:iam::{HUB_ACCOUNT_ID}:root", "right-one")
        ),
    )
    config = tmp_path / "config"
    config.write_text(
        "[profile base]\naws_access_key_id = testing\naws_secret_access_key = testing\n\n"
        f"[profile hub]\nrole_arn = arn:aws:iam::{HUB_ACCOUNT_ID}:role/InventoryHub\nsource_profile = base\n"
        "external_id = wrong-one\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    # When
    code = cli_main.main(["run", "--profile", "hub", "--accounts", spokes, "--dry-run", "--format", "json"])
    # Then the run stops before any account, with one line naming the profile (and not its ExternalId)
    out, err = capsys.readouterr()
    assert code == tables.EXIT_BAD_INPUT
    assert out == ""
    assert (
        err
        == "iam-inventory: the hub credentials (--profile hub) were refused: AccessDenied on sts:AssumeRole\n"
    )


def test_organization_flag_discovers_accounts_with_their_names(simulator, monkeypatch):
    # Given an organization with one member account that has no spoke role yet
    organizations = boto3.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    created = organizations.create_account(AccountName="payments-prod", Email="payments@example.com")
    account_id = created["CreateAccountStatus"]["AccountId"]
    simulator.faults.enforce_trust = True
    # When
    code, out, _ = run_cli(["run", "--organization", "--dry-run"])
    # Then every account of the organization is in the table, by name, and the missing role means exit 1
    assert code == tables.EXIT_ACCOUNT_FAILED
    row = next(line for line in out.splitlines() if line.startswith(account_id))
    assert "payments-prod" in row
    assert "failed" in row
