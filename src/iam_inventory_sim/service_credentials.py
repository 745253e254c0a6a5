"""IAM service-specific credentials (CodeCommit, Keyspaces, Bedrock and CloudWatch Logs API keys).

moto 5.2 does not implement them, so this WSGI layer answers the five actions as the API reference
documents them; the credentials live on moto's user object, so they go when the user goes.
- CreateServiceSpecificCredential: UserName and ServiceName required; at most two credentials per
  service per user (LimitExceeded); CredentialAgeDays (1..36600) "is only valid for services that
  support long-term API keys" (Bedrock, CloudWatch Logs) and without it the credential never expires;
  the password (ServicePassword) or API key secret (ServiceCredentialSecret) is returned only here.
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceSpecificCredential.html
  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_api_keys_for_aws_services.html
- ListServiceSpecificCredentials: UserName, or AllUsers ("cannot be specified together with
  UserName"); ServiceName is optional ("If not specified, then AWS returns service-specific credentials
  for all services"), so AllUsers needs no ServiceName; paged with Marker/MaxItems (1..1000, default 100).
  ExpirationDate "is only present for Bedrock API keys and CloudWatch Logs API keys that were created
  with an expiration period"; Status is Active, Inactive or Expired.
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListServiceSpecificCredentials.html
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_ServiceSpecificCredentialMetadata.html
- Update/Delete/ResetServiceSpecificCredential: NoSuchEntity for an unknown user or credential id.
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_ResetServiceSpecificCredential.html
An unsupported ServiceName answers NotSupportedService (404), as the API's error list names it.
"""

from __future__ import annotations

import io
import secrets
import string
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from iam_inventory_sim.clock import SimClock
from iam_inventory_sim.report_csv import wire_time
from iam_inventory_sim.wire import QUERY_NAMESPACES, error_response

API_KEY_SERVICES = frozenset({"bedrock.amazonaws.com", "logs.amazonaws.com"})
SUPPORTED_SERVICES = frozenset({"codecommit.amazonaws.com", "cassandra.amazonaws.com", *API_KEY_SERVICES})
PER_USER_PER_SERVICE = (
    2  # "a maximum of two sets of service-specific credentials for each supported service per user"
)
MAX_AGE_DAYS = 36600
DEFAULT_PAGE, MAX_PAGE = 100, 1000
ACTIONS = frozenset(
    {
        "CreateServiceSpecificCredential",
        "ListServiceSpecificCredentials",
        "UpdateServiceSpecificCredential",
        "DeleteServiceSpecificCredential",
        "ResetServiceSpecificCredential",
    }
)
_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(slots=True)
class StoredCredential:
    """One credential as IAM keeps it; its secret is handed out once and never stored."""

    credential_id: str
    user_name: str
    service_name: str
    service_user_name: str | None
    alias: str | None
    created_at: datetime
    expires_at: datetime | None
    status: str = "Active"

    def status_at(self, now: datetime) -> str:
        """Active/Inactive as set, or Expired once the expiry has passed."""
        return "Expired" if self.expires_at is not None and now >= self.expires_at else self.status


class InvalidRequest(Exception):
    """An IAM error answer: code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def credentials_of(user: Any) -> list[StoredCredential]:
    """The credentials kept on a moto user (created on first use)."""
    stored: list[StoredCredential] | None = getattr(user, "service_specific_credentials", None)
    if stored is None:
        stored = []
        user.service_specific_credentials = stored
    return stored


def backdate_service_credential(
    account_id: str, user_name: str, credential_id: str, created_at: datetime
) -> None:
    """Move a credential's creation (and its expiry by as much) back in time, as no IAM API can."""
    from moto.iam.models import iam_backends

    user = iam_backends[account_id]["aws"].users[user_name]
    stored = next(item for item in credentials_of(user) if item.credential_id == credential_id)
    shift = created_at.replace(microsecond=0) - stored.created_at
    stored.created_at += shift
    if stored.expires_at is not None:
        stored.expires_at += shift


