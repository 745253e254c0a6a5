"""Nothing leaked: with DEBUG logging everywhere, no credential or ExternalId reaches a log, file or error."""

from __future__ import annotations

import gzip
import json
import logging
import traceback
from collections.abc import Iterator

import boto3
import botocore.retries.standard
import pytest
from botocore.exceptions import ClientError

from iam_inventory.core.observability import logger as powertools_logger
from iam_inventory.entrypoints import handlers as handler
from iam_inventory_sim import HUB_ACCOUNT_ID, AccountSpec, Fault, KeySpec, SimRequest, UserSpec, admin_client
from iam_inventory_sim.estate import CODECOMMIT_POLICY
from iam_inventory_sim.seed_credentials import certificate_body
from tests.builders import NOW
from tests.integration.fanout_machine import ExecutionFailed
from tests.integration.faultkit import MODES, invoke, manual_event

# Not the demo's id: a value that appears nowhere else, so any occurrence is a leak.
EXTERNAL_ID = "leak-test-external-id-4Qz9+wXv"
EXTERNAL_ID_PARAMETER = "/iam-inventory/leak-test/external-id"
ESTATE = (
    AccountSpec(
        "111111111111",
        "prod",
        users=(UserSpec("alice", console=True, keys=(KeySpec(200, 3), KeySpec(5, None))),),
        root_access_key=True,
    ),
    AccountSpec("222222222222", "dev", users=(UserSpec("bob", keys=(KeySpec(10, 1),)),)),
    AccountSpec("333333333333", "other-external-id", role="wrong_external_id"),
)
ACCOUNTS = [spec.account_id for spec in ESTATE]


class ListHandler(logging.Handler):
    """Keeps every formatted record, traceback included."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logging(capsys) -> Iterator[ListHandler]:
    """DEBUG on every logger, botocore's included, as `boto3.set_stream_logger('')` does; restored after."""
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    saved_powertools_level = powertools_logger.log_level
    collected = ListHandler()
    boto3.set_stream_logger("", logging.DEBUG)  # botocore, urllib3, everything, to stderr
    root.addHandler(collected)
    powertools_logger.setLevel("DEBUG")
    yield collected
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    powertools_logger.setLevel(saved_powertools_level)


def plant_other_credentials(simulator) -> set[str]:
    """Give alice (a CodeCommit user) a Bedrock API key, a git login, an SSH key and a signing certificate;
    return their secrets and bodies: the API key secret and git password IAM returned once, at creation,
    and each line of the SSH key and certificate bodies (a log shows a body with its newlines escaped)."""
    iam = admin_client(simulator, "iam", "111111111111")
    iam.put_user_policy(UserName="alice", PolicyName="git", PolicyDocument=json.dumps(CODECOMMIT_POLICY))
    created = [
        iam.create_service_specific_credential(UserName="alice", ServiceName=service)[
            "ServiceSpecificCredential"
        ]
        for service in ("bedrock.amazonaws.com", "codecommit.amazonaws.com")
    ]
    secrets = {created[0]["ServiceCredentialSecret"], created[1]["ServicePassword"]}
    ssh_body = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQLeakTestSshPublicKeyBody7Hq2 alice@laptop"
    iam.upload_ssh_public_key(UserName="alice", SSHPublicKeyBody=ssh_body)
    certificate = certificate_body("leak-test-alice")
    iam.upload_signing_certificate(UserName="alice", CertificateBody=certificate)
    lines = [line for line in certificate.splitlines() if "-----" not in line and len(line) >= 20]
    return secrets | {ssh_body.split()[1]} | set(lines)


@pytest.fixture
def configured(simulator, seed, report_bucket, monkeypatch) -> set[str]:
    seed(ESTATE, external_id=EXTERNAL_ID)
    planted = plant_other_credentials(simulator)
    boto3.client("ssm").put_parameter(Name=EXTERNAL_ID_PARAMETER, Value=EXTERNAL_ID, Type="SecureString")
    monkeypatch.setenv("EXTERNAL_ID_PARAMETER", EXTERNAL_ID_PARAMETER)
    monkeypatch.setenv("REPORT_BUCKET", report_bucket)
    monkeypatch.setenv("RETRY_MODE", "standard")
    monkeypatch.setenv("MAX_ATTEMPTS", "2")
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0.0)
    monkeypatch.setattr(handler, "utcnow", lambda: NOW)
    return planted


