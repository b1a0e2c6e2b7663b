"""The pure domain: ids, users, uniqueness keys, the planned conversation and its members, and
the create's retries (a taken id, a match dissolved in between).

Time and randomness come in through `Entropy`, storage through the `Store` protocol, so
everything here runs on fakes, without I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handler.domain.conversations import (
    MAX_SHORT_ID_DRAWS,
    CreateCommand,
    CreateOutcome,
    create_conversation,
    plan_new_conversation,
)
from handler.domain.errors import ShortIdExhaustedError, StoreUnavailableError
from handler.domain.ids import ID_EPOCH_MS, ID_MAX, ID_RANDOM_BITS, Entropy, new_short_id
from handler.domain.model import (
    FIRST_JOIN_NUMBER,
    ROLE_MEMBER,
    ROLE_OWNER,
    STATUS_DISSOLVED,
    STATUS_NORMAL,
    Conversation,
)
from handler.domain.ports import (
    IdempotencyKey,
    Inserted,
    Matched,
    NewConversation,
    ShortIdTakenError,
    SingleChatPair,
)
from handler.domain.retries import MAX_PLANS
from handler.domain.users import UserRef

# 2025-11-26T05:00:00.789Z: a clock reading with a sub-second part, to see it truncated.
NOW_MS = 1_764_133_200_789
RANDOM_MASK = 2**ID_RANDOM_BITS - 1
# The last millisecond whose id still fits in 53 bits.
LAST_ID_MS = ID_EPOCH_MS + (ID_MAX >> ID_RANDOM_BITS)
OWNER = UserRef(number=10001)
OTHER = UserRef(number=10002)

milliseconds = st.integers(min_value=0, max_value=2**62)
random_bits = st.integers(min_value=0, max_value=RANDOM_MASK)
user_texts = st.text(min_size=1, max_size=20)


class CountingRandom:
    """A random source that returns 1, 2, 3, ... (masked to the bits asked) and records calls."""

    def __init__(self) -> None:
        self._values: Iterator[int] = itertools.count(1)
        self.requested_bits: list[int] = []

    def __call__(self, bits: int) -> int:
        self.requested_bits.append(bits)
        return next(self._values) % 2**bits


class FakeStore:
    """The part of `Store` a create uses: inserts refused as taken ids `collisions` times, then
    answered with `answers` in turn (Inserted when they run out); `stored` is what reads see."""

    def __init__(
        self,
        collisions: int = 0,
        answers: list[Inserted | Matched] | None = None,
        stored: dict[int, Conversation] | None = None,
    ) -> None:
        self._collisions = collisions
        self._answers = list(answers or [])
        self.stored = dict(stored or {})
        self.attempts: list[NewConversation] = []
        self.reads: list[int] = []
        self.pauses: list[int] = []

    def insert(self, new: NewConversation) -> Inserted | Matched:
        self.attempts.append(new)
        if len(self.attempts) <= self._collisions:
            raise ShortIdTakenError
        return self._answers.pop(0) if self._answers else Inserted()

    def conversation(self, app_id: int, short_id: int) -> Conversation | None:
        self.reads.append(short_id)
        return self.stored.get(short_id)

    def pause_before_retry(self, attempt: int) -> None:
        self.pauses.append(attempt)


def command(
    conversation_type: int = 1,
    owner: UserRef = OWNER,
    other: UserRef | None = OTHER,
    idempotent_id: str | None = "req-1",
) -> CreateCommand:
    return CreateCommand(
        app_id=10,
        inbox_type=3,
        conversation_type=conversation_type,
        owner=owner,
        other=other,
        idempotent_id=idempotent_id,
        name="群聊",
        avatar_url="https://example.com/a.png",
        description="description",
        notice="notice",
        ext={"k": "v"},
    )


def fixed_clock_entropy(random: CountingRandom, now_ms: int = NOW_MS) -> Entropy:
    return Entropy(now_ms=lambda: now_ms, random_bits=random)


def create(store: FakeStore, create_command: CreateCommand | None = None) -> CreateOutcome:
    entropy = fixed_clock_entropy(CountingRandom())
    return create_conversation(create_command or command(), store, entropy)  # type: ignore[arg-type]


@given(now_ms=milliseconds, bits=random_bits)
def test_a_short_id_is_positive_and_exact_in_javascript(now_ms: int, bits: int) -> None:
    # Given any clock reading and any random bits
    # When an id is drawn
    short_id = new_short_id(now_ms, bits)

    # Then it is a positive integer no larger than 2^53 - 1
    assert 1 <= short_id <= 2**53 - 1


@given(now_ms=st.integers(min_value=ID_EPOCH_MS + 1, max_value=LAST_ID_MS), bits=random_bits)
def test_a_short_id_is_the_elapsed_time_above_the_random_bits(now_ms: int, bits: int) -> None:
    # Given a clock reading after the id epoch, up to the last millisecond that fits
    # When an id is drawn
    short_id = new_short_id(now_ms, bits)

    # Then its low 12 bits are the random bits and the rest the milliseconds since the epoch
    assert short_id & RANDOM_MASK == bits
    assert short_id >> ID_RANDOM_BITS == now_ms - ID_EPOCH_MS


@given(
    earlier=st.integers(min_value=ID_EPOCH_MS, max_value=LAST_ID_MS - 1),
    later_by=st.integers(min_value=1, max_value=2**40),
    bits=random_bits,
)
def test_a_later_clock_gives_a_larger_id_for_equal_random_bits(
    earlier: int, later_by: int, bits: int
) -> None:
    # Given two clock readings, the second later, within the id's range
    later = min(earlier + later_by, LAST_ID_MS)

    # When ids are drawn with the same random bits
    # Then the later one is larger
    assert new_short_id(later, bits) > new_short_id(earlier, bits)


def test_a_short_id_never_exceeds_2_pow_53_minus_1() -> None:
    # Given the last millisecond that fits, and every later one
    # When ids are drawn with all random bits set
    # Then the first is exactly 2^53 - 1 and later ones are held there
    assert new_short_id(LAST_ID_MS, RANDOM_MASK) == ID_MAX
    assert new_short_id(LAST_ID_MS + 1, 0) == ID_MAX
    assert new_short_id(2**62, RANDOM_MASK) == ID_MAX


@pytest.mark.parametrize("now_ms", [ID_EPOCH_MS, ID_EPOCH_MS - 1, 0, -(10**12)])
def test_a_clock_at_or_before_the_epoch_still_gives_a_positive_id(now_ms: int) -> None:
    # Given a clock at or before the id epoch (a badly set host clock)
    # When ids are drawn
    # Then the random bits alone make the id, and it is never 0
    assert new_short_id(now_ms, 7) == 7
    assert new_short_id(now_ms, RANDOM_MASK) == RANDOM_MASK
    assert new_short_id(now_ms, 0) == 1


# --- users ----------------------------------------------------------------------------------


def test_an_integer_user_and_the_same_digits_as_a_string_are_two_users() -> None:
    # Given integer 10001 and string "10001"
    number, text = UserRef(number=10001), UserRef(text="10001")

    # Then they differ, and so do their keys
    assert number != text
    assert (number.key, text.key) == ("i10001", "s10001")


@given(text=user_texts, number=st.integers(min_value=1, max_value=2**63 - 1))
def test_a_user_key_reads_back_as_the_same_user(text: str, number: int) -> None:
    # Given any string user and any integer user, When their keys are read back
    # Then they are the same users
    for user in (UserRef(text=text), UserRef(number=number)):
        assert UserRef.from_key(user.key) == user


@pytest.mark.parametrize("fields", [{}, {"number": 1, "text": "a"}], ids=["neither", "both"])
def test_a_user_is_named_by_exactly_one_of_integer_and_string(fields: dict[str, object]) -> None:
    # Given neither or both of an integer and a string, Then there is no such user
    with pytest.raises(ValueError, match="exactly one"):
        UserRef(**fields)  # type: ignore[arg-type]


# --- uniqueness keys -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (OWNER, OTHER),
        (UserRef(text="alice"), UserRef(text="bob")),
        (UserRef(text="10001"), UserRef(number=10001)),
        (UserRef(number=7), UserRef(text="a#b")),
    ],
    ids=["integers", "strings", "string-and-integer-10001", "integer-and-string-with-hash"],
)
def test_the_single_chat_pair_does_not_depend_on_who_creates_it(
    one: UserRef, other: UserRef
) -> None:
    # Given the same pair of users, each one as the owner
    forward = SingleChatPair.of(10, 3, one, other)
    backward = SingleChatPair.of(10, 3, other, one)

    # Then the pairs are equal, and hold both users
    assert forward == backward
    assert {forward.first, forward.second} == {one, other}


def test_a_planned_single_chat_is_keyed_by_its_pair_and_its_idempotent_id() -> None:
    # Given a single-chat command with an IdempotentId
    # When it is planned
    new = plan_new_conversation(command(), fixed_clock_entropy(CountingRandom()))

    # Then it carries both uniqueness keys, scoped to its app and inbox
    assert new.single_chat == SingleChatPair.of(10, 3, OTHER, OWNER)
    assert new.idempotency == IdempotencyKey(app_id=10, inbox_type=3, idempotent_id="req-1")


@pytest.mark.parametrize("idempotent_id", [None, ""])
@pytest.mark.parametrize("conversation_type", [2, 100])
def test_a_group_without_an_idempotent_id_has_no_uniqueness_key(
    conversation_type: int, idempotent_id: str | None
) -> None:
    # Given a group or live group command without an IdempotentId
    group = command(conversation_type=conversation_type, other=None, idempotent_id=idempotent_id)

    # When it is planned, Then neither key guards it
    new = plan_new_conversation(group, fixed_clock_entropy(CountingRandom()))
    assert (new.single_chat, new.idempotency) == (None, None)


# --- planning --------------------------------------------------------------------------------


def test_a_planned_single_chat_fills_every_field_and_both_members() -> None:
    # Given a single-chat command and a fixed clock
    random = CountingRandom()

    # When the new conversation is planned
    new = plan_new_conversation(command(), fixed_clock_entropy(random))

    # Then the conversation is the command, stamped with the time in seconds and a fresh id
    conversation = new.conversation
    assert conversation.short_id == new_short_id(NOW_MS, 1)
    assert (conversation.app_id, conversation.inbox_type) == (10, 3)
    assert conversation.conversation_type == 1
    assert (conversation.owner, conversation.creator, conversation.other) == (OWNER, OWNER, OTHER)
    assert (conversation.name, conversation.avatar_url) == ("群聊", "https://example.com/a.png")
    assert (conversation.description, conversation.notice) == ("description", "notice")
    assert conversation.ext == {"k": "v"}
    assert conversation.status == STATUS_NORMAL
    assert conversation.create_time == conversation.modify_time == NOW_MS // 1000
    assert conversation.idempotent_id == "req-1"
    # And both users are members (Role 0: a single chat has no owner role), joined in order,
    # and the count and the next join number agree with them
    assert [(m.user, m.role, m.join_number) for m in new.members] == [
        (OWNER, ROLE_MEMBER, FIRST_JOIN_NUMBER),
        (OTHER, ROLE_MEMBER, FIRST_JOIN_NUMBER + 1),
    ]
    assert all(m.short_id == conversation.short_id for m in new.members)
    assert all(m.create_time == NOW_MS // 1000 and m.operator == OWNER for m in new.members)
    assert conversation.member_count == len(new.members) == 2
    assert conversation.next_join_number == FIRST_JOIN_NUMBER + 2
    # And it carries a token drawn from 64 random bits
    assert new.write_token == f"{2:016x}"
    assert random.requested_bits == [ID_RANDOM_BITS, 64]


@pytest.mark.parametrize("conversation_type", [2, 100])
def test_a_planned_group_has_the_owner_as_its_only_member(conversation_type: int) -> None:
    # Given a group or live group command
    group = command(conversation_type=conversation_type, other=None)

    # When the new conversation is planned
    new = plan_new_conversation(group, fixed_clock_entropy(CountingRandom()))

    # Then its one member is the owner, with Role 1, and it has no other user or pair
    assert [(m.user, m.role) for m in new.members] == [(OWNER, ROLE_OWNER)]
    assert new.conversation.member_count == 1
    assert new.conversation.other is None
    assert new.single_chat is None


def test_the_planned_ext_is_a_copy_of_the_command_ext() -> None:
    # Given a command whose Ext mapping is changed after planning
    ext = {"k": "v"}
    planned = plan_new_conversation(
        replace(command(), ext=ext), fixed_clock_entropy(CountingRandom())
    )
    ext["k"] = "changed"

    # Then the planned conversation keeps what the command said
    assert planned.conversation.ext == {"k": "v"}


# --- creating ----------------------------------------------------------------------------------


def test_a_taken_short_id_is_retried_with_a_fresh_one() -> None:
    # Given a store where the first two drawn ids are already taken
    store = FakeStore(collisions=2)

    # When a conversation is created
    outcome = create(store)

    # Then three different ids were tried, and the third one was created
    tried = [attempt.conversation.short_id for attempt in store.attempts]
    assert len(tried) == 3
    assert len(set(tried)) == 3
    assert outcome == CreateOutcome(store.attempts[-1].conversation, existed=False)
    # And only the id changed between attempts, in the conversation and its members alike
    first = store.attempts[0]
    for attempt in store.attempts[1:]:
        short_id = attempt.conversation.short_id
        assert replace(attempt.conversation, short_id=first.conversation.short_id) == (
            first.conversation
        )
        assert [replace(m, short_id=first.conversation.short_id) for m in attempt.members] == (
            list(first.members)
        )
        assert all(m.short_id == short_id for m in attempt.members)
        assert (attempt.single_chat, attempt.idempotency) == (first.single_chat, first.idempotency)
        assert attempt.write_token == first.write_token


def test_a_store_that_always_collides_ends_in_short_id_exhausted() -> None:
    # Given a store where every id is taken
    store = FakeStore(collisions=MAX_SHORT_ID_DRAWS + 1)

    # When a conversation is created, Then it gives up after the allowed number of draws
    with pytest.raises(ShortIdExhaustedError):
        create(store)
    assert len(store.attempts) == MAX_SHORT_ID_DRAWS


def test_the_last_allowed_draw_still_succeeds() -> None:
    # Given a store where all but the last allowed draw collide
    store = FakeStore(collisions=MAX_SHORT_ID_DRAWS - 1)

    # When a conversation is created, Then the last attempt is the one created
    outcome = create(store)
    assert len(store.attempts) == MAX_SHORT_ID_DRAWS
    assert outcome.conversation == store.attempts[-1].conversation


def test_a_match_answers_the_conversation_as_it_is_now() -> None:
    # Given a store whose uniqueness record names a live conversation, since renamed
    planned = plan_new_conversation(command(), fixed_clock_entropy(CountingRandom()))
    current = replace(planned.conversation, short_id=77, name="renamed", member_count=2)
    store = FakeStore(answers=[Matched(short_id=77)], stored={77: current})

    # When the same conversation is created
    outcome = create(store)

    # Then the answer is the stored one, read after the match, with existed set
    assert outcome == CreateOutcome(current, existed=True)
    assert store.reads == [77]
    assert len(store.attempts) == 1


@pytest.mark.parametrize("gone", ["dissolved", "deleted"])
def test_a_match_dissolved_in_between_is_written_again(gone: str) -> None:
    # Given a record naming a conversation that is dissolved (or gone) by the time it is read
    planned = plan_new_conversation(command(), fixed_clock_entropy(CountingRandom()))
    dissolved = replace(planned.conversation, short_id=77, status=STATUS_DISSOLVED)
    stored = {77: dissolved} if gone == "dissolved" else {}
    store = FakeStore(answers=[Matched(short_id=77), Inserted()], stored=stored)

    # When the conversation is created
    outcome = create(store)

    # Then the create pauses and writes again, and the new conversation is created
    assert store.pauses == [0]
    assert len(store.attempts) == 2
    assert outcome == CreateOutcome(store.attempts[-1].conversation, existed=False)


def test_matches_that_keep_dissolving_end_in_unavailable() -> None:
    # Given a record that names a dissolved conversation every time it is written again
    planned = plan_new_conversation(command(), fixed_clock_entropy(CountingRandom()))
    dissolved = replace(planned.conversation, short_id=77, status=STATUS_DISSOLVED)
    store = FakeStore(answers=[Matched(short_id=77)] * MAX_PLANS, stored={77: dissolved})

    # When the conversation is created, Then it gives up after the planned attempts
    with pytest.raises(StoreUnavailableError):
        create(store)
    assert len(store.attempts) == MAX_PLANS


def test_every_create_draws_fresh_randomness() -> None:
    # Given one entropy object shared by two creates at the same millisecond
    random = CountingRandom()
    entropy = fixed_clock_entropy(random)
    store = FakeStore()

    # When two conversations are created
    first = create_conversation(command(), store, entropy)  # type: ignore[arg-type]
    calls_after_first = len(random.requested_bits)
    second = create_conversation(command(), store, entropy)  # type: ignore[arg-type]

    # Then the random source was asked again for the second one, so the ids and tokens differ
    assert calls_after_first > 0
    assert len(random.requested_bits) == 2 * calls_after_first
    assert first.conversation.short_id != second.conversation.short_id
    assert store.attempts[0].write_token != store.attempts[1].write_token
