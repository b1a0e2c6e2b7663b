"""API Gateway events in, API Gateway responses out: HTTP API payload 2.0 and REST API 1.0.

Hand-written rather than Powertools' event data classes: importing that package loads every
event type it knows (~100 ms of cold start) to read five fields.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from handler.errors import ApiError, ErrorCode, not_json

MAX_BODY_BYTES = 64 * 1024
# A base64 text longer than this cannot decode to MAX_BODY_BYTES or fewer.
_MAX_BASE64_CHARS = (MAX_BODY_BYTES + 2) // 3 * 4
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class HttpRequest:
    method: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    raw_body: str
    body_is_base64: bool
    request_id: str
    # What a signature covers: the path and query string as the client sent them.
    path: str = "/"
    raw_query: str = ""
    stage: str = ""
    # The caller API Gateway's AWS_IAM authorizer verified, if the route has one.
    iam_caller: str | None = None

    def body(self) -> bytes:
        """The body as bytes, refused before decoding or parsing when it is over the limit."""
        if self.body_is_base64:
            if len(self.raw_body) > _MAX_BASE64_CHARS:
                raise _too_large()
            try:
                data = base64.b64decode(self.raw_body, validate=True)
            except (binascii.Error, ValueError):
                # Not a JSON text either: the contract's JsonParsingError, as not UTF-8 is.
                raise not_json("Request body is not valid base64") from None
        else:
            if len(self.raw_body) > MAX_BODY_BYTES:
                raise _too_large()
            try:
                data = self.raw_body.encode("utf-8")
            except UnicodeEncodeError:
                raise not_json("Request body is not valid UTF-8") from None
        if len(data) > MAX_BODY_BYTES:
            raise _too_large()
        return data


def parse_event(event: Mapping[str, Any], fallback_request_id: str) -> HttpRequest:
    context = event.get("requestContext") or {}
    if event.get("version") == "2.0":
        method = (context.get("http") or {}).get("method", "")
        path = event.get("rawPath") or (context.get("http") or {}).get("path")
        raw_query = event.get("rawQueryString") or ""
        iam_caller = ((context.get("authorizer") or {}).get("iam") or {}).get("userArn")
    else:
        method = event.get("httpMethod", "")
        # requestContext.path keeps the stage segment the client sent; event.path drops it.
        path = context.get("path") or event.get("path")
        raw_query = _query_string(event.get("multiValueQueryStringParameters"))
        iam_caller = (context.get("identity") or {}).get("userArn")
    headers = {
        str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()
    }
    return HttpRequest(
        method=str(method).upper(),
        query=_single_values(event.get("queryStringParameters")),
        headers=headers,
        raw_body=event.get("body") or "",
        body_is_base64=bool(event.get("isBase64Encoded")),
        request_id=str(context.get("requestId") or fallback_request_id),
        path=str(path or "/"),
        raw_query=str(raw_query),
        stage=str(context.get("stage") or ""),
        iam_caller=str(iam_caller) if iam_caller else None,
    )


def http_response(
    status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})},
        "body": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _single_values(parameters: Mapping[str, Any] | None) -> dict[str, str]:
    return {
        str(name): str(value) for name, value in (parameters or {}).items() if value is not None
    }


def _query_string(parameters: Mapping[str, Any] | None) -> str:
    """Payload 1.0 keeps no raw query string; re-encoding every value in order loses nothing a
    signature covers, since the canonical query string decodes and re-encodes anyway."""
    pairs = [
        (str(name), str(value))
        for name, values in (parameters or {}).items()
        for value in values or ()
    ]
    return urlencode(pairs)


def _too_large() -> ApiError:
    return ApiError(
        ErrorCode.RequestEntityTooLarge, f"Request body is larger than {MAX_BODY_BYTES} bytes"
    )
