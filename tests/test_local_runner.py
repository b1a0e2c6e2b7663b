"""`make serve`'s runner on the real handler: requests signed and sent the way the vendor's Go SDK
sends them, and what it shares with the template and the handler (cap, timeout, handler, the sam
local environment file). The README's walk-through is test_readme_walkthrough.py.

The runner's own HTTP and Lambda-model behaviour, on a stand-in function, is tests/runner/.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from volcengine.auth.SignerV4 import SignerV4
from volcengine.base.Request import Request
from volcengine.Credentials import Credentials

from handler.gateway import MAX_BODY_BYTES
from scripts.local_server import MAX_BODY_BYTES as RUNNER_CAP
from scripts.local_server import template_function
from tests.support.servers import local_runner

REPO = Path(__file__).resolve().parent.parent
ROUTE = "/?Action=CreateConversation&Version=2020-12-01"
GROUP = b'{"AppId":10,"OwnerUserId":10001,"ConversationCoreInfo":{"ConversationType":2}}'
ACCESS_KEY_ID, SECRET = "AKLTrunner", "cnVubmVyLXNlY3JldA=="  # a test key
# What the vendor's Go SDK (service/im, v1.0.253) sends besides the signature headers.
GO_SDK_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json",
    "Accept-Encoding": "gzip",
    "User-Agent": "volc-sdk-golang/v1.0.253",
    "X-Im-Sdk-Version": "v1.0.253",
}


@pytest.fixture(scope="module")
def runner_url() -> Iterator[str]:
    with local_runner(inherit_except=("DYNAMODB_ENDPOINT_URL",)) as url:
        yield url


def test_invoke_runs_one_event_file() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DYNAMODB_ENDPOINT_URL"}
    output = subprocess.run(
        [sys.executable, "scripts/invoke.py", "events/single-chat.json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    response = json.loads(output)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["Result"]["Exist"] is False


def go_sdk_request(host: str, body: bytes, secret: str = SECRET) -> dict[str, str]:
    """The headers of a request the volcengine signer signed with the Go SDK's header set."""
    request = Request()
    request.set_method("POST")
    request.set_path("/")
    request.set_headers(OrderedDict({"Host": host, **GO_SDK_HEADERS}))
    request.set_query(OrderedDict({"Action": "CreateConversation", "Version": "2020-12-01"}))
    request.set_body(body.decode())
    SignerV4.sign(request, Credentials(ACCESS_KEY_ID, secret, "rtc", "cn-north-1"))
    return dict(request.headers)


def send_chunked(conn: http.client.HTTPConnection, headers: dict[str, str], body: bytes):
    pieces = [body[: len(body) // 2], body[len(body) // 2 :]]
    conn.request("POST", ROUTE, body=iter(pieces), headers=headers, encode_chunked=True)
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def test_signed_chunked_requests_over_one_kept_alive_connection_succeed():
    keys = {ACCESS_KEY_ID: {"SecretAccessKey": SECRET, "AppIds": [10]}}
    with local_runner(
        inherit_except=("DYNAMODB_ENDPOINT_URL", "AUTH_", "RATE_LIMIT"),
        AUTH_MODE="signature",
        AUTH_KEYS_JSON=json.dumps(keys),
        RATE_LIMIT_PER_SECOND="100000",
    ) as url:
        host = urlsplit(url).netloc
        conn = http.client.HTTPConnection(host, timeout=30)
        # Given group creates signed like the SDK does, sent chunked with no Content-Length
        ids = set()
        for _ in range(3):
            headers = go_sdk_request(host, GROUP)
            assert "Content-Length" not in headers
            # When each goes over the same connection
            status, payload = send_chunked(conn, headers, GROUP)
            # Then each is created
            assert status == 200, payload
            assert payload["Result"]["Exist"] is False
            ids.add(payload["Result"]["ConversationShortId"])
        assert len(ids) == 3
        # And a request signed with a wrong secret is refused on that same connection
        status, payload = send_chunked(conn, go_sdk_request(host, GROUP, "wrong"), GROUP)
        assert (status, payload["ResponseMetadata"]["Error"]["Code"]) == (
            401,
            "SignatureDoesNotMatch",
        )
        conn.close()


def test_a_body_over_the_cap_gets_the_handlers_413_envelope(runner_url: str):
    conn = http.client.HTTPConnection(urlsplit(runner_url).netloc, timeout=30)
    conn.request("POST", ROUTE, body=b" " * (MAX_BODY_BYTES + 10_000))
    response = conn.getresponse()
    payload = json.loads(response.read())
    assert response.status == 413
    assert payload["ResponseMetadata"]["Error"]["Code"] == "RequestEntityTooLarge"
    assert payload["ResponseMetadata"]["Action"] == "CreateConversation"
    assert "Result" not in payload
    conn.close()


def test_the_runner_holds_the_handlers_cap_and_the_templates_function():
    template = (REPO / "template.yaml").read_text(encoding="utf-8")
    function = template_function(template)
    assert RUNNER_CAP == MAX_BODY_BYTES
    assert function.handler == "handler.app.lambda_handler"
    assert f"Timeout: {function.timeout_s:g}\n" in template


def template_environment_variables() -> set[str]:
    template = (REPO / "template.yaml").read_text(encoding="utf-8")
    block = template.split("\n  ConversationApiFunction:\n", 1)[1]
    variables = block.split("        Variables:\n", 1)[1]
    return set(re.findall(r"^          ([A-Z_]+):", variables, flags=re.MULTILINE))


def test_the_sam_local_env_file_sets_the_functions_variables_for_dynamodb_local():
    # Given the env-vars file the docs hand to `sam local invoke/start-api --env-vars`
    env = json.loads((REPO / "events" / "sam-local-env.json").read_text(encoding="utf-8"))
    # Then it is keyed by the function's logical id and sets every variable the template
    # declares (sam local passes no other), the endpoint of DynamoDB Local on the host included
    assert list(env) == ["ConversationApiFunction"]
    variables = env["ConversationApiFunction"]
    assert set(variables) == template_environment_variables()
    assert variables["DYNAMODB_ENDPOINT_URL"] == "http://host.docker.internal:8000"
    assert variables["AUTH_MODE"] == "none"
    assert all(isinstance(value, str) for value in variables.values())
