"""Members: add, remove, modify, read, scan and count, each change one guarded atomic write."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from handler.domain.errors import (
    ConversationParticipantsMoreThanLimit,
    OwnerShouldBeEqual,
    SingleConversationNotSupport,
    not_found,
)
from handler.domain.ids import Entropy
from handler.domain.model import (
    LAST_JOIN_NUMBER,
    LIVE_GROUP,
    ROLE_OWNER,
    Conversation,
    ConversationWrite,
    Member,
    MemberChange,
    MemberLimits,
    MemberPatch,
    Page,
)
from handler.domain.paging import END_CURSOR, start_after
from handler.domain.ports import MemberListing, Store
from handler.domain.retries import STALE, Stale, until_committed
from handler.domain.users import UserRef

T = TypeVar("T")


@dataclass(frozen=True)
class NewParticipant:
    user: UserRef
    role: int | None
    nick_name: str | None
    level: int | None
    ext: Mapping[str, str] | None
    read_index: int | None


@dataclass(frozen=True)
class AddCommand:
    app_id: int
    short_id: int
    operator: UserRef
    participants: Sequence[NewParticipant]


@dataclass(frozen=True)
class RemoveCommand:
    app_id: int
    short_id: int
    users: Sequence[UserRef]


@dataclass(frozen=True)
class ParticipantChange:
    user: UserRef
    patch: MemberPatch


@dataclass(frozen=True)
class ModifyMembersCommand:
    app_id: int
    short_id: int
    changes: Sequence[ParticipantChange]


@dataclass(frozen=True)
class ScanQuery:
    app_id: int
    short_id: int
    cursor: int
    limit: int
    reverse: bool
    online_only: bool


def _read_group(
    store: Store, app_id: int, short_id: int, users: Sequence[UserRef], action: str
) -> tuple[Conversation, dict[UserRef, Member]]:
    """The group (or live group), live, and which of `users` are its members, read together."""
    conversation, members = store.conversation_and_members(app_id, short_id, users)
    return _open_group(conversation, short_id, action), members


def _open_group(conversation: Conversation | None, short_id: int, action: str) -> Conversation:
    if conversation is None or not conversation.is_live:
        raise not_found(short_id)
    if conversation.is_single_chat:
        raise SingleConversationNotSupport(f"A single chat's members cannot be {action}")
    return conversation


def _refuse_second_owner(conversation: Conversation, user: UserRef, role: int | None) -> None:
    if role == ROLE_OWNER and user != conversation.owner:
        raise OwnerShouldBeEqual(
            f"Role 1 (owner) was given for user {user.label}, who is not the owner of "
            f"conversation {conversation.short_id}; ownership moves only by ModifyConversation"
        )


def add_participants(
    command: AddCommand, store: Store, entropy: Entropy, limits: MemberLimits
) -> list[UserRef]:
    users = [participant.user for participant in command.participants]

    def attempt() -> list[UserRef] | Stale:
        conversation, existing = _read_group(
            store, command.app_id, command.short_id, users, "added to"
        )
        for participant in command.participants:
            _refuse_second_owner(conversation, participant.user, participant.role)
        newcomers = [p for p in command.participants if p.user not in existing]
        limit = limits.for_type(conversation.conversation_type)
        if conversation.member_count + len(newcomers) > limit:
            raise ConversationParticipantsMoreThanLimit(
                f"Conversation {conversation.short_id} has {conversation.member_count} members; "
                f"adding {len(newcomers)} would pass its limit of {limit}"
            )
        first_number = conversation.next_join_number
        if first_number + len(newcomers) - 1 > LAST_JOIN_NUMBER:
            raise ConversationParticipantsMoreThanLimit(
                f"Conversation {conversation.short_id} has used all its join numbers"
            )
        now = entropy.now_s()
        changes = [
            MemberChange(
                participant.user,
                read_role=None,
                put=Member(
                    short_id=conversation.short_id,
                    user=participant.user,
                    role=participant.role or 0,
                    nick_name=participant.nick_name or "",
                    level=participant.level or 0,
                    ext=dict(participant.ext or {}),
                    operator=command.operator,
                    create_time=now,
                    block_time=0,
                    read_index=participant.read_index or 0,
                    join_number=first_number + index,
                ),
            )
            for index, participant in enumerate(newcomers)
        ]
        for participant in command.participants:
            member = existing.get(participant.user)
            if member is None:
                continue
            # The owner keeps Role 1 whatever Role is given; ownership moves only by a transfer.
            role = None if member.role == ROLE_OWNER else participant.role
            patch = MemberPatch(
                role=role,
                nick_name=participant.nick_name,
                level=participant.level,
                ext=participant.ext,
            )
            changes.append(MemberChange(member.user, member.role, patch=patch))
        write = ConversationWrite(
            conversation=conversation,
            modify_time=now,
            expect_owner=conversation.owner,
            member_count_delta=len(newcomers),
            expect_next_join_number=first_number if newcomers else None,
            next_join_number=first_number + len(newcomers) if newcomers else None,
            members=tuple(changes),
        )
        return [] if store.apply(write) else STALE

    return until_committed(store, attempt)


def remove_participants(command: RemoveCommand, store: Store, entropy: Entropy) -> list[UserRef]:
    """Remove every listed member but the owner; answer the users not removed."""

    def attempt() -> list[UserRef] | Stale:
        conversation, existing = _read_group(
            store, command.app_id, command.short_id, command.users, "removed"
        )
        failed = [u for u in command.users if u not in existing or u == conversation.owner]
        leaving = [existing[u] for u in command.users if u not in failed]
        if not leaving:
            return failed
        write = ConversationWrite(
            conversation=conversation,
            modify_time=entropy.now_s(),
            expect_owner=conversation.owner,
            member_count_delta=-len(leaving),
            members=tuple(MemberChange(m.user, m.role, delete=True) for m in leaving),
        )
        return failed if store.apply(write) else STALE

    return until_committed(store, attempt)


def modify_participants(
    command: ModifyMembersCommand, store: Store, entropy: Entropy
) -> list[UserRef]:
    """Change the listed members; answer the non-members and an owner asked to change Role."""
    users = [change.user for change in command.changes]

    def attempt() -> list[UserRef] | Stale:
        conversation, existing = _read_group(
            store, command.app_id, command.short_id, users, "modified"
        )
        for change in command.changes:
            _refuse_second_owner(conversation, change.user, change.patch.role)
        failed: list[UserRef] = []
        changes: list[MemberChange] = []
        for change in command.changes:
            member = existing.get(change.user)
            is_owner = change.user == conversation.owner
            role = change.patch.role
            if member is None or (is_owner and role is not None and role != ROLE_OWNER):
                failed.append(change.user)
                continue
            changes.append(MemberChange(member.user, member.role, patch=change.patch))
        if not changes:
            return failed
        write = ConversationWrite(
            conversation=conversation,
            modify_time=entropy.now_s(),
            expect_owner=conversation.owner,
            members=tuple(changes),
        )
        return failed if store.apply(write) else STALE

    return until_committed(store, attempt)


def _as_shown(member: Member, conversation: Conversation) -> Member:
    """A group's Roles as its conversation item implies; a single chat has no owner Role.

    A single chat's OwnerUserId names its creator, but both its users are members (Role 0).
    """
    if conversation.is_single_chat:
        return member
    return member.seen_with_owner(conversation.owner)


def get_participants(
    app_id: int, short_id: int, users: Sequence[UserRef], store: Store
) -> list[Member]:
    wanted = list(dict.fromkeys(users))

    def attempt() -> list[Member] | Stale:
        conversation, members = store.conversation_and_members(app_id, short_id, wanted)
        if conversation is None or not conversation.is_live:
            raise not_found(short_id)
        found = [members[user] for user in wanted if user in members]
        owner_missing = conversation.owner in wanted and conversation.owner not in members
        if owner_missing or not _agree_on_the_owner(conversation, found):
            return STALE
        return [_as_shown(member, conversation) for member in found]

    return _read_until_consistent(store, attempt)


def _agree_on_the_owner(conversation: Conversation, members: Sequence[Member]) -> bool:
    """Whether no member read claims Role 1 but the owner the conversation item names.

    The items are read by more than one request (or by a query, which a transaction can commit
    in the middle of): a member stored as owner who is not the conversation's owner means a
    transfer committed between the reads, and the answer could show no owner or two.
    """
    return all(m.role != ROLE_OWNER or m.user == conversation.owner for m in members)


def _page_misses_the_owner(
    conversation: Conversation,
    members: Sequence[Member],
    after: int | None,
    reverse: bool,
    has_more: bool,
) -> bool:
    """Whether the owner's join number is within the page's span but the page lacks the owner.

    The owner always has a member item, so this means a transfer committed after the
    conversation item was read: a live group's StaffIndex then no longer lists the old owner,
    or a removal took the old owner's item away.
    """
    if any(member.user == conversation.owner for member in members):
        return False
    number = conversation.owner_join_number
    last = members[-1].join_number if has_more else None
    if reverse:
        below_start = after is None or number < after
        return below_start and (last is None or number >= last)
    from_start = after is None or number >= after
    return from_start and (last is None or number <= last)


def _read_until_consistent(store: Store, attempt: Callable[[], T | Stale]) -> T:
    """Read again while a transfer commits between a read's requests (rare: only then).

    Bounded by the request's time budget, as a contended write is: only a conversation whose
    owner changes between every pair of reads for the whole budget answers 503.
    """
    return until_committed(store, attempt, what="read")


def scan_participants(query: ScanQuery, store: Store) -> Page[Member]:
    def attempt() -> Page[Member] | Stale:
        conversation = store.conversation(query.app_id, query.short_id)
        if conversation is None or not conversation.is_live:
            raise not_found(query.short_id)
        after = start_after(query.cursor)
        # No presence is kept, so no member is ever online.
        if query.online_only or (after is None and query.cursor < 0):
            return Page([], has_more=False, next_cursor=END_CURSOR)
        members, has_more = store.member_page(
            MemberListing(
                conversation=conversation,
                managers_only=conversation.conversation_type == LIVE_GROUP,
                reverse=query.reverse,
                after=after,
                limit=query.limit,
            )
        )
        torn = _page_misses_the_owner(conversation, members, after, query.reverse, has_more)
        if torn or not _agree_on_the_owner(conversation, members):
            return STALE
        shown = [_as_shown(member, conversation) for member in members]
        if not has_more or not members:
            return Page(shown, has_more=False, next_cursor=END_CURSOR)
        last = members[-1].join_number
        return Page(shown, has_more=True, next_cursor=last if query.reverse else last + 1)

    return _read_until_consistent(store, attempt)


def count_members(app_id: int, short_id: int, store: Store) -> int:
    conversation = store.conversation(app_id, short_id)
    if conversation is None or not conversation.is_live:
        raise not_found(short_id)
    return conversation.member_count


def is_member(app_id: int, short_id: int, user: UserRef, store: Store) -> bool:
    conversation, members = store.conversation_and_members(app_id, short_id, [user])
    if conversation is None or not conversation.is_live:
        raise not_found(short_id)
    return user in members
