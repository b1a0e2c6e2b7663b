"""Conversations: create once, read, list per user, modify (owner transfer included), dissolve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from handler.domain.errors import (
    OnlyOwnerCanOperator,
    ParticipantNotInConversation,
    ShortIdExhaustedError,
    SingleConversationNotSupport,
    not_found,
)
from handler.domain.ids import Entropy
from handler.domain.model import (
    FIRST_JOIN_NUMBER,
    LIVE_GROUP,
    ROLE_MEMBER,
    ROLE_OWNER,
    SINGLE_CHAT,
    STATUS_NORMAL,
    Conversation,
    ConversationPatch,
    ConversationWrite,
    Member,
    MemberChange,
    MemberPatch,
    Page,
)
from handler.domain.paging import END_CURSOR, start_after
from handler.domain.ports import (
    IdempotencyKey,
    Inserted,
    NewConversation,
    ShortIdTakenError,
    SingleChatPair,
    Store,
    UserListing,
)
from handler.domain.retries import STALE, Stale, until_committed
from handler.domain.users import UserRef

MAX_SHORT_ID_DRAWS = 5
DATA_TYPE_NEWEST_FIRST = 0
DATA_TYPE_OLDEST_FIRST = 1
DATA_TYPE_OWNED_LIVE_GROUPS = 2


@dataclass(frozen=True)
class CreateCommand:
    app_id: int
    inbox_type: int
    conversation_type: int
    owner: UserRef
    other: UserRef | None
    idempotent_id: str | None
    name: str
    avatar_url: str
    description: str
    notice: str
    ext: Mapping[str, str]


@dataclass(frozen=True)
class CreateOutcome:
    conversation: Conversation
    existed: bool


@dataclass(frozen=True)
class ModifyCommand:
    app_id: int
    short_id: int
    patch: ConversationPatch


@dataclass(frozen=True)
class DestroyCommand:
    app_id: int
    short_id: int
    owner: UserRef


@dataclass(frozen=True)
class UserConversationsQuery:
    app_id: int
    inbox_type: int
    user: UserRef
    cursor: int
    limit: int
    data_type: int


def plan_new_conversation(command: CreateCommand, entropy: Entropy) -> NewConversation:
    now = entropy.now_s()
    short_id = entropy.short_id()
    users = [command.owner] if command.other is None else [command.owner, command.other]
    conversation = Conversation(
        short_id=short_id,
        app_id=command.app_id,
        inbox_type=command.inbox_type,
        conversation_type=command.conversation_type,
        owner=command.owner,
        creator=command.owner,
        other=command.other,
        name=command.name,
        avatar_url=command.avatar_url,
        description=command.description,
        notice=command.notice,
        ext=dict(command.ext),
        status=STATUS_NORMAL,
        create_time=now,
        modify_time=now,
        member_count=len(users),
        next_join_number=FIRST_JOIN_NUMBER + len(users),
        owner_join_number=FIRST_JOIN_NUMBER,
        idempotent_id=command.idempotent_id,
    )
    single = command.conversation_type == SINGLE_CHAT
    members = tuple(
        Member(
            short_id=short_id,
            user=user,
            role=ROLE_MEMBER if single else ROLE_OWNER,
            nick_name="",
            level=0,
            ext={},
            operator=command.owner,
            create_time=now,
            block_time=0,
            read_index=0,
            join_number=FIRST_JOIN_NUMBER + index,
        )
        for index, user in enumerate(users)
    )
    pair = None
    if single and command.other is not None:
        pair = SingleChatPair.of(command.app_id, command.inbox_type, command.owner, command.other)
    idempotency = None
    if command.idempotent_id:
        idempotency = IdempotencyKey(command.app_id, command.inbox_type, command.idempotent_id)
    return NewConversation(conversation, members, pair, idempotency, entropy.token())


def create_conversation(command: CreateCommand, store: Store, entropy: Entropy) -> CreateOutcome:
    """Create the conversation, or return the live one its IdempotentId or member pair names.

    The store decides which exists in one atomic write. A match is then read as it is now; a
    match dissolved in between is written again, as a conflict would be.
    """
    new = plan_new_conversation(command, entropy)
    draws = 1

    def attempt() -> CreateOutcome | Stale:
        nonlocal new, draws
        while True:
            try:
                result = store.insert(new)
                break
            except ShortIdTakenError:
                if draws == MAX_SHORT_ID_DRAWS:
                    raise ShortIdExhaustedError from None
                draws += 1
                fresh = replace(new.conversation, short_id=entropy.short_id())
                members = tuple(replace(member, short_id=fresh.short_id) for member in new.members)
                new = replace(new, conversation=fresh, members=members)
        if isinstance(result, Inserted):
            return CreateOutcome(new.conversation, existed=False)
        current = store.conversation(command.app_id, result.short_id)
        if current is None or not current.is_live:
            return STALE
        return CreateOutcome(current, existed=True)

    return until_committed(store, attempt)


def get_conversations(app_id: int, short_ids: Sequence[int], store: Store) -> list[Conversation]:
    """The live conversations among `short_ids`, in the order first asked, each once."""
    wanted = list(dict.fromkeys(short_ids))
    found = store.conversations(app_id, wanted)
    return [found[short_id] for short_id in wanted if short_id in found and found[short_id].is_live]


def list_user_conversations(query: UserConversationsQuery, store: Store) -> Page[Conversation]:
    after = start_after(query.cursor)
    if after is None and query.cursor < 0:
        return Page([], has_more=False, next_cursor=END_CURSOR)
    owned_live_only = query.data_type == DATA_TYPE_OWNED_LIVE_GROUPS
    entries, has_more = store.user_conversations(
        UserListing(
            app_id=query.app_id,
            inbox_type=query.inbox_type,
            user=query.user,
            owned_live_groups_only=owned_live_only,
            newest_first=query.data_type != DATA_TYPE_OLDEST_FIRST,
            after=after,
            limit=query.limit,
        )
    )
    kept = []
    for entry in entries:
        conversation = entry.conversation
        # The index may lag the table: what it lists is kept only if the table agrees.
        if conversation is None or not conversation.is_live or not entry.is_member:
            continue
        if owned_live_only and (
            conversation.conversation_type != LIVE_GROUP or conversation.owner != query.user
        ):
            continue
        kept.append(conversation)
    next_cursor = entries[-1].short_id if has_more and entries else END_CURSOR
    return Page(kept, has_more=has_more and bool(entries), next_cursor=next_cursor)


def modify_conversation(command: ModifyCommand, store: Store, entropy: Entropy) -> None:
    new_owner = command.patch.owner

    def attempt() -> Stale | None:
        users = [new_owner] if new_owner is not None else []
        conversation, members = store.conversation_and_members(
            command.app_id, command.short_id, users
        )
        if conversation is None or not conversation.is_live:
            raise not_found(command.short_id)
        transfer = new_owner is not None and new_owner != conversation.owner
        changes: tuple[MemberChange, ...] = ()
        patch = replace(command.patch, owner=None)
        if transfer and new_owner is not None:
            if conversation.is_single_chat:
                raise SingleConversationNotSupport("A single chat's owner cannot be changed")
            member = members.get(new_owner)
            if member is None:
                raise ParticipantNotInConversation(
                    f"User {new_owner.label} is not a member of conversation "
                    f"{conversation.short_id}; add them before making them the owner"
                )
            patch = replace(command.patch, owner_join_number=member.join_number)
            changes = (
                MemberChange(
                    new_owner,
                    member.role,
                    patch=MemberPatch(role=ROLE_OWNER),
                    read_join_number=member.join_number,
                ),
                MemberChange(conversation.owner, ROLE_OWNER, patch=MemberPatch(role=ROLE_MEMBER)),
            )
        write = ConversationWrite(
            conversation=conversation,
            modify_time=entropy.now_s(),
            expect_owner=conversation.owner,
            patch=patch,
            members=changes,
        )
        return None if store.apply(write) else STALE

    until_committed(store, attempt)


def destroy_conversation(command: DestroyCommand, store: Store, entropy: Entropy) -> None:
    def attempt() -> Stale | None:
        conversation = store.conversation(command.app_id, command.short_id)
        if conversation is None:
            raise not_found(command.short_id)
        if not conversation.is_live:
            if conversation.dissolved_by == command.owner:
                return None  # a retry of the dissolve that succeeded
            raise not_found(command.short_id)
        if conversation.is_single_chat:
            raise SingleConversationNotSupport("A single chat cannot be dissolved")
        if conversation.owner != command.owner:
            raise OnlyOwnerCanOperator(
                f"Only the owner of conversation {conversation.short_id} can dissolve it"
            )
        write = ConversationWrite(
            conversation=conversation,
            modify_time=entropy.now_s(),
            expect_owner=conversation.owner,
            dissolve_by=command.owner,
            release_idempotent_id=conversation.idempotent_id is not None,
        )
        return None if store.apply(write) else STALE

    until_committed(store, attempt)
