"""An AWS simulator on loopback: moto's server app behind the fault layer (fault_layer.py) and the layers
that answer what moto 5 does not implement as IAM does (credential reports, service-specific credentials,
Security Hub).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from iam_inventory_sim.clock import SimClock
from iam_inventory_sim.credential_report import CredentialReportLayer
from iam_inventory_sim.fault_layer import FaultLayer
from iam_inventory_sim.moto_patches import make_moto_behave_like_iam
from iam_inventory_sim.securityhub import SecurityHubLayer
from iam_inventory_sim.service_credentials import ServiceCredentialLayer


class _QuietRequestHandler:
    """Mixin that silences werkzeug's per-request access log."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Do not log each request."""


class Simulator:
    """moto server + fault layer on 127.0.0.1, on a free port, in a background thread."""

    def __init__(self, clock: SimClock | None = None) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        make_moto_behave_like_iam()
        handler = type("SimulatorRequestHandler", (_QuietRequestHandler, MotoRequestHandler), {})
        # Simulated AWS time: tests and the demo move it forward to age cached credential reports.
        self.clock = clock or SimClock()
        # moto has no service-specific credentials: that layer answers them, dated by the clock.
        self.service_credentials = ServiceCredentialLayer(
            DomainDispatcherApplication(create_backend_app), self.clock
        )
        self.credential_reports = CredentialReportLayer(self.service_credentials, self.clock)
        # Security Hub's ownership rules for imports and workflow updates (moto is kinder).
        self.security_hub = SecurityHubLayer(self.credential_reports, self.clock)
        self.faults = FaultLayer(self.security_hub)
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self.faults, threaded=True, request_handler=handler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="simulator")

    @property
    def endpoint(self) -> str:
        """The URL to put in AWS_ENDPOINT_URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Simulator:
        """Start serving."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        """Forget every resource and every injected fault."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.credential_reports.reset()
        self.clock.reset()
        self.faults.rules.clear()
        self.faults.operations.clear()
        self.faults.enforce_trust = False
        self.faults.latency_seconds = 0.0


@contextmanager
def running_simulator() -> Iterator[Simulator]:
    """A started simulator, stopped on exit."""
    simulator = Simulator().start()
    try:
        yield simulator
    finally:
        simulator.stop()
