"""The fault layer in front of moto: what real AWS refuses and moto does not, and injected faults.

moto accepts any AssumeRole, even into a role that does not exist. Real STS refuses when the role is
missing, the caller is not trusted, or the ExternalId does not match; the layer enforces exactly that
from the trust policies stored in moto, and lets tests inject throttling, errors and latency.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

from iam_inventory_sim.wire import error_response

_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_ROLE_ARN = re.compile(r"^arn:[\w-]+:iam::(\d{12}):role(/(?:[^/]+/)*)([^/]+)$")


@dataclass(frozen=True, slots=True)
class SimRequest:
    """What the fault layer knows about one incoming API request."""

    service: str
    action: str
    params: dict[str, str]
    access_key_id: str
    caller_account: str


@dataclass(frozen=True, slots=True)
class Fault:
    """An error answer in the service's own wire format."""

    code: str
    message: str
    status: int = 400
    sender: bool = True
    # When set, the request is held this long and then dropped, like a spoke that hangs.
    hang_seconds: float = 0.0


FaultRule = Callable[[SimRequest], Fault | None]


def _caller_account(access_key_id: str) -> str:
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key_id)


@dataclass
class FaultLayer:
    """WSGI middleware in front of moto: trust enforcement, injected faults, latency, request log."""

    app: Callable[..., Any]
    enforce_trust: bool = False
    latency_seconds: float = 0.0
    rules: list[FaultRule] = field(default_factory=list)
    operations: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = self._describe(environ)
        if request is not None:
            with self._lock:
                self.operations[f"{request.service}:{request.action}"] += 1
            if self.latency_seconds:
                time.sleep(self.latency_seconds)
            fault = self._fault_for(request)
            if fault is not None:
                if fault.hang_seconds:
                    time.sleep(fault.hang_seconds)
                return self._error_response(request, fault)(environ, start_response)
        return self.app(environ, start_response)

    def _fault_for(self, request: SimRequest) -> Fault | None:
        for rule in list(self.rules):
            fault = rule(request)
            if fault is not None:
                return fault
        if self.enforce_trust and request.service == "sts" and request.action == "AssumeRole":
            return check_trust(request)
        return None

    @staticmethod
    def _describe(environ: dict[str, Any]) -> SimRequest | None:
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is None:
            return None
        access_key_id, _region, service = scope.groups()
        request = Request(environ)
        body = request.get_data(cache=True)
        # moto reads the body again: hand it a fresh stream.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        params: dict[str, str] = {}
        if target:
            action = target.rsplit(".", 1)[-1]
        else:
            form = parse_qs(body.decode("utf-8", "replace")) if body else {}
            form.update(parse_qs(environ.get("QUERY_STRING", "")))
            params = {name: values[0] for name, values in form.items()}
            action = params.get(
                "Action", f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}"
            )
        return SimRequest(service, action, params, access_key_id, _caller_account(access_key_id))

    @staticmethod
    def _error_response(request: SimRequest, fault: Fault) -> Response:
        return error_response(request.service, fault.code, fault.message, fault.status, fault.sender)


def check_trust(request: SimRequest) -> Fault | None:
    """Refuse AssumeRole as real STS does: missing role, untrusted caller or ExternalId mismatch."""
    from moto.iam.models import iam_backends

    arn = request.params.get("RoleArn", "")
    denied = Fault(
        "AccessDenied",
        f"User: arn:aws:iam::{request.caller_account}:root is not authorized to perform: "
        f"sts:AssumeRole on resource: {arn}",
        status=403,
    )
    match = _ROLE_ARN.match(arn)
    if match is None:
        return denied
    account_id, path, name = match.groups()
    role = next(
        (
            role
            for role in iam_backends[account_id]["aws"].roles.values()
            if role.name == name and role.path == path
        ),
        None,
    )
    if role is None:
        return denied
    policy = json.loads(role.assume_role_policy_document)
    for statement in _as_list(policy.get("Statement")):
        if statement.get("Effect") != "Allow" or "sts:AssumeRole" not in _as_list(statement.get("Action")):
            continue
        principals = _as_list(statement.get("Principal", {}).get("AWS"))
        if not any(_principal_account(principal) == request.caller_account for principal in principals):
            continue
        wanted = statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
        if wanted is not None and request.params.get("ExternalId") not in _as_list(wanted):
            continue
        return None
    return denied


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_account(principal: str) -> str:
    if re.fullmatch(r"\d{12}", principal):
        return principal
    match = re.match(r"^arn:[\w-]+:(?:iam|sts)::(\d{12}):", principal)
    return match.group(1) if match else ""
