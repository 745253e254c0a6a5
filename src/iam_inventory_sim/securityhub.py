"""Security Hub's finding import and workflow update as AWS answers them, in front of moto.

moto 5.2 imports any finding from any caller and lets a re-import overwrite everything, and it has no
BatchUpdateFindings: kinder than Security Hub, so this layer answers both actions itself.

- BatchImportFindings with the default product ARN must be called by "the Amazon Web Services account
  that is associated with a finding ... the identifier of the account that you are calling
  BatchImportFindings from needs to be the same as the AwsAccountId attribute for the finding"; other
  findings come back in FailedFindings. "After a finding is created, BatchImportFindings cannot be used
  to update ... Note, UserDefinedFields, VerificationState, Workflow": the stored values are kept.
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html
- Security Hub itself "resets the workflow status from NOTIFIED or RESOLVED to NEW" when RecordState
  changes from ARCHIVED to ACTIVE or Compliance.Status from PASSED to WARNING, FAILED or NOT_AVAILABLE.
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Workflow.html
- BatchUpdateFindings changes Workflow.Status and Note of findings the calling account owns, named by
  Id and ProductArn; an unknown one is an UnprocessedFinding with ErrorCode FindingNotFound. It
  "doesn't change the UpdatedAt field for the finding", which reflects the provider's last import.
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from iam_inventory_sim.clock import SimClock
from iam_inventory_sim.wire import error_response

_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/securityhub/aws4_request")
_PRODUCT = re.compile(r"^arn:[\w-]+:securityhub:[\w-]+:(\d{12}):product/(\d{12})/default$")
_IMPORT, _UPDATE = ("POST", "/findings/import"), ("PATCH", "/findings/batchupdate")
# Fields the finding's owner manages after creation; BatchImportFindings never changes them.
_CUSTOMER_FIELDS = ("Note", "UserDefinedFields", "VerificationState", "Workflow")
_WORKFLOW_STATUSES = {"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"}
_BATCH_LIMIT = 100  # both actions take at most 100 findings per request
_NOT_FOUND = ("FindingNotFound", "Finding Not Found")
_DUPLICATED = ("DuplicatedFindingIdentifier", "Finding Identifier is duplicated")


class SecurityHubLayer:
    """WSGI middleware: BatchImportFindings and BatchUpdateFindings with Security Hub's ownership rules."""

    def __init__(self, app: Callable[..., Any], clock: SimClock) -> None:
        self.app = app
        self.clock = clock
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        route = (environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        if scope is None or route not in (_IMPORT, _UPDATE):
            return self.app(environ, start_response)
        from moto.iam.models import get_account_id_from

        access_key_id, region = scope.groups()
        body = Request(environ).get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return _invalid("the request body is not a JSON object")(environ, start_response)
        caller = get_account_id_from(access_key_id)
        with self._lock:
            if route == _IMPORT:
                response = self._import(caller, region, payload.get("Findings") or [])
            else:
                response = self._update(caller, region, payload)
        return response(environ, start_response)

    def _import(self, caller: str, region: str, findings: list[dict[str, Any]]) -> Response:
        if not 1 <= len(findings) <= _BATCH_LIMIT:
            return _invalid(f"Findings must hold 1 to {_BATCH_LIMIT} findings")
        backend = _backend(caller, region)
        failed: list[dict[str, str]] = []
        accepted: list[dict[str, Any]] = []
        for finding in findings:
            refusal = _refusal(caller, finding)
            if refusal is not None:
                failed.append(
                    {"Id": str(finding.get("Id", "")), "ErrorCode": "AccessDeniedException", **refusal}
                )
                continue
            existing = _stored(backend, finding["Id"], finding["ProductArn"])
            if existing is not None:
                finding = _keep_customer_fields(existing, dict(finding))
            else:
                # A new finding starts in workflow NEW and record state ACTIVE unless it says otherwise.
                finding = {"Workflow": {"Status": "NEW"}, "RecordState": "ACTIVE", **finding}
            accepted.append(finding)
        failed_count, success_count, moto_failed = backend.batch_import_findings(findings=accepted)
        failed.extend(
            {"Id": item["Id"], "ErrorCode": item["ErrorCode"], "ErrorMessage": item["ErrorMessage"]}
            for item in moto_failed
        )
        return _json(
            {
                "FailedCount": failed_count + len(findings) - len(accepted),
                "SuccessCount": success_count,
                "FailedFindings": failed,
            }
        )

    def _update(self, caller: str, region: str, payload: dict[str, Any]) -> Response:
        identifiers = payload.get("FindingIdentifiers") or []
        if not 1 <= len(identifiers) <= _BATCH_LIMIT:
            return _invalid(f"FindingIdentifiers must hold 1 to {_BATCH_LIMIT} identifiers")
        status = (payload.get("Workflow") or {}).get("Status")
        if status is not None and status not in _WORKFLOW_STATUSES:
            return _invalid(f"Workflow.Status {status!r} is not one of {sorted(_WORKFLOW_STATUSES)}")
        note = payload.get("Note")
        if note is not None and not (note.get("Text") and note.get("UpdatedBy")):
            return _invalid("Note needs Text and UpdatedBy")
        backend = _backend(caller, region)
        now = self.clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
        processed: list[dict[str, str]] = []
        unprocessed: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for identifier in identifiers:
            key = (identifier.get("Id", ""), identifier.get("ProductArn", ""))
            stored = _stored(backend, *key)
            error = _DUPLICATED if key in seen else _NOT_FOUND if stored is None else None
            seen.add(key)
            if error is not None or stored is None:
                code, message = error or _NOT_FOUND
                unprocessed.append(
                    {"FindingIdentifier": identifier, "ErrorCode": code, "ErrorMessage": message}
                )
                continue
            if status is not None:
                stored.data["Workflow"] = {"Status": status}
                stored.data["WorkflowState"] = status
            if note is not None:
                stored.data["Note"] = {"Text": note["Text"], "UpdatedBy": note["UpdatedBy"], "UpdatedAt": now}
            processed.append({"Id": key[0], "ProductArn": key[1]})
        return _json({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


def _refusal(caller: str, finding: dict[str, Any]) -> dict[str, str] | None:
    product = _PRODUCT.match(str(finding.get("ProductArn", "")))
    if product is None or product.groups() != (caller, caller):
        return {"ErrorMessage": f"account {caller} may import only through its own default product ARN"}
    if finding.get("AwsAccountId") != caller:
        return {"ErrorMessage": f"AwsAccountId {finding.get('AwsAccountId')!r} is not the caller, {caller}"}
    return None


def _keep_customer_fields(existing: Any, finding: dict[str, Any]) -> dict[str, Any]:
    """The finding as an update of `existing`: the owner's workflow fields stay as they are."""
    for name in _CUSTOMER_FIELDS:
        finding.pop(name, None)
        if name in existing.data:
            finding[name] = existing.data[name]
    status = (existing.data.get("Workflow") or {}).get("Status")
    reopened = existing.data.get("RecordState") == "ARCHIVED" and finding.get("RecordState") == "ACTIVE"
    failing = (existing.data.get("Compliance") or {}).get("Status") == "PASSED" and (
        finding.get("Compliance") or {}
    ).get("Status") in {"WARNING", "FAILED", "NOT_AVAILABLE"}
    if status in {"NOTIFIED", "RESOLVED"} and (reopened or failing):
        finding["Workflow"] = {"Status": "NEW"}
    return finding


def _backend(account_id: str, region: str) -> Any:
    from moto.securityhub.models import securityhub_backends

    return securityhub_backends[account_id][region]


def _stored(backend: Any, finding_id: str, product_arn: str) -> Any:
    return next(
        (
            stored
            for stored in backend.findings
            if stored.id == finding_id and stored.data.get("ProductArn") == product_arn
        ),
        None,
    )


def _json(document: dict[str, Any]) -> Response:
    return Response(json.dumps(document), status=200, content_type="application/json")


def _invalid(message: str) -> Response:
    return error_response("securityhub", "InvalidInputException", message, 400)
