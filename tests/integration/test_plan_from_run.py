"""`plan` on the report.json a real run wrote (simulator on loopback), filtered by owner."""

from __future__ import annotations

import json
import shlex
import subprocess
from datetime import timedelta

from iam_inventory_cli import main as cli_main
from iam_inventory_sim import DEMO_EXTERNAL_ID, AccountSpec, KeySpec, UserSpec, admin_client
from iam_inventory_sim.estate import CODECOMMIT_POLICY, ServiceCredentialSpec, UploadSpec
from tests.builders import NOW


def test_plan_for_one_owner_from_a_runs_report(simulator, seed, tmp_path, monkeypatch, capsys):
    # Given an account whose users belong to two teams, scanned by `run` at a fixed time
    key_ids = seed(
        (
            AccountSpec(
                "111111111111",
                "prod",
                users=(
                    UserSpec("ci", tags={"owner": "team-a"}, keys=(KeySpec(200, 100),)),
                    UserSpec("web", tags={"owner": "team-b"}, keys=(KeySpec(20, None),)),
                    UserSpec("ops", tags={"owner": "team-a"}, console=True),
                ),
            ),
        )
    )
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    monkeypatch.setattr("iam_inventory_cli.run_command.utcnow", lambda: NOW)
    monkeypatch.setattr("iam_inventory_cli.remediation_commands.utcnow", lambda: NOW + timedelta(hours=1))
    assert cli_main.main(["run", "--accounts", "111111111111", "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()

    # When a plan is written for team-a from that report
    code = cli_main.main(
        [
            "plan",
            "--report",
            str(tmp_path / "out" / "report.json"),
            "--owner",
            "team-a",
            "--out",
            str(tmp_path / "p"),
        ]
    )

    # Then it holds team-a's key (both findings on it, with the last use the run saw) and its MFA step only
    assert code == 0
    plan = json.loads((tmp_path / "p" / "plan.json").read_text())
    ci_key = key_ids[("111111111111", "ci", 0)]
    assert [(k["user_name"], k["access_key_id"], k["rule_ids"], k["owner"]) for k in plan["keys"]] == [
        ("ci", ci_key, ["access_key_too_old", "access_key_unused"], "team-a")
    ]
    last_used = plan["keys"][0]["last_used_known"]
    assert last_used[:10] == (NOW - timedelta(days=100)).date().isoformat()
    assert [(m["rule_id"], m["user_name"], m["owner"]) for m in plan["manual"]] == [
        ("console_user_without_mfa", "ops", "team-a")
    ]
    assert plan["delete_not_before"] == "2026-12-07T07:00:00Z"
    assert subprocess.run(["bash", "-n", str(tmp_path / "p" / "plan.sh")], check=False).returncode == 0


# The AWS CLI options the plan's credential commands use, as the IAM API names them (boto3 parameters).
CLI_OPTIONS = {
    "--user-name": "UserName",
    "--service-specific-credential-id": "ServiceSpecificCredentialId",
    "--ssh-public-key-id": "SSHPublicKeyId",
    "--certificate-id": "CertificateId",
    "--status": "Status",
}


def call_as_api(iam, command: str) -> None:
    """Run one `aws iam <verb> --opt value ...` line of the plan as the IAM API call it stands for."""
    words = shlex.split(command)
    assert words[:2] == ["aws", "iam"], command
    verb, options = words[2], words[3:]
    params = {CLI_OPTIONS[name]: value for name, value in zip(options[::2], options[1::2], strict=True)}
    getattr(iam, verb.replace("-", "_"))(**params)


def test_plan_retires_each_kind_of_credential_by_calls_iam_accepts(simulator, seed, tmp_path, monkeypatch):
    # Given a user with a never-expiring Bedrock API key, an old SSH key (a CodeCommit user) and an old
    # signing certificate, scanned by `run`
    ids = seed(
        (
            AccountSpec(
                "111111111111",
                "prod",
                users=(
                    UserSpec(
                        "coder",
                        tags={"owner": "team-a"},
                        inline_policies={"codecommit-git": CODECOMMIT_POLICY},
                        service_credentials=(ServiceCredentialSpec("bedrock.amazonaws.com", 12),),
                        ssh_keys=(UploadSpec(400),),
                        signing_certificates=(UploadSpec(900),),
                    ),
                ),
            ),
        )
    )
    monkeypatch.setenv("EXTERNAL_ID", DEMO_EXTERNAL_ID)
    monkeypatch.setattr("iam_inventory_cli.run_command.utcnow", lambda: NOW)
    monkeypatch.setattr("iam_inventory_cli.remediation_commands.utcnow", lambda: NOW + timedelta(hours=1))
    assert cli_main.main(["run", "--accounts", "111111111111", "--out", str(tmp_path / "out")]) == 0
    # When the plan is made from that report
    report = str(tmp_path / "out" / "report.json")
    assert cli_main.main(["plan", "--report", report, "--out", str(tmp_path / "p")]) == 0
    plan = json.loads((tmp_path / "p" / "plan.json").read_text())
    # Then each credential is one action with its kind, the id IAM gave it, and both stages
    planned = {(item["credential_type"], item["credential_id"]): item for item in plan["credentials"]}
    bedrock = ids[("111111111111", "coder", "service:0")]
    ssh = ids[("111111111111", "coder", "ssh:0")]
    cert = ids[("111111111111", "coder", "cert:0")]
    assert set(planned) == {("service_credential", bedrock), ("ssh_key", ssh), ("signing_certificate", cert)}
    assert {tuple(step["stage"] for step in item["steps"]) for item in planned.values()} == {
        ("deactivate", "delete")
    }
    # And IAM accepts every command as written: stage 1 leaves them inactive, stage 2 deletes them
    iam = admin_client(simulator, "iam", "111111111111")
    for item in planned.values():
        call_as_api(iam, item["steps"][0]["command"])
    listed = iam.list_service_specific_credentials(UserName="coder")["ServiceSpecificCredentials"]
    assert [entry["Status"] for entry in listed] == ["Inactive"]
    assert [k["Status"] for k in iam.list_ssh_public_keys(UserName="coder")["SSHPublicKeys"]] == ["Inactive"]
    assert [c["Status"] for c in iam.list_signing_certificates(UserName="coder")["Certificates"]] == [
        "Inactive"
    ]
    for item in planned.values():
        call_as_api(iam, item["steps"][1]["command"])
    assert iam.list_service_specific_credentials(UserName="coder")["ServiceSpecificCredentials"] == []
    assert iam.list_ssh_public_keys(UserName="coder")["SSHPublicKeys"] == []
    assert iam.list_signing_certificates(UserName="coder")["Certificates"] == []
    # And nothing the plan wrote holds a secret of the planted credentials
    written = (tmp_path / "p" / "plan.json").read_text() + (tmp_path / "p" / "plan.sh").read_text()
    assert "BEGIN CERTIFICATE" not in written
    assert "ssh-ed25519" not in written
