"""The table audit the reliability tests end with: it must see every kind of damage it rules out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.audit import audit


def conversation(short_id: int, *, conversation_type: int = 1, app_id: int = 10) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": {"S": f"CONV#{short_id}"},
        "Kind": {"S": "Conversation"},
        "WriteToken": {"S": f"token-{short_id}"},
        "ConversationShortId": {"N": str(short_id)},
        "AppId": {"N": str(app_id)},
        "InboxType": {"N": "0"},
        "ConversationType": {"N": str(conversation_type)},
        "OwnerUserId": {"N": "2"},
        "Name": {"S": ""},
    }
    if conversation_type == 1:
        item["OtherUserId"] = {"N": "1"}
    return item


def record(key: str, of: dict[str, Any]) -> dict[str, Any]:
    copy = {name: value for name, value in of.items() if name not in {"PK", "Kind", "WriteToken"}}
    kind = "SingleChat" if key.startswith("SINGLE#") else "IdempotentId"
    return {**copy, "PK": {"S": key}, "Kind": {"S": kind}}


SINGLE = conversation(7)
GROUP = conversation(8, conversation_type=2, app_id=20)
HEALTHY = [
    SINGLE,
    record("SINGLE#10#0#1#2", SINGLE),
    GROUP,
    record("IDEM#20#0#order-1", GROUP),
]


def test_a_healthy_table_has_no_problems() -> None:
    # Given a single chat and an idempotent group, each with its record
    # When audited / Then nothing is reported, and the records map to their conversations
    table = audit(HEALTHY, idempotent_app_ids=[20])
    assert table.problems == []
    assert table.single_chat_records == {"SINGLE#10#0#1#2": 7}
    assert table.idempotency_records == {"IDEM#20#0#order-1": 8}


@pytest.mark.parametrize(
    "items, problem",
    [
        pytest.param(HEALTHY[1:], "orphan record, conversation 7 is missing", id="orphan-record"),
        pytest.param(
            [*HEALTHY, conversation(9)], "conversation 9: single chat without its record",
            id="duplicate-single-chat",
        ),
        pytest.param(
            HEALTHY[:3], "conversation 8: without its IdempotentId record", id="orphan-group"
        ),
        pytest.param(
            [*HEALTHY, record("IDEM#20#0#order-2", GROUP)],
            "conversation 8 is claimed by 2 IdempotentId records",
            id="claimed-twice",
        ),
        pytest.param(
            [SINGLE, record("SINGLE#10#0#1#3", SINGLE), *HEALTHY[2:]],
            "names another member pair than 7",
            id="wrong-pair",
        ),
        pytest.param(
            [SINGLE, {**record("SINGLE#10#0#1#2", SINGLE), "Name": {"S": "x"}}, *HEALTHY[2:]],
            "copy differs from conversation 7",
            id="stale-copy",
        ),
    ],
)  # fmt: skip
def test_damage_is_reported(items: list[dict[str, Any]], problem: str) -> None:
    # Given a table with one kind of damage / When audited / Then that damage is named
    problems = audit(items, idempotent_app_ids=[20]).problems
    assert any(problem in found for found in problems), problems
