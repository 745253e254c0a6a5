"""Exceptions, owners and SLA on the findings about service credentials, SSH keys and signing certificates.

An exception names a credential by `credential_id` (any kind, an access key's id included); owners and
SLAs are the same as for key findings.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import pytest

from iam_inventory.evaluate.exceptions import ExceptionMatch, ExceptionSet, ExceptionsFileError, RiskException
from iam_inventory.evaluate.exceptions_format import load_exceptions_text
from iam_inventory.evaluate.finding_enrichment import EnrichmentConfig, EnrichmentContext, enrich_findings
from iam_inventory.evaluate.owners import OwnerConfig
from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import Severity, Thresholds
from iam_inventory.models.credentials import ServiceCredential, SigningCertificate, SshPublicKey
from tests.builders import NOW, days_ago, make_inventory, make_key, make_user

TODAY = NOW.date()
BEDROCK = "ACCAMLBEDROCK0000001"
KEYSPACES = "ACCAMLKEYSPACES00001"
SSH = "APKAMLSSH00000000001"
CERT = "CERTML000000000000000000001"


def holder_findings():
    """ml: a never-expiring Bedrock key, an old Keyspaces login, an old SSH key, an old certificate, an
    old access key; a report-only certificate on legacy. User tags name the owner of ml only."""
    ml = replace(
        make_user("ml", keys=(make_key("AKIAML00000000000001", age=200),)),
        tags={"owner": "team-ml"},
        service_credentials=(
            ServiceCredential(BEDROCK, "bedrock.amazonaws.com", "ml-at-1", "Active", days_ago(10)),
            ServiceCredential(KEYSPACES, "cassandra.amazonaws.com", "ml-at-111", "Active", days_ago(120)),
        ),
        ssh_keys_read=True,
        ssh_public_keys=(SshPublicKey(SSH, "Active", days_ago(400)),),
        signing_certificates=(SigningCertificate(CERT, "Active", days_ago(300)),),
    )
    legacy = replace(
        make_user("legacy"), signing_certificates=(SigningCertificate("", "Active", days_ago(500), True),)
    )
    return tuple(evaluate(make_inventory(ml, legacy), Thresholds(), NOW))


def by_rule(findings) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for finding in findings:
        grouped.setdefault(finding.rule_id, []).append(finding)
    return grouped


def exceptions_file(*matches: dict) -> ExceptionSet:
    entries = [
        {"id": f"e{index}", "match": match, "owner": "sec", "reason": "accepted", "expires": "2027-01-31"}
        for index, match in enumerate(matches)
    ]
    return load_exceptions_text(json.dumps({"version": 1, "exceptions": entries}), TODAY, "test")


def enriched(findings, exceptions: ExceptionSet, first_seen=None, owners: OwnerConfig | None = None):
    context = EnrichmentContext(ou_paths={"111111111111": "Root/Data"}, first_seen=first_seen or {})
    config = EnrichmentConfig(owners=owners or OwnerConfig())
    return enrich_findings(findings, context, TODAY, config, exceptions)


def test_an_exception_on_a_credential_id_suppresses_that_credentials_findings_only():
    # Given findings on a Bedrock key, a Keyspaces login, an SSH key and certificates
    findings = holder_findings()
    rules = by_rule(findings)
    assert rules["api_key_never_expires"][0].credential_id == BEDROCK
    # When the exceptions name the Bedrock key, the SSH key for one rule, and the report-only certificate
    stand_in = rules["signing_certificate_too_old"][1].credential_id
    assert stand_in.startswith("report-")
    exceptions = exceptions_file(
        {"credential_id": BEDROCK},
        {"credential_id": SSH, "rule": "ssh_key_too_old"},
        {"credential_id": stand_in},
    )
    result = enriched(findings, exceptions)
    # Then exactly those credentials' findings are suppressed, each by its entry
    suppressed = {
        (item.finding.rule_id, item.finding.credential_id, item.suppressed_by) for item in result.suppressed
    }
    assert suppressed == {
        ("api_key_never_expires", BEDROCK, "e0"),
        ("ssh_key_too_old", SSH, "e1"),
        ("signing_certificate_too_old", stand_in, "e2"),
    }
    # And the Keyspaces login, the ml certificate and the access key stay active
    active = {
        (item.finding.rule_id, item.finding.credential_id or item.finding.access_key_id)
        for item in result.active
    }
    assert ("service_credential_too_old", KEYSPACES) in active
    assert ("signing_certificate_too_old", CERT) in active
    assert ("access_key_too_old", "AKIAML00000000000001") in active
    assert result.stale_exceptions == ()


def test_credential_id_matches_an_access_key_by_its_id_too():
    findings = holder_findings()
    result = enriched(findings, exceptions_file({"credential_id": "AKIAML00000000000001"}))
    assert {item.finding.rule_id for item in result.suppressed} == {"access_key_too_old"}
    assert all(item.finding.access_key_id == "AKIAML00000000000001" for item in result.suppressed)


def test_an_exception_for_an_unknown_credential_is_stale_and_the_id_is_validated():
    # Given an exception on a credential that no longer exists, then it matches nothing and is stale
    result = enriched(holder_findings(), exceptions_file({"credential_id": "ACCAGONE000000000001"}))
    assert (result.suppressed, [item.exception_id for item in result.stale_exceptions]) == ((), ["e0"])
    # And an id that is no IAM credential id is refused with the field named
    with pytest.raises(ExceptionsFileError, match=r"match\.credential_id: must be a credential id"):
        exceptions_file({"credential_id": "acca'$(reboot)"})


def test_an_expired_exception_on_a_credential_brings_its_finding_back_with_the_note():
    exception = RiskException("old", ExceptionMatch(credential_id=SSH), "sec", "r", TODAY - timedelta(days=1))
    result = enriched(holder_findings(), ExceptionSet("test", exceptions=(exception,)))
    lapsed = [item for item in result.active if item.exception_note]
    assert [(item.finding.credential_id, item.exception_note) for item in lapsed] == [
        (SSH, "exception_expired")
    ]


def test_owners_come_from_the_user_tag_then_the_ou_map():
    # Given ml tagged owner=team-ml and legacy untagged in an account under Root/Data
    result = enriched(
        holder_findings(), ExceptionSet("test"), owners=OwnerConfig(ou_owners={"Root/Data": "data"})
    )
    owners = {
        (item.finding.user_name, item.finding.rule_id): (item.owner, item.owner_source.value)
        for item in result.active
    }
    # Then every kind's finding is routed like a key finding
    assert owners[("ml", "api_key_never_expires")] == ("team-ml", "user_tag")
    assert owners[("ml", "ssh_key_too_old")] == ("team-ml", "user_tag")
    assert owners[("legacy", "signing_certificate_too_old")][0] == "data"


def test_the_sla_of_each_new_finding_follows_its_severity_and_first_sighting():
    # Given the never-expiring Bedrock key was first seen 31 days ago and the SSH key today
    findings = holder_findings()
    rules = by_rule(findings)
    bedrock, ssh = rules["api_key_never_expires"][0], rules["ssh_key_too_old"][0]
    first_seen = {bedrock.finding_id: NOW - timedelta(days=31)}
    result = enriched(findings, ExceptionSet("test"), first_seen=first_seen)
    lifecycle = {item.finding.finding_id: item.lifecycle for item in result.active}
    # Then the high finding is past its 30-day SLA, the medium one has 90 days from today
    assert bedrock.severity is Severity.HIGH
    assert (lifecycle[bedrock.finding_id].sla_days, lifecycle[bedrock.finding_id].overdue) == (30, True)
    assert lifecycle[bedrock.finding_id].due_on == date.fromordinal(TODAY.toordinal() - 1)
    assert (lifecycle[ssh.finding_id].sla_days, lifecycle[ssh.finding_id].overdue) == (90, False)
    assert lifecycle[ssh.finding_id].due_on == TODAY + timedelta(days=90)
