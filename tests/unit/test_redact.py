"""The redactor and the log record factory: secrets masked in messages, extras and tracebacks."""

from __future__ import annotations

import logging

import pytest

from iam_inventory.core.redact import RedactedError, Redactor, install_log_redaction, redact_record

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # 40 characters, AWS's documented example
TOKEN = "FQoGZXIvYXdzEBYaD" + "A1b2C3d4" * 40
EXTERNAL_ID = "ext-id-7f3a"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # botocore's request parameters at DEBUG
        (
            "params: {'RoleArn': 'arn', 'ExternalId': 'abc-123'}",
            "params: {'RoleArn': 'arn', 'ExternalId': '***'}",
        ),
        (
            "body=Action=AssumeRole&ExternalId=abc-123&Version=1",
            "body=Action=AssumeRole&ExternalId=***&Version=1",
        ),
        # a canonical request carries the session token header
        ("x-amz-security-token:short-token\nhost:x", "x-amz-security-token:***\nhost:x"),
        # a raw AssumeRole response body
        (
            "<SecretAccessKey>abc</SecretAccessKey><SessionToken>def</SessionToken>",
            "<SecretAccessKey>***</SecretAccessKey><SessionToken>***</SessionToken>",
        ),
        # an SSM SecureString read back
        (
            '{"Parameter": {"Type": "SecureString", "Value": "abc-123"}}',
            '{"Parameter": {"Type": "SecureString", "Value": "***"}}',
        ),
        # a plain String parameter is not a secret
        (
            '{"Parameter": {"Type": "String", "Value": "111111111111"}}',
            '{"Parameter": {"Type": "String", "Value": "111111111111"}}',
        ),
        # a ListSigningCertificates response body (the PEM's newlines escaped, as botocore logs bytes),
        # and the parsed response
        (
            "b'<member><CertificateBody>-----BEGIN CERTIFICATE-----\\nMIIBkTCB+wIJ\\n"
            "-----END CERTIFICATE-----</CertificateBody><Status>Active</Status>'",
            "b'<member><CertificateBody>***</CertificateBody><Status>Active</Status>'",
        ),
        (
            "{'CertificateBody': '-----BEGIN CERTIFICATE-----\\nMIIBkTCB+wIJ\\n', 'Status': 'Active'}",
            "{'CertificateBody': '***', 'Status': 'Active'}",
        ),
        # the secrets of a service-specific credential and an SSH key body, should a call return them
        (
            "<ServicePassword>p+w/d=</ServicePassword><ServiceCredentialSecret>s3cr3t</ServiceCredentialSecret>",
            "<ServicePassword>***</ServicePassword><ServiceCredentialSecret>***</ServiceCredentialSecret>",
        ),
        (
            '{"SSHPublicKeyBody": "ssh-rsa AAAAB3Nza alice@laptop", "Status": "Active"}',
            '{"SSHPublicKeyBody": "***", "Status": "Active"}',
        ),
        # the ids and service user names beside them are not secrets
        (
            "<ServiceUserName>alice-at-111111111111</ServiceUserName><CertificateId>ABC123</CertificateId>",
            "<ServiceUserName>alice-at-111111111111</ServiceUserName><CertificateId>ABC123</CertificateId>",
        ),
        (f"key {SECRET_KEY} end", "key *** end"),
        (f"token {TOKEN}", "token ***"),
        (
            "AccessKeyId AKIAIOSFODNN7EXAMPLE is an identifier",
            "AccessKeyId AKIAIOSFODNN7EXAMPLE is an identifier",
        ),
    ],
)
def test_secret_fields_and_shapes_are_masked(text, expected):
    assert Redactor()(text) == expected


def test_known_secrets_are_masked_whatever_their_shape():
    redact = Redactor()
    redact.add(EXTERNAL_ID, None, "")
    assert redact(f"trust wants {EXTERNAL_ID}.") == "trust wants ***."


def make_record(
    message: str, *args: object, exc: BaseException | None = None, **extra: object
) -> logging.LogRecord:
    record = logging.LogRecord(
        "botocore.parsers",
        logging.DEBUG,
        __file__,
        1,
        message,
        args,
        (type(exc), exc, exc.__traceback__) if exc else None,
    )
    record.__dict__.update(extra)
    return record


def test_record_message_args_and_extras_are_redacted():
    redact = Redactor([EXTERNAL_ID])
    record = redact_record(
        make_record("id=%s", EXTERNAL_ID, error=f"denied {EXTERNAL_ID}", summary={"nested": [EXTERNAL_ID]}),
        redact,
    )
    assert (record.getMessage(), record.error, record.summary) == (
        "id=***",
        "denied ***",
        {"nested": ["***"]},
    )


