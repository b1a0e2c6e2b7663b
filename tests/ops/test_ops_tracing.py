"""X-Ray tracing: on in Lambda unless POWERTOOLS_TRACE_DISABLED says otherwise, and free when off.

Each case runs the handler in a fresh process (the import is the cold start being checked), with
a UDP socket on 127.0.0.1 standing in for the X-Ray daemon.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ops_support import create_table, group_chat, handler_process_env, run_handler

from tests.support.events import http_api_event

MARKER = f"body-marker-{uuid.uuid4().hex}"
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture
def xray_daemon() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.setblocking(False)
        yield daemon


def received_segments(daemon: socket.socket) -> list[dict[str, Any]]:
    """Every segment sent so far: a header line, then the segment document, per datagram."""
    segments = []
    while True:
        try:
            datagram = daemon.recv(65_536)
        except BlockingIOError:
            return segments
        _header, document = datagram.decode("utf-8").split("\n", 1)
        segments.append(json.loads(document))


def lambda_env(endpoint: str, table: str, daemon: socket.socket, **extra: str) -> dict[str, str]:
    host, port = daemon.getsockname()
    return handler_process_env(
        endpoint,
        table,
        LAMBDA_TASK_ROOT=str(Path(__file__).parent),
        AWS_XRAY_DAEMON_ADDRESS=f"{host}:{port}",
        _X_AMZN_TRACE_ID=TRACE_HEADER,
        **extra,
    )


def one_request() -> list[dict[str, Any]]:
    core = {"ConversationType": 2, "Name": MARKER}
    return [http_api_event(group_chat(IdempotentId=MARKER, ConversationCoreInfo=core))]


def test_in_lambda_each_invocation_and_its_dynamodb_call_are_traced_without_the_body(
    tmp_path: Path, moto_endpoint: str, xray_daemon: socket.socket
) -> None:
    # Given a Lambda environment with tracing left on
    create_table(moto_endpoint, "traced")
    env = lambda_env(moto_endpoint, "traced", xray_daemon)
    # When the handler serves a request
    _output, result = run_handler(tmp_path, one_request(), env)
    # Then the X-Ray SDK was loaded, and the daemon got the invocation and the DynamoDB call
    assert [response["statusCode"] for response in result["responses"]] == [200]
    assert result["xray_sdk_loaded"] is True
    segments = received_segments(xray_daemon)
    by_name = {segment["name"]: segment for segment in segments}
    assert by_name["## lambda_handler"]["annotations"]["ColdStart"] is True
    assert by_name["dynamodb"]["aws"]["operation"] == "TransactWriteItems"
    assert {segment["trace_id"] for segment in segments} == {"1-5759e988-bd862e3fe1be46a994272793"}
    # ... and the traces keep the conversation the caller sent out of their metadata
    assert MARKER not in json.dumps(segments)


@pytest.mark.parametrize("value", ["true", "1", "True"])
def test_powertools_trace_disabled_switches_tracing_and_its_import_off(
    tmp_path: Path, moto_endpoint: str, xray_daemon: socket.socket, value: str
) -> None:
    # Given a Lambda environment with POWERTOOLS_TRACE_DISABLED set
    create_table(moto_endpoint, f"untraced-{value}")
    env = lambda_env(
        moto_endpoint, f"untraced-{value}", xray_daemon, POWERTOOLS_TRACE_DISABLED=value
    )
    # When the handler serves a request
    _output, result = run_handler(tmp_path, one_request(), env)
    # Then it is served, the X-Ray SDK was never imported, and nothing was sent
    assert [response["statusCode"] for response in result["responses"]] == [200]
    assert result["xray_sdk_loaded"] is False
    assert received_segments(xray_daemon) == []


def test_outside_lambda_tracing_is_off_without_being_asked(
    tmp_path: Path, moto_endpoint: str
) -> None:
    # Given a process that is not a Lambda sandbox (no LAMBDA_TASK_ROOT), as in make serve
    create_table(moto_endpoint, "local")
    # When the handler serves a request
    env = handler_process_env(moto_endpoint, "local")
    _output, result = run_handler(tmp_path, one_request(), env)
    # Then the X-Ray SDK was never imported
    assert [response["statusCode"] for response in result["responses"]] == [200]
    assert result["xray_sdk_loaded"] is False
