"""Faults at the botocore layer for every write and read action, on DynamoDB Local.

Each caller has a client with the production retry settings (2 attempts, standard mode); faults
come from `tests/support/faults.py`. A write whose every answer is lost after it committed is
sent again, as a client would after a 504, and must end in the same state as one clean call; a
write that meets throttling, a 5xx or a timeout answers 503/504 and leaves the table exactly as
it was; a read under any fault answers 200, 503 or 504, never 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from tests.support import faults
from tests.support.backends import new_table, scan
from tests.support.member_audit import (
    APP_ID,
    Answer,
    Caller,
    audit_conversation,
    orphans,
    preload_actions,
)

pytestmark = [pytest.mark.ddblocal, pytest.mark.heavy]

WRITES = ("TransactWriteItems", "UpdateItem", "PutItem")
READS = ("GetItem", "BatchGetItem", "Query")
# Volatile attributes: clocks and the per-request token differ between two runs of one request.
VOLATILE = {"ModifyTime", "CreateTime", "WriteToken", "ExpiresAt"}


def _create(caller: Caller, _short_id: int) -> Answer:
    body = {
        "AppId": APP_ID,
        "OwnerUserId": 1,
        "IdempotentId": "order-1",
        "ConversationCoreInfo": {"ConversationType": 2, "Name": "created"},
    }
    return caller.call("CreateConversation", body)


def _rename(caller: Caller, short_id: int) -> Answer:
    core = {"ConversationShortId": short_id, "Name": "renamed", "Ext": {"k": "v"}}
    return caller.call("ModifyConversation", {"AppId": APP_ID, "ConversationCoreInfo": core})


def _modify_members(caller: Caller, short_id: int) -> Answer:
    infos = [
        {"ParticipantUserId": 3, "Role": 2},
        {"ParticipantUserId": 2, "Role": 0, "NickName": "was manager"},
    ]
    return caller.call(
        "BatchModifyConversationParticipant",
        {
            "AppId": APP_ID,
            "ConversationShortId": short_id,
            "Operator": 1,
            "ParticipantInfos": infos,
        },
    )


WRITE_ACTIONS: dict[str, Callable[[Caller, int], Answer]] = {
    "CreateConversation": _create,
    "ModifyConversation": _rename,
    "ModifyConversation-transfer": lambda caller, short_id: caller.transfer(short_id, 3),
    "DestroyConversation": lambda caller, short_id: caller.destroy(short_id, 1),
    "BatchAddConversationParticipant": lambda caller, short_id: caller.add(short_id, [7, 8]),
    "BatchDeleteConversationParticipant": lambda caller, short_id: caller.remove(short_id, [4, 5]),
    "BatchModifyConversationParticipant": _modify_members,
}


@pytest.fixture
def endpoint(ddblocal_endpoint: str) -> str:
    preload_actions()
    return ddblocal_endpoint


def production_caller(endpoint: str) -> Caller:
    """A caller whose client and budget are the production defaults."""
    return Caller(endpoint, new_table(Caller(endpoint, "unused").client), write_budget_seconds=2.0)


def setup_group(caller: Caller) -> int:
    """Owner 1, manager 2, members 3 ... 6."""
    short_id = caller.create_group()
    assert caller.add(short_id, [2], role=2).ok
    assert caller.add(short_id, [3, 4, 5, 6]).ok
    return short_id


def fingerprint(caller: Caller, names: dict[int, str]) -> list[str]:
    """The table's items without volatile attributes, each ConversationShortId by its name."""
    pattern = re.compile("|".join(str(short_id) for short_id in names))
    rows = []
    for item in scan(caller.client, caller.table_name):
        kept = {name: value for name, value in item.items() if name not in VOLATILE}
        text = json.dumps(kept, sort_keys=True)
        rows.append(pattern.sub(lambda match: names[int(match.group())], text))
    return sorted(rows)


def created_id(answer: Answer) -> dict[int, str]:
    if answer.action == "CreateConversation" and answer.result:
        return {answer.result["ConversationShortId"]: "<created>"}
    return {}


@pytest.mark.parametrize("action", WRITE_ACTIONS)
def test_a_write_whose_answers_are_lost_after_commit_then_retried_ends_as_one_clean_call(
    endpoint: str, action: str
) -> None:
    write = WRITE_ACTIONS[action]
    # Given the same group in two tables
    clean, faulted = production_caller(endpoint), production_caller(endpoint)
    clean_id, faulted_id = setup_group(clean), setup_group(faulted)
    # When the write runs once cleanly in one table, and in the other it commits, botocore's
    # retry replays it, both answers are lost, and the caller sends it again
    clean_answer = write(clean, clean_id)
    with faults.injected(
        faulted.client,
        faults.in_order(
            faults.commit_then(faults.READ_TIMEOUT), faults.commit_then(faults.READ_TIMEOUT)
        ),
        operations=WRITES,
    ) as injection:
        lost = write(faulted, faulted_id)
    retried = write(faulted, faulted_id)
    # Then the lost call answered 504, the retry succeeded
    assert injection.faults == 2
    assert (lost.status, lost.code) == (504, "InternalServiceTimeout")
    assert clean_answer.ok and retried.ok, (clean_answer, retried)
    if action == "BatchDeleteConversationParticipant":
        # and a retried delete names the users the lost call already removed
        assert clean_answer.result == {"FailedUserIds": []}
        assert retried.result == {"FailedUserIds": [4, 5]}
    elif action == "CreateConversation":
        assert retried.result is not None and retried.result["Exist"] is True
    # and both tables hold the same items, audited clean, without orphans
    assert fingerprint(faulted, {faulted_id: "<group>", **created_id(retried)}) == (
        fingerprint(clean, {clean_id: "<group>", **created_id(clean_answer)})
    )
    for caller, short_id in ((clean, clean_id), (faulted, faulted_id)):
        assert orphans(caller.client, caller.table_name) == []
        if action != "DestroyConversation":
            assert audit_conversation(caller, short_id).problems == []