class ServiceCredentialLayer:
    """WSGI middleware: the five ServiceSpecificCredential actions, dated by the simulator clock."""

    def __init__(self, app: Callable[..., Any], clock: SimClock) -> None:
        self.app = app
        self.clock = clock
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = self._describe(environ)
        if request is None:
            return self.app(environ, start_response)
        action, params, account_id, access_key_id = request
        try:
            with self._lock:
                body = self._answer(action, params, account_id, access_key_id)
        except InvalidRequest as error:
            return error_response("iam", error.code, error.message, error.status)(environ, start_response)
        document = (
            f'<{action}Response xmlns="{QUERY_NAMESPACES["iam"]}">{body}'
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>"
        )
        return Response(document, status=200, content_type="text/xml")(environ, start_response)

    def _answer(self, action: str, params: dict[str, str], account_id: str, access_key_id: str) -> str:
        from moto.iam.models import iam_backends

        backend = iam_backends[account_id]["aws"]
        now = self.clock.now().replace(microsecond=0)
        if action == "ListServiceSpecificCredentials":
            return _list(backend, params, access_key_id, now)
        user = _user(backend, _user_name(backend, params, access_key_id))
        if action == "CreateServiceSpecificCredential":
            return _result(action, _create(user, params, account_id, now), now)
        stored = _find(user, params.get("ServiceSpecificCredentialId", ""))
        if action == "UpdateServiceSpecificCredential":
            status = params.get("Status", "")
            if status not in {"Active", "Inactive"}:
                raise InvalidRequest("ValidationError", f"Invalid Status: {status!r}", 400)
            stored.status = status
            return ""
        if action == "DeleteServiceSpecificCredential":
            credentials_of(user).remove(stored)
            return ""
        # Reset: "Resets the password for a service-specific credential"; an API key has no password
        # to reset (not documented either way), so the simulator refuses rather than invent a secret.
        if stored.service_name in API_KEY_SERVICES:
            raise InvalidRequest(
                "InvalidInput", "Only service-specific credentials with a password can be reset", 400
            )
        return _result(action, stored, now)

    @staticmethod
    def _describe(environ: dict[str, Any]) -> tuple[str, dict[str, str], str, str] | None:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if "iam" not in authorization.split("/", 4)[3:4]:
            return None
        request = Request(environ)
        body = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(body)
        form = parse_qs(body.decode("utf-8", "replace"))
        action = form.get("Action", [""])[0]
        if action not in ACTIONS:
            return None
        from moto.iam.models import get_account_id_from

        access_key_id = authorization.split("Credential=", 1)[1].split("/", 1)[0]
        params = {name: values[0] for name, values in form.items()}
        return action, params, get_account_id_from(access_key_id), access_key_id


def _result(action: str, item: StoredCredential, now: datetime) -> str:
    inner = _credential_xml("ServiceSpecificCredential", item, now, with_secret=True)
    return f"<{action}Result>{inner}</{action}Result>"


def _user_name(backend: Any, params: dict[str, str], access_key_id: str) -> str:
    name = params.get("UserName")
    if name:
        return name
    # Without UserName, IAM acts on the calling user; a role session is not a user.
    key = backend.access_keys.get(access_key_id)
    if key is None or not key.user_name:
        raise InvalidRequest(
            "ValidationError", "Must specify userName when calling with non-User credentials", 400
        )
    return str(key.user_name)


def _user(backend: Any, name: str) -> Any:
    user = backend.users.get(name)
    if user is None:
        raise InvalidRequest("NoSuchEntity", f"The user with name {name} cannot be found.", 404)
    return user


def _find(user: Any, credential_id: str) -> StoredCredential:
    for stored in credentials_of(user):
        if stored.credential_id == credential_id:
            return stored
    raise InvalidRequest(
        "NoSuchEntity", f"No such credential {credential_id} exists for user {user.name}.", 404
    )


