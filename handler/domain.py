"""Domain logic of CreateConversation: pure, with no AWS and no environment.

Time, randomness and storage come in as arguments, so every rule here is tested without I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

SINGLE_CHAT = 1
STATUS_NORMAL = 0
# Ids are milliseconds since this epoch (2025-01-01T00:00:00Z) shifted past 12 random bits:
# 41 bits of milliseconds last until 2094, and the result never exceeds 2^53 - 1.
ID_EPOCH_MS = 1_735_689_600_000
ID_RANDOM_BITS = 12
ID_MAX = 2**53 - 1
MAX_SHORT_ID_ATTEMPTS = 5


@dataclass(frozen=True)
class Conversation:
    short_id: int
    app_id: int
    inbox_type: int
    conversation_type: int
    owner_user_id: int
    other_user_id: int | None
    name: str
    avatar_url: str
    description: str
    notice: str
    ext: Mapping[str, str]
    status: int
    create_time: int
    modify_time: int

    @property
    def member_count(self) -> int:
        return 2 if self.conversation_type == SINGLE_CHAT else 1


@dataclass(frozen=True)
class SingleChatKey:
    """A single chat's identity: the two members in either order, within one app and inbox."""

    app_id: int
    inbox_type: int
    lower_user_id: int
    higher_user_id: int


@dataclass(frozen=True)
class IdempotencyKey:
    app_id: int
    inbox_type: int
    idempotent_id: str


@dataclass(frozen=True)
class NewConversation:
    """Everything one atomic write needs: the conversation and the keys that guard it."""

    conversation: Conversation
    single_chat_key: SingleChatKey | None
    idempotency_key: IdempotencyKey | None
    write_token: str = field(repr=False)


@dataclass(frozen=True)
class CreateOutcome:
    conversation: Conversation
    existed: bool


@dataclass(frozen=True)
class CreateCommand:
    app_id: int
    inbox_type: int
    conversation_type: int
    owner_user_id: int
    other_user_id: int | None
    idempotent_id: str | None
    name: str
    avatar_url: str
    description: str
    notice: str
    ext: Mapping[str, str]


class ShortIdTakenError(Exception):
    """The drawn ConversationShortId already belongs to another conversation."""


class ConversationStore(Protocol):
    def insert(self, new: NewConversation) -> CreateOutcome:
        """Write the conversation and its keys atomically, or return the one that already exists.

        Raises ShortIdTakenError when only the id collided.
        """
        ...


@dataclass(frozen=True)
class Entropy:
    """Sources of time and randomness; production passes the clock and os-level randomness."""

    now_ms: Callable[[], int]
    random_bits: Callable[[int], int]


class ShortIdExhaustedError(Exception):
    """Every drawn id collided; only possible with a broken random source."""


class StoreUnavailableError(Exception):
    """Storage throttled or unreachable, and retries ran out."""


class StoreTimeoutError(Exception):
    """Storage did not answer in time, and retries ran out."""


def new_short_id(now_ms: int, random_bits: int) -> int:
    elapsed = max(now_ms - ID_EPOCH_MS, 0)
    return min((elapsed << ID_RANDOM_BITS) | random_bits, ID_MAX) or 1


def single_chat_key(command: CreateCommand) -> SingleChatKey | None:
    if command.conversation_type != SINGLE_CHAT or command.other_user_id is None:
        return None
    low, high = sorted((command.owner_user_id, command.other_user_id))
    return SingleChatKey(command.app_id, command.inbox_type, low, high)


def idempotency_key(command: CreateCommand) -> IdempotencyKey | None:
    if not command.idempotent_id:
        return None
    return IdempotencyKey(command.app_id, command.inbox_type, command.idempotent_id)


def plan_new_conversation(command: CreateCommand, entropy: Entropy) -> NewConversation:
    now_ms = entropy.now_ms()
    now_s = now_ms // 1000
    conversation = Conversation(
        short_id=new_short_id(now_ms, entropy.random_bits(ID_RANDOM_BITS)),
        app_id=command.app_id,
        inbox_type=command.inbox_type,
        conversation_type=command.conversation_type,
        owner_user_id=command.owner_user_id,
        other_user_id=command.other_user_id,
        name=command.name,
        avatar_url=command.avatar_url,
        description=command.description,
        notice=command.notice,
        ext=dict(command.ext),
        status=STATUS_NORMAL,
        create_time=now_s,
        modify_time=now_s,
    )
    return NewConversation(
        conversation=conversation,
        single_chat_key=single_chat_key(command),
        idempotency_key=idempotency_key(command),
        write_token=f"{entropy.random_bits(64):016x}",
    )


def create_conversation(
    command: CreateCommand, store: ConversationStore, entropy: Entropy
) -> CreateOutcome:
    """Create the conversation, or return the one its IdempotentId or member pair already names.

    The store decides which one exists, in one atomic write; only a colliding id is retried here.
    """
    new = plan_new_conversation(command, entropy)
    for _ in range(MAX_SHORT_ID_ATTEMPTS):
        try:
            return store.insert(new)
        except ShortIdTakenError:
            fresh_id = new_short_id(entropy.now_ms(), entropy.random_bits(ID_RANDOM_BITS))
            new = replace(new, conversation=replace(new.conversation, short_id=fresh_id))
    raise ShortIdExhaustedError
