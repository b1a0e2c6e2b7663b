"""Full size on DynamoDB Local: a live group of 10000 and a group of 10000, end to end.

Marked `fullsize` (they take minutes on a loaded 2-core machine); `make test` runs them, and
`pytest -m "not fullsize"` leaves them out. Both conversations are filled once per module, at
the same time, by BatchAddConversationParticipant calls of 50 through the action and store.
The group gets a 10000-member limit through MemberLimits (the default is 200), so that a full
scan has 10000 members to page through; the live group's scan shows only its owner and 25
managers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from handler import reaper
from handler.domain.members import MemberLimits
from tests.support.backends import new_table
from tests.support.member_audit import (
    APP_ID,
    OWNER,
    Caller,
    Traffic,
    audit_conversation,
    member_items,
    preload_actions,
    run_threads,
)

pytestmark = [pytest.mark.ddblocal, pytest.mark.fullsize, pytest.mark.heavy]

FULL = 10_000
MANAGERS = list(range(2, 27))
LIMITS = MemberLimits(group=FULL, live_group=FULL)
TIMES: dict[str, float] = {}


@dataclass
class Filled:
    caller: Caller
    traffic: Traffic
    live_group: int
    group: int


def fill(caller: Caller, short_id: int, *, managers: list[int]) -> None:
    if managers:
        assert caller.add(short_id, managers, role=2).ok
    users = list(range(2 + len(managers), FULL + 1))
    for start in range(0, len(users), 50):
        answer = caller.add(short_id, users[start : start + 50])
        assert answer.ok, answer


@pytest.fixture(scope="module")
def filled(ddblocal_endpoint: str) -> Iterator[Filled]:
    preload_actions()
    traffic = Traffic()
    table = new_table(Caller(ddblocal_endpoint, "unused").client)
    caller = Caller(ddblocal_endpoint, table, limits=LIMITS, traffic=traffic)
    live_group, group = caller.create_group(100), caller.create_group(2)
    fillers = [Caller(ddblocal_endpoint, table, limits=LIMITS) for _ in range(2)]
    TIMES["fill both (2 x 200 calls, at once)"] = run_threads(
        [
            lambda: fill(fillers[0], live_group, managers=MANAGERS),
            lambda: fill(fillers[1], group, managers=[]),
        ]
    )
    yield Filled(caller, traffic, live_group, group)
    print("\n[full size] times: " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMES.items()))


def test_a_live_group_filled_to_10000_refuses_one_more(filled: Filled) -> None:
    caller = filled.caller
    # Given the live group filled to 10000 by 200 calls
    assert caller.count(filled.live_group) == FULL
    # When one more user is added
    answer = caller.add(filled.live_group, [FULL + 1])
    # Then the call is refused with the limit's code, and nothing changed
    assert (answer.status, answer.code) == (400, "ConversationParticipantsMoreThanLimit")
    started = time.monotonic()
    audit = audit_conversation(caller, filled.live_group, query_each_member=False)
    TIMES["audit of 10000"] = time.monotonic() - started
    assert audit.problems == []
    assert audit.member_count == FULL and (FULL + 1) not in audit.users


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_scans_page_through_all_10000_with_at_most_2_requests_per_page(
    filled: Filled, reverse: bool
) -> None:
    caller, traffic = filled.caller, filled.traffic
    per_page: list[int] = []
    last = [traffic.total_calls()]

    def count(_page: object) -> None:
        per_page.append(traffic.total_calls() - last[0])
        last[0] = traffic.total_calls()

    # When the 10000-member group is scanned through, 50 ids a page
    started = time.monotonic()
    scanned = caller.scan_all(filled.group, limit=50, reverse=reverse, on_page=count)
    TIMES[f"scan 10000 {'reverse' if reverse else 'forward'}"] = time.monotonic() - started
    users = [participant["ParticipantUserId"] for participant in scanned]
    # Then every member is listed once, in joining order (or its reverse), 2 requests a page
    assert users == (sorted(users, reverse=True) if reverse else sorted(users))
    assert set(users) == set(range(1, FULL + 1)) and len(users) == FULL
    assert len(per_page) == FULL // 50 and max(per_page) <= 2
    # and the live group's scan pages through its owner and 25 managers only, 20 a page
    staff_pages: list[int] = []
    last[0] = traffic.total_calls()

    def count_staff(_page: object) -> None:
        staff_pages.append(traffic.total_calls() - last[0])
        last[0] = traffic.total_calls()

    staff = caller.scan_all(
        filled.live_group, limit=20, reverse=reverse, only_ids=False, on_page=count_staff
    )
    roles = {participant["ParticipantUserId"]: participant["Role"] for participant in staff}
    assert roles == {OWNER: 1, **dict.fromkeys(MANAGERS, 2)}
    assert len(staff_pages) == 2 and max(staff_pages) <= 2


def test_transfer_removals_dissolve_and_background_removal_at_10000(filled: Filled) -> None:
    caller, short_id = filled.caller, filled.live_group
    # Given the full live group: its ownership moves to a plain member, 100 members leave
    started = time.monotonic()
    assert caller.transfer(short_id, 5000).ok
    TIMES["transfer at 10000"] = time.monotonic() - started
    started = time.monotonic()
    for first in (6000, 6050):
        assert caller.remove(short_id, range(first, first + 50)).result == {"FailedUserIds": []}
    TIMES["2 removals of 50 at 10000"] = time.monotonic() - started
    audit = audit_conversation(caller, short_id, query_each_member=False)
    assert audit.problems == [] and audit.member_count == FULL - 100
    assert audit.owner == "i5000"
    # When the new owner dissolves it, and the reaper gets the stream record of that dissolve
    started = time.monotonic()
    assert caller.destroy(short_id, 5000).ok
    TIMES["dissolve at 10000"] = time.monotonic() - started
    record = {
        "dynamodb": {
            "OldImage": {"Kind": {"S": "Conversation"}, "Status": {"N": "0"}},
            "NewImage": {
                "Kind": {"S": "Conversation"},
                "Status": {"N": "1"},
                "AppId": {"N": str(APP_ID)},
                "ConversationShortId": {"N": str(short_id)},
            },
        }
    }
    dissolved = reaper.dissolved_conversations({"Records": [record]})
    assert dissolved == [(APP_ID, short_id)]
    started = time.monotonic()
    removed = sum(caller.store.purge_members(app_id, sid) for app_id, sid in dissolved)
    TIMES["background removal of 9900 members"] = time.monotonic() - started
    # Then every member item is gone, the conversation answers ConversationNotFound
    assert removed == FULL - 100
    assert member_items(caller.client, caller.table_name, short_id) == []
    answer = caller.call(
        "GetConversationUserCount", {"AppId": APP_ID, "ConversationShortId": short_id}
    )
    assert answer.code == "ConversationNotFound"
