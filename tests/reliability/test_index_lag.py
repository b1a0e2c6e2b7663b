"""Listings under a lagging index: never a removed member's conversation, never a dissolved one.

GetUserConversations reads a global secondary index (eventually consistent: it may lag the
table), then checks what it named against the table with one consistent BatchGetItem.
`tests/support/index_lag.StaleIndex` makes the lag happen: the index answers from a snapshot
taken before the latest writes. ScanConversationParticipantList reads a local secondary index
with ConsistentRead=True, which cannot lag; the last tests show every page asks for that.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.backends import new_table
from tests.support.index_lag import StaleIndex
from tests.support.member_audit import APP_ID, Caller, preload_actions

pytestmark = [pytest.mark.ddblocal, pytest.mark.heavy]

USER = 500


@pytest.fixture
def caller(ddblocal_endpoint: str) -> Caller:
    preload_actions()
    table = new_table(Caller(ddblocal_endpoint, "unused").client)
    return Caller(ddblocal_endpoint, table)


def listing(caller: Caller, user: int, *, data_type: int = 0, limit: int = 20) -> list[int]:
    """Every ConversationShortId GetUserConversations lists for `user`, page after page."""
    listed: list[int] = []
    cursor = 0
    for _ in range(100):
        result = caller.ok(
            "GetUserConversations",
            {
                "AppId": APP_ID,
                "ParticipantUserId": user,
                "Cursor": cursor,
                "Limit": limit,
                "DataType": data_type,
            },
        )
        listed += [info["ConversationShortId"] for info in result["ConversationInfos"]]
        if not result["HasMore"]:
            return listed
        cursor = result["NextCursor"]
    raise AssertionError("the listing never ended")


@pytest.mark.parametrize("limit", [20, 2], ids=["one-page", "paged"])
def test_a_lagging_user_index_never_lists_a_removed_members_or_a_dissolved_conversation(
    caller: Caller, limit: int
) -> None:
    # Given a user in five groups, and the UserIndex's answers recorded while they are all live
    groups = [caller.create_group() for _ in range(5)]
    for short_id in groups:
        assert caller.add(short_id, [USER]).ok
    stale = StaleIndex(caller.client)
    before = {
        data_type: listing(caller, USER, data_type=data_type, limit=limit) for data_type in (0, 1)
    }
    assert sorted(before[0]) == sorted(before[1]) == sorted(groups)
    # When the user is removed from two of them and a third is dissolved, and the index lags:
    # it still answers as before
    assert caller.remove(groups[1], [USER]).result == {"FailedUserIds": []}
    assert caller.remove(groups[3], [USER]).result == {"FailedUserIds": []}
    assert caller.destroy(groups[4], 1).ok
    stale.replay()
    after = {
        data_type: listing(caller, USER, data_type=data_type, limit=limit) for data_type in (0, 1)
    }
    # Then the stale entries really were served, naming all five conversations
    assert stale.counts["replayed"] > 0 and stale.counts["unrecorded"] == 0
    assert {int(item["UserSK"]["N"]) for item in stale.stale_items()} == set(groups)
    # and neither order lists the two left or the dissolved one; the two still joined are listed
    assert sorted(after[0]) == sorted(after[1]) == sorted([groups[0], groups[2]])


def test_a_lagging_owned_live_index_never_lists_a_transferred_or_dissolved_live_group(
    caller: Caller,
) -> None:
    # Given a user owning three live groups, and the OwnedLiveIndex's answer recorded
    owned = [caller.create_group(100, owner=USER) for _ in range(3)]
    assert caller.add(owned[0], [USER + 1]).ok
    stale = StaleIndex(caller.client)
    assert sorted(listing(caller, USER, data_type=2)) == sorted(owned)
    # When the first is handed to another member, the second dissolved, and the index lags
    assert caller.transfer(owned[0], USER + 1).ok
    assert caller.destroy(owned[1], USER).ok
    stale.replay()
    after = listing(caller, USER, data_type=2)
    # Then the stale answer was served, and only the live group the user still owns is listed
    assert stale.counts["replayed"] == 1
    assert after == [owned[2]]
    # and the former owner still sees the transferred group among their conversations
    assert owned[0] in listing(caller, USER, data_type=0)


def _staff_or_join_queries(caller: Caller) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    def record(request: Any, **_: Any) -> None:
        sent.append(json.loads(request.body))

    caller.client.meta.events.register("before-send.dynamodb.Query", record)
    return sent


@pytest.mark.parametrize("conversation_type", [2, 100], ids=["group", "live-group"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_every_scan_page_reads_its_local_index_with_consistent_read(
    caller: Caller, conversation_type: int, reverse: bool
) -> None:
    # Given a conversation of 1 owner, 5 managers and 20 members
    short_id = caller.create_group(conversation_type)
    assert caller.add(short_id, range(2, 7), role=2).ok
    assert caller.add(short_id, range(7, 27)).ok
    sent = _staff_or_join_queries(caller)
    # When it is scanned through, 3 at a time
    pages = []
    caller.scan_all(short_id, limit=3, reverse=reverse, only_ids=reverse, on_page=pages.append)
    # Then every page queried the local index for its type, with ConsistentRead
    index = "StaffIndex" if conversation_type == 100 else "JoinIndex"
    assert len(sent) == len(pages) > 1
    assert all(query["IndexName"] == index for query in sent)
    assert all(query["ConsistentRead"] is True for query in sent)
