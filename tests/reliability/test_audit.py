"""The table audit the reliability tests end with: it must see every kind of damage it rules out.

The healthy table is built with the service's own codecs (handler.table), from domain objects, so
the audit is held to the layout the store writes; each damage is one edit of that table.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from handler.domain.model import ROLE_MEMBER, ROLE_OWNER, STATUS_DISSOLVED, Conversation, Member
from handler.domain.ports import IdempotencyKey, SingleChatPair
from handler.domain.users import UserRef
from handler.table import (
    encode_conversation,
    encode_member,
    idempotency_key,
    rate_counter_key,
    short_id_claim_key,
    single_chat_key,
)
from tests.support.audit import audit
from tests.support.records import a_conversation

ALICE, BOB, CAROL = UserRef(number=1), UserRef(text="bob#2"), UserRef(number=3)


def conversation(
    short_id: int, *, other: UserRef | None = None, app_id: int = 10, members: int = 1
) -> Conversation:
    return a_conversation(
        short_id=short_id,
        app_id=app_id,
        conversation_type=1 if other else 2,
        owner=ALICE,
        other=other,
        member_count=members,
        next_join_number=1 + members,
        idempotent_id="order-1" if app_id == 20 else None,
    )


def member(of: Conversation, user: UserRef, join_number: int) -> dict[str, Any]:
    role = ROLE_OWNER if of.other is None and user == of.owner else ROLE_MEMBER
    item = Member(
        short_id=of.short_id,
        user=user,
        role=role,
        nick_name="",
        level=0,
        ext={},
        operator=of.owner,
        create_time=1,
        block_time=0,
        read_index=0,
        join_number=join_number,
    )
    return encode_member(of, item)


def stored(of: Conversation) -> dict[str, Any]:
    return {**encode_conversation(of), "WriteToken": {"S": f"token-{of.short_id}"}}


def record(key: dict[str, Any], of: Conversation, writer: str | None = None) -> dict[str, Any]:
    return {
        **key,
        "Kind": {"S": "Record"},
        "ConversationShortId": {"N": str(of.short_id)},
        "WriteToken": {"S": writer or f"token-{of.short_id}"},
    }


def claim(of: Conversation) -> dict[str, Any]:
    return {
        **short_id_claim_key(of.short_id),
        "Kind": {"S": "IdClaim"},
        "ConversationShortId": {"N": str(of.short_id)},
        "WriteToken": {"S": f"token-{of.short_id}"},
    }


SINGLE = conversation(7, other=BOB, members=2)
GROUP = conversation(8, app_id=20)
PAIR = single_chat_key(SingleChatPair.of(10, 0, ALICE, BOB))
ORDER = idempotency_key(IdempotencyKey(20, 0, "order-1"))
HEALTHY = [
    stored(SINGLE),
    claim(SINGLE),
    member(SINGLE, ALICE, 1),
    member(SINGLE, BOB, 2),
    record(PAIR, SINGLE),
    stored(GROUP),
    claim(GROUP),
    member(GROUP, ALICE, 1),
    record(ORDER, GROUP),
    {**rate_counter_key("AKID", "CreateConversation", 100), "RequestCount": {"N": "3"}},
]


def without(*dropped: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in HEALTHY if item not in dropped]


def test_a_healthy_table_has_no_problems() -> None:
    # Given a single chat of an integer and a string user and an idempotent group, each with its
    # members and its record, and a rate counter
    # When audited
    table = audit(HEALTHY, idempotent_app_ids=[20])
    # Then nothing is reported, and the records and members map to their conversations
    assert table.problems == []
    assert table.single_chat_records == {PAIR["PK"]["S"]: 7}
    assert table.idempotency_records == {ORDER["PK"]["S"]: 8}
    assert sorted(table.members[7]) == ["i1", "sbob#2"]
    assert sorted(table.conversations) == [7, 8]


def test_a_dissolved_conversation_without_records_and_with_leftover_members_is_healthy() -> None:
    # Given a group dissolved (its record released) whose members the reaper has not removed yet
    dissolved = replace(GROUP, status=STATUS_DISSOLVED)
    items = [*without(stored(GROUP), record(ORDER, GROUP)), stored(dissolved)]
    # When audited, Then that is no damage
    assert audit(items).problems == []


@pytest.mark.parametrize(
    "items, problem",
    [
        pytest.param(without(stored(SINGLE), member(SINGLE, ALICE, 1), member(SINGLE, BOB, 2)),
                     "orphan record, conversation 7 is missing", id="orphan-record"),
        pytest.param(without(stored(GROUP), record(ORDER, GROUP)),
                     "orphan member, no conversation", id="orphan-member"),
        pytest.param([*HEALTHY, stored(conversation(9, other=BOB, members=0))],
                     "conversation 9: single chat without its record", id="duplicate-single-chat"),
        pytest.param(without(record(ORDER, GROUP)),
                     "conversation 8: without its IdempotentId record", id="orphan-group"),
        pytest.param([*HEALTHY, record(idempotency_key(IdempotencyKey(20, 0, "x")), GROUP)],
                     "conversation 8 is claimed by 2 IdempotentId records", id="claimed-twice"),
        pytest.param([*without(record(PAIR, SINGLE)),
                      record(single_chat_key(SingleChatPair.of(10, 0, ALICE, CAROL)), SINGLE)],
                     "names another member pair than 7", id="wrong-pair"),
        pytest.param([*without(record(PAIR, SINGLE)), record(PAIR, SINGLE, writer="other")],
                     "written by another create than 7", id="mixed-creates"),
        pytest.param(without(member(SINGLE, BOB, 2)),
                     "conversation 7: MemberCount 2 but 1 member items", id="count-too-high"),
        pytest.param([*HEALTHY, member(GROUP, CAROL, 2)],
                     "conversation 8: MemberCount 1 but 2 member items", id="count-too-low"),
        pytest.param([*without(stored(GROUP)), stored(replace(GROUP, status=STATUS_DISSOLVED))],
                     "names conversation 8, which is dissolved", id="record-of-dissolved"),
        pytest.param([*without(stored(GROUP), record(ORDER, GROUP), member(GROUP, ALICE, 1)),
                      stored(replace(GROUP, idempotent_id=None))],
                     "conversation 8: created without its IdempotentId", id="lost-idempotent-id"),
        pytest.param([*HEALTHY, stored(replace(SINGLE, app_id=11))],
                     "ConversationShortId 7 is used twice", id="id-in-two-apps"),
        pytest.param(without(claim(GROUP)),
                     "conversation 8: its id claim is missing", id="unclaimed-id"),
        pytest.param([*HEALTHY, claim(conversation(9))],
                     "ID#9: an id claim without its conversation", id="orphan-claim"),
        pytest.param([*HEALTHY, {"PK": {"S": "CONV#7"}, "SK": {"S": "C"}}],
                     "not an item this service writes", id="old-layout-item"),
        pytest.param([*HEALTHY, {"PK": {"S": "X#1"}, "SK": {"S": "X"}}],
                     "not an item this service writes", id="foreign-item"),
    ],
)  # fmt: skip
def test_damage_is_reported(items: list[dict[str, Any]], problem: str) -> None:
    # Given a table with one kind of damage / When audited / Then that damage is named
    problems = audit(items, idempotent_app_ids=[20]).problems
    assert any(problem in found for found in problems), problems
