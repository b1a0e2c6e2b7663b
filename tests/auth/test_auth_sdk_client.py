"""The vendor's Python SDK as a real client of `make serve`'s runner, with authentication on.

The runner runs in its own process (scripts/local_server.py on a free loopback port, embedded
moto), exactly as `AUTH_MODE=signature AUTH_KEYS_FILE=... make serve` starts it. Requests are
tampered with in transit by a transport adapter, after the SDK has signed them.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from volcengine.ApiInfo import ApiInfo
from volcengine.auth.SignerV4 import SignerV4
from volcengine.base.Service import Service
from volcengine.Credentials import Credentials
from volcengine.ServiceInfo import ServiceInfo

from tests.support.servers import local_runner

ACCESS_KEY_ID = "AKLTsdkclient"
SECRET = "c2RrLWNsaWVudC1zZWNyZXQ="  # noqa: S105 - a test key
APP_ID, FOREIGN_APP_ID = 7001, 7002


@pytest.fixture(scope="module")
def keys_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "keys.json"
    path.write_text(
        json.dumps({ACCESS_KEY_ID: {"SecretAccessKey": SECRET, "AppIds": [APP_ID]}}),
        encoding="utf-8",
    )
    return path


@contextmanager
def signature_runner(keys_file: Path, **environ: str) -> Iterator[str]:
    """The runner checking signatures against `keys_file`; yields its host (127.0.0.1:port)."""
    with local_runner(
        inherit_except=("AUTH_", "DYNAMODB_", "RATE_LIMIT"),
        AUTH_MODE="signature",
        AUTH_KEYS_FILE=str(keys_file),
        **environ,
    ) as url:
        yield urlsplit(url).netloc


@pytest.fixture(scope="module")
def runner(keys_file) -> Iterator[str]:
    with signature_runner(
        keys_file, RATE_LIMIT_WRITE_PER_SECOND="100000", RATE_LIMIT_READ_PER_SECOND="100000"
    ) as host:
        yield host


class Tamper(HTTPAdapter):
    """A man in the middle: changes each request after the SDK signed it."""

    def __init__(self, change: Callable[[requests.PreparedRequest], None]) -> None:
        super().__init__()
        self._change = change

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any):
        self._change(request)
        return super().send(request, *args, **kwargs)


class Client:
    """The SDK's generic Service, configured for CreateConversation, as a vendor client is."""

    def __init__(self, host: str, ak: str = ACCESS_KEY_ID, sk: str = SECRET) -> None:
        info = ServiceInfo(
            host, {"Accept": "application/json"}, Credentials(ak, sk, "rtc", "cn-north-1"), 5, 10
        )
        api = {
            "CreateConversation": ApiInfo(
                "POST", "/", {"Action": "CreateConversation", "Version": "2020-12-01"}, {}, {}
            )
        }
        self.service = Service(info, api)
        self.statuses: list[int] = []
        self.service.session.hooks["response"].append(
            lambda response, **_: self.statuses.append(response.status_code)
        )

    def tamper(self, change: Callable[[requests.PreparedRequest], None]) -> Client:
        self.service.session.mount("http://", Tamper(change))
        return self

    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            text = self.service.json("CreateConversation", {}, json.dumps(body))
        except Exception as error:  # the SDK raises the response body on any non-200
            text = error.args[0]
        return self.statuses[-1], json.loads(text)


def single_chat(app_id: int = APP_ID) -> dict[str, Any]:
    """A single chat no other test uses, with its own IdempotentId."""
    owner = uuid.uuid4().int % 2**62 + 1
    return {
        "AppId": app_id,
        "OwnerUserId": owner,
        "OtherUserId": owner + 1,
        "IdempotentId": str(uuid.uuid4()),
        "ConversationCoreInfo": {"ConversationType": 1, "Name": "auth test"},
    }


def error_of(payload: dict[str, Any]) -> tuple[str, int | None]:
    error = payload["ResponseMetadata"]["Error"]
    return error["Code"], error.get("CodeN")


def test_a_signed_create_succeeds_and_a_retry_finds_it(runner):
    client, body = Client(runner), single_chat()
    status, created = client.create(body)
    assert status == 200
    assert created["Result"]["Exist"] is False
    status, again = client.create(body)
    assert (status, again["Result"]["Exist"]) == (200, True)
    assert again["Result"]["ConversationShortId"] == created["Result"]["ConversationShortId"]


def header_removed(name: str) -> Callable[[requests.PreparedRequest], None]:
    return lambda request: request.headers.pop(name)


def without_signature(request: requests.PreparedRequest) -> None:
    request.headers["Authorization"] = request.headers["Authorization"].split(", Signature=")[0]


def body_changed(request: requests.PreparedRequest) -> None:
    request.body = request.body.replace('"Name": "auth test"', '"Name": "auth test!"')


