"""The IAM credential report as AWS serves it: generated per account, then cached for 4 hours.

AWS documents the states this layer models:
- GenerateCredentialReport answers STARTED when it starts a new report, INPROGRESS while one is being
  generated, and COMPLETE when a report exists; a new report "can be done every four hours", so within
  4 hours of the last one it answers COMPLETE and generates nothing.
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_GenerateCredentialReport.html
  https://docs.aws.amazon.com/IAM/latest/UserGuide/iam_example_iam_GenerateCredentialReport_section.html
- GetCredentialReport serves the cached report with its GeneratedTime; it fails ReportNotPresent (410)
  before any report, ReportInProgress (404) while generating, ReportExpired (410) once the report is
  older than 4 hours. https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetCredentialReport.html

Two things AWS does not document are knobs, so tests can hold the collector to either answer:
- `unquoted`: the CSV quoting. IAM user names may hold commas; written unquoted, such a row has more
  fields than the header (csv's minimal quoting is the default).
- `generated_time_lag`: how far behind the run IAM dates a report it answered STARTED for (IAM's clock
  behind the hub's, or a generation begun before the run); 0 by default.

moto 5.2 answers COMPLETE forever after the first call, rebuilds the CSV from live data on every
GetCredentialReport, has no root row and a fixed GeneratedTime of 2015-02-02: kinder than IAM, so this
layer answers both actions itself and never passes them to moto.
"""

from __future__ import annotations

import base64
import io
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

from iam_inventory_sim.clock import SimClock
from iam_inventory_sim.report_csv import COLUMNS, SlotMap, render_report, wire_time
from iam_inventory_sim.wire import QUERY_NAMESPACES, error_response

__all__ = ["COLUMNS", "REPORT_TTL", "CachedReport", "CredentialReportLayer"]
REPORT_TTL = timedelta(hours=4)


@dataclass(slots=True)
class CachedReport:
    """One account's latest report: its bytes as of `generated_at`."""

    generated_at: datetime
    content: bytes
    pending_polls: int = 0  # GetCredentialReport answers ReportInProgress this many more times


class CredentialReportLayer:
    """WSGI middleware: GenerateCredentialReport and GetCredentialReport as IAM answers them."""

    def __init__(self, app: Callable[..., Any], clock: SimClock) -> None:
        self.app = app
        self.clock = clock
        # How many GetCredentialReport calls see ReportInProgress after a STARTED; 0 keeps tests fast.
        self.in_progress_polls = 0
        self.unquoted = False
        self.generated_time_lag = timedelta(0)
        self.reports: dict[str, CachedReport] = {}
        self.generations: dict[str, int] = {}
        self._slots: SlotMap = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        action, account_id = self._describe(environ)
        if action == "GenerateCredentialReport" and account_id:
            return self._generate(account_id)(environ, start_response)
        if action == "GetCredentialReport" and account_id:
            return self._get(account_id)(environ, start_response)
        return self.app(environ, start_response)

    def reset(self) -> None:
        """Forget every report (moto forgets the IAM data itself)."""
        with self._lock:
            self.reports.clear()
            self.generations.clear()
            self._slots.clear()
            self.in_progress_polls = 0
            self.unquoted = False
            self.generated_time_lag = timedelta(0)

    def _generate(self, account_id: str) -> Response:
        from moto.iam.models import iam_backends

        now = self.clock.now()
        with self._lock:
            cached = self.reports.get(account_id)
            if cached is not None and cached.pending_polls > 0:
                return _state("INPROGRESS", "Report generation in progress")
            if cached is not None and now - cached.generated_at < REPORT_TTL:
                return _state("COMPLETE", "")
            # The report is a snapshot: later changes appear only in the next report, 4 hours on.
            csv_text = render_report(iam_backends[account_id]["aws"], self._slots, quoted=not self.unquoted)
            generated = now - self.generated_time_lag
            self.reports[account_id] = CachedReport(generated, csv_text.encode(), self.in_progress_polls)
            self.generations[account_id] = self.generations.get(account_id, 0) + 1
        return _state("STARTED", "No report exists. Starting a new report generation task")

    def _get(self, account_id: str) -> Response:
        with self._lock:
            cached = self.reports.get(account_id)
            if cached is None:
                return error_response("iam", "ReportNotPresent", "Credential report not present", 410)
            if cached.pending_polls > 0:
                cached.pending_polls -= 1
                return error_response("iam", "ReportInProgress", "Credential report is being generated", 404)
            if self.clock.now() - cached.generated_at >= REPORT_TTL:
                return error_response("iam", "ReportExpired", "Credential report has expired", 410)
            content = base64.b64encode(cached.content).decode()
            generated = wire_time(cached.generated_at)
        body = (
            f'<GetCredentialReportResponse xmlns="{QUERY_NAMESPACES["iam"]}"><GetCredentialReportResult>'
            f"<Content>{content}</Content><ReportFormat>text/csv</ReportFormat>"
            f"<GeneratedTime>{generated}</GeneratedTime></GetCredentialReportResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</GetCredentialReportResponse>"
        )
        return Response(body, status=200, content_type="text/xml")

    @staticmethod
    def _describe(environ: dict[str, Any]) -> tuple[str, str]:
        if "iam" not in environ.get("HTTP_AUTHORIZATION", "").split("/", 4)[3:4]:
            return "", ""
        request = Request(environ)
        body = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(body)
        form = parse_qs(body.decode("utf-8", "replace"))
        action = form.get("Action", [""])[0]
        if action not in {"GenerateCredentialReport", "GetCredentialReport"}:
            return action, ""
        from moto.iam.models import get_account_id_from

        credential = environ["HTTP_AUTHORIZATION"].split("Credential=", 1)[1].split("/", 1)[0]
        return action, get_account_id_from(credential)


def _state(state: str, description: str) -> Response:
    body = (
        f'<GenerateCredentialReportResponse xmlns="{QUERY_NAMESPACES["iam"]}">'
        f"<GenerateCredentialReportResult><Description>{description}</Description><State>{state}</State>"
        f"</GenerateCredentialReportResult><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>"
        "</ResponseMetadata></GenerateCredentialReportResponse>"
    )
    return Response(body, status=200, content_type="text/xml")
