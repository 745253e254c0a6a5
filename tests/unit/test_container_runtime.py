"""A Lambda container builds its runtime (settings, botocore session, redaction) once, not per invocation."""

from __future__ import annotations

import logging

import botocore.session
import pytest

from iam_inventory.core.redact import Redactor, install_log_redaction
from iam_inventory.entrypoints import bootstrap as entry

ENV = {"ACCOUNT_IDS": "111111111111", "AWS_REGION": "us-east-1", "_X_AMZN_TRACE_ID": "Root=1-aaa"}


@pytest.fixture
def sessions(monkeypatch) -> list[botocore.session.Session]:
    """Every botocore Session built from now on, and a container with no runtime yet."""
    built: list[botocore.session.Session] = []
    original = botocore.session.Session.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "__init__", counting)
    monkeypatch.setattr(entry._Container, "runtime", None)
    monkeypatch.setattr(entry._Container, "environment", None)
    return built


def test_a_second_invocation_in_the_container_builds_no_new_session(sessions):
    # Given the container's first invocation, which builds the runtime
    first = entry.container_runtime(environ=ENV)
    built = len(sessions)
    assert built > 0
    # When the next invocation arrives with another X-Ray trace id (Lambda sets it per invocation)
    second = entry.container_runtime(environ={**ENV, "_X_AMZN_TRACE_ID": "Root=1-bbb"})
    # Then it reuses the same runtime: no new Session, the same settings and client factory
    assert second is first
    assert len(sessions) == built


def test_a_changed_environment_builds_a_new_runtime(sessions):
    # Given a runtime built for one environment
    first = entry.container_runtime(environ=ENV)
    built = len(sessions)
    # When the environment changes (a redeployed setting, or a test)
    second = entry.container_runtime(environ={**ENV, "ACCOUNT_IDS": "222222222222"})
    # Then the runtime is built again from the new settings
    assert second is not first
    assert second.settings.account_ids != first.settings.account_ids
    assert len(sessions) > built


def test_a_reused_runtime_puts_its_redaction_back_when_another_entry_point_swapped_it(sessions, caplog):
    # Given the container's runtime, whose redactor knows a secret
    runtime = entry.container_runtime(environ=ENV)
    runtime.redact.add("SECRETSECRETSECRET")
    # And another entry point in the process that installed its own redactor since
    install_log_redaction(Redactor())
    # When the next invocation reuses the runtime and logs the secret
    assert entry.container_runtime(environ=ENV) is runtime
    with caplog.at_level(logging.INFO):
        logging.getLogger("botocore.test").info("token SECRETSECRETSECRET")
    # Then the log line is masked
    assert "SECRETSECRETSECRET" not in caplog.text
