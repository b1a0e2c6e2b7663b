"""The runner's HTTP front and its Lambda model, on a stand-in function that echoes its event.

Each hostile request is followed by a request on a fresh connection (and one on a connection
opened before it), which must work: a bad request never disturbs another.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from scripts.local_events import http_api_event
from scripts.local_server import MAX_BODY_BYTES
from tests.runner.conftest import ECHO, host_port
from tests.support.servers import local_runner

REPO = Path(__file__).resolve().parents[2]
ROUTE = "/?Action=CreateConversation&Version=2020-12-01"


def request(
    address: tuple[str, int],
    method: str = "POST",
    target: str = ROUTE,
    body: bytes | None = b"{}",
    headers: dict[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = connection or http.client.HTTPConnection(*address, timeout=30)
    conn.request(method, target, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    if connection is None:
        conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def echoed(data: bytes) -> dict[str, Any]:
    return json.loads(data)["event"]


def still_serves(address: tuple[str, int], kept: http.client.HTTPConnection) -> None:
    assert request(address)[0] == 200
    assert request(address, connection=kept)[0] == 200


def raw_exchange(address: tuple[str, int], data: bytes, *, half_close: bool = False) -> bytes:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


@pytest.fixture
def kept(echo_runner: tuple[str, int]) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection(*echo_runner, timeout=30)
    assert request(echo_runner, connection=connection)[0] == 200
    return connection


def test_chunked_bodies_over_one_kept_alive_connection_arrive_whole(echo_runner):
    # Given one connection, and bodies sent chunked as the vendor's Go SDK sends them
    conn = http.client.HTTPConnection(*echo_runner, timeout=30)
    bodies = [json.dumps({"n": n, "pad": "x" * (n * 5000)}).encode() for n in range(4)]
    for body in bodies:
        # When each is sent with Transfer-Encoding: chunked and no Content-Length
        conn.putrequest("POST", ROUTE)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.putheader("Content-Type", "application/json")
        conn.endheaders()
        for start in range(0, len(body), 4096):
            piece = body[start : start + 4096]
            conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
        # Then the function saw the whole body, and the connection carries the next request
        assert response.status == 200
        assert echoed(response.read())["body"] == body.decode()
    conn.close()


def test_expect_100_continue_is_answered_before_the_body(echo_runner):
    with socket.create_connection(echo_runner, timeout=10) as sock:
        # Given a request that waits for 100 Continue before its body
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        )
        # Then the runner says continue, and answers once the body came
        assert sock.recv(100).startswith(b"HTTP/1.1 100 ")
        sock.sendall(b"{}")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_head_gets_the_headers_without_a_body(echo_runner):
    status, headers, data = request(echo_runner, method="HEAD", body=None)
    assert status == 200
    assert int(headers["content-length"]) > 0
    assert data == b""


def test_a_body_over_the_cap_gets_413_and_a_clean_close(echo_runner, kept):
    # Given a runner on the real handler's cap
    # When a body of cap + 1 bytes is sent
    conn = http.client.HTTPConnection(*echo_runner, timeout=30)
    conn.request("POST", ROUTE, body=b"a" * (MAX_BODY_BYTES + 1))
    response = conn.getresponse()
    # Then the function was handed the cut body (cap + 1: enough to refuse it), and the
    # connection closes after the answer, since the rest of the body was never read
    assert response.status == 200  # the echo function answers whatever it is given
    assert len(echoed(response.read())["body"]) == MAX_BODY_BYTES + 1
    assert response.getheader("connection") == "close"
    conn.close()
    still_serves(echo_runner, kept)


def test_a_malformed_request_line_gets_400_and_others_go_on(echo_runner, kept):
    answer = raw_exchange(echo_runner, b"THIS IS NOT HTTP\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    still_serves(echo_runner, kept)


def test_a_truncated_chunked_body_disturbs_no_one(echo_runner, kept):
    # Given a chunked body that stops mid-chunk and a client that hangs up
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = raw_exchange(echo_runner, head + b"10\r\nonly-part", half_close=True)
    # Then no answer is owed (or a 400), and the runner goes on serving
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400 ")
    still_serves(echo_runner, kept)


def test_a_client_leaving_mid_body_disturbs_no_one(echo_runner, kept):
    with socket.create_connection(echo_runner, timeout=10) as sock:
        sock.sendall(b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"AppId"')
    still_serves(echo_runner, kept)


def test_the_event_is_the_http_api_payload_2_0_shape(echo_runner):
    # Given a request with a raw query, repeated headers, cookies and a non-UTF-8 body
    conn = http.client.HTTPConnection(*echo_runner, timeout=30)
    conn.putrequest("POST", "/stage/path?b=2&a=1&a=%20x&flag", skip_accept_encoding=True)
    for name, value in [("X-Multi", "one"), ("X-Multi", "two"), ("Cookie", "c1=1; c2=2")]:
        conn.putheader(name, value)
    conn.putheader("Content-Length", "3")
    conn.endheaders(b"\xff\xfe\x00")
    response = conn.getresponse()
    event = echoed(response.read())
    conn.close()
    # Then the event says what API Gateway would
    assert event["rawPath"] == "/stage/path"
    assert event["rawQueryString"] == "b=2&a=1&a=%20x&flag"
    assert event["queryStringParameters"] == {"b": "2", "a": "1, x", "flag": ""}
    assert event["headers"]["x-multi"] == "one,two"
    assert event["cookies"] == ["c1=1", "c2=2"]
    assert "cookie" not in event["headers"]
    assert (event["isBase64Encoded"], event["body"]) == (True, "//4A")
    context = event["requestContext"]
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["http"]["method"] == "POST"
    assert abs(context["timeEpoch"] - time.time() * 1000) < 60_000
    # And the Set-Cookie of the function's `cookies` reached the client
    assert response.getheader("set-cookie") == "session=1; Path=/"


def test_the_event_has_every_field_sam_generates_for_an_http_api_proxy_event():
    # Given the SAM CLI's `sam local generate-event apigateway http-api-proxy` output
    sample = json.loads((REPO / "events" / "sam-generated-http-api-proxy.json").read_text())
    # When the runner builds an event with cookies, a query and a body
    event = http_api_event(
        method="POST",
        raw_path="/path/to/resource",
        raw_query="parameter1=value1&parameter1=value2&parameter2=value",
        headers=[
            ("Header1", "value1"),
            ("Header2", "value1"),
            ("Header2", "value2"),
            ("Cookie", "cookie1; cookie2"),
        ],
        body=b'{"test":"body"}',
        source_ip="192.168.0.1",
        server_port=3000,
    )
    # Then it has the sample's fields, less those this API has no use for (authorizers, client
    # certificates, path parameters and stage variables belong to routes it does not have)
    not_for_a_default_route = {"pathParameters", "stageVariables"}
    assert set(sample) - not_for_a_default_route == set(event)
    context_fields = set(sample["requestContext"]) - {"authentication", "authorizer"}
    assert context_fields == set(event["requestContext"])
    assert set(sample["requestContext"]["http"]) == set(event["requestContext"]["http"])
    for name in ("version", "routeKey", "rawPath", "rawQueryString", "cookies"):
        assert event[name] == sample[name]
    assert event["queryStringParameters"] == sample["queryStringParameters"]
    assert event["headers"]["header2"] == sample["headers"]["Header2"]
    assert {type(v) for v in event["requestContext"].values()} <= {str, int, dict}


def test_the_function_gets_its_deadline_from_the_template_timeout(echo_runner):
    status, _, data = request(echo_runner)
    assert status == 200
    assert 0 < json.loads(data)["remaining_ms"] <= 1500


@pytest.mark.parametrize("misbehaviour", ["crash", "raise", "hang", "not-a-response"])
def test_a_failing_function_gets_api_gateways_500_and_a_new_worker(echo_runner, misbehaviour):
    # When the function crashes its process, raises, runs past its 1.5 s timeout, or returns
    # something that is not a response
    status, _, data = request(echo_runner, body=misbehaviour.encode())
    # Then the client gets what API Gateway HTTP API answers for a function error
    if misbehaviour == "not-a-response":
        # ... except a non-response value, which payload 2.0 turns into a 200 JSON body
        assert (status, json.loads(data)) == (200, ["a", "list"])
    else:
        assert (status, json.loads(data)) == (500, {"message": "Internal Server Error"})
    # And the next request is served (by a new worker where the old one died)
    assert request(echo_runner)[0] == 200


def test_a_request_waiting_past_the_integration_timeout_gets_503():
    # Given one worker whose function outlives API Gateway's (here 1 s) integration timeout
    with local_runner(
        inherit_except=("DYNAMODB_ENDPOINT_URL", "WORKERS"),
        RUNNER_HANDLER=ECHO,
        RUNNER_FUNCTION_TIMEOUT="2",
        RUNNER_INTEGRATION_TIMEOUT="1",
        WORKERS="1",
    ) as url:
        address = host_port(url)
        # When a request hangs
        started = time.monotonic()
        status, _, data = request(address, body=b"hang")
        # Then it is answered 503 at the integration timeout
        assert (status, json.loads(data)) == (503, {"message": "Service Unavailable"})
        assert time.monotonic() - started < 1.9
        # And after the function timeout stops that worker, a new one serves
        time.sleep(1.5)
        assert request(address)[0] == 200
