"""A credential report like AWS writes it, served in front of moto's.

moto 5.2's report leaves gaps that real IAM fills: no `<root_account>` row, `not_supported` for each key's
last-used service and region, and a fixed GeneratedTime of 2015-02-02. This WSGI layer answers
GetCredentialReport from moto's own data the way AWS does, so both collection paths see the same estate.
It defers to moto whenever moto would refuse (no report generated yet).
"""

from __future__ import annotations

import base64
import csv
import io
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

COLUMNS = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
]
_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"


def _date(value: datetime | None) -> str:
    if value is None:
        return "N/A"
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _key_columns(keys: list[Any], slot: int) -> dict[str, str]:
    prefix = f"access_key_{slot}"
    if len(keys) < slot:
        return {
            f"{prefix}_active": "false",
            f"{prefix}_last_rotated": "N/A",
            f"{prefix}_last_used_date": "N/A",
            f"{prefix}_last_used_region": "N/A",
            f"{prefix}_last_used_service": "N/A",
        }
    key = keys[slot - 1]
    used = key.last_used
    return {
        f"{prefix}_active": "true" if key.status == "Active" else "false",
        f"{prefix}_last_rotated": _date(key.create_date),
        f"{prefix}_last_used_date": _date(used.timestamp) if used else "N/A",
        f"{prefix}_last_used_region": used.region if used else "N/A",
        f"{prefix}_last_used_service": used.service if used else "N/A",
    }


def render_report(backend: Any) -> str:
    """The CSV AWS would return for one moto IAM backend, root row first."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n", restval="N/A")
    writer.writeheader()
    summary = backend.account_summary
    root_keys = getattr(summary, "_account_access_keys_present", 0)
    root = {
        "user": "<root_account>",
        "arn": f"arn:aws:iam::{backend.account_id}:root",
        "user_creation_time": _date(datetime(2020, 1, 1, tzinfo=UTC)),
        "password_enabled": "not_supported",
        "password_last_used": "no_information",
        "mfa_active": "true" if getattr(summary, "_account_mfa_enabled", 0) else "false",
        **_key_columns([], 1),
        **_key_columns([], 2),
        "cert_1_active": "false",
        "cert_2_active": "false",
    }
    if root_keys:
        root |= {"access_key_1_active": "true", "access_key_1_last_rotated": _date(datetime(2021, 1, 1))}
    writer.writerow(root)
    for user in backend.users.values():
        keys = sorted(user.access_keys, key=lambda key: key.create_date)
        writer.writerow(
            {
                "user": user.name,
                "arn": user.arn,
                "user_creation_time": _date(user.create_date),
                "password_enabled": "true" if user.password else "false",
                "password_last_used": _date(user.password_last_used) if user.password else "N/A",
                "password_last_changed": _date(user.create_date) if user.password else "N/A",
                "mfa_active": "true" if user.mfa_devices else "false",
                **_key_columns(keys, 1),
                **_key_columns(keys, 2),
                "cert_1_active": "false",
                "cert_2_active": "false",
            }
        )
    return buffer.getvalue()


class CredentialReportLayer:
    """WSGI middleware: answers IAM GetCredentialReport like AWS, from moto's backend."""

    def __init__(self, app: Callable[..., Any], clock: Callable[[], datetime] | None = None) -> None:
        self.app = app
        self.clock = clock or (lambda: datetime.now(UTC))
        self.generated_at: dict[str, datetime] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        action, account_id = self._describe(environ)
        if action == "GenerateCredentialReport" and account_id:
            self.generated_at.setdefault(account_id, self.clock())
        elif action == "GetCredentialReport" and account_id:
            response = self._report(account_id)
            if response is not None:
                return response(environ, start_response)
        return self.app(environ, start_response)

    def reset(self) -> None:
        """Forget when reports were generated (moto forgets the reports themselves)."""
        self.generated_at.clear()

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

    def _report(self, account_id: str) -> Response | None:
        from moto.iam.models import iam_backends

        backend = iam_backends[account_id]["aws"]
        if not backend.report_generated():
            return None  # moto answers ReportNotPresent, as AWS does
        generated = self.generated_at.setdefault(account_id, self.clock())
        content = base64.b64encode(render_report(backend).encode()).decode()
        request_id = str(uuid.uuid4())
        body = (
            f'<GetCredentialReportResponse xmlns="{_NAMESPACE}"><GetCredentialReportResult>'
            f"<Content>{content}</Content><ReportFormat>text/csv</ReportFormat>"
            f"<GeneratedTime>{_date(generated).replace('+00:00', 'Z')}</GeneratedTime>"
            f"</GetCredentialReportResult><ResponseMetadata><RequestId>{request_id}</RequestId>"
            "</ResponseMetadata></GetCredentialReportResponse>"
        )
        return Response(body, status=200, content_type="text/xml")
