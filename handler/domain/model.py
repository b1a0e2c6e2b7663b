"""The domain's records: a conversation, a member, and the one atomic change that links them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from handler.domain.users import UserRef

SINGLE_CHAT = 1
GROUP_CHAT = 2
LIVE_GROUP = 100
STATUS_NORMAL = 0
STATUS_DISSOLVED = 1
ROLE_MEMBER = 0
ROLE_OWNER = 1
ROLE_MANAGER = 2
ROLES = (ROLE_MEMBER, ROLE_OWNER, ROLE_MANAGER)
# Join numbers order a conversation's members and are ScanConversationParticipantList's cursor,
# which the vendor's Go SDK decodes into an int32: the cursor after the last join is its number
# + 1, so the last number a conversation can hand out is 2^31 - 2.
FIRST_JOIN_NUMBER = 1
LAST_JOIN_NUMBER = 2**31 - 2


@dataclass(frozen=True)
class MemberLimits:
    group: int
    live_group: int

    def for_type(self, conversation_type: int) -> int:
        return self.live_group if conversation_type == LIVE_GROUP else self.group


@dataclass(frozen=True)
class Conversation:
    short_id: int
    app_id: int
    inbox_type: int
    conversation_type: int
    owner: UserRef
    creator: UserRef
    other: UserRef | None
    name: str
    avatar_url: str
    description: str
    notice: str
    ext: Mapping[str, str]
    status: int
    create_time: int
    modify_time: int
    member_count: int
    next_join_number: int
    # Where the owner's member item sits in joining order: a listing that reads the
    # conversation, then a page, tells from it whether a transfer committed in between.
    owner_join_number: int
    idempotent_id: str | None = None
    dissolved_by: UserRef | None = None

    @property
    def is_live(self) -> bool:
        return self.status == STATUS_NORMAL

    @property
    def is_single_chat(self) -> bool:
        return self.conversation_type == SINGLE_CHAT


@dataclass(frozen=True)
class Member:
    short_id: int
    user: UserRef
    role: int
    nick_name: str
    level: int
    ext: Mapping[str, str]
    operator: UserRef
    create_time: int
    block_time: int
    read_index: int
    join_number: int

    def seen_with_owner(self, owner: UserRef) -> Member:
        """This member with the Role its conversation's owner implies.

        Roles shown are derived from the conversation item, read once, so every answer shows
        exactly one owner even while a transfer commits between the reads of two items.
        """
        if self.user == owner:
            role = ROLE_OWNER
        else:
            role = ROLE_MEMBER if self.role == ROLE_OWNER else self.role
        if role == self.role:
            return self
        return replace(self, role=role)


@dataclass(frozen=True)
class MemberPatch:
    """Fields of a member to change; None leaves a field as it is."""

    role: int | None = None
    nick_name: str | None = None
    level: int | None = None
    ext: Mapping[str, str] | None = None
    block_time: int | None = None


@dataclass(frozen=True)
class ConversationPatch:
    """Fields of a conversation to change; None leaves a field as it is."""

    name: str | None = None
    avatar_url: str | None = None
    description: str | None = None
    notice: str | None = None
    ext: Mapping[str, str] | None = None
    owner: UserRef | None = None
    owner_join_number: int | None = None


@dataclass(frozen=True)
class MemberChange:
    """One member item in a write, guarded by the Role it was read with (None: must not exist).

    `read_join_number`, when given, also guards the membership read: a user removed and added
    again in between is a new member with a new join number.
    """

    user: UserRef
    read_role: int | None
    put: Member | None = None
    patch: MemberPatch | None = None
    delete: bool = False
    read_join_number: int | None = None


@dataclass(frozen=True)
class ConversationWrite:
    """One atomic write: the conversation item and the member items it changes together.

    It commits only if the conversation is still live, still has `expect_owner` as owner,
    (for adds) still hands out `expect_next_join_number`, and every member still has the Role it
    was read with. Otherwise nothing is written and the caller reads again.
    """

    conversation: Conversation
    modify_time: int
    expect_owner: UserRef
    patch: ConversationPatch = field(default_factory=ConversationPatch)
    member_count_delta: int = 0
    expect_next_join_number: int | None = None
    next_join_number: int | None = None
    members: tuple[MemberChange, ...] = ()
    dissolve_by: UserRef | None = None
    release_idempotent_id: bool = False


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool
    next_cursor: int
