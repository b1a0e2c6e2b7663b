"""API Gateway events as the two payload versions carry them, and Lambda's context, for handler
tests."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

CREATE_QUERY = {"Action": "CreateConversation", "Version": "2020-12-01"}


def http_api_event(
    body: Any,
    *,
    method: str = "POST",
    query: dict[str, str] | None = CREATE_QUERY,
    base64_body: bool = False,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Payload 2.0. `body` is a JSON-able value, or str/bytes sent as they are."""
    raw = _raw_body(body)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": method, "path": "/"},
            "requestId": request_id or str(uuid.uuid4()),
        },
        "body": base64.b64encode(raw).decode() if base64_body else raw.decode("utf-8"),
        "isBase64Encoded": base64_body,
    }
    if query is not None:
        event["queryStringParameters"] = query
    return event


def rest_api_event(body: Any, *, method: str = "POST", base64_body: bool = False) -> dict[str, Any]:
    """Payload 1.0, as a REST API proxy integration sends it."""
    raw = _raw_body(body)
    return {
        "resource": "/",
        "path": "/",
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "queryStringParameters": CREATE_QUERY,
        "requestContext": {"requestId": str(uuid.uuid4()), "httpMethod": method},
        "body": base64.b64encode(raw).decode() if base64_body else raw.decode("utf-8"),
        "isBase64Encoded": base64_body,
    }


@dataclass(frozen=True)
class LambdaContext:
    """What the handler reads of Lambda's context object: the invocation's request id."""

    aws_request_id: str = field(default_factory=lambda: f"lambda-{uuid.uuid4()}")


def _raw_body(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
