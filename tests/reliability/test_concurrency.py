"""Identical requests at once, on the real engine: exactly one creates, all others find it,
and the one conversation holds exactly its members (a single chat's two, a group's owner).

Amazon DynamoDB Local only: moto is not the engine and not safe under concurrent writes, so it
would prove nothing here. Requests go through the real handler in separate processes that import
handler.app with the environment a Lambda container would have, so each builds its own client
from handler.settings.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

import pytest

from handler.domain.ports import IdempotencyKey, SingleChatPair
from handler.domain.users import UserRef
from handler.table import idempotency_key, single_chat_key
from tests.support.audit import audit
from tests.support.backends import make_client, new_table, scan
from tests.support.concurrency import Answer, Rounds, RunReport, max_in_flight, run

pytestmark = [pytest.mark.ddblocal, pytest.mark.heavy]

PAIRS = 50
IDEMPOTENT_IDS = 50
REQUESTS_PER_KEY = 32
SINGLE_APP = 10
IDEMPOTENT_APP = 20
FIRST_USER = 500_000
# DynamoDB Local shares the machine's cores with up to 32 Python processes here, and then
# sometimes answers after the production read timeout (1.5 s). Three slow answers in a row would
# be a 504, which says nothing about uniqueness, so these runs give the engine more time.
# Production defaults are untouched; the fault tests cover timeouts.
SLOW_ENGINE_TIMEOUTS = {"DYNAMODB_CONNECT_TIMEOUT": "5", "DYNAMODB_READ_TIMEOUT": "10"}


def single_chat_body(pair: int, requester: int) -> dict[str, Any]:
    # Pairs share members ((u, u+1), (u+1, u+2), ...), and every other requester swaps them.
    members = [FIRST_USER + pair, FIRST_USER + pair + 1]
    owner, other = members if requester % 2 == 0 else members[::-1]
    body: dict[str, Any] = {
        "AppId": SINGLE_APP,
        "OwnerUserId": owner,
        "OtherUserId": other,
        "ConversationCoreInfo": {"ConversationType": 1, "Name": f"pair {pair}"},
    }
    if pair % 2:
        # The contract's promise beyond the vendor: not duplicated even when every retry of
        # the pair carries its own IdempotentId.
        body["IdempotentId"] = f"pair-{pair}-try-{requester}"
    return body


def idempotent_body(index: int) -> dict[str, Any]:
    return {
        "AppId": IDEMPOTENT_APP,
        "OwnerUserId": FIRST_USER + index,
        "IdempotentId": f"order-{index}",
        "ConversationCoreInfo": {"ConversationType": 2 if index % 2 else 100, "Name": "group"},
    }


def bodies_by_key() -> dict[str, list[dict[str, Any]]]:
    """Each key (the record that guards it) with the requests sent for it; the kinds alternate."""
    bodies: dict[str, list[dict[str, Any]]] = {}
    for index in range(max(PAIRS, IDEMPOTENT_IDS)):
        if index < PAIRS:
            low, high = FIRST_USER + index, FIRST_USER + index + 1
            bodies[single_chat_record(low, high)] = [
                single_chat_body(index, requester) for requester in range(REQUESTS_PER_KEY)
            ]
        if index < IDEMPOTENT_IDS:
            bodies[idempotency_record(IDEMPOTENT_APP, f"order-{index}")] = [
                idempotent_body(index)
            ] * REQUESTS_PER_KEY
    return bodies


def single_chat_record(one: int, other: int) -> str:
    """The PK of the record guarding the single chat of two integer users in SINGLE_APP."""
    pair = SingleChatPair.of(SINGLE_APP, 0, UserRef(number=one), UserRef(number=other))
    return str(single_chat_key(pair)["PK"]["S"])


def idempotency_record(app_id: int, idempotent_id: str) -> str:
    return str(idempotency_key(IdempotencyKey(app_id, 0, idempotent_id))["PK"]["S"])


def environment(endpoint: str, table_name: str) -> dict[str, str]:
    return {
        "DYNAMODB_ENDPOINT_URL": endpoint,
        "TABLE_NAME": table_name,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        **SLOW_ENGINE_TIMEOUTS,
    }


@pytest.mark.parametrize(
    "processes, threads_per_process",
    [
        pytest.param(1, REQUESTS_PER_KEY, id="32-threads-in-one-process"),
        pytest.param(REQUESTS_PER_KEY, 1, id="32-processes"),
    ],
)
def test_identical_requests_at_once_create_exactly_one_conversation_per_key(
    ddblocal_endpoint: str, processes: int, threads_per_process: int
) -> None:
    # Given an empty table, and per key 32 identical requests (member order mixed)
    client = make_client(ddblocal_endpoint)
    table_name = new_table(client)
    bodies = bodies_by_key()
    requesters = [
        [
            rounds_of(bodies, requester=process * threads_per_process + thread)
            for thread in range(threads_per_process)
        ]
        for process in range(processes)
    ]

    # When each key's 32 requests are released at once, one key after another
    report = run(environment(ddblocal_endpoint, table_name), requesters)

    # Then every request succeeded; per key one created and the rest found that conversation
    answers = answers_by_key(report.answers)
    assert sorted(answers) == sorted(bodies)
    assert violations(answers) == []

    # And the table holds exactly those conversations with their members and records, and
    # nothing else: no loser's conversation, member or record survived
    table = audit(scan(client, table_name), idempotent_app_ids=[IDEMPOTENT_APP])
    expected = expected_records(answers)
    assert table.problems == []
    assert sorted(table.conversations) == sorted(set(expected.values()))
    assert len(table.conversations) == PAIRS + IDEMPOTENT_IDS
    assert {**table.single_chat_records, **table.idempotency_records} == expected
    assert sorted(table.members) == sorted(table.conversations)
    assert sum(len(members) for members in table.members.values()) == 2 * PAIRS + IDEMPOTENT_IDS

    # And the requests really met at the engine: they were in flight together, and the engine
    # refused losers' writes (a later request would simply have found the record)
    print_summary(report, answers)
    assert max(max_in_flight(key_answers) for key_answers in answers.values()) > 1
    assert report.cancellation_reasons["ConditionalCheckFailed"] > 0


def rounds_of(bodies: dict[str, list[dict[str, Any]]], requester: int) -> Rounds:
    return [(key, key_bodies[requester]) for key, key_bodies in bodies.items()]


def answers_by_key(answers: list[Answer]) -> dict[str, list[Answer]]:
    grouped: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        grouped[answer.key].append(answer)
    return dict(grouped)


def violations(answers: dict[str, list[Answer]]) -> list[str]:
    found = []
    for key, key_answers in answers.items():
        errors = [answer.payload for answer in key_answers if answer.status != 200]
        if len(key_answers) != REQUESTS_PER_KEY or errors:
            found.append(f"{key}: {len(key_answers)} answers, errors {errors[:3]}")
            continue
        results = [answer.payload["Result"] for answer in key_answers]
        created = [result for result in results if result["Exist"] is False]
        ids = {result["ConversationShortId"] for result in results}
        if len(created) != 1 or len(ids) != 1:
            found.append(f"{key}: {len(created)} created, ids {sorted(ids)}")
    return found


def expected_records(answers: dict[str, list[Answer]]) -> dict[str, int]:
    """Each key's record, plus the IdempotentId record of whichever request created a pair."""
    records = {}
    for key, key_answers in answers.items():
        (creator,) = [answer for answer in key_answers if not answer.payload["Result"]["Exist"]]
        short_id = creator.payload["Result"]["ConversationShortId"]
        records[key] = short_id
        idempotent_id = creator.body.get("IdempotentId")
        if key.startswith("S#") and idempotent_id:
            records[idempotency_record(SINGLE_APP, idempotent_id)] = short_id
    return records


def print_summary(report: RunReport, answers: dict[str, list[Answer]]) -> None:
    in_flight = [max_in_flight(key_answers) for key_answers in answers.values()]
    print(
        f"\n{len(answers)} keys x {REQUESTS_PER_KEY} requests in {report.seconds:.1f} s; "
        f"in flight per key: min {min(in_flight)}, median {statistics.median(in_flight)}, "
        f"max {max(in_flight)}; attempts {dict(report.attempts)}; calls {dict(report.calls)}; "
        f"cancellation reasons {dict(report.cancellation_reasons)}"
    )
