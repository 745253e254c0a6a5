"""AWS clients: one shared botocore session, per-thread spoke clients, call counting, spoke role assumption.

Building a botocore client costs ~6 ms of CPU (its class, event emitter copy, endpoint ruleset) and its
first call of each operation more (shapes resolved per client): as much as the account's own requests
on a small account. So the accounts a worker thread scans share that thread's client, whose
credentials and call counter follow the account the calling context acts in (`acting_in`).
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, Credentials, ReadOnlyCredentials

from iam_inventory.assume.timestamps import parse_response_timestamp
from iam_inventory.config.settings import Settings

_SESSION_NAME_UNSAFE = re.compile(r"[^\w+=,.@-]")
ASSUMED_SESSION_SECONDS = 900  # the shortest STS allows: a scan of one account takes seconds


@dataclass(frozen=True, slots=True)
class SpokeCredentials:
    """Temporary credentials for one spoke account; repr never shows the secret parts."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)


@dataclass(slots=True)
class CallCounter:
    """Counts API operations (once per call) and HTTP attempts (once per retry) for one account."""

    operations: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def on_call(self, model: Any, **_: Any) -> None:
        """botocore `before-call` hook: one per API operation."""
        with self._lock:
            self.operations[f"{model.service_model.service_name}:{model.name}"] += 1

    def on_send(self, **_: Any) -> None:
        """botocore `before-send` hook: one per HTTP attempt, retries included."""
        with self._lock:
            self.attempts += 1

    @property
    def calls(self) -> int:
        """Number of API operations made."""
        return sum(self.operations.values())

    @property
    def retries(self) -> int:
        """HTTP attempts beyond the first of each operation."""
        return max(0, self.attempts - self.calls)


@dataclass(frozen=True, slots=True)
class _Acting:
    credentials: SpokeCredentials
    counter: CallCounter | None


# The spoke account the current context acts in; map_bounded carries it into its threads.
_ACTING: contextvars.ContextVar[_Acting | None] = contextvars.ContextVar("iam_inventory_acting", default=None)


@contextmanager
def acting_in(credentials: SpokeCredentials, counter: CallCounter | None = None) -> Iterator[None]:
    """Account clients called inside this block sign with `credentials` and count into `counter`."""
    token = _ACTING.set(_Acting(credentials, counter))
    try:
        yield
    finally:
        _ACTING.reset(token)


class _FollowingCredentials(Credentials):  # type: ignore[misc]
    """botocore credentials read at each signing from the spoke the calling context acts in."""

    method = "iam-inventory-spoke"
    account_id = None

    def __init__(self) -> None:  # nothing of its own: every value comes from the context
        pass

    @property
    def access_key(self) -> str | None:
        acting = _ACTING.get()
        return acting.credentials.access_key_id if acting else None

    @property
    def secret_key(self) -> str | None:
        acting = _ACTING.get()
        return acting.credentials.secret_access_key if acting else None

    @property
    def token(self) -> str | None:
        acting = _ACTING.get()
        return acting.credentials.session_token if acting else None

    def get_frozen_credentials(self) -> ReadOnlyCredentials | None:
        """The current spoke's credentials; None outside acting_in, so botocore raises NoCredentialsError."""
        acting = _ACTING.get()
        if acting is None:
            return None
        credentials = acting.credentials
        return ReadOnlyCredentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        )


class _FollowingProvider(CredentialProvider):  # type: ignore[misc]
    METHOD = "iam-inventory-spoke"

    def load(self) -> Credentials:
        return _FollowingCredentials()


def _count_call(model: Any, **_: Any) -> None:
    acting = _ACTING.get()
    if acting is not None and acting.counter is not None:
        acting.counter.on_call(model)


def _count_send(**_: Any) -> None:
    acting = _ACTING.get()
    if acting is not None and acting.counter is not None:
        acting.counter.on_send()


