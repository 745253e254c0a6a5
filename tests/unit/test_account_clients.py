"""A worker thread's account client signs as the spoke its context acts in, and counts there."""

from __future__ import annotations

import threading
from typing import Any

import botocore.loaders
import pytest
from botocore.exceptions import NoCredentialsError

from iam_inventory.assume.clients import CallCounter, ClientFactory, SpokeCredentials, acting_in
from iam_inventory.collect.calls import map_bounded
from iam_inventory.config.settings import Settings

ONE = SpokeCredentials("ASIAONEONEONEONEONE1", "secret-one", "token-one")
TWO = SpokeCredentials("ASIATWOTWOTWOTWOTWO2", "secret-two", "token-two")


class Sent(Exception):
    """Raised instead of sending: the test reads the signed request."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("not sent")
        self.headers = headers


def _capture(request: Any, **_: Any) -> None:
    raise Sent({name: _as_text(value) for name, value in request.headers.items()})


def signed_headers(client: Any) -> dict[str, str]:
    """The headers of one GetAccountSummary the client would send."""
    client.meta.events.register("before-send", _capture, unique_id="capture")
    with pytest.raises(Sent) as sent:
        client.get_account_summary()
    return sent.value.headers


def _as_text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


@pytest.fixture
def factory(monkeypatch: pytest.MonkeyPatch) -> ClientFactory:
    # Hub credentials in the environment: an account client must never sign with them.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAHUBHUBHUBHUBHUB0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hub-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    return ClientFactory(Settings.from_env({"ACCOUNT_IDS": "111111111111", "AWS_REGION": "us-east-1"}))


def test_the_account_client_signs_as_the_account_acted_in(factory: ClientFactory) -> None:
    # Given one thread's account client
    iam = factory.account_client("iam")
    # When it calls while acting in one spoke, then in another
    with acting_in(ONE):
        first = signed_headers(iam)
    with acting_in(TWO):
        second = signed_headers(iam)
    # Then each request carries that spoke's key and session token, never the hub's
    assert "Credential=ASIAONEONEONEONEONE1/" in first["Authorization"]
    assert first["X-Amz-Security-Token"] == "token-one"
    assert "Credential=ASIATWOTWOTWOTWOTWO2/" in second["Authorization"]
    assert second["X-Amz-Security-Token"] == "token-two"
    assert "AKIAHUB" not in first["Authorization"] + second["Authorization"]


def test_outside_an_account_the_client_has_no_credentials(factory: ClientFactory) -> None:
    # Given an account client and no account acted in
    iam = factory.account_client("iam")
    # When it calls, then botocore refuses to send (it never falls back to the hub's credentials)
    with pytest.raises(NoCredentialsError):
        iam.get_account_summary()


def test_a_thread_reuses_its_client_and_other_threads_have_their_own(factory: ClientFactory) -> None:
    # Given the client of this thread and of another thread
    mine = factory.account_client("iam")
    theirs: list[Any] = []
    thread = threading.Thread(target=lambda: theirs.append(factory.account_client("iam")))
    thread.start()
    thread.join()
    # Then this thread gets the same client back, the other thread another one
    assert factory.account_client("iam") is mine
    assert theirs[0] is not mine


def test_calls_inside_an_account_count_into_its_counter_from_any_thread(factory: ClientFactory) -> None:
    # Given an account acted in with a counter, and per-user calls on map_bounded's threads
    iam = factory.account_client("iam")
    counter, other = CallCounter(), CallCounter()
    iam.meta.events.register("before-send", _capture, unique_id="capture")

    def call(_: int) -> str:
        with pytest.raises(Sent) as sent:
            iam.get_account_summary()
        return sent.value.headers["Authorization"]

    # When four calls run on the pool inside the account, and one in another account
    with acting_in(ONE, counter):
        authorizations = map_bounded(call, range(4), 4)
    with acting_in(TWO, other):
        call(0)
    # Then all four signed as that account and counted there, once each
    assert all("Credential=ASIAONEONEONEONEONE1/" in text for text in authorizations)
    assert counter.operations == {"iam:GetAccountSummary": 4}
    assert counter.attempts == 4
    assert other.operations == {"iam:GetAccountSummary": 1}


def test_a_new_client_has_its_paginators_loaded_before_any_worker_pages(
    factory: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a thread's new account client, and botocore's directory listings counted from then on
    iam = factory.account_client("iam")
    listed: list[str] = []
    real_listdir = botocore.loaders.os.listdir
    monkeypatch.setattr(
        botocore.loaders.os, "listdir", lambda path: listed.append(path) or real_listdir(path)
    )
    # When a worker pages its first call
    iam.get_paginator("list_users")
    # Then botocore lists no data directory (64 workers starting at once used to list it each)
    assert listed == []
