"""Member reads built from two requests: a transfer committing between them is read again.

Domain only, no I/O: the store below answers each read from a script, as DynamoDB would answer
a conversation read before a transfer and a member page read after it (or in the middle of it:
an index query is not isolated from a transaction).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from handler.domain.errors import StoreUnavailableError
from handler.domain.members import ScanQuery, get_participants, scan_participants
from handler.domain.model import (
    LIVE_GROUP,
    ROLE_MANAGER,
    ROLE_MEMBER,
    ROLE_OWNER,
    Conversation,
    Member,
)
from handler.domain.ports import MemberListing
from handler.domain.users import UserRef
from tests.support.records import a_conversation

APP_ID = 7
SHORT_ID = 4242
OLD_OWNER = UserRef(number=1)
NEW_OWNER = UserRef(number=4)


def conversation(owner: UserRef, owner_join_number: int) -> Conversation:
    return a_conversation(
        short_id=SHORT_ID,
        app_id=APP_ID,
        conversation_type=LIVE_GROUP,
        owner=owner,
        creator=OLD_OWNER,
        member_count=4,
        next_join_number=5,
        owner_join_number=owner_join_number,
    )


def member(number: int, role: int) -> Member:
    return Member(
        short_id=SHORT_ID,
        user=UserRef(number=number),
        role=role,
        nick_name="",
        level=0,
        ext={},
        operator=OLD_OWNER,
        create_time=1,
        block_time=0,
        read_index=0,
        join_number=number,
    )


BEFORE = conversation(OLD_OWNER, 1)
AFTER = conversation(NEW_OWNER, 4)
# Managers 2 and 3; the StaffIndex read in the middle of the transfer 1 -> 4 saw neither 1 (its
# entry already gone) nor 4 (its entry not yet there).
STRADDLED = [member(2, ROLE_MANAGER), member(3, ROLE_MANAGER)]
SETTLED = [*STRADDLED, member(4, ROLE_OWNER)]


class ScriptedStore:
    """Answers the n-th conversation read and the n-th member read from its scripts (the last
    entry once they run out); `spent_after` pauses raise as a spent time budget does."""

    def __init__(
        self,
        conversations: Sequence[Conversation],
        pages: Sequence[tuple[list[Member], bool]],
        spent_after: int | None = None,
    ) -> None:
        self._conversations = list(conversations)
        self._pages = list(pages)
        self._spent_after = spent_after
        self.conversation_reads = 0
        self.page_reads = 0
        self.pauses = 0

    def conversation(self, app_id: int, short_id: int) -> Conversation | None:
        self.conversation_reads += 1
        return self._nth(self._conversations, self.conversation_reads)

    def member_page(self, listing: MemberListing) -> tuple[list[Member], bool]:
        self.page_reads += 1
        return self._nth(self._pages, self.page_reads)

    def conversation_and_members(
        self, app_id: int, short_id: int, users: Sequence[UserRef]
    ) -> tuple[Conversation | None, dict[UserRef, Member]]:
        found, _ = self.member_page(
            MemberListing(BEFORE, managers_only=False, reverse=False, after=None, limit=100)
        )
        members = {m.user: m for m in found if m.user in users}
        return self.conversation(app_id, short_id), members

    def pause_before_retry(self, attempt: int) -> None:
        self.pauses += 1
        if self._spent_after is not None and self.pauses > self._spent_after:
            raise StoreUnavailableError("the request's storage budget is spent")

    @staticmethod
    def _nth(script: list, number: int):  # type: ignore[no-untyped-def]
        return script[min(number, len(script)) - 1]


def scan(cursor: int = 0, limit: int = 20, reverse: bool = False) -> ScanQuery:
    return ScanQuery(APP_ID, SHORT_ID, cursor, limit, reverse, online_only=False)


def roles(page: Sequence[Member]) -> list[tuple[int | None, int]]:
    return [(m.user.number, m.role) for m in page]


def test_a_staff_page_read_in_the_middle_of_a_transfer_is_read_again() -> None:
    # Given the conversation read before the transfer 1 -> 4 and a StaffIndex page read during
    # it, which shows neither owner, then both read after it
    store = ScriptedStore([BEFORE, AFTER], [(STRADDLED, False), (SETTLED, False)])
    # When the live group's staff are scanned
    page = scan_participants(scan(), store)  # type: ignore[arg-type]
    # Then the answer is the second read, with exactly one owner, the new one
    assert roles(page.items) == [(2, ROLE_MANAGER), (3, ROLE_MANAGER), (4, ROLE_OWNER)]
    assert (store.conversation_reads, store.page_reads, store.pauses) == (2, 2, 1)


def test_a_page_with_a_member_stored_as_owner_who_is_not_the_owner_read_is_read_again() -> None:
    # Given the conversation read before the transfer 1 -> 4 and the page after it
    store = ScriptedStore([BEFORE, AFTER], [(SETTLED, False)])
    # When the live group's staff are scanned
    page = scan_participants(scan(), store)  # type: ignore[arg-type]
    # Then the answer shows 4 as the owner, read with the conversation that says so
    assert roles(page.items)[-1] == (4, ROLE_OWNER)
    assert store.conversation_reads == 2


@pytest.mark.parametrize(
    ("cursor", "reverse", "limit", "page", "reads"),
    [
        (3, False, 20, ([member(3, ROLE_MANAGER)], False), 1),
        (0, True, 1, ([member(3, ROLE_MANAGER)], True), 1),
        (0, False, 1, ([member(2, ROLE_MANAGER)], True), 2),
        (2, True, 20, ([], False), 2),
    ],
    ids=["forward-past-it", "reverse-not-down-to-it", "forward-from-start", "reverse-down-to-it"],
)
def test_only_a_page_whose_span_holds_the_owner_must_show_it(
    cursor: int, reverse: bool, limit: int, page: tuple[list[Member], bool], reads: int
) -> None:
    # Given a page without the owner (join number 1), whose span may or may not hold number 1
    store = ScriptedStore([BEFORE], [page, ([member(1, ROLE_OWNER)], False)])
    # When it is scanned
    scan_participants(scan(cursor, limit, reverse), store)  # type: ignore[arg-type]
    # Then it is read again exactly when its span holds the owner's join number
    assert store.conversation_reads == reads


def test_reads_torn_again_and_again_are_read_until_the_time_budget_ends() -> None:
    # Given ten torn reads in a row before a settled one (a conversation whose ownership keeps
    # moving), and a time budget that outlasts them
    pages = [(STRADDLED, False)] * 10 + [(SETTLED, False)]
    store = ScriptedStore([BEFORE] * 10 + [AFTER], pages)
    # When the staff are scanned
    page = scan_participants(scan(), store)  # type: ignore[arg-type]
    # Then the eleventh read answers: no fixed count of reads gives up before the budget
    assert roles(page.items)[-1] == (4, ROLE_OWNER)
    assert store.pauses == 10


def test_reads_torn_until_the_time_budget_ends_answer_unavailable() -> None:
    # Given reads that are torn every time, and a budget spent after three pauses
    store = ScriptedStore([BEFORE], [(STRADDLED, False)], spent_after=3)
    # When the staff are scanned
    # Then the answer is the store's unavailability (503), never a page without its owner
    with pytest.raises(StoreUnavailableError):
        scan_participants(scan(), store)  # type: ignore[arg-type]


def test_batch_get_that_asks_for_the_owner_and_misses_it_is_read_again() -> None:
    # Given members read after the transfer 1 -> 4 and the removal of 1, and the conversation
    # read before them (owner 1); then both read after
    members_read = [
        ([member(2, ROLE_MEMBER), member(4, ROLE_MEMBER)], False),
        ([member(2, ROLE_MEMBER), member(4, ROLE_OWNER)], False),
    ]
    store = ScriptedStore([BEFORE, AFTER], members_read)
    # When users 1, 2 and 4 are asked for
    found = get_participants(APP_ID, SHORT_ID, [OLD_OWNER, UserRef(number=2), NEW_OWNER], store)  # type: ignore[arg-type]
    # Then the answer is the second read: 2 and 4, with 4 the owner
    assert roles(found) == [(2, ROLE_MEMBER), (4, ROLE_OWNER)]
    assert store.pauses == 1
