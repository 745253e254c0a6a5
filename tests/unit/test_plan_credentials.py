"""`plan` for service-specific credentials, SSH keys and signing certificates: per kind, guarded by status.

IAM records no last use for these kinds, so the script's guard before each change is a fresh read of the
credential's status by its kind's List call. The script is run by bash against the fake `aws` of
test_plan.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime

from iam_inventory.evaluate.rules import RULES
from iam_inventory.models.credentials import ServiceCredential, SigningCertificate, SshPublicKey
from iam_inventory_cli.plan import _KEY_RULES
from iam_inventory_cli.plan_document import plan_document
from iam_inventory_cli.plan_script import render_plan_script
from tests.builders import days_ago, make_key, make_user
from tests.unit.test_plan import HOSTILE, operations, plan_for, report_with, run_script, write_script

BEDROCK = "ACCABUILDERBEDROCK01"
LOGS = "ACCABUILDERLOGS00001"
SSH = "APKABUILDERSSH000001"
# Certificate ids follow [\w]+ (24-128): lower case too, as moto (and the demo) makes them.
CERT = "ialoda3pox430ii2oq5hlfqhq8a8sm92"


def credentials_report() -> dict:
    """Every kind of credential finding, on three users and root.

    builder: a never-expiring 100-day-old Bedrock key, an expired Logs key, an old SSH key, an inactive
    certificate and a key; hostile: an old SSH key under a name built to break out of the shell; legacy: a
    certificate known only from the credential report; root: an active signing certificate.
    """
    builder = replace(
        make_user("builder", keys=(make_key("AKIABUILDER000000001", age=200, used=1),)),
        tags={"owner": "team-build"},
        service_credentials=(
            ServiceCredential(BEDROCK, "bedrock.amazonaws.com", "builder-at-1", "Active", days_ago(100)),
            ServiceCredential(
                LOGS, "logs.amazonaws.com", "builder-at-2", "Expired", days_ago(40), days_ago(10)
            ),
        ),
        ssh_keys_read=True,
        ssh_public_keys=(SshPublicKey(SSH, "Active", days_ago(400)),),
        signing_certificates=(SigningCertificate(CERT, "Inactive", days_ago(900)),),
    )
    hostile = replace(
        make_user(HOSTILE),
        ssh_keys_read=True,
        ssh_public_keys=(SshPublicKey("APKAHOSTILESSH000001", "Active", days_ago(200)),),
    )
    legacy = replace(
        make_user("legacy"),
        signing_certificates=(SigningCertificate("", "Active", days_ago(500), from_report=True),),
    )
    return report_with(builder, hostile, legacy, root_signing_certificate=True)


def test_key_rules_are_the_access_key_rules_only():
    # Given every rule that names one credential, when the plan picks those it retires as access keys
    kinds = {RULES[rule_id].credential.value for rule_id in _KEY_RULES}
    # Then no rule on another kind is handled (and refused) as an access key
    assert kinds == {"access_key"}
    assert "ssh_key_too_old" not in _KEY_RULES
    assert "inactive_service_credential" not in _KEY_RULES


def test_each_credential_is_planned_once_with_its_kind_and_findings():
    # Given a report with every kind of credential finding
    plan = plan_for(credentials_report())
    # Then the credentials of other kinds are actions of their own, one per credential with all its findings
    actions = [
        (c.user_name, c.credential_type.value, c.credential_id, c.active, c.rule_ids)
        for c in plan.credentials
    ]
    never_expires_and_old = ("api_key_never_expires", "service_credential_too_old")
    assert actions == [
        ("builder", "service_credential", BEDROCK, True, never_expires_and_old),
        ("builder", "service_credential", LOGS, False, ("inactive_service_credential",)),
        ("builder", "ssh_key", SSH, True, ("ssh_key_too_old",)),
        (HOSTILE, "ssh_key", "APKAHOSTILESSH000001", True, ("ssh_key_too_old",)),
        ("builder", "signing_certificate", CERT, False, ("inactive_signing_certificate",)),
    ]  # fmt: skip
    assert {c.owner for c in plan.credentials if c.user_name == "builder"} == {"team-build"}
    # And the access key stays a key action; a certificate known only from the report (no id) is manual
    assert [k.access_key_id for k in plan.keys] == ["AKIABUILDER000000001"]
    assert [(m.rule_id, m.user_name) for m in plan.manual] == [
        ("signing_certificate_too_old", "legacy"),
        ("root_signing_certificate_active", None),
    ]
    assert "list-signing-certificates --user-name legacy" in plan.manual[0].commands[0]


def test_plan_json_has_each_kinds_update_and_delete_calls():
    document = plan_document(plan_for(credentials_report(), owner="team-build"))
    steps = {item["credential_id"]: item["steps"] for item in document["credentials"]}
    assert steps[BEDROCK] == [
        {
            "stage": "deactivate",
            "command": "aws iam update-service-specific-credential --user-name builder "
            f"--service-specific-credential-id {BEDROCK} --status Inactive",
        },
        {
            "stage": "delete",
            "command": "aws iam delete-service-specific-credential --user-name builder "
            f"--service-specific-credential-id {BEDROCK}",
        },
    ]
    assert steps[SSH][0]["command"] == (
        f"aws iam update-ssh-public-key --user-name builder --ssh-public-key-id {SSH} --status Inactive"
    )
    assert (
        steps[SSH][1]["command"]
        == f"aws iam delete-ssh-public-key --user-name builder --ssh-public-key-id {SSH}"
    )
    # An inactive (or expired) credential has only its delete step
    assert steps[CERT] == [
        {
            "stage": "delete",
            "command": f"aws iam delete-signing-certificate --user-name builder --certificate-id {CERT}",
        }
    ]
    assert [step["stage"] for step in steps[LOGS]] == ["delete"]
    assert document["credentials"][0]["credential_type"] == "service_credential"


def test_stage_one_reads_each_status_then_deactivates_by_the_kinds_update_call(tmp_path):
    # Given the plan for the builder's credentials, its access key left out
    plan = plan_for(credentials_report(), owner="team-build")
    plan = replace(plan, keys=())
    script = write_script(tmp_path, plan)
    # When stage 1 runs and the active credentials are still active
    code, calls, err = run_script(
        tmp_path, script, "deactivate", **{f"status_{BEDROCK}": "Active", f"status_{SSH}": "Active"}
    )
    # Then each is re-read by its List call (its status only) in its account, then deactivated
    assert code == 0, err
    assert operations(calls) == [
        "get-caller-identity", "list-service-specific-credentials", "update-service-specific-credential",
        "get-caller-identity", "list-ssh-public-keys", "update-ssh-public-key",
    ]  # fmt: skip
    assert calls[1] == [
        "iam", "list-service-specific-credentials", "--user-name", "builder",
        "--query", f"ServiceSpecificCredentials[?ServiceSpecificCredentialId=='{BEDROCK}'].Status",
        "--output", "text",
    ]  # fmt: skip
    assert calls[5] == [
        "iam", "update-ssh-public-key", "--user-name", "builder", "--ssh-public-key-id", SSH,
        "--status", "Inactive",
    ]  # fmt: skip


def test_stage_one_stops_when_a_credential_is_no_longer_active_or_gone(tmp_path):
    plan = replace(plan_for(credentials_report(), owner="team-build"), keys=())
    script = write_script(tmp_path, plan)
    # When the Bedrock key was already deactivated (or deleted: the query answers nothing)
    for status, shown in (("Inactive", "Inactive"), ("", "")):
        code, calls, err = run_script(tmp_path, script, "deactivate", **{f"status_{BEDROCK}": status})
        # Then the script stops before any change
        assert (code, operations(calls)) == (1, ["get-caller-identity", "list-service-specific-credentials"])
        assert f"{BEDROCK} is '{shown}', not Active: stopping" in err


def test_stage_two_deletes_credentials_still_inactive_or_expired_and_stops_on_a_reactivated_one(tmp_path):
    plan = replace(
        plan_for(credentials_report(), owner="team-build"),
        keys=(),
        created_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    script = write_script(tmp_path, plan)
    # When every credential is inactive now, and the Logs key expired
    code, calls, err = run_script(tmp_path, script, "delete", **{f"status_{LOGS}": "Expired"})
    # Then each is re-read then deleted by its kind's Delete call
    assert code == 0, err
    deletes = [call for call in calls if call[1].startswith("delete-")]
    assert [(call[1], call[-1]) for call in deletes] == [
        ("delete-service-specific-credential", BEDROCK),
        ("delete-service-specific-credential", LOGS),
        ("delete-ssh-public-key", SSH),
        ("delete-signing-certificate", CERT),
    ]
    # And a credential re-activated since stage 1 is not deleted
    code, calls, err = run_script(tmp_path, script, "delete", **{f"status_{SSH}": "Active"})
    assert (code, operations(calls)[-1]) == (1, "list-ssh-public-keys")
    assert f"{SSH} is 'Active', not Inactive: stopping" in err


# The calls whose answer can hold a secret: a new access key, a service credential's password or API key.
SECRET_CALLS = re.compile(
    r"create-access-key|(create|reset)-service-specific-credential|create-login-profile|get-ssh-public-key"
)


def test_the_plan_never_makes_a_call_that_prints_a_secret(tmp_path):
    # Given the whole plan (keys, every kind, manual steps) as script and JSON
    plan = plan_for(credentials_report())
    script_text = render_plan_script(plan)
    document = json.dumps(plan_document(plan))
    # Then neither names a call whose answer holds a secret, nor any of the models' secret fields
    for text in (script_text, document):
        assert not SECRET_CALLS.search(text)
        assert not re.search(
            r"ServicePassword|ServiceCredentialSecret|SecretAccessKey|SSHPublicKeyBody", text
        )
    # And every List call the script makes asks for the status alone
    script = write_script(tmp_path, replace(plan, keys=(), created_at=datetime(2020, 1, 1, tzinfo=UTC)))
    _, calls, _ = run_script(tmp_path, script, "delete")
    lists = [call for call in calls if call[1].startswith("list-")]
    assert lists
    assert all(call[call.index("--query") + 1].endswith("].Status") for call in lists)
    assert sorted(path.name for path in tmp_path.glob("pwned*")) == []


def test_a_root_signing_certificate_is_left_to_a_person():
    # Given root holds an active signing certificate
    plan = plan_for(credentials_report(), rule="root_signing_certificate_active")
    # When the plan is built, then no script step names it (the root user's are managed in the console)
    assert (plan.keys, plan.credentials) == ((), ())
    assert [(m.rule_id, m.user_name) for m in plan.manual] == [("root_signing_certificate_active", None)]


def test_a_credential_id_that_is_no_iam_id_is_left_to_a_person_not_put_in_the_script():
    # Given a report whose SSH key finding was edited to carry an id built to break the script's query
    report = credentials_report()
    hostile_id = "APKA'] || reboot #"
    for finding in report["findings"]:
        if finding["credential_id"] == SSH:
            finding["credential_id"] = hostile_id
    # When the plan is built, then that finding is a manual step, and the id never reaches the script
    plan = plan_for(report)
    assert SSH not in {action.credential_id for action in plan.credentials}
    assert hostile_id not in {action.credential_id for action in plan.credentials}
    assert "ssh_key_too_old" in {item.rule_id for item in plan.manual}
    script = render_plan_script(plan)
    assert [line for line in script.splitlines() if "reboot" in line and not line.startswith("#")] == []