def test_traceback_carrying_a_secret_is_replaced_by_its_redacted_text():
    try:
        raise RuntimeError(f"credentials {SECRET_KEY}")
    except RuntimeError as error:
        record = redact_record(make_record("failed", exc=error), Redactor())
    text = logging.Formatter().format(record)
    assert SECRET_KEY not in text
    assert record.exc_info[0] is RedactedError
    assert "RuntimeError: credentials ***" in text


def test_installed_factory_redacts_records_of_every_logger(caplog):
    # Given the factory installed, and a record logged on a child logger propagating to a handler at root
    previous = logging.getLogRecordFactory()
    install_log_redaction(Redactor([EXTERNAL_ID]))
    try:
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("botocore.endpoint").debug(
                "Making request with params: %s", {"ExternalId": EXTERNAL_ID}
            )
    finally:
        logging.setLogRecordFactory(previous)
    # Then the handler only ever saw the masked text
    assert caplog.messages == ["Making request with params: {'ExternalId': '***'}"]


def test_secrets_of_four_characters_or_more_are_remembered_shorter_ones_are_not():
    # Given a 4-character and a 3-character value added as secrets
    redact = Redactor()
    redact.add("k3y9", "abc")
    # Then the first is masked; the second would garble every word containing it, so it is not
    assert redact("k3y9 abc cabbage") == "*** abc cabbage"


def test_a_secret_containing_another_is_masked_whole():
    # Given two known secrets, the shorter sorting after the longer and contained in it
    redact = Redactor(["wxyz", "ABCDwxyz9"])
    # Then the longer is masked first: no fragment of it is left around a mask
    assert redact("token ABCDwxyz9 end") == "token *** end"


def test_structured_message_is_redacted_and_stays_structured():
    # Given a record whose message is a dict (Powertools logs dicts as JSON)
    redact = Redactor([EXTERNAL_ID])
    record = redact_record(make_record({"event": "assume", "external_id": EXTERNAL_ID}), redact)  # type: ignore[arg-type]
    assert record.msg == {"event": "assume", "external_id": "***"}


def test_message_whose_arguments_do_not_format_is_kept_and_redacted():
    # Given a malformed call: %d with a string argument that is a secret
    redact = Redactor([EXTERNAL_ID])
    record = redact_record(make_record(f"count %d for {EXTERNAL_ID}", "x"), redact)
    # Then the record carries the template (masked) and no arguments for logging to print raw
    assert (record.msg, record.args) == ("count %d for *** (arguments could not be formatted)", None)


def test_exception_without_a_traceback_is_redacted_too():
    # Given an exception that was never raised (no traceback), carrying the secret key
    error = RuntimeError(f"credentials {SECRET_KEY}")
    record = make_record("failed")
    record.exc_info = (RuntimeError, error, None)
    # When
    record = redact_record(record, Redactor())
    # Then it is replaced by its redacted text
    assert record.exc_info[0] is RedactedError
    assert str(record.exc_info[1]) == "RuntimeError: credentials ***\n"


def test_redacted_traceback_keeps_its_lines():
    try:
        raise RuntimeError(f"credentials {SECRET_KEY}")
    except RuntimeError as error:
        record = redact_record(make_record("failed", exc=error), Redactor())
    lines = str(record.exc_info[1]).splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1].startswith('  File "')
    assert lines[-1] == "RuntimeError: credentials ***"


def test_installing_again_swaps_the_redactor_instead_of_chaining(monkeypatch):
    # Given no redaction installed yet, then two runs each installing their own redactor
    class Counting(Redactor):
        calls = 0

        def __call__(self, text: str) -> str:
            type(self).calls += 1
            return super().__call__(text)

    class First(Counting):
        calls = 0

    class Second(Counting):
        calls = 0

    previous = logging.getLogRecordFactory()
    monkeypatch.setattr("iam_inventory.core.redact._original_factory", None)
    try:
        install_log_redaction(First(["first-secret"]))
        install_log_redaction(Second(["second-secret"]))
        # When a record is created, with keyword arguments as LogRecord accepts them
        record = logging.getLogRecordFactory()(
            name="app",
            level=logging.INFO,
            pathname=__file__,
            lineno=1,
            msg="second-secret here",
            args=None,
            exc_info=None,
            sinfo="stack",
        )
    finally:
        logging.setLogRecordFactory(previous)
    # Then only the newest redactor ran, once, over a record the original factory built
    assert (First.calls, Second.calls) == (0, 1)
    assert (record.getMessage(), record.stack_info) == ("*** here", "stack")
    assert type(record) is logging.LogRecord