REFUSING_FAULTS = [
    (faults.THROTTLING, 503, "ServiceUnavailableTemp"),
    (faults.INTERNAL_SERVER_ERROR, 503, "ServiceUnavailableTemp"),
    (faults.SERVICE_UNAVAILABLE, 503, "ServiceUnavailableTemp"),
    (faults.CONNECTION_CLOSED, 503, "ServiceUnavailableTemp"),
    (faults.READ_TIMEOUT, 504, "InternalServiceTimeout"),
    (faults.CONNECT_TIMEOUT, 504, "InternalServiceTimeout"),
]


@pytest.mark.parametrize("action", WRITE_ACTIONS)
def test_a_write_that_meets_throttling_errors_or_timeouts_answers_503_or_504_writing_nothing(
    endpoint: str, action: str
) -> None:
    write = WRITE_ACTIONS[action]
    caller = production_caller(endpoint)
    short_id = setup_group(caller)
    before = scan(caller.client, caller.table_name)
    for fault, status, code in REFUSING_FAULTS:
        # Given every write attempt meets the fault
        with faults.injected(caller.client, faults.always(fault), operations=WRITES) as injection:
            # When the write is sent
            answer = write(caller, short_id)
        # Then it answers the fault's 503 or 504 after botocore's 2 attempts
        assert (answer.status, answer.code) == (status, code), (fault.name, answer)
        assert injection.attempts == 2, fault.name
        # and the table is exactly as it was
        assert scan(caller.client, caller.table_name) == before, fault.name
    assert orphans(caller.client, caller.table_name) == []
    assert audit_conversation(caller, short_id).problems == []


READ_ACTIONS: dict[str, Callable[[Caller, int], Answer]] = {
    "BatchGetConversations": lambda caller, short_id: caller.call(
        "BatchGetConversations", {"AppId": APP_ID, "ConversationShortId": [short_id]}
    ),
    "GetUserConversations": lambda caller, _short_id: caller.call(
        "GetUserConversations", {"AppId": APP_ID, "ParticipantUserId": 3, "Limit": 5}
    ),
    "BatchGetConversationParticipant": lambda caller, short_id: caller.call(
        "BatchGetConversationParticipant",
        {"AppId": APP_ID, "ConversationShortId": short_id, "ParticipantUserIds": [1, 2, 3]},
    ),
    "ScanConversationParticipantList": lambda caller, short_id: caller.call(
        "ScanConversationParticipantList",
        {"AppId": APP_ID, "ConversationShortId": short_id, "Limit": 3},
    ),
    "GetConversationUserCount": lambda caller, short_id: caller.call(
        "GetConversationUserCount", {"AppId": APP_ID, "ConversationShortId": short_id}
    ),
    "IsUserInConversation": lambda caller, short_id: caller.call(
        "IsUserInConversation",
        {"AppId": APP_ID, "ConversationShortId": short_id, "ParticipantUserId": 4},
    ),
}
READ_FAULTS = [
    (fault.name, fault)
    for fault in (
        faults.THROTTLING,
        faults.THROUGHPUT_EXCEEDED,
        faults.INTERNAL_SERVER_ERROR,
        faults.SERVICE_UNAVAILABLE,
        faults.CONNECTION_CLOSED,
        faults.ENDPOINT_UNREACHABLE,
        faults.READ_TIMEOUT,
        faults.CONNECT_TIMEOUT,
    )
]


@pytest.mark.parametrize("action", READ_ACTIONS)
def test_a_read_under_faults_answers_200_503_or_504_never_500(endpoint: str, action: str) -> None:
    read = READ_ACTIONS[action]
    caller = production_caller(endpoint)
    short_id = setup_group(caller)
    expected = read(caller, short_id)
    assert expected.ok
    seen: dict[str, tuple[int, int]] = {}
    for name, fault in READ_FAULTS:
        # Given the fault on one attempt only, then on every attempt
        with faults.injected(caller.client, faults.in_order(fault), operations=READS):
            once = read(caller, short_id)
        with faults.injected(caller.client, faults.always(fault), operations=READS):
            always = read(caller, short_id)
        # Then one fault is absorbed by botocore's retry: the same answer as without it
        assert once.ok and once.result == expected.result, (name, once)
        # and a persistent one answers 503 or 504 in the envelope, never 500
        assert always.status in {503, 504}, (name, always)
        assert always.code in {"ServiceUnavailableTemp", "InternalServiceTimeout"}
        seen[name] = (once.status, always.status)
    # and at random, 30 % of all read attempts faulted, no answer is a 500 and most succeed
    statuses = []
    every_operation = [
        faults.Fault(fault.name, fault.act, frozenset(READS)) for _, fault in READ_FAULTS
    ]
    schedule = faults.at_random(0.3, every_operation, seed=7)
    with faults.injected(caller.client, schedule, operations=READS) as injection:
        for _ in range(20):
            answer = read(caller, short_id)
            statuses.append(answer.status)
            if answer.ok:
                assert answer.result == expected.result
    assert set(statuses) <= {200, 503, 504} and statuses.count(200) > 0
    print(
        f"\n[read faults] {action}: {seen}; random 30 %: {injection.faults} faults in "
        f"{injection.attempts} attempts, statuses {sorted(statuses)}"
    )
