"""What the benchmark asks: one scenario per action and path, the state each needs, its bodies.

A scenario's `body()` may call the handler first (untimed) to set the stage, e.g. create the
group a DestroyConversation dissolves or add the members a BatchDelete removes. Every body is
valid on the state it was drawn for, so every call takes the scenario's path; `check` proves it
after the call was timed.

The request limits are the contract's "Requests" column (../shared/spec/actions.md): the most
DynamoDB requests an action may make on its normal path; a create of a new conversation makes
exactly 1.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

APP_ID = 7
SINGLE_CHAT = 1
GROUP_CHAT = 2
VERSION = "2020-12-01"
GROUP_MEMBER_LIMIT = 200  # handler/settings.py's default, which the benchmark keeps
# Page sizes and batch sizes: the vendor's largest page (20), a batch of 10 for member changes.
PAGE_LIMIT = 20
MEMBER_BATCH = 10
ADD_BATCH_SIZES = (1, 10, 50)

# The contract's most DynamoDB requests per call (actions.md, "Requests").
CONTRACT_REQUESTS = {
    "CreateConversation": 2,  # 1 on a new conversation, at most 2 on an existing one
    "BatchGetConversations": 1,
    "GetUserConversations": 2,  # per page
    "ModifyConversation": 2,
    "DestroyConversation": 2,
    "BatchAddConversationParticipant": 2,
    "BatchDeleteConversationParticipant": 2,
    "BatchModifyConversationParticipant": 2,
    "BatchGetConversationParticipant": 2,
    "ScanConversationParticipantList": 2,  # per page
    "GetConversationUserCount": 1,
    "IsUserInConversation": 1,
}
NEW_CONVERSATION_REQUESTS = 1

Call = Callable[[str, dict[str, Any]], dict[str, Any]]
Check = Callable[[dict[str, Any]], str | None]


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    action: str
    # The most DynamoDB requests the contract allows, and whether exactly that many are required.
    max_requests: int
    exact: bool
    # Whether a call changes what the next call reads: the floor then captures the handler's
    # requests with the writes held back, and sends them itself (bench/warm.py).
    mutates: bool
    body: Callable[[World], dict[str, Any]]
    check: Check
    batch: int = 0  # users per call, for the member batches


class World:
    """The conversations the scenarios work on, set up through the handler itself."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self._serials = count()
        self._users = count(10_000_000)
        # CreateConversation: the pair and the IdempotentId the existing paths ask for again.
        self.existing_pair = (1001, 1002)
        self.existing_idempotent = _group(1000, idempotent_id="bench-existing")
        call("CreateConversation", _single_chat(*self.existing_pair))
        call("CreateConversation", self.existing_idempotent)
        # One busy group: owner 2001 and members 2002 ... 2025, for reads, modifies and re-adds.
        self.busy_owner = 2001
        self.busy_members = list(range(2002, 2026))
        self.busy = self.new_group(self.busy_owner, self.busy_members)
        # A group whose ownership moves back and forth between two members.
        self.transfer_users = (3001, 3002)
        self.transfer = self.new_group(3001, [3002])
        self._transfer_owner = 3001
        # A user in 25 groups: a full first page of 20 and more after it.
        self.listed_user = 4001
        self.listed = [self.new_group(self.listed_user, []) for _ in range(PAGE_LIMIT + 5)]
        # Groups that receive new members, by batch size, each replaced when it is full.
        self._add_targets: dict[int, tuple[int, int]] = {}
        self.delete_group = self.new_group(5001, [])

    def serial(self) -> int:
        return next(self._serials)

    def new_user(self) -> int:
        return next(self._users)

    def new_group(self, owner: int, members: list[int], **fields: Any) -> int:
        created = self.call("CreateConversation", _group(owner, **fields))
        short_id = int(created["ConversationShortId"])
        for start in range(0, len(members), 50):
            self.call(
                "BatchAddConversationParticipant", _add(short_id, members[start : start + 50])
            )
        return short_id

    def add_target(self, batch: int) -> int:
        """A group with room for `batch` more members."""
        short_id, members = self._add_targets.get(batch, (0, GROUP_MEMBER_LIMIT))
        if members + batch > GROUP_MEMBER_LIMIT:
            short_id, members = self.new_group(self.new_user(), []), 1
        self._add_targets[batch] = (short_id, members + batch)
        return short_id

    def next_transfer(self) -> int:
        """The member who becomes owner next (the one who is not the owner now)."""
        first, second = self.transfer_users
        self._transfer_owner = second if self._transfer_owner == first else first
        return self._transfer_owner


# --- bodies -------------------------------------------------------------------------------------


def _core(conversation_type: int, name: str) -> dict[str, Any]:
    # A typical create, shaped like the vendor's example: every text field set, a small Ext.
    return {
        "ConversationType": conversation_type,
        "Name": name,
        "AvatarUrl": "https://cdn.example.com/avatars/7f3a.png",
        "Description": "Weekly planning for the mobile team",
        "Notice": "Standup moves to 10:30 on Fridays",
        "Ext": {"source": "benchmark", "locale": "zh-CN"},
    }


