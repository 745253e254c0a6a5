"""Rules on service-specific credentials, SSH keys and signing certificates: pure, hand-built inventories.

Every finding is pinned as (rule, user, credential id, measured value, threshold), with its severity.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from iam_inventory.evaluate.credential_remedies import REPORT_ONLY_PREFIX
from iam_inventory.evaluate.privilege import Privilege
from iam_inventory.evaluate.registry import Scope, finding_id
from iam_inventory.evaluate.rules import RULES, effective_severity, evaluate, remediation_for
from iam_inventory.models import Severity, Thresholds
from iam_inventory.models.credentials import (
    CredentialType,
    ServiceCredential,
    SigningCertificate,
    SshPublicKey,
)
from tests.builders import NOW, days_ago, make_inventory, make_user

THRESHOLDS = Thresholds(max_key_age_days=90, unused_key_days=45, never_used_grace_days=7)
ACCOUNT = "111111111111"
BEDROCK, LOGS, CODECOMMIT = "bedrock.amazonaws.com", "logs.amazonaws.com", "codecommit.amazonaws.com"
NEW_RULES = (
    "api_key_never_expires",
    "api_key_lifetime_too_long",
    "service_credential_too_old",
    "inactive_service_credential",
    "ssh_key_too_old",
    "inactive_ssh_key",
    "signing_certificate_too_old",
    "inactive_signing_certificate",
    "root_signing_certificate_active",
)


def api_key(service=BEDROCK, age=10, lifetime=None, status="Active", credential_id="ACCAEXAMPLEBEDROCK1"):
    created = days_ago(age)
    expires = None if lifetime is None else created + (days_ago(0) - days_ago(lifetime))
    return ServiceCredential(credential_id, service, "genai-at-111111111111", status, created, expires)


def holder(*, service=(), ssh=(), certs=()):
    user = make_user("genai", keys=())
    return replace(
        user,
        service_credentials=tuple(service),
        ssh_public_keys=tuple(ssh),
        signing_certificates=tuple(certs),
        ssh_keys_read=bool(ssh),
        tags={"owner": "team-ai"},
    )


def pinned(inventory, thresholds=THRESHOLDS):
    return [
        (f.rule_id, f.user_name, f.credential_id, f.measured_value, f.threshold, f.severity)
        for f in evaluate(inventory, thresholds, NOW)
    ]


def test_every_new_rule_is_registered_with_a_credential_kind_and_an_equivalent():
    # Given the registry
    # Then each new rule says which credential it is about and names its equivalent (or "none")
    for rule_id in NEW_RULES:
        rule = RULES[rule_id]
        assert rule.credential in set(CredentialType) - {CredentialType.ACCESS_KEY, CredentialType.PASSWORD}
        assert rule.equivalent


def test_a_bedrock_api_key_that_never_expires_is_high():
    # Given an active Bedrock API key created 12 days ago with no ExpirationDate
    inventory = make_inventory(holder(service=(api_key(age=12),)))
    # When evaluated
    # Then it is one high finding, measured by its age against the maximum lifetime
    assert pinned(inventory) == [
        ("api_key_never_expires", "genai", "ACCAEXAMPLEBEDROCK1", 12, 90, Severity.HIGH)
    ]
    (finding,) = evaluate(inventory, THRESHOLDS, NOW)
    assert finding.message == (
        "Bedrock API key ACCAEXAMPLEBEDROCK1 (genai-at-111111111111) of user genai never expires "
        "(created 12 days ago)"
    )
    assert finding.tags == {"owner": "team-ai"}
    assert finding.access_key_id is None


def test_a_cloudwatch_logs_key_without_expiry_fires_and_a_codecommit_credential_never_does():
    # Given a Logs API key with no expiry, and a CodeCommit git credential (which has no expiry by design)
    logs = api_key(service=LOGS, age=3, credential_id="ACCALOGS")
    git = api_key(service=CODECOMMIT, age=3, credential_id="ACCAGIT")
    # Then only the API key is flagged for never expiring
    assert pinned(make_inventory(holder(service=(logs, git)))) == [
        ("api_key_never_expires", "genai", "ACCALOGS", 3, 90, Severity.HIGH)
    ]


@pytest.mark.parametrize(
    ("lifetime", "expected"),
    [
        (90, []),
        (91, [("api_key_lifetime_too_long", "genai", "ACCAEXAMPLEBEDROCK1", 91, 90, Severity.MEDIUM)]),
        (365, [("api_key_lifetime_too_long", "genai", "ACCAEXAMPLEBEDROCK1", 365, 90, Severity.MEDIUM)]),
    ],
)
def test_an_api_key_lifetime_over_the_maximum_is_medium_and_the_limit_itself_passes(lifetime, expected):
    # Given an active Bedrock key 5 days old created to live `lifetime` days
    inventory = make_inventory(holder(service=(api_key(age=5, lifetime=lifetime),)))
    # Then it fires only above the maximum (90 by default)
    assert pinned(inventory) == expected


def test_the_api_key_lifetime_maximum_is_a_threshold():
    inventory = make_inventory(holder(service=(api_key(age=5, lifetime=60),)))
    assert pinned(inventory, replace(THRESHOLDS, max_api_key_lifetime_days=30)) == [
        ("api_key_lifetime_too_long", "genai", "ACCAEXAMPLEBEDROCK1", 60, 30, Severity.MEDIUM)
    ]


@pytest.mark.parametrize(("age", "fires"), [(90, False), (91, True)])
def test_a_service_credential_older_than_the_key_age_maximum_is_medium(age, fires):
    # Given a CodeCommit git credential `age` days old
    git = api_key(service=CODECOMMIT, age=age, credential_id="ACCAGIT")
    inventory = make_inventory(holder(service=(git,)))
    # Then it is flagged the day after the key-age maximum, like an access key
    expected = [("service_credential_too_old", "genai", "ACCAGIT", age, 90, Severity.MEDIUM)]
    assert pinned(inventory) == (expected if fires else [])


def test_an_expired_and_an_inactive_service_credential_are_low_and_say_which():
    # Given a Logs key whose 30-day lifetime ended, and a deactivated CodeCommit credential
    expired = api_key(service=LOGS, age=40, lifetime=30, status="Expired", credential_id="ACCALOGS")
    inactive = api_key(service=CODECOMMIT, age=200, status="Inactive", credential_id="ACCAGIT")
    inventory = make_inventory(holder(service=(expired, inactive)))
    findings = evaluate(inventory, THRESHOLDS, NOW)
    # Then both are low "still present" findings (no age or lifetime rule: they are not active)
    assert pinned(inventory) == [
        ("inactive_service_credential", "genai", "ACCALOGS", 40, 0, Severity.LOW),
        ("inactive_service_credential", "genai", "ACCAGIT", 200, 0, Severity.LOW),
    ]
    assert findings[0].message == (
        "CloudWatch Logs API key ACCALOGS (genai-at-111111111111) of user genai is expired (40 days old) "
        "and should be deleted"
    )


@pytest.mark.parametrize(
    ("age", "status", "expected"),
    [
        (90, "Active", []),
        (400, "Active", [("ssh_key_too_old", "genai", "APKAEXAMPLESSH1", 400, 90, Severity.MEDIUM)]),
        (400, "Inactive", [("inactive_ssh_key", "genai", "APKAEXAMPLESSH1", 400, 0, Severity.LOW)]),
    ],
)
def test_ssh_keys_old_or_inactive(age, status, expected):
    # Given an SSH public key uploaded `age` days ago
    inventory = make_inventory(holder(ssh=(SshPublicKey("APKAEXAMPLESSH1", status, days_ago(age)),)))
    # Then an old active key is medium, an inactive one low
    assert pinned(inventory) == expected


@pytest.mark.parametrize(
    ("certificate", "expected"),
    [
        (SigningCertificate("CERTID1", "Active", days_ago(89)), []),
        (
            SigningCertificate("CERTID1", "Active", days_ago(900)),
            [("signing_certificate_too_old", "genai", "CERTID1", 900, 90, Severity.MEDIUM)],
        ),
        (
            SigningCertificate("CERTID1", "Inactive", days_ago(900)),
            [("inactive_signing_certificate", "genai", "CERTID1", 900, 0, Severity.LOW)],
        ),
    ],
)
def test_signing_certificates_old_or_inactive(certificate, expected):
    assert pinned(make_inventory(holder(certs=(certificate,)))) == expected


def test_a_certificate_known_only_from_the_report_keeps_a_stable_id_and_is_not_verified_live():
    # Given a certificate read from the credential report's cert_1 columns (no id)
    certificate = SigningCertificate("", "Active", days_ago(900), from_report=True)
    # When evaluated twice
    first = evaluate(make_inventory(holder(certs=(certificate,))), THRESHOLDS, NOW)
    again = evaluate(make_inventory(holder(certs=(certificate,))), THRESHOLDS, NOW)
    # Then its stand-in id is the same each time, says it came from the report, and no command names it
    (finding,) = first
    assert finding.finding_id == again[0].finding_id
    assert finding.credential_id.startswith(REPORT_ONLY_PREFIX)
    assert finding.verified_live is False
    remediation = remediation_for(finding)
    assert remediation.commands == ("aws iam list-signing-certificates --user-name genai",)


@pytest.mark.parametrize(("active", "expected"), [(True, ["root_signing_certificate_active"]), (False, [])])
def test_an_active_root_signing_certificate_is_critical(active, expected):
    # Given root's credential report row showing (or not) an active certificate
    inventory = replace(make_inventory(), root_signing_certificate_active=active)
    findings = evaluate(inventory, THRESHOLDS, NOW)
    # Then it is one critical account-level finding, fixed in the console
    assert [f.rule_id for f in findings] == expected
    for finding in findings:
        assert (finding.severity, finding.user_name, finding.credential_id) == (Severity.CRITICAL, None, None)
        assert remediation_for(finding).console_only


def test_finding_ids_of_the_new_rules_are_stable_and_keyed_on_the_credential():
    # Given the same Bedrock key in two runs, and a second key of the same user
    one = evaluate(make_inventory(holder(service=(api_key(age=12),))), THRESHOLDS, NOW)
    two = evaluate(
        make_inventory(holder(service=(api_key(age=13), api_key(age=1, credential_id="ACCAOTHER")))),
        THRESHOLDS,
        NOW,
    )
    # Then the key keeps its id (its age changed), and the other key has its own
    expected = finding_id(ACCOUNT, "genai", "ACCAEXAMPLEBEDROCK1", "api_key_never_expires")
    assert one[0].finding_id == two[0].finding_id == expected == "d2b5d868dc7b256887def814"
    assert two[1].finding_id != two[0].finding_id


def test_privilege_raises_the_new_user_rules_as_for_keys():
    admin = Privilege(True, "AdministratorAccess attached directly")
    assert effective_severity("api_key_never_expires", Severity.HIGH, admin) is Severity.CRITICAL
    assert effective_severity("ssh_key_too_old", Severity.MEDIUM, admin) is Severity.HIGH
    assert effective_severity("inactive_signing_certificate", Severity.LOW, admin) is Severity.MEDIUM
    assert RULES["root_signing_certificate_active"].scope is Scope.ROOT
    root = effective_severity("root_signing_certificate_active", Severity.CRITICAL, admin)
    assert root is Severity.CRITICAL


def test_remediation_deactivates_then_deletes_each_kind_by_its_own_api():
    # Given one finding of each kind
    inventory = make_inventory(
        holder(
            service=(api_key(age=12),),
            ssh=(SshPublicKey("APKAEXAMPLESSH1", "Active", days_ago(400)),),
            certs=(SigningCertificate("CERTID1", "Active", days_ago(900)),),
        )
    )
    findings = evaluate(inventory, THRESHOLDS, NOW)
    commands = {f.rule_id: remediation_for(f, wait_days=30).commands for f in findings}
    # Then each is listed, deactivated, listed again and deleted with the kind's own calls
    assert commands["api_key_never_expires"] == (
        "aws iam list-service-specific-credentials --user-name genai",
        "aws iam update-service-specific-credential --user-name genai --service-specific-credential-id "
        "ACCAEXAMPLEBEDROCK1 --status Inactive",
        "aws iam list-service-specific-credentials --user-name genai",
        "aws iam delete-service-specific-credential --user-name genai --service-specific-credential-id "
        "ACCAEXAMPLEBEDROCK1",
    )
    assert commands["ssh_key_too_old"][1] == (
        "aws iam update-ssh-public-key --user-name genai --ssh-public-key-id APKAEXAMPLESSH1 "
        "--status Inactive"
    )
    assert commands["signing_certificate_too_old"][3] == (
        "aws iam delete-signing-certificate --user-name genai --certificate-id CERTID1"
    )


def test_the_api_key_lifetime_maximum_is_a_setting_and_an_event_override():
    from iam_inventory.config.events import RunRequest
    from iam_inventory.config.settings import ConfigError, Settings

    # Given the variable set, and then an event overriding it
    settings = Settings.from_env({"ACCOUNT_IDS": "111111111111", "MAX_API_KEY_LIFETIME_DAYS": "30"})
    overridden = RunRequest.from_event({"thresholds": {"max_api_key_lifetime_days": 7}}).thresholds
    # Then the thresholds carry it, the event's value wins, and a bad value is one line naming the variable
    assert settings.thresholds.max_api_key_lifetime_days == 30
    assert overridden.apply(settings.thresholds).max_api_key_lifetime_days == 7
    with pytest.raises(ConfigError, match="MAX_API_KEY_LIFETIME_DAYS"):
        Settings.from_env({"ACCOUNT_IDS": "111111111111", "MAX_API_KEY_LIFETIME_DAYS": "0"})
