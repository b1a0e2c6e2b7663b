"""SnapStart safety: what initialization creates can be cloned into many sandboxes.

A SnapStart restore starts many sandboxes from one snapshot of memory. os.fork() does the same to
processes, so the test initializes the handler once and forks children from that state.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from types import ModuleType
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from ops_support import create_table, group_chat, handler_process_env, run_script

from handler.domain.conversations import CreateCommand, plan_new_conversation
from handler.domain.ports import Inserted
from handler.domain.users import UserRef
from handler.store import ConflictRetry, DynamoDBConversationStore
from tests.support.events import LambdaContext, http_api_event
from tests.support.faults import answer_instead, error_response

CHILDREN = 4
CREATES_PER_CHILD = 12


@pytest.mark.ddblocal
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_children_forked_from_one_initialized_handler_draw_apart_and_their_clients_work(
    ddblocal_endpoint: str,
) -> None:
    # Given a handler initialized once against DynamoDB, forked into children. The real engine
    # (DynamoDB Local): every create is a TransactWriteItems, and a moto server answers
    # concurrent transactions from several processes with 500s of its own.
    table_name = f"snapstart-{uuid.uuid4().hex[:12]}"
    create_table(ddblocal_endpoint, table_name)
    # The engine shares this machine's cores with the children, and sometimes answers after
    # the production read timeout: a 504 would say nothing about what the fork cloned.
    env = handler_process_env(
        ddblocal_endpoint,
        table_name,
        POWERTOOLS_LOG_LEVEL="WARNING",
        DYNAMODB_CONNECT_TIMEOUT="5",
        DYNAMODB_READ_TIMEOUT="10",
        WRITE_BUDGET_SECONDS="20",
    )
    # When every child, started together, creates a single chat and group chats through it
    finished = run_script(
        "fork_probe.py", str(CHILDREN), str(CREATES_PER_CHILD), env=env, timeout=300
    )
    reports = json.loads(finished.stdout.splitlines()[-1])
    # Then every child's client worked: each request was answered 200
    assert [report.get("error") for report in reports] == [None] * CHILDREN
    for report in reports:
        assert [response["status"] for response in report["responses"]] == [200] * (
            1 + CREATES_PER_CHILD
        )
    # ... the group chats have ConversationShortIds no two children (nor requests) share
    group_ids = [
        response["body"]["Result"]["ConversationShortId"]
        for report in reports
        for response in report["responses"][1:]
    ]
    assert len(set(group_ids)) == len(group_ids) == CHILDREN * CREATES_PER_CHILD
    # ... the single chat was created once and found by the others
    singles = [report["responses"][0]["body"]["Result"] for report in reports]
    assert sorted(single["Exist"] for single in singles) == [False] + [True] * (CHILDREN - 1)
    assert len({single["ConversationShortId"] for single in singles}) == 1
    # ... and the handler's randomness differs in every child, while a PRNG seeded at init
    # comes out the same in all of them: the fork cloned state, and the handler kept none
    entropy_draws = [draw for report in reports for draw in report["entropy_draws"]]
    assert len(set(entropy_draws)) == len(entropy_draws)
    assert len({tuple(report["captured_draws"]) for report in reports}) == 1


def test_each_id_draw_reads_os_randomness_when_it_is_made(
    app: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the OS randomness source replaced after initialization (SystemRandom, which
    # secrets uses, reads it through random._urandom)
    reads: list[int] = []

    def fixed_urandom(size: int) -> bytes:
        reads.append(size)
        return b"\xab" * size

    monkeypatch.setattr(random, "_urandom", fixed_urandom)
    # When the handler draws, and when it creates a conversation
    draws = [app.entropy.random_bits(12), app.entropy.random_bits(64)]
    response = app.lambda_handler(http_api_event(group_chat()), LambdaContext())
    # Then each draw read the OS source at that moment, and the new id carries what it read
    assert draws == [0xABA, int.from_bytes(b"\xab" * 8, "big")]
    assert reads[:2] == [2, 8]
    assert len(reads) > 2
    short_id = json.loads(response["body"])["Result"]["ConversationShortId"]
    assert short_id & 0xFFF == 0xABA


def transaction_conflict() -> AWSResponse:
    return error_response(
        400,
        "TransactionCanceledException",
        "Transaction cancelled [None, TransactionConflict]",
        CancellationReasons=[
            {"Code": "None"},
            {"Code": "TransactionConflict"},
            {"Code": "None"},
        ],
    )


@pytest.mark.parametrize(("os_byte", "expected_share"), [(0x00, 0.0), (0xFF, 1.0)])
def test_conflict_back_off_jitter_reads_os_randomness_when_it_is_drawn(
    app: ModuleType, monkeypatch: pytest.MonkeyPatch, os_byte: int, expected_share: float
) -> None:
    # Given the OS randomness source replaced, and a first transaction attempt that conflicts
    monkeypatch.setattr(random, "_urandom", lambda size: bytes([os_byte]) * size)
    conflicts = [1]

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        if conflicts[0]:
            conflicts[0] -= 1
            return answer_instead(request, transaction_conflict())
        return None

    client = app.store._client
    client.meta.events.register_first("before-send.dynamodb", before_send, unique_id="conflict")
    delays: list[float] = []
    retry = ConflictRetry()
    store = DynamoDBConversationStore(
        client,
        table_name=app.settings.table_name,
        write_budget_seconds=5.0,
        conflict_retry=retry,
        sleep=delays.append,
    )
    # (a group with an IdempotentId: its transaction writes the conversation, the owner's member
    # item and the IdempotentId record, three entries as the conflict's reasons list them)
    command = CreateCommand(
        app_id=7,
        inbox_type=0,
        conversation_type=2,
        owner=UserRef(number=1),
        other=None,
        idempotent_id="jitter",
        name="",
        avatar_url="",
        description="",
        notice="",
        ext={},
    )
    try:
        # When the store writes, backs off once, and writes again
        outcome = store.insert(plan_new_conversation(command, app.entropy))
    finally:
        client.meta.events.unregister("before-send.dynamodb", unique_id="conflict")
    # Then the one back-off delay came from the OS source as it was at that moment
    assert outcome == Inserted()
    assert delays == [pytest.approx(retry.base_delay * expected_share)]
