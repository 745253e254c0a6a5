"""Reading the exceptions file from disk, S3 or SSM (botocore Stubber: no AWS, no network)."""

from __future__ import annotations

import io
import json
from datetime import date

import botocore.session
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from iam_inventory.config.exceptions_source import (
    ExceptionsSourceError,
    exceptions_location,
    read_exceptions,
    read_exceptions_file,
)
from iam_inventory.config.settings import Settings
from iam_inventory.evaluate.exceptions import NO_EXCEPTIONS, ExceptionsFileError

TODAY = date(2026, 12, 1)
DOCUMENT = {
    "version": 1,
    "exceptions": [
        {
            "id": "ci",
            "match": {"account": "111111111111"},
            "owner": "team-ci",
            "reason": "legacy",
            "expires": "2027-01-31",
        }
    ],
}
TEXT = json.dumps(DOCUMENT).encode()


def stubbed(service: str) -> tuple[object, Stubber]:
    client = botocore.session.get_session().create_client(
        service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    return client, Stubber(client)


def test_nothing_configured_means_no_exceptions_and_no_client():
    def no_client(service: str):
        raise AssertionError(service)

    assert read_exceptions(Settings(), no_client, TODAY) is NO_EXCEPTIONS
    assert exceptions_location(Settings()) is None


def test_reads_from_s3(tmp_path):
    # Given EXCEPTIONS_S3_URI and an S3 object holding a valid file
    s3, stub = stubbed("s3")
    stub.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(TEXT), len(TEXT)), "ContentLength": len(TEXT)},
        {"Bucket": "sec-config", "Key": "iam-inventory/exceptions.json"},
    )
    settings = Settings(EXCEPTIONS_S3_URI="s3://sec-config/iam-inventory/exceptions.json")
    # When read, then the entries are parsed and the source names the URI
    with stub:
        parsed = read_exceptions(settings, lambda service: {"s3": s3}[service], TODAY)
    assert (parsed.source, [item.exception_id for item in parsed.exceptions]) == (
        "s3://sec-config/iam-inventory/exceptions.json",
        ["ci"],
    )


def test_reads_from_ssm_with_decryption():
    ssm, stub = stubbed("ssm")
    stub.add_response(
        "get_parameter",
        {"Parameter": {"Name": "/iam-inventory/exceptions", "Type": "String", "Value": TEXT.decode()}},
        {"Name": "/iam-inventory/exceptions", "WithDecryption": True},
    )
    settings = Settings(EXCEPTIONS_PARAMETER="/iam-inventory/exceptions")
    with stub:
        parsed = read_exceptions(settings, lambda service: {"ssm": ssm}[service], TODAY)
    assert (parsed.source, len(parsed.exceptions)) == ("ssm:/iam-inventory/exceptions", 1)


def test_a_missing_object_refuses_the_run_with_one_line():
    s3, stub = stubbed("s3")
    stub.add_client_error("get_object", "NoSuchKey", "The specified key does not exist.", 404)
    settings = Settings(EXCEPTIONS_S3_URI="s3://sec-config/exceptions.json")
    with stub, pytest.raises(ExceptionsSourceError) as caught:
        read_exceptions(settings, lambda service: s3, TODAY)
    assert str(caught.value) == "cannot read exceptions file s3://sec-config/exceptions.json: NoSuchKey"


def test_a_missing_parameter_refuses_the_run():
    ssm, stub = stubbed("ssm")
    stub.add_client_error("get_parameter", "ParameterNotFound", "", 400)
    with (
        stub,
        pytest.raises(
            ExceptionsSourceError, match=r"^cannot read exceptions parameter /x: ParameterNotFound$"
        ),
    ):
        read_exceptions(Settings(EXCEPTIONS_PARAMETER="/x"), lambda service: ssm, TODAY)


def test_an_invalid_stored_file_refuses_the_run_naming_the_entry():
    ssm, stub = stubbed("ssm")
    bad = {**DOCUMENT, "exceptions": [{**DOCUMENT["exceptions"][0], "expires": "2030-01-01"}]}
    stub.add_response("get_parameter", {"Parameter": {"Value": json.dumps(bad)}})
    with stub, pytest.raises(ExceptionsFileError) as caught:
        read_exceptions(Settings(EXCEPTIONS_PARAMETER="/x"), lambda service: ssm, TODAY)
    assert caught.value.problems == (
        "exceptions[0] (id 'ci'): expires: 2030-01-01 is more than 365 days after 2026-12-01 "
        "(latest 2027-12-01)",
    )


def test_a_local_file_wins_over_the_settings(tmp_path):
    # Given both a configured S3 URI and the CLI's --exceptions FILE
    path = tmp_path / "exceptions.json"
    path.write_bytes(TEXT)
    settings = Settings(EXCEPTIONS_S3_URI="s3://sec-config/exceptions.json")

    def no_client(service: str):
        raise AssertionError(service)

    # When read, then the file is used and S3 is never called
    parsed = read_exceptions(settings, no_client, TODAY, path)
    assert (parsed.source, len(parsed.exceptions)) == (str(path), 1)


def test_unreadable_and_oversized_files(tmp_path):
    with pytest.raises(
        ExceptionsSourceError, match=r"cannot read exceptions file .*missing\.json: No such file"
    ):
        read_exceptions_file(tmp_path / "missing.json", TODAY)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 1_000_001)
    with pytest.raises(ExceptionsSourceError, match="is larger than 1000000 bytes"):
        read_exceptions_file(big, TODAY)
