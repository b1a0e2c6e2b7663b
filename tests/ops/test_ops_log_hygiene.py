"""Logs never hold a request body or a secret, even with every log level turned to DEBUG.

The handler runs in its own process, as in a Lambda sandbox whose application log level is
DEBUG (the runtime then sets the root logger to DEBUG), so everything that process prints is
checked: the handler's lines, Powertools' and those of every library under it.
"""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from typing import Any

from ops_support import create_table, group_chat, handler_process_env, run_handler

from tests.support.events import http_api_event

MARKER = f"body-marker-{uuid.uuid4().hex}"
SECRET_KEY = f"secret-key-{uuid.uuid4().hex}"
SESSION_TOKEN = f"session-token-{uuid.uuid4().hex}"


def requests_carrying_the_marker() -> list[dict[str, Any]]:
    core = {
        "ConversationType": 2,
        "Name": MARKER,
        "Description": MARKER,
        "Ext": {MARKER: MARKER},
    }
    created = group_chat(IdempotentId=MARKER, ConversationCoreInfo=core)
    single = group_chat(OtherUserId=10002, ConversationCoreInfo={**core, "ConversationType": 1})
    return [
        http_api_event(created, request_id="request-created"),
        http_api_event(created, request_id="request-existing"),
        http_api_event(single, request_id="request-single"),
        http_api_event(
            group_chat(ConversationCoreInfo={**core, "Ext": {MARKER * 3: "v"}}),
            request_id="request-bad-ext-key",
        ),
        http_api_event(group_chat(AppId=MARKER), request_id="request-bad-type"),
        http_api_event(f'{{"AppId": 10, "Name": "{MARKER}", ', request_id="request-bad-json"),
    ]


def debug_everywhere(endpoint: str, table: str, **extra: str) -> dict[str, str]:
    return handler_process_env(
        endpoint,
        table,
        ROOT_LOG_LEVEL="DEBUG",
        POWERTOOLS_LOG_LEVEL="DEBUG",
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_SESSION_TOKEN=SESSION_TOKEN,
        **extra,
    )


def test_debug_logs_of_created_existing_and_refused_requests_hold_no_body_or_secret(
    tmp_path: Path, moto_endpoint: str
) -> None:
    # Given requests whose every field carries a marker, and credentials with a secret and token
    create_table(moto_endpoint, "log-hygiene")
    events = requests_carrying_the_marker()
    # When a fresh handler process serves them with every logger at DEBUG
    output, result = run_handler(tmp_path, events, debug_everywhere(moto_endpoint, "log-hygiene"))
    responses = result["responses"]
    # Then the requests were served (two of the refusals echo the marker to the caller) ...
    assert [response["statusCode"] for response in responses] == [200, 200, 200, 400, 400, 400]
    assert MARKER in responses[3]["body"]
    # ... the output is there, naming each request: a success in its EMF line, a refusal in its
    # log line's correlation id ...
    for event, response in zip(events, responses, strict=True):
        request_id = event["requestContext"]["requestId"]
        field = "request_id" if response["statusCode"] == 200 else "correlation_id"
        assert f'"{field}":"{request_id}"' in output
    # ... and neither the body nor a secret is anywhere in them
    assert MARKER not in output
    assert SECRET_KEY not in output
    assert SESSION_TOKEN not in output


def test_the_traceback_of_a_storage_failure_holds_no_body_or_secret(tmp_path: Path) -> None:
    # Given DynamoDB cannot be reached (nothing listens on the port) and is tried once
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    env = debug_everywhere(closed_endpoint, "unreachable", DYNAMODB_MAX_ATTEMPTS="1")
    # When a request carrying the marker is served with every logger at DEBUG
    output, result = run_handler(tmp_path, requests_carrying_the_marker()[:1], env)
    responses = result["responses"]
    # Then the caller gets 503, the log has the failure's traceback, and no body or secret
    assert [response["statusCode"] for response in responses] == [503]
    assert '"message":"request failed"' in output
    assert "Traceback" in output or '"exception"' in output
    assert MARKER not in output
    assert SECRET_KEY not in output
    assert SESSION_TOKEN not in output
