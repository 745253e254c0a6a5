"""The one codec of stored run documents: exact round trips and a committed, generated JSON Schema."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from iam_inventory.evaluate.rules import evaluate
from iam_inventory.models import (
    Account,
    AccountResult,
    AccountStatus,
    CollectionPath,
    CredentialType,
    RunContext,
    ServiceCredential,
    SigningCertificate,
    SshPublicKey,
    Thresholds,
    codec,
)
from iam_inventory.models.codec import (
    RunManifest,
    UnreadableDocument,
    decode,
    decode_view,
    encode,
    json_schema,
)
from iam_inventory.models.scan import AccountScan
from tests.builders import NOW, make_inventory, make_key, make_user

SCHEMA = Path(__file__).resolve().parents[2] / "src/iam_inventory/schemas/account-scan.schema.json"
PLUS_TWO = timezone(timedelta(hours=2))


def sample_scan() -> AccountScan:
    alice = replace(
        make_user("alice", keys=(make_key(age=200, used=None), make_key("AKIAEXAMPLE000000002", 5, 1))),
        tags={"owner": "alice@example.com", "team": "payments"},
        password_last_used=datetime(2026, 11, 1, 10, 30, 15, 123456, tzinfo=PLUS_TWO),
    )
    carol = replace(
        make_user("carol"),
        service_credentials=(
            ServiceCredential(
                "ACCAEXAMPLE000000001",
                "bedrock.amazonaws.com",
                "carol-at-111111111111",
                "Active",
                NOW - timedelta(days=3),
                NOW + timedelta(days=362),
            ),
            ServiceCredential(
                "ACCAEXAMPLE000000002", "codecommit.amazonaws.com", "carol-at-1", "Inactive", NOW
            ),
        ),
        ssh_public_keys=(SshPublicKey("APKAEXAMPLE000000001", "Active", NOW - timedelta(days=400)),),
        signing_certificates=(SigningCertificate("", "Active", NOW - timedelta(days=800), from_report=True),),
        ssh_keys_read=True,
    )
    inventory = replace(
        make_inventory(alice, make_user("bob", console=True), carol, root_keys=True),
        root_signing_certificate_active=True,
        unreadable_credential_kinds=(CredentialType.SERVICE_CREDENTIAL,),
    )
    result = AccountResult(
        account=Account("111111111111", "prod", "Root/Workloads/Prod"),
        status=AccountStatus.SCANNED,
        inventory=inventory,
        duration_ms=1234,
        api_calls=7,
        retried_calls=1,
        collection_path=CollectionPath.CREDENTIAL_REPORT,
        report_generated_at=datetime(2026, 11, 23, 4, 0, tzinfo=UTC),
    )
    findings = tuple(evaluate(inventory, Thresholds(), NOW))
    return AccountScan(run_id="run-1", result=result, findings=findings)


def test_an_account_scan_round_trips_exactly():
    # Given a scan with tags, OU path, offsets, microseconds, enums and tuples
    scan = sample_scan()
    tagged = next(finding for finding in scan.findings if finding.user_name == "alice")
    assert tagged.tags == {"owner": "alice@example.com", "team": "payments"}

    # When it is encoded and decoded
    back = decode(AccountScan, encode(scan))

    # Then it is equal, with the same types and the same offsets
    assert back == scan
    user = back.result.inventory.users[0]
    assert user.password_last_used.utcoffset() == timedelta(hours=2)
    assert user.password_last_used.microsecond == 123456
    assert isinstance(back.result.inventory.users, tuple)
    assert isinstance(back.findings, tuple)
    assert back.result.status is AccountStatus.SCANNED
    assert back.result.collection_path is CollectionPath.CREDENTIAL_REPORT
    assert user.tags == {"owner": "alice@example.com", "team": "payments"}
    carol = back.result.inventory.users[2]
    assert isinstance(carol.service_credentials[0], ServiceCredential)
    assert carol.service_credentials[0].is_api_key
    assert not carol.service_credentials[1].is_api_key
    assert carol.service_credentials[1].expires_at is None
    assert carol.signing_certificates[0].from_report
    assert carol.ssh_public_keys[0].active
    assert back.result.inventory.unreadable_credential_kinds == (CredentialType.SERVICE_CREDENTIAL,)
    assert back.result.inventory.unreadable_credential_kinds[0] is CredentialType.SERVICE_CREDENTIAL
    # And encoding is deterministic (a retried worker rewrites the same bytes)
    assert encode(back) == encode(scan)


def test_a_failed_scan_and_a_manifest_round_trip():
    # Given a failed account's scan and a manifest with a skipped account
    failed = AccountScan(
        "run-1",
        AccountResult(
            Account("222222222222"), AccountStatus.FAILED, error_code="AccessDenied", error_message="x"
        ),
    )
    context = RunContext(
        run_id="run-1",
        started_at=NOW,
        dry_run=False,
        thresholds=Thresholds(30, 20, 3),
        role_name="IAMListRole",
        role_path="/",
        trigger="manual",
        account_source="organizations",
        user_tag_keys=("owner", "team"),
    )
    manifest = RunManifest(
        context=context,
        to_scan=(Account("111111111111", "prod", "Root/Prod"),),
        skipped=(AccountResult(Account("999999999999"), AccountStatus.SKIPPED, error_code="HubAccount"),),
    )

    # When each is encoded and decoded
    # Then each comes back equal
    assert decode(AccountScan, encode(failed)) == failed
    assert decode(RunManifest, encode(manifest)) == manifest


def test_the_committed_schema_is_the_generated_one_and_validates_a_stored_scan():
    # Given the committed schema and an encoded scan
    committed = json.loads(SCHEMA.read_text())
    document = json.loads(gzip.decompress(encode(sample_scan())))

    # Then the schema is exactly what the models generate (regenerate it when a model changes)
    assert committed == json_schema(AccountScan)
    # And the stored document is valid against it, with its version
    assert list(Draft202012Validator(committed).iter_errors(document)) == []
    assert document["schema_version"] == "1.2"


def test_a_scan_stored_before_the_new_credential_kinds_still_decodes():
    # Given a 1.0 scan, written before users carried service credentials, SSH keys and certificates
    document = json.loads(gzip.decompress(encode(sample_scan())))
    document["schema_version"] = "1.0"
    inventory = document["result"]["inventory"]
    for name in ("root_signing_certificate_active", "unreadable_credential_kinds"):
        del inventory[name]
    for user in inventory["users"]:
        for name in ("service_credentials", "ssh_public_keys", "signing_certificates", "ssh_keys_read"):
            del user[name]

    # When it is decoded
    back = decode(AccountScan, gzip.compress(json.dumps(document).encode()))

    # Then the new fields take their defaults: nothing read, nothing unreadable
    carol = back.result.inventory.users[2]
    assert (carol.service_credentials, carol.ssh_public_keys, carol.signing_certificates) == ((), (), ())
    assert carol.ssh_keys_read is False
    assert back.result.inventory.unreadable_credential_kinds == ()
    assert back.result.inventory.root_signing_certificate_active is False


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not gzip", "not gzip JSON"),
        (gzip.compress(b'{"schema_version": "2.0"}'), "schema_version '2.0' is not 1.2"),
        (gzip.compress(b'{"schema_version": "1.0", "run_id": 3}'), "invalid field"),
    ],
)
def test_an_unreadable_document_is_one_clear_error(body: bytes, message: str):
    # Given a stored body that is corrupt, of another major version, or missing fields
    # When it is decoded
    # Then the error says which, without a traceback of pydantic internals
    with pytest.raises(UnreadableDocument, match=message):
        decode(AccountScan, body)


def test_a_document_that_validates_under_another_major_version_is_still_refused():
    # Given a whole, valid scan whose schema_version says 2.0
    document = json.loads(gzip.decompress(encode(sample_scan())))
    document["schema_version"] = "2.0"
    body = gzip.compress(json.dumps(document).encode())

    # When it is decoded (its fields would all validate)
    # Then the version refuses it, as before validation
    with pytest.raises(UnreadableDocument, match=re.escape("schema_version '2.0' is not 1.2")):
        decode(AccountScan, body)


def test_a_body_json_loads_reads_but_not_utf8_still_decodes_the_same():
    # Given a scan written as UTF-16 JSON (json.loads detects it; pydantic's parser reads UTF-8 only)
    document = json.loads(gzip.decompress(encode(sample_scan())))
    body = gzip.compress(json.dumps(document).encode("utf-16"))

    # When it is decoded
    # Then it is the same scan, through the slow path
    assert decode(AccountScan, body) == sample_scan()


@dataclass(frozen=True, slots=True)
class _KeyView:
    access_key_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class _UserView:
    user_name: str
    access_keys: tuple[_KeyView, ...] = ()


@dataclass(frozen=True, slots=True)
class _InventoryView:
    users: tuple[_UserView, ...]


@dataclass(frozen=True, slots=True)
class _ResultView:
    status: AccountStatus
    inventory: _InventoryView | None = None


@dataclass(frozen=True, slots=True)
class _ScanView:
    result: _ResultView
    schema_version: str


def test_a_view_decodes_only_the_fields_it_names_with_the_same_values():
    # Given a stored scan
    scan = sample_scan()
    body = encode(scan)

    # When a view of a few fields is decoded
    view = decode_view(AccountScan, _ScanView, body)

    # Then those fields equal the whole decode's
    assert view.result.status is AccountStatus.SCANNED
    assert [
        (user.user_name, [(key.access_key_id, key.created_at) for key in user.access_keys])
        for user in view.result.inventory.users
    ] == [
        (user.user_name, [(key.access_key_id, key.created_at) for key in user.access_keys])
        for user in scan.result.inventory.users
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not gzip", "not gzip JSON"),
        (gzip.compress(b'{"schema_version": "1.2", "result": '), "not gzip JSON"),
        (gzip.compress(b'{"schema_version": "2.0", "result": {"status": "scanned"}}'), "is not 1.2"),
        (gzip.compress(b'{"schema_version": "1.2", "result": {"status": "lost"}}'), "invalid field"),
    ],
)
def test_a_view_of_an_unreadable_document_is_the_same_clear_error(body: bytes, message: str):
    # Given a body that is corrupt, truncated, of another major version, or with a bad field it names
    # When a view is decoded
    # Then the error is decode's
    with pytest.raises(UnreadableDocument, match=message):
        decode_view(AccountScan, _ScanView, body)


def test_a_sound_document_is_validated_in_one_pass(monkeypatch: pytest.MonkeyPatch):
    # Given a stored scan, and json.loads made to fail (only the slow path for errors uses it)
    body = encode(sample_scan())
    monkeypatch.setattr(codec.json, "loads", lambda *_: pytest.fail("json.loads called"))

    # When it is decoded, whole or as a view
    # Then pydantic's parser read it alone
    assert decode(AccountScan, body) == sample_scan()
    assert decode_view(AccountScan, _ScanView, body).result.status is AccountStatus.SCANNED