def expire_first_session(account_id: str):
    """The first spoke session into the account answers ExpiredToken, forcing a second AssumeRole."""
    first: list[str] = []

    def rule(request: SimRequest) -> Fault | None:
        if request.service != "iam" or request.caller_account != account_id:
            return None
        first[:] = first or [request.access_key_id]
        if request.access_key_id == first[0]:
            return Fault("ExpiredToken", "The security token included in the request is expired", 403)
        return None

    return rule


def run_secrets() -> set[str]:
    """Every secret key and session token STS issued in this test, and the ExternalId."""
    from moto.sts.models import sts_backends

    secrets = {EXTERNAL_ID}
    for account_id in [*ACCOUNTS, HUB_ACCOUNT_ID]:
        for assumed in sts_backends[account_id]["aws"].assumed_roles:
            secrets.update({assumed.secret_access_key, assumed.session_token})
    return secrets


def bucket_texts(bucket: str) -> dict[str, str]:
    """Every object's text; the stored AccountScans and manifest uncompressed first."""
    s3 = boto3.client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    bodies = {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}
    # The comparison state is gzipped: read what it holds, not its compressed bytes.
    return {
        key: (gzip.decompress(body) if key.endswith(".gz") else body).decode() for key, body in bodies.items()
    }


@pytest.mark.parametrize("mode", MODES)
def test_no_secret_in_any_log_line_report_or_exception(
    configured, simulator, report_bucket, lambda_context, debug_logging, capsys, mode
):
    # Given DEBUG logging everywhere and a run that renews one session and fails one account
    simulator.faults.rules.append(expire_first_session("222222222222"))

    # When the job runs and publishes
    summary = invoke(manual_event("leak-check", ACCOUNTS), lambda_context, mode)

    # And a second run whose publishing fails, so an exception escapes the handler
    simulator.faults.rules.append(
        lambda request: (
            Fault("InternalError", "We encountered an internal error.", 500, sender=False)
            if request.service == "s3" and request.action.startswith("PUT ")
            else None
        )
    )
    # (in fan-out mode Discover's Lambda fails with it, and so does the execution: its cause and history
    # carry the error message and stack trace, and are checked like the exception)
    with pytest.raises(ExecutionFailed if mode == "fanout" else ClientError) as raised:
        invoke(manual_event("leak-check-2", ACCOUNTS), lambda_context, mode)
    if mode == "fanout":
        assert raised.value.execution.error == "ClientError"
    logging.getLogger("iam_inventory.test").exception("handler failed", exc_info=raised.value)

    # Then the run really issued credentials and really logged botocore's request/response bodies
    secrets = run_secrets()
    assert len(secrets) >= 1 + 2 * 4  # ExternalId + (key, token) of at least 4 spoke sessions
    secrets |= configured  # the API key secret, the git password, the SSH key and certificate bodies
    captured = capsys.readouterr()
    lines = debug_logging.lines
    assert any(line.startswith("botocore.parsers DEBUG Response body") for line in lines)
    assert any("<SecretAccessKey>***</SecretAccessKey>" in line for line in lines)
    # And the other credentials were read: ListSigningCertificates returned the body, which was masked,
    # and the never-expiring API key was found
    assert any("<CertificateBody>***</CertificateBody>" in line for line in lines)
    assert "api_key_never_expires" in "\n".join(bucket_texts(report_bucket).values())
    assert summary["accounts"]["failed"] == 1

    # And no secret appears anywhere: log lines, stdout/stderr, report files, return value, exception
    texts = {
        "log lines": "\n".join(lines),
        "stdout": captured.out,
        "stderr": captured.err,
        "summary": json.dumps(summary),
        "exception": "".join(traceback.format_exception(raised.value)),
        "execution history": getattr(raised.value, "history_text", ""),
        **bucket_texts(report_bucket),
    }
    assert len(texts) > 5  # the report files of the first run are there
    assert any("/accounts/" in where for where in texts)  # and its stored AccountScans
    leaks = {(where, secret[:6]) for where, text in texts.items() for secret in secrets if secret in text}
    assert leaks == set()
