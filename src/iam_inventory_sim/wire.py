"""Error answers in each AWS protocol's own wire format (query XML for IAM/STS, S3 XML, JSON)."""

from __future__ import annotations

import json
import uuid

from werkzeug.wrappers import Response

QUERY_NAMESPACES = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}


def error_response(service: str, code: str, message: str, status: int, sender: bool = True) -> Response:
    """The error document `service` would send for `code`."""
    request_id = str(uuid.uuid4())
    namespace = QUERY_NAMESPACES.get(service)
    if namespace is not None:
        kind = "Sender" if sender else "Receiver"
        body = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return Response(
            body, status=status, content_type="text/xml", headers={"x-amzn-RequestId": request_id}
        )
    if service == "s3":
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
            f"<Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
        )
        return Response(body, status=status, content_type="application/xml")
    payload = json.dumps({"__type": code, "message": message})
    return Response(
        payload,
        status=status,
        content_type="application/x-amz-json-1.1",
        headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": code},
    )