def _create(user: Any, params: dict[str, str], account_id: str, now: datetime) -> StoredCredential:
    service = params.get("ServiceName", "")
    if service not in SUPPORTED_SERVICES:
        raise InvalidRequest("NotSupportedService", f"Service {service} is not supported.", 404)
    held = [item for item in credentials_of(user) if item.service_name == service]
    if len(held) >= PER_USER_PER_SERVICE:
        raise InvalidRequest(
            "LimitExceeded",
            f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: {PER_USER_PER_SERVICE}",
            409,
        )
    age = params.get("CredentialAgeDays")
    if age is not None and service not in API_KEY_SERVICES:
        raise InvalidRequest("InvalidInput", f"CredentialAgeDays is not supported for {service}.", 400)
    if age is not None and not (age.isdigit() and 1 <= int(age) <= MAX_AGE_DAYS):
        raise InvalidRequest("ValidationError", f"CredentialAgeDays must be 1..{MAX_AGE_DAYS}", 400)
    suffix = f"-{len(held)}" if held else ""
    api_key = service in API_KEY_SERVICES
    stored = StoredCredential(
        credential_id="ACCA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17)),
        user_name=user.name,
        service_name=service,
        # "combining the IAM user's name combined with the ID number of the AWS account".
        service_user_name=None if api_key else f"{user.name}-at-{account_id}{suffix}",
        alias=f"{user.name}+{len(held) + 1}-at-{account_id}" if api_key else None,
        created_at=now,
        expires_at=now + timedelta(days=int(age)) if age is not None else None,
    )
    credentials_of(user).append(stored)
    return stored


def _list(backend: Any, params: dict[str, str], access_key_id: str, now: datetime) -> str:
    all_users = params.get("AllUsers", "").lower() == "true"
    if all_users and params.get("UserName"):
        raise InvalidRequest("InvalidInput", "AllUsers cannot be specified together with UserName.", 400)
    if all_users:
        listed = [item for user in backend.users.values() for item in credentials_of(user)]
    else:
        listed = list(credentials_of(_user(backend, _user_name(backend, params, access_key_id))))
    service = params.get("ServiceName")
    if service:
        listed = [item for item in listed if item.service_name == service]
    raw_size = params.get("MaxItems", str(DEFAULT_PAGE))
    if not raw_size.isdigit() or not 1 <= int(raw_size) <= MAX_PAGE:
        raise InvalidRequest("ValidationError", f"MaxItems must be 1..{MAX_PAGE}", 400)
    start = int(params["Marker"]) if params.get("Marker", "").isdigit() else 0
    end = start + int(raw_size)
    members = "".join(_credential_xml("member", item, now, False) for item in listed[start:end])
    more = end < len(listed)
    marker = f"<Marker>{end}</Marker>" if more else ""
    return (
        "<ListServiceSpecificCredentialsResult>"
        f"<ServiceSpecificCredentials>{members}</ServiceSpecificCredentials>"
        f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{marker}"
        "</ListServiceSpecificCredentialsResult>"
    )


def _credential_xml(tag: str, item: StoredCredential, now: datetime, with_secret: bool) -> str:
    fields = [
        ("UserName", item.user_name),
        ("Status", item.status_at(now)),
        ("ServiceUserName", item.service_user_name),
        ("ServiceCredentialAlias", item.alias),
        ("CreateDate", wire_time(item.created_at)),
        ("ExpirationDate", wire_time(item.expires_at) if item.expires_at else None),
        ("ServiceSpecificCredentialId", item.credential_id),
        ("ServiceName", item.service_name),
    ]
    if with_secret:
        # Made up here and handed out once, as IAM does; the simulator keeps no copy.
        secret = secrets.token_urlsafe(30)
        fields.append(("ServiceCredentialSecret" if item.alias else "ServicePassword", secret))
    inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields if value is not None)
    return f"<{tag}>{inner}</{tag}>"
