"""Creates racing ModifyConversation and DestroyConversation on one IdempotentId (real engine).

The promise: no dissolved conversation is ever answered as existing, and no live one is lost.
Many threads drive the real handler at once (its per-invocation telemetry makes that safe); the
engine is Amazon DynamoDB Local, since moto is not safe under concurrent writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.actions import call
from tests.support.backends import Service, make_client, new_service, scan

pytestmark = [pytest.mark.ddblocal, pytest.mark.heavy]

APP_ID = 30
KEYS = 4
CREATORS_PER_KEY = 4
CREATES_PER_CREATOR = 8
DESTROYS_PER_KEY = 3
OWNER = 70001


@pytest.fixture
def ddblocal_service(ddblocal_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    # The engine shares this machine's cores with every thread here: a generous budget keeps a
    # slow answer from ending a request with 503, which would say nothing about the races.
    yield new_service(make_client(ddblocal_endpoint), monkeypatch, write_budget_seconds=30.0)


def create_body(key: str) -> dict[str, Any]:
    return {
        "AppId": APP_ID,
        "OwnerUserId": OWNER,
        "IdempotentId": key,
        "ConversationCoreInfo": {"ConversationType": 2, "Name": "racing"},
    }


@dataclass
class KeyHistory:
    """What happened to one IdempotentId, with monotonic times of each request's start and end."""

    creates: list[tuple[float, float, int, bool]] = field(default_factory=list)
    destroyed: list[tuple[float, int]] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    latest: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def creator(service: Service, key: str, history: KeyHistory) -> None:
    for _ in range(CREATES_PER_CREATOR):
        started = time.monotonic()
        response = call(service, "CreateConversation", create_body(key))
        ended = time.monotonic()
        if response.status != 200:
            history.unexpected.append(response.payload)
            continue
        result = response.result
        with history.lock:
            history.creates.append((started, ended, result["ConversationShortId"], result["Exist"]))
            history.latest = result["ConversationShortId"]


def destroyer(service: Service, key: str, history: KeyHistory) -> None:
    for _ in range(DESTROYS_PER_KEY):
        time.sleep(0.05)
        short_id = history.latest
        if not short_id:
            continue
        response = call(
            service,
            "DestroyConversation",
            {"AppId": APP_ID, "ConversationShortId": short_id, "OwnerUserId": OWNER},
        )
        if response.status != 200:
            history.unexpected.append(response.payload)
            continue
        history.destroyed.append((time.monotonic(), short_id))


def modifier(service: Service, key: str, history: KeyHistory) -> None:
    for round_number in range(CREATES_PER_CREATOR):
        short_id = history.latest
        if not short_id:
            time.sleep(0.01)
            continue
        body = {
            "AppId": APP_ID,
            "ConversationCoreInfo": {"ConversationShortId": short_id, "Name": f"r{round_number}"},
        }
        response = call(service, "ModifyConversation", body)
        code = response.payload["ResponseMetadata"].get("Error", {}).get("Code")
        # A modify may lose the race to the dissolve; anything else is a failure.
        if response.status != 200 and code != "ConversationNotFound":
            history.unexpected.append(response.payload)


def test_no_dissolved_conversation_is_answered_and_no_live_one_is_lost(
    ddblocal_service: Service,
) -> None:
    service = ddblocal_service
    keys = [f"race-{index}" for index in range(KEYS)]
    histories = {key: KeyHistory() for key in keys}
    # Given a group per IdempotentId
    for key in keys:
        first = call(service, "CreateConversation", create_body(key)).result
        histories[key].latest = first["ConversationShortId"]
        histories[key].creates.append((0.0, 0.0, first["ConversationShortId"], first["Exist"]))

    # When creators with the same IdempotentId race its owner dissolving it and a modifier
    with ThreadPoolExecutor(max_workers=KEYS * (CREATORS_PER_KEY + 2)) as pool:
        futures = []
        for key, history in histories.items():
            for _ in range(CREATORS_PER_KEY):
                futures.append(pool.submit(creator, service, key, history))
            futures.append(pool.submit(destroyer, service, key, history))
            futures.append(pool.submit(modifier, service, key, history))
        for future in futures:
            future.result()

    # Then every request was answered as the contract allows
    for history in histories.values():
        assert [u["ResponseMetadata"] for u in history.unexpected] == []
    items = scan(service.client, service.table_name)
    live_by_key: dict[str, list[int]] = {key: [] for key in keys}
    records = {}
    for item in items:
        if item.get("Kind", {}).get("S") == "Conversation" and item["Status"]["N"] == "0":
            live_by_key[item["IdempotentId"]["S"]].append(int(item["ConversationShortId"]["N"]))
        if item["PK"]["S"].startswith("I#"):
            records[item["PK"]["S"].rsplit("#", 1)[1]] = int(item["ConversationShortId"]["N"])
    dissolves = 0
    for key, history in histories.items():
        dissolved_at = {short_id: at for at, short_id in history.destroyed}
        dissolves += len(dissolved_at)
        # no create that began after a dissolve was acknowledged answered with that conversation
        for started, _, short_id, _ in history.creates:
            assert short_id not in dissolved_at or started < dissolved_at[short_id]
        # at most one live conversation holds the IdempotentId, and its record names it
        assert len(live_by_key[key]) <= 1
        assert records.get(key) == (live_by_key[key][0] if live_by_key[key] else None)
        # no live one lost: every conversation created with it is dissolved, or is the live one
        created = {short_id for _, _, short_id, existed in history.creates if not existed}
        assert created - set(dissolved_at) == set(live_by_key[key])
    # and the races really happened: conversations were dissolved and created again meanwhile
    assert dissolves >= KEYS
    recreated = sum(
        1
        for history in histories.values()
        for _, _, _, existed in history.creates[1:]
        if not existed
    )
    assert recreated >= 1
