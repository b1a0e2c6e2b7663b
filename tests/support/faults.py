"""Faults injected where botocore sends a request, so the store runs unmodified."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse

_NOWHERE = "https://fault-injected.invalid/"


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def error_response(status: int, code: str, message: str = "injected fault") -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})
    return AWSResponse(
        url="https://dynamodb.invalid/",
        status_code=status,
        headers={"x-amzn-RequestId": "injected", "Content-Type": "application/x-amz-json-1.0"},
        raw=_RawBody(body.encode()),
    )


def inject(
    client: Any, operation: str, fault: Callable[[], Any], *, times: int | None = None
) -> list[int]:
    """Answer `operation` with `fault()` (an AWSResponse, or an exception to raise).

    Returns a one-item list counting how often the fault fired; after `times` faults the real
    engine answers again.
    """
    fired = [0]

    def before_send(request: Any, **_: Any) -> Any:
        if times is not None and fired[0] >= times:
            return None
        fired[0] += 1
        outcome = fault()
        if isinstance(outcome, BaseException):
            raise outcome
        # botocore runs every before-send handler, and moto answers from one of them: point the
        # request where moto does not listen, so the fault replaces the call instead of following
        # it. Against a real endpoint the returned response already stops the send.
        request.url = _NOWHERE
        return outcome

    client.meta.events.register(f"before-send.dynamodb.{operation}", before_send)
    return fired