def _single_chat(owner: int, other: int) -> dict[str, Any]:
    return {
        "AppId": APP_ID,
        "OwnerUserId": owner,
        "OtherUserId": other,
        "InboxType": 0,
        "ConversationCoreInfo": _core(SINGLE_CHAT, ""),
    }


def _group(owner: int, *, idempotent_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "AppId": APP_ID,
        "OwnerUserId": owner,
        "InboxType": 0,
        "ConversationCoreInfo": _core(GROUP_CHAT, "Mobile team"),
    }
    if idempotent_id is not None:
        body["IdempotentId"] = idempotent_id
    return body


def _participant(user: int, serial: int = 0) -> dict[str, Any]:
    return {
        "ParticipantUserId": user,
        "Role": 0,
        "NickName": f"member {user} #{serial}",
        "Level": 3,
        "Ext": {"team": "mobile"},
    }


def _add(short_id: int, users: list[int], serial: int = 0) -> dict[str, Any]:
    return {
        "AppId": APP_ID,
        "ConversationShortId": short_id,
        "Operator": 1,
        "ParticipantInfos": [_participant(user, serial) for user in users],
    }


def _conversation_of(world: World, short_id: int) -> dict[str, Any]:
    return {"AppId": APP_ID, "ConversationShortId": short_id}


def new_single_chat(world: World) -> dict[str, Any]:
    owner = world.new_user()
    return _single_chat(owner, world.new_user())


def new_group(world: World) -> dict[str, Any]:
    return _group(world.new_user())


def new_group_idempotent(world: World) -> dict[str, Any]:
    return _group(world.new_user(), idempotent_id=f"bench-{uuid.uuid4().hex}")


def existing_single_chat(world: World) -> dict[str, Any]:
    # The pair in the other order: the member-order folding is part of what is measured.
    owner, other = world.existing_pair
    return _single_chat(other, owner)


def existing_idempotent(world: World) -> dict[str, Any]:
    # A client retrying its create: the same body again.
    return world.existing_idempotent


def modify(world: World) -> dict[str, Any]:
    serial = world.serial()
    return {
        "AppId": APP_ID,
        "ConversationCoreInfo": {
            "ConversationShortId": world.busy,
            "Name": f"Mobile team #{serial}",
            "Notice": f"Standup moves to 10:{serial % 60:02d}",
        },
    }


def modify_transfer(world: World) -> dict[str, Any]:
    return {
        "AppId": APP_ID,
        "ConversationCoreInfo": {
            "ConversationShortId": world.transfer,
            "OwnerUserId": world.next_transfer(),
        },
    }


def destroy(world: World) -> dict[str, Any]:
    owner = world.new_user()
    short_id = world.new_group(owner, [])
    return {**_conversation_of(world, short_id), "OwnerUserId": owner}


def add_new(batch: int) -> Callable[[World], dict[str, Any]]:
    def body(world: World) -> dict[str, Any]:
        short_id = world.add_target(batch)
        return _add(short_id, [world.new_user() for _ in range(batch)])

    return body


def add_existing(world: World) -> dict[str, Any]:
    return _add(world.busy, world.busy_members[:MEMBER_BATCH], world.serial())


def delete(world: World) -> dict[str, Any]:
    users = [world.new_user() for _ in range(MEMBER_BATCH)]
    world.call("BatchAddConversationParticipant", _add(world.delete_group, users))
    return {
        **_conversation_of(world, world.delete_group),
        "Operator": 1,
        "ParticipantUserIds": users,
    }


def modify_members(world: World) -> dict[str, Any]:
    serial = world.serial()
    infos = [
        {"ParticipantUserId": user, "NickName": f"renamed {user} #{serial}", "Level": serial % 9}
        for user in world.busy_members[:MEMBER_BATCH]
    ]
    return {**_conversation_of(world, world.busy), "Operator": 1, "ParticipantInfos": infos}


def batch_get_conversations(world: World) -> dict[str, Any]:
    return {"AppId": APP_ID, "ConversationShortId": world.listed[:MEMBER_BATCH]}


def batch_get_participants(world: World) -> dict[str, Any]:
    users = world.busy_members[:MEMBER_BATCH]
    return {**_conversation_of(world, world.busy), "ParticipantUserIds": users}


def scan_page(world: World) -> dict[str, Any]:
    return {**_conversation_of(world, world.busy), "Limit": PAGE_LIMIT}


def count_users(world: World) -> dict[str, Any]:
    return _conversation_of(world, world.busy)


def is_member(world: World) -> dict[str, Any]:
    return {**_conversation_of(world, world.busy), "ParticipantUserId": world.busy_members[3]}


def user_conversations(world: World) -> dict[str, Any]:
    return {"AppId": APP_ID, "ParticipantUserId": world.listed_user, "Limit": PAGE_LIMIT}


# --- checks: None when the answer is the path's, else what is wrong -----------------------------


def _exist(expected: bool) -> Check:
    def check(result: dict[str, Any]) -> str | None:
        return None if result.get("Exist") is expected else f"Exist is {result.get('Exist')}"

    return check


