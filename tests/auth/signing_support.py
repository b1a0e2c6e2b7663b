"""Requests signed by the vendor's own Python SDK (volcengine), as the service would receive them.

The signatures come from `volcengine.auth.SignerV4.sign`, the signer `Service.json` uses; only
its clock is pinned so a test can place X-Date where it needs it.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch
from urllib.parse import urlencode

from volcengine.auth.SignerV4 import SignerV4
from volcengine.base.Request import Request
from volcengine.Credentials import Credentials

from handler.auth import AccessKey, SigningScope
from handler.gateway import HttpRequest

ACCESS_KEY_ID = "AKLTtestkey"
SECRET = "dGVzdC1zZWNyZXQtYWNjZXNzLWtleQ=="  # noqa: S105 - a test key
APP_IDS = frozenset({10, 11})
SCOPE = SigningScope(region="cn-north-1", service="rtc")
SIGNED_AT = datetime(2025, 11, 26, 5, 0, 0, tzinfo=UTC)
HOST = "im.example.com"
ROUTE = {"Action": "CreateConversation", "Version": "2020-12-01"}
BODY = json.dumps(
    {
        "AppId": 10,
        "OwnerUserId": 1,
        "OtherUserId": 2,
        "ConversationCoreInfo": {"ConversationType": 1},
    }
)
WRONG_SECRET = "not-the-secret"  # noqa: S105 - a test key


def known_keys(access_key_id: str) -> AccessKey | None:
    if access_key_id != ACCESS_KEY_ID:
        return None
    return AccessKey(access_key_id=ACCESS_KEY_ID, secret_access_key=SECRET, app_ids=APP_IDS)


def sdk_signed_request(
    *,
    access_key_id: str = ACCESS_KEY_ID,
    secret: str = SECRET,
    body: str | bytes = BODY,
    query: Mapping[str, Any] = ROUTE,
    headers: Mapping[str, str] | None = None,
    signed_at: datetime = SIGNED_AT,
    region: str = SCOPE.region,
    service: str = SCOPE.service,
    path: str = "/",
    doseq: bool = False,
) -> HttpRequest:
    """What API Gateway hands the function for a request the SDK signed and sent."""
    request = Request()
    request.set_method("POST")
    request.set_path(path)
    request.set_headers(
        OrderedDict(
            {
                "Host": HOST,
                "User-Agent": "volc-sdk-python",
                "Content-Type": "application/json",
                **(headers or {}),
            }
        )
    )
    request.set_query(OrderedDict(query))
    request.set_body(body)
    x_date = signed_at.strftime("%Y%m%dT%H%M%SZ")
    with patch.object(SignerV4, "get_current_format_date", staticmethod(lambda: x_date)):
        SignerV4.sign(request, Credentials(access_key_id, secret, service, region))
    raw_body = body.decode("utf-8") if isinstance(body, bytes) else body
    return HttpRequest(
        method="POST",
        query={name: str(value) for name, value in query.items()},
        headers={name.lower(): value for name, value in request.headers.items()},
        raw_body=raw_body,
        body_is_base64=False,
        request_id="test-request",
        path=path,
        raw_query=urlencode(request.query, doseq=doseq),
    )
