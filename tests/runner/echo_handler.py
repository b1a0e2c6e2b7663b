"""A stand-in function for runner tests (RUNNER_HANDLER=tests.runner.echo_handler.lambda_handler).

It answers with the event it was given, or misbehaves as its body asks: `crash` ends the worker
process, `hang` outlives any timeout, `raise` is an unhandled exception, `not-a-response` returns
a value that is not a proxy response. The runner must not care which function it runs.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    body = event.get("body") or ""
    if body == "crash":
        os._exit(3)
    if body == "hang":
        time.sleep(600)
    if body == "raise":
        raise RuntimeError("raised on purpose")
    if body == "not-a-response":
        return ["a", "list"]
    remaining = context.get_remaining_time_in_millis()
    answer = {"event": event, "request_id": context.aws_request_id, "remaining_ms": remaining}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "cookies": ["session=1; Path=/"],
        "body": json.dumps(answer),
    }
