"""64 concurrent keep-alive clients against the runner on the real engine (DynamoDB Local).

Every request is answered (no dropped connection, no 5xx), and per single-chat pair and per
IdempotentId exactly one answer says `Exist: false`, all naming the same conversation.
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.servers import local_runner

pytestmark = [pytest.mark.ddblocal, pytest.mark.heavy]

CLIENTS = 64
PAIRS = 2
IDEMPOTENT_IDS = 2
ROUTE = "/?Action=CreateConversation&Version=2020-12-01"
FIRST_USER = 700_000


def bodies(client: int, run: str) -> list[tuple[str, dict[str, Any]]]:
    """What one client sends: each pair (its own member order) and each IdempotentId once."""
    sent = []
    for pair in range(PAIRS):
        members = [FIRST_USER + 2 * pair, FIRST_USER + 2 * pair + 1]
        owner, other = members if client % 2 else members[::-1]
        body = {
            "AppId": 10,
            "OwnerUserId": owner,
            "OtherUserId": other,
            "ConversationCoreInfo": {"ConversationType": 1},
        }
        sent.append((f"pair-{pair}", body))
    for index in range(IDEMPOTENT_IDS):
        body = {
            "AppId": 10,
            "OwnerUserId": FIRST_USER + 100 + client,
            "IdempotentId": f"{run}-{index}",
            "ConversationCoreInfo": {"ConversationType": 2},
        }
        sent.append((f"idem-{index}", body))
    return sent


def test_64_concurrent_clients_are_all_answered_and_create_each_conversation_once(
    ddblocal_endpoint: str,
) -> None:
    run = uuid.uuid4().hex[:8]
    with local_runner(
        inherit_except=("DYNAMODB_", "WORKERS", "TABLE_NAME", "AUTH_", "RUNNER_"),
        DYNAMODB_ENDPOINT_URL=ddblocal_endpoint,
        TABLE_NAME=f"runner-{run}",
        WORKERS="2",
        RUNNER_ACCESS_LOG="0",
        RATE_LIMIT_PER_SECOND="1000000",
        # On a shared 2-core machine 256 queued requests can wait past API Gateway's 30 s (a
        # 503, tested elsewhere); this test is about every request being answered once.
        RUNNER_INTEGRATION_TIMEOUT="600",
        DYNAMODB_CONNECT_TIMEOUT="5",
        DYNAMODB_READ_TIMEOUT="10",
    ) as url:
        address = (str(urlsplit(url).hostname), int(urlsplit(url).port or 0))
        answers: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        failures: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(CLIENTS)

        def client(number: int) -> None:
            conn = http.client.HTTPConnection(*address, timeout=120)
            start.wait()
            for key, body in bodies(number, run):
                try:
                    conn.request("POST", ROUTE, body=json.dumps(body))
                    response = conn.getresponse()
                    payload = json.loads(response.read())
                except (OSError, http.client.HTTPException) as error:
                    with lock:
                        failures.append(f"{key}: {error!r}")
                    return
                with lock:
                    answers[key].append((response.status, payload))
            conn.close()

        # Given 64 clients, each on its own kept-alive connection, released at once
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    # Then every request was answered 200, none dropped
    assert failures == []
    assert sorted(answers) == sorted(key for key, _ in bodies(0, run))
    for key, key_answers in answers.items():
        assert len(key_answers) == CLIENTS, key
        assert {status for status, _ in key_answers} == {200}, key_answers[:3]
        # And exactly one created the conversation; the rest found that same one
        results = [payload["Result"] for _, payload in key_answers]
        assert sum(not result["Exist"] for result in results) == 1, key
        assert len({result["ConversationShortId"] for result in results}) == 1, key
