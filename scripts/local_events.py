"""HTTP requests in, API Gateway HTTP API (payload 2.0) events out; Lambda proxy answers back.

The runner's translation layer, kept free of any server or action: what API Gateway's HTTP API
does between a client and a Lambda proxy integration, for the fields a function can see.
Dev tooling only; nothing here ships in the Lambda artifact.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

ACCOUNT_ID = "000000000000"
API_ID = "local"
# What API Gateway's HTTP API answers when the function fails or the integration runs out of time
# (docs/local-runner.md cites where this is stated).
FUNCTION_ERROR = (500, {"message": "Internal Server Error"})
INTEGRATION_TIMEOUT = (503, {"message": "Service Unavailable"})


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def http_api_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    server_port: int,
    protocol: str = "HTTP/1.1",
    now: float | None = None,
) -> dict[str, Any]:
    """The event API Gateway's HTTP API hands a Lambda proxy integration for this request.

    Header names lowercased, repeated headers joined with commas; `Cookie` headers become the
    `cookies` list; `rawQueryString` is the query exactly as sent; a body that is not UTF-8 is
    base64 with `isBase64Encoded`.
    """
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    joined.setdefault("x-forwarded-for", source_ip)
    joined.setdefault("x-forwarded-port", str(server_port))
    joined.setdefault("x-forwarded-proto", "http")
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    moment = time.time() if now is None else now
    host = joined.get("host", "127.0.0.1").split(":")[0]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": unquote(raw_path),
                "protocol": protocol,
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(moment)),
            "timeEpoch": int(moment * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def json_answer(status: int, payload: dict[str, Any]) -> HttpAnswer:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return HttpAnswer(status, [("content-type", "application/json")], body)


def function_error() -> HttpAnswer:
    return json_answer(*FUNCTION_ERROR)


def integration_timeout() -> HttpAnswer:
    return json_answer(*INTEGRATION_TIMEOUT)


def proxy_answer(payload: bytes) -> HttpAnswer:
    """What API Gateway makes of a Lambda response, payload format 2.0.

    A JSON object with `statusCode` is the response; any other valid JSON is a 200 whose body is
    that JSON (the format's inference rule); something that is not JSON, or a malformed
    response, is a function error.
    """
    try:
        result = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        return function_error()
    if not isinstance(result, dict) or "statusCode" not in result:
        return HttpAnswer(200, [("content-type", "application/json")], payload)
    try:
        status = int(result["statusCode"])
        headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        headers += [("set-cookie", str(cookie)) for cookie in result.get("cookies") or ()]
        body = result.get("body") or ""
        if not isinstance(body, str):
            return function_error()
        data = (
            base64.b64decode(body, validate=True)
            if result.get("isBase64Encoded")
            else body.encode()
        )
    except (TypeError, ValueError, AttributeError, binascii.Error):
        return function_error()
    if not 100 <= status <= 599:
        return function_error()
    return HttpAnswer(status, headers, data)