class ClientFactory:
    """Creates clients from one shared botocore session so service models are loaded and parsed once."""

    def __init__(
        self, settings: Settings, max_pool_connections: int = 10, profile: str | None = None
    ) -> None:
        # A named profile may itself assume a role (role_arn/source_profile), as the AWS CLI does.
        self._session = botocore.session.Session(profile=profile)
        self._session.set_config_variable("sts_regional_endpoints", "regional")
        # Account clients come from a session of their own whose only credentials are the spoke's the
        # context acts in (never the hub's), sharing the loaded service models with the hub session.
        self._account_session = botocore.session.Session()
        self._account_session.set_config_variable("sts_regional_endpoints", "regional")
        self._account_session.register_component("data_loader", self._session.get_component("data_loader"))
        self._account_session.register_component(
            "credential_provider", CredentialResolver([_FollowingProvider()])
        )
        for session in (self._session, self._account_session):
            parsers = session.get_component("response_parser_factory")
            parsers.set_parser_defaults(timestamp_parser=parse_response_timestamp)
        self._thread_clients = threading.local()
        # botocore sessions are not thread-safe; creation is serialised, the clients themselves are.
        self._lock = threading.Lock()
        self.region = settings.region
        self.partition = self._session.get_partition_for_region(settings.region)
        self._config = Config(
            region_name=settings.region,
            # total_max_attempts counts the first attempt; botocore's "max_attempts" key counts only
            # retries, which would make MAX_ATTEMPTS=8 mean nine requests.
            retries={"mode": settings.retry_mode.value, "total_max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout_seconds,
            read_timeout=settings.read_timeout_seconds,
            max_pool_connections=max_pool_connections,
            user_agent_extra="iam-inventory",
        )

    def hub_client(self, service: str) -> BaseClient:
        """A client with the hub's own credentials (the Lambda role, or the CLI's profile)."""
        with self._lock:
            return self._session.create_client(service, config=self._config)

    def account_client(self, service: str) -> BaseClient:
        """The calling thread's client for `service`, signing as the spoke of `acting_in` (counted there)."""
        clients: dict[str, BaseClient] = self._thread_clients.__dict__.setdefault("clients", {})
        client = clients.get(service)
        if client is None:
            with self._lock:
                client = self._account_session.create_client(service, config=self._config)
                _load_paginators(client)
            # Each thread's client has its own adaptive-retry rate limiter: one account at a time.
            client.meta.events.register("before-call", _count_call)
            client.meta.events.register("before-send", _count_send)
            clients[service] = client
        return client

    def spoke_client(
        self, service: str, credentials: SpokeCredentials, counter: CallCounter | None = None
    ) -> BaseClient:
        """A client acting in a spoke account with assumed-role credentials."""
        with self._lock:
            client = self._session.create_client(
                service,
                config=self._config,
                aws_access_key_id=credentials.access_key_id,
                aws_secret_access_key=credentials.secret_access_key,
                aws_session_token=credentials.session_token,
            )
        if counter is not None:
            attach_counter(client, counter)
        return client


def _load_paginators(client: BaseClient) -> None:
    """Load the service's paginator model now, while client creation is serialised.

    botocore loads it at a client's first get_paginator, listing its whole data directory (~450 services,
    ~1,300 system calls) until one thread has cached it: 64 workers starting at once each listed it.
    """
    first_operation = next(iter(client.meta.method_to_api_mapping), None)
    if first_operation is not None:
        client.can_paginate(first_operation)


def attach_counter(client: BaseClient, counter: CallCounter) -> None:
    """Count this client's operations and attempts (each client has its own event emitter copy)."""
    client.meta.events.register("before-call", counter.on_call)
    client.meta.events.register("before-send", counter.on_send)


def role_arn(partition: str, account_id: str, role_path: str, role_name: str) -> str:
    """ARN of the spoke role in an account."""
    return f"arn:{partition}:iam::{account_id}:role{role_path}{role_name}"


def role_session_name(run_id: str) -> str:
    """A RoleSessionName that carries the run id, so spoke CloudTrail ties each call to a run."""
    return _SESSION_NAME_UNSAFE.sub("-", f"iam-inventory-{run_id}")[:64]


def assume_spoke_role(sts: BaseClient, role: str, run_id: str, external_id: str | None) -> SpokeCredentials:
    """Assume the spoke role for 15 minutes, with the ExternalId when one is configured."""
    arguments: dict[str, Any] = {
        "RoleArn": role,
        "RoleSessionName": role_session_name(run_id),
        "DurationSeconds": ASSUMED_SESSION_SECONDS,
    }
    if external_id:
        arguments["ExternalId"] = external_id
    credentials = sts.assume_role(**arguments)["Credentials"]
    return SpokeCredentials(
        access_key_id=credentials["AccessKeyId"],
        secret_access_key=credentials["SecretAccessKey"],
        session_token=credentials["SessionToken"],
    )