def _empty(result: dict[str, Any]) -> str | None:
    return None if result == {} else f"Result {result}"


def _no_failures(result: dict[str, Any]) -> str | None:
    failed = result.get("FailedUserIds")
    return None if failed == [] else f"FailedUserIds {failed}"


def _items(field: str, expected: int, *, has_more: bool | None = None) -> Check:
    def check(result: dict[str, Any]) -> str | None:
        found = len(result.get(field, []))
        if found != expected:
            return f"{found} {field}, expected {expected}"
        if has_more is not None and result.get("HasMore") is not has_more:
            return f"HasMore is {result.get('HasMore')}"
        return None

    return check


def _equals(field: str, expected: Any) -> Check:
    def check(result: dict[str, Any]) -> str | None:
        return None if result.get(field) == expected else f"{field} is {result.get(field)}"

    return check


def _scenario(
    name: str,
    label: str,
    action: str,
    body: Callable[[World], dict[str, Any]],
    check: Check,
    *,
    mutates: bool = True,
    new_conversation: bool = False,
    batch: int = 0,
) -> Scenario:
    limit = NEW_CONVERSATION_REQUESTS if new_conversation else CONTRACT_REQUESTS[action]
    return Scenario(name, label, action, limit, new_conversation, mutates, body, check, batch=batch)


CREATE = "CreateConversation"
SCENARIOS = (
    _scenario("create_single", "create: new single chat", CREATE, new_single_chat,
              _exist(False), new_conversation=True),
    _scenario("create_group", "create: new group", CREATE, new_group, _exist(False),
              new_conversation=True),
    _scenario("create_idempotent", "create: new group + IdempotentId", CREATE,
              new_group_idempotent, _exist(False), new_conversation=True),
    _scenario("create_existing_single", "create: existing single chat", CREATE,
              existing_single_chat, _exist(True), mutates=False),
    _scenario("create_existing_idempotent", "create: existing IdempotentId", CREATE,
              existing_idempotent, _exist(True), mutates=False),
    _scenario("modify", "modify: no transfer", "ModifyConversation", modify, _empty),
    _scenario("modify_transfer", "modify: owner transfer", "ModifyConversation",
              modify_transfer, _empty),
    _scenario("destroy", "destroy", "DestroyConversation", destroy, _empty),
    *(
        _scenario(f"add_new_{size}", f"add: {size} new", "BatchAddConversationParticipant",
                  add_new(size), _no_failures, batch=size)
        for size in ADD_BATCH_SIZES
    ),
    _scenario("add_existing", f"add: {MEMBER_BATCH} existing",
              "BatchAddConversationParticipant", add_existing, _no_failures,
              batch=MEMBER_BATCH),
    _scenario("delete", f"delete: {MEMBER_BATCH}", "BatchDeleteConversationParticipant",
              delete, _no_failures, batch=MEMBER_BATCH),
    _scenario("modify_members", f"modify members: {MEMBER_BATCH}",
              "BatchModifyConversationParticipant", modify_members, _no_failures,
              batch=MEMBER_BATCH),
    _scenario("batch_get", f"batch get: {MEMBER_BATCH} conversations",
              "BatchGetConversations", batch_get_conversations,
              _items("ConversationCoreInfos", MEMBER_BATCH), mutates=False),
    _scenario("batch_get_members", f"batch get: {MEMBER_BATCH} members",
              "BatchGetConversationParticipant", batch_get_participants,
              _items("Participants", MEMBER_BATCH), mutates=False),
    _scenario("scan_page", f"scan: page of {PAGE_LIMIT}", "ScanConversationParticipantList",
              scan_page, _items("Participants", PAGE_LIMIT, has_more=True), mutates=False),
    _scenario("count", "count", "GetConversationUserCount", count_users,
              _equals("Count", 25), mutates=False),
    _scenario("is_member", "is member", "IsUserInConversation", is_member,
              _equals("IsUserInConversation", True), mutates=False),
    _scenario("user_conversations", f"user's conversations: page of {PAGE_LIMIT}",
              "GetUserConversations", user_conversations,
              _items("ConversationInfos", PAGE_LIMIT, has_more=True), mutates=False),
)  # fmt: skip
ACTIONS = tuple(CONTRACT_REQUESTS)


@dataclass(frozen=True)
class LambdaContext:
    """What the handlers read of Lambda's context: the request id and the time left."""

    aws_request_id: str = "bench"
    remaining_millis: int = 15_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


def api_gateway_event(action: str, body: dict[str, Any]) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event, as API Gateway hands it to the function."""
    query = {"Action": action, "Version": VERSION}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": f"Action={action}&Version={VERSION}",
        "headers": {"content-type": "application/json", "host": "im.example.com"},
        "queryStringParameters": query,
        "requestContext": {
            "http": {"method": "POST", "path": "/"},
            "requestId": str(uuid.uuid4()),
        },
        "body": json.dumps(body, ensure_ascii=False),
        "isBase64Encoded": False,
    }
