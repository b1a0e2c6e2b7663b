"""What the domain needs from storage; store.py has the DynamoDB implementation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from handler.domain.model import Conversation, ConversationWrite, Member
from handler.domain.users import UserRef


@dataclass(frozen=True)
class SingleChatPair:
    """A single chat's identity: the two members in either order, within one app and inbox."""

    app_id: int
    inbox_type: int
    first: UserRef
    second: UserRef

    @classmethod
    def of(cls, app_id: int, inbox_type: int, one: UserRef, other: UserRef) -> SingleChatPair:
        first, second = sorted((one, other), key=lambda user: user.key)
        return cls(app_id, inbox_type, first, second)


@dataclass(frozen=True)
class IdempotencyKey:
    app_id: int
    inbox_type: int
    idempotent_id: str


@dataclass(frozen=True)
class NewConversation:
    """Everything one atomic create writes: the conversation, its members, the keys guarding it."""

    conversation: Conversation
    members: tuple[Member, ...]
    single_chat: SingleChatPair | None
    idempotency: IdempotencyKey | None
    write_token: str = field(repr=False)


@dataclass(frozen=True)
class Inserted:
    """The create committed (now, or by an earlier attempt of this request)."""


@dataclass(frozen=True)
class Matched:
    """A uniqueness record already names this conversation."""

    short_id: int


class ShortIdTakenError(Exception):
    """The drawn ConversationShortId already belongs to another conversation."""


@dataclass(frozen=True)
class IndexEntry:
    """One entry of a user's listing, checked against the table (the index may lag it)."""

    short_id: int
    conversation: Conversation | None
    is_member: bool


@dataclass(frozen=True)
class UserListing:
    app_id: int
    inbox_type: int
    user: UserRef
    owned_live_groups_only: bool
    newest_first: bool
    after: int | None
    limit: int


@dataclass(frozen=True)
class MemberListing:
    conversation: Conversation
    managers_only: bool
    reverse: bool
    after: int | None
    limit: int


class Store(Protocol):
    def insert(self, new: NewConversation) -> Inserted | Matched:
        """Write `new` atomically, or name the conversation a uniqueness record holds.

        Raises ShortIdTakenError when only the id collided.
        """
        ...

    def conversation(self, app_id: int, short_id: int) -> Conversation | None:
        """The conversation, dissolved or not, read consistently."""
        ...

    def conversations(self, app_id: int, short_ids: Sequence[int]) -> dict[int, Conversation]: ...

    def conversation_and_members(
        self, app_id: int, short_id: int, users: Sequence[UserRef]
    ) -> tuple[Conversation | None, dict[UserRef, Member]]: ...

    def user_conversations(self, listing: UserListing) -> tuple[list[IndexEntry], bool]:
        """Up to `limit` index entries after the cursor, each checked against the table, and
        whether more follow."""
        ...

    def member_page(self, listing: MemberListing) -> tuple[list[Member], bool]: ...

    def apply(self, write: ConversationWrite) -> bool:
        """Commit `write` atomically; False if what it was planned on has changed."""
        ...

    def pause_before_retry(self, attempt: int) -> None:
        """Back off before re-reading; raises StoreUnavailableError once the budget is spent."""
        ...