def query_changed(request: requests.PreparedRequest) -> None:
    request.url += "&InboxType=1"


def stale_clock():
    stale = (datetime.now(tz=UTC) - timedelta(minutes=6)).strftime("%Y%m%dT%H%M%SZ")
    return patch.object(SignerV4, "get_current_format_date", staticmethod(lambda: stale))


MISMATCH = (401, "SignatureDoesNotMatch", 100010)
FAILURES = [
    pytest.param(lambda host: Client(host, sk="wrong"), MISMATCH, id="wrong-secret"),
    pytest.param(
        lambda host: Client(host, ak="AKLTnobody"),
        (401, "InvalidAccessKey", 100009),
        id="unknown-key",
    ),
    pytest.param(lambda host: Client(host).tamper(body_changed), MISMATCH, id="tampered-body"),
    pytest.param(lambda host: Client(host).tamper(query_changed), MISMATCH, id="tampered-query"),
    pytest.param(
        lambda host: Client(host).tamper(header_removed("Authorization")),
        (401, "MissingAuthenticationToken", 100003),
        id="no-authorization",
    ),
    pytest.param(
        lambda host: Client(host).tamper(without_signature),
        (401, "MissingSignature", 100005),
        id="no-signature",
    ),
    pytest.param(
        lambda host: Client(host).tamper(header_removed("X-Date")),
        (400, "InvalidTimestamp", 100006),
        id="no-x-date",
    ),
    pytest.param(
        lambda host: Client(host).tamper(header_removed("X-Content-Sha256")),
        MISMATCH,
        id="no-content-sha256",
    ),
]


@pytest.mark.parametrize(("make_client", "expected"), FAILURES)
def test_each_bad_request_fails_with_its_code_and_writes_nothing(runner, make_client, expected):
    # Given a single chat and IdempotentId no one has used
    body = single_chat()
    # When the SDK's request is refused for its reason
    status, payload = make_client(runner).create(body)
    # Then the status, Code and CodeN are the rule's
    assert (status, *error_of(payload)) == expected
    # And nothing was written: a correct create of the same chat is the first
    status, created = Client(runner).create(body)
    assert (status, created["Result"]["Exist"]) == (200, False)


def test_a_stale_x_date_fails_and_writes_nothing(runner):
    body = single_chat()
    # Given the SDK's clock six minutes behind
    with stale_clock():
        status, payload = Client(runner).create(body)
    # Then InvalidTimestamp 400, and the chat was not created
    assert (status, *error_of(payload)) == (400, "InvalidTimestamp", 100006)
    status, created = Client(runner).create(body)
    assert (status, created["Result"]["Exist"]) == (200, False)


def test_a_foreign_app_id_is_access_denied_and_writes_nothing(runner):
    body = single_chat(app_id=FOREIGN_APP_ID)
    status, payload = Client(runner).create(body)
    assert (status, *error_of(payload)) == (403, "AccessDenied", 100013)
    # The same chat under the key's own AppId was not created by the refused request either,
    # and a key allowed for the foreign AppId would find nothing: the write never ran.
    status, created = Client(runner).create({**body, "AppId": APP_ID})
    assert (status, created["Result"]["Exist"]) == (200, False)


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("moto", id="embedded-moto"),
        pytest.param("dynamodb-local", id="dynamodb-local", marks=pytest.mark.ddblocal),
    ],
)
def test_the_limiter_holds_its_limit_under_a_burst_from_many_threads(keys_file, backend, request):
    # Given a runner limited to 3 requests per second per key, on moto or DynamoDB Local
    limit, threads, per_thread = 3, 12, 5
    storage = {}
    if backend == "dynamodb-local":
        endpoint = request.getfixturevalue("ddblocal_endpoint")
        storage = {"DYNAMODB_ENDPOINT_URL": endpoint, "TABLE_NAME": f"burst-{uuid.uuid4().hex}"}
    outcomes: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def burst(host: str) -> None:
        client = Client(host)
        for _ in range(per_thread):
            status, payload = client.create({**single_chat(), "IdempotentId": None})
            code = None if status == 200 else error_of(payload)[0]
            with lock:
                outcomes.append((status, code))

    with signature_runner(keys_file, RATE_LIMIT_WRITE_PER_SECOND=str(limit), **storage) as host:
        # When 12 threads send 5 creates each, as fast as they can
        started = time.time()
        workers = [threading.Thread(target=burst, args=(host,)) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        ended = time.time()
    # Then every request was either created or refused with FlowLimitExceeded 429
    admitted = sum(status == 200 for status, _ in outcomes)
    assert len(outcomes) == threads * per_thread
    assert set(outcomes) <= {(200, None), (429, "FlowLimitExceeded")}
    # And no second that the burst touched admitted more than the limit
    seconds_touched = int(ended) - int(started) + 1
    assert 1 <= admitted <= limit * seconds_touched
