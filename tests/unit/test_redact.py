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
