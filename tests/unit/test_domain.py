"""The pure domain: ids, uniqueness keys, the planned conversation, and the id-collision retry.

Time and randomness come in through `Entropy`, storage through the `ConversationStore` protocol,
so everything here runs on fakes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handler.domain import (
    ID_EPOCH_MS,
    ID_MAX,
    ID_RANDOM_BITS,
    MAX_SHORT_ID_ATTEMPTS,
    STATUS_NORMAL,
    CreateCommand,
    CreateOutcome,
    Entropy,
    IdempotencyKey,
    NewConversation,
    ShortIdExhaustedError,
    ShortIdTakenError,
    SingleChatKey,
    create_conversation,
    idempotency_key,
    new_short_id,
    plan_new_conversation,
    single_chat_key,
)

# 2025-11-26T05:00:00.789Z: a clock reading with a sub-second part, to see it truncated.
NOW_MS = 1_764_133_200_789
RANDOM_MASK = 2**ID_RANDOM_BITS - 1
# The last millisecond whose id still fits in 53 bits.
LAST_ID_MS = ID_EPOCH_MS + (ID_MAX >> ID_RANDOM_BITS)

milliseconds = st.integers(min_value=0, max_value=2**62)
random_bits = st.integers(min_value=0, max_value=RANDOM_MASK)


class CountingRandom:
    """A random source that returns 1, 2, 3, ... (masked to the bits asked) and records calls."""

    def __init__(self) -> None:
        self._values: Iterator[int] = itertools.count(1)
        self.requested_bits: list[int] = []

    def __call__(self, bits: int) -> int:
        self.requested_bits.append(bits)
        return next(self._values) % 2**bits


class CollidingStore:
    """A ConversationStore refusing the first `collisions` inserts as taken ids; keeps attempts."""

    def __init__(self, collisions: int) -> None:
        self._collisions = collisions
        self.attempts: list[NewConversation] = []

    def insert(self, new: NewConversation) -> CreateOutcome:
        self.attempts.append(new)
        if len(self.attempts) <= self._collisions:
            raise ShortIdTakenError
        return CreateOutcome(new.conversation, existed=False)


def command(
    conversation_type: int = 1,
    owner_user_id: int = 10001,
    other_user_id: int | None = 10002,
    idempotent_id: str | None = "req-1",
) -> CreateCommand:
    return CreateCommand(
        app_id=10,
        inbox_type=3,
        conversation_type=conversation_type,
        owner_user_id=owner_user_id,
        other_user_id=other_user_id,
        idempotent_id=idempotent_id,
        name="群聊",
        avatar_url="https://example.com/a.png",
        description="description",
        notice="notice",
        ext={"k": "v"},
    )


def fixed_clock_entropy(random: CountingRandom, now_ms: int = NOW_MS) -> Entropy:
    return Entropy(now_ms=lambda: now_ms, random_bits=random)


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


def test_the_single_chat_key_does_not_depend_on_who_creates_it() -> None:
    # Given the same pair of users, each one as the owner
    forward = command(owner_user_id=10001, other_user_id=10002)
    backward = command(owner_user_id=10002, other_user_id=10001)

    # When their single-chat keys are built
    # Then they are equal, with the users ordered
    assert single_chat_key(forward) == single_chat_key(backward)
    assert single_chat_key(forward) == SingleChatKey(
        app_id=10, inbox_type=3, lower_user_id=10001, higher_user_id=10002
    )


@pytest.mark.parametrize("conversation_type", [2, 100])
def test_a_group_has_no_single_chat_key(conversation_type: int) -> None:
    # Given a group or live group
    group = command(conversation_type=conversation_type, other_user_id=None)

    # When its single-chat key is built, Then there is none
    assert single_chat_key(group) is None


@pytest.mark.parametrize("idempotent_id", [None, ""])
def test_no_idempotency_key_without_an_idempotent_id(idempotent_id: str | None) -> None:
    # Given a command without an IdempotentId
    # When its idempotency key is built, Then there is none
    assert idempotency_key(command(idempotent_id=idempotent_id)) is None


def test_the_idempotency_key_is_scoped_to_app_and_inbox() -> None:
    # Given a command with an IdempotentId
    # When its idempotency key is built
    # Then it carries the app, the inbox and the id
    assert idempotency_key(command(idempotent_id="req-1")) == IdempotencyKey(
        app_id=10, inbox_type=3, idempotent_id="req-1"
    )


def test_a_planned_single_chat_fills_every_field() -> None:
    # Given a single-chat command and a fixed clock
    random = CountingRandom()

    # When the new conversation is planned
    new = plan_new_conversation(command(), fixed_clock_entropy(random))

    # Then the conversation is the command, stamped with the time in seconds and a fresh id
    conversation = new.conversation
    assert conversation.short_id == new_short_id(NOW_MS, 1)
    assert (conversation.app_id, conversation.inbox_type) == (10, 3)
    assert conversation.conversation_type == 1
    assert (conversation.owner_user_id, conversation.other_user_id) == (10001, 10002)
    assert (conversation.name, conversation.avatar_url) == ("群聊", "https://example.com/a.png")
    assert (conversation.description, conversation.notice) == ("description", "notice")
    assert conversation.ext == {"k": "v"}
    assert conversation.status == STATUS_NORMAL
    assert conversation.create_time == conversation.modify_time == NOW_MS // 1000
    assert conversation.member_count == 2
    # And it is guarded by both its keys and carries a token drawn from 64 random bits
    assert new.single_chat_key == single_chat_key(command())
    assert new.idempotency_key == idempotency_key(command())
    assert new.write_token == f"{2:016x}"
    assert random.requested_bits == [ID_RANDOM_BITS, 64]


@pytest.mark.parametrize("conversation_type", [2, 100])
def test_a_planned_group_has_the_owner_as_its_only_member(conversation_type: int) -> None:
    # Given a group or live group command
    group = command(conversation_type=conversation_type, other_user_id=None)

    # When the new conversation is planned
    new = plan_new_conversation(group, fixed_clock_entropy(CountingRandom()))

    # Then it counts one member, has no other user and no single-chat key
    assert new.conversation.member_count == 1
    assert new.conversation.other_user_id is None
    assert new.single_chat_key is None


def test_the_planned_ext_is_a_copy_of_the_command_ext() -> None:
    # Given a command whose Ext mapping is changed after planning
    ext = {"k": "v"}
    planned = plan_new_conversation(
        replace(command(), ext=ext), fixed_clock_entropy(CountingRandom())
    )
    ext["k"] = "changed"

    # Then the planned conversation keeps what the command said
    assert planned.conversation.ext == {"k": "v"}


def test_a_taken_short_id_is_retried_with_a_fresh_one() -> None:
    # Given a store where the first two drawn ids are already taken
    store = CollidingStore(collisions=2)

    # When a conversation is created
    outcome = create_conversation(command(), store, fixed_clock_entropy(CountingRandom()))

    # Then three different ids were tried, and the third one was created
    tried = [attempt.conversation.short_id for attempt in store.attempts]
    assert len(tried) == 3
    assert len(set(tried)) == 3
    assert outcome == CreateOutcome(store.attempts[-1].conversation, existed=False)
    # And only the id changed between attempts
    first = store.attempts[0]
    for attempt in store.attempts[1:]:
        assert replace(attempt.conversation, short_id=first.conversation.short_id) == (
            first.conversation
        )
        assert attempt.single_chat_key == first.single_chat_key
        assert attempt.idempotency_key == first.idempotency_key


def test_a_store_that_always_collides_ends_in_short_id_exhausted() -> None:
    # Given a store where every id is taken
    store = CollidingStore(collisions=MAX_SHORT_ID_ATTEMPTS + 1)

    # When a conversation is created, Then it gives up after the allowed number of attempts
    with pytest.raises(ShortIdExhaustedError):
        create_conversation(command(), store, fixed_clock_entropy(CountingRandom()))
    assert len(store.attempts) == MAX_SHORT_ID_ATTEMPTS


def test_the_last_allowed_attempt_still_succeeds() -> None:
    # Given a store where all but the last allowed attempt collide
    store = CollidingStore(collisions=MAX_SHORT_ID_ATTEMPTS - 1)

    # When a conversation is created, Then the last attempt is the one created
    outcome = create_conversation(command(), store, fixed_clock_entropy(CountingRandom()))
    assert len(store.attempts) == MAX_SHORT_ID_ATTEMPTS
    assert outcome.conversation == store.attempts[-1].conversation


def test_every_create_draws_fresh_randomness() -> None:
    # Given one entropy object shared by two creates at the same millisecond
    random = CountingRandom()
    entropy = fixed_clock_entropy(random)
    store = CollidingStore(collisions=0)

    # When two conversations are created
    first = create_conversation(command(), store, entropy)
    calls_after_first = len(random.requested_bits)
    second = create_conversation(command(), store, entropy)

    # Then the random source was asked again for the second one, so the ids and tokens differ
    assert calls_after_first > 0
    assert len(random.requested_bits) == 2 * calls_after_first
    assert first.conversation.short_id != second.conversation.short_id
    assert store.attempts[0].write_token != store.attempts[1].write_token
