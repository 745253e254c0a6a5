"""Checks made once before any account is scanned: the hub credentials work and the report bucket exists.

Without them, missing credentials or an unreachable endpoint show up as every account failing one by
one, and a missing bucket only after the whole scan.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from iam_inventory.assume.clients import ClientFactory
from iam_inventory.config.settings import Settings
from iam_inventory.core.errors import IamInventoryError
from iam_inventory.core.retry import client_error_code

# GetCallerIdentity needs no permission at all, so any refusal is about the credentials themselves
# (InvalidClientTokenId, ExpiredToken, ...): https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html


class PreflightError(IamInventoryError, RuntimeError):
    """The hub cannot start a run: no usable credentials, no endpoint, or no report bucket."""


def open_hub(settings: Settings, profile: str | None = None, max_pool_connections: int = 10) -> ClientFactory:
    """The hub's client factory; PreflightError when the named profile does not exist."""
    try:
        return ClientFactory(settings, max_pool_connections=max_pool_connections, profile=profile)
    except ProfileNotFound as error:
        raise PreflightError(f"--profile {profile}: {error}") from None


def check_hub_credentials(factory: ClientFactory, source: str) -> str:
    """The hub's caller ARN, or PreflightError naming what is wrong; `source` names where creds come from."""
    try:
        identity = factory.hub_client("sts").get_caller_identity()
    except ProfileNotFound as error:
        raise PreflightError(f"{source}: {error}") from None
    except (NoCredentialsError, PartialCredentialsError):
        raise PreflightError(
            f"no AWS credentials found ({source}): set AWS_PROFILE or pass --profile, "
            "or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        ) from None
    except EndpointConnectionError as error:
        raise PreflightError(f"cannot reach AWS: {error}") from None
    except NoRegionError:
        raise PreflightError("no AWS region: pass --region or set AWS_REGION") from None
    except ClientError as error:
        # A profile that assumes a role (role_arn + source_profile) fails here, in AssumeRole, when that
        # role or its external_id is wrong: the operation name tells which call refused.
        code = client_error_code(error)
        raise PreflightError(
            f"the hub credentials ({source}) were refused: {code} on sts:{error.operation_name}"
        ) from None
    except BotoCoreError as error:
        raise PreflightError(f"cannot use the hub credentials ({source}): {error}") from None
    return str(identity["Arn"])


def check_report_bucket(factory: ClientFactory, bucket: str, name: str) -> None:
    """PreflightError unless `bucket` exists and the hub may use it; `name` is the flag or variable."""
    try:
        factory.hub_client("s3").head_bucket(Bucket=bucket)
    except ClientError as error:
        # HeadBucket has no body, so the HTTP status is all there is: 404 missing, 403 not ours.
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404:
            raise PreflightError(f"{name} {bucket}: no such bucket") from None
        if status == 403:
            raise PreflightError(f"{name} {bucket}: access denied (HeadBucket answered 403)") from None
        raise PreflightError(f"{name} {bucket}: HeadBucket failed with HTTP {status}") from None
    except BotoCoreError as error:
        raise PreflightError(f"{name} {bucket}: {error}") from None
